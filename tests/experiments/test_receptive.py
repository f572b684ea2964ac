"""Receptive-field growth against hand arithmetic: r_out = r_in + (k_eff − 1)·j_in, j_out = j_in·s."""

from __future__ import annotations

from convlens.experiments.receptive import (
    FAMILIES,
    measured_field,
    receptive_field_growth,
    stage_fields,
)


def _family(label: str):
    return next(f for f in FAMILIES if f.label == label)


def test_stride1_3x3_grows_linearly():
    assert [s["rf"] for s in stage_fields(_family("3x3 conv, stride 1"))] == [3, 5, 7, 9, 11, 13]


def test_dilations_double_the_field():
    rfs = [s["rf"] for s in stage_fields(_family("3x3 conv, dilation 1,2,4,..."))]
    assert rfs[:4] == [3, 7, 15, 31]


def test_conv_pool_stages():
    # conv3: 3 (j 1); pool2: 3 + 1 = 4 (j 2); conv3: 4 + 2·2 = 8; pool2: 8 + 2 = 10 (j 4);
    # conv3: 10 + 2·4 = 18; pool2: 18 + 4 = 22 (j 8)
    stages = stage_fields(_family("3x3 conv + 2x2 avg pool"))
    assert [s["rf"] for s in stages[:3]] == [4, 10, 22]
    assert [s["jump"] for s in stages[:3]] == [2, 4, 8]


def test_measured_field_matches_arithmetic():
    assert measured_field("conv3x3x2p1-conv3x3x2p1-conv3x3x2p1", (1, 32, 32)) == 7
    # dilated extents D(F − 1) + 1 = 5 and 9: 1 + (5 − 1) + (9 − 1) = 13
    assert measured_field("conv3x3x2p2d2-conv3x3x2p4d4", (1, 64, 64)) == 13


def test_experiment_result():
    result = receptive_field_growth(quick=True)
    assert len(result.rows) == 3
    assert all("equals the arithmetic" in f for f in result.findings if "measured" in f)
