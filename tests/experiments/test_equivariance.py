"""Equivariance and invariance as the lectures state them (LECTURES.md §2) and as theory predicts:
a stride-1 circular convolution commutes with circular shifts exactly; a stride-2 layer only with
shifts by whole strides (Zhang, "Making convolutional networks shift-invariant again", 2019);
a global average over a circularly padded map does not change under any shift."""

from __future__ import annotations

import pytest

from convlens.experiments.equivariance import (
    Probe,
    equivariance,
    equivariance_errors,
    invariance_changes,
)

SHIFTS = [0, 1, 2, 3, 4]


def test_circular_stride1_conv_is_exactly_equivariant():
    errors = equivariance_errors(Probe("c", "conv3x3x8p1circular"), SHIFTS, n=4)
    assert max(errors) < 1e-6


def test_stride2_breaks_equivariance_for_odd_shifts_only():
    errors = equivariance_errors(Probe("s2", "conv3x3x8s2p1circular"), SHIFTS, n=4)
    assert errors[2] < 1e-6 and errors[4] < 1e-6
    assert errors[1] > 0.1 and errors[3] > 0.1


def test_zero_padding_breaks_at_the_border_unless_the_content_keeps_clear_of_it():
    border = equivariance_errors(Probe("z", "conv3x3x8p1"), SHIFTS, n=4)
    blank = equivariance_errors(Probe("zb", "conv3x3x8p1", blank_border=6), SHIFTS, n=4)
    assert min(border[1:]) > 1e-3
    assert max(blank) < 1e-6


def test_two_pool_stages_are_equivariant_for_multiples_of_four():
    probe = Probe("j4", "conv3x3x8p1circular-pool2-conv3x3x8p1circular-pool2")
    errors = equivariance_errors(probe, [0, 2, 4, 8], n=4)
    assert errors[2] < 1e-6 and errors[3] < 1e-6
    assert errors[1] > 1e-3


def test_global_average_is_invariant_and_pooling_reduces_the_change():
    conv = invariance_changes(Probe("c", "conv3x3x8p1circular"), [1], n=4)[0]
    pool = invariance_changes(Probe("p", "conv3x3x8p1circular-pool4"), [1], n=4)[0]
    gap = invariance_changes(Probe("g", "conv3x3x8p1circular-gap"), [1, 3, 7], n=4)
    assert max(gap) < 1e-5
    assert pool < conv


def test_experiment_is_reproducible_and_states_its_curves():
    a = equivariance(seeds=1, quick=True, trained=False)
    b = equivariance(seeds=1, quick=True, trained=False)
    assert a.to_dict() == b.to_dict()
    assert {f.name for f in a.figures} == {"equivariance", "invariance"}
    circular = next(r for r in a.rows if r[1] == "stride-1 conv, circular padding")
    assert circular[a.columns.index("at shift 1")] == pytest.approx(0, abs=1e-6)


def test_trained_classifier_curve_starts_at_the_unshifted_accuracy():
    result = equivariance(seeds=1, quick=True, epochs=1)
    curves = {k: v for k, v in result.data["classifier"].items() if isinstance(v, dict)}
    assert set(curves) == {"CNN (Greydanus & Kobak)", "MLP (Greydanus & Kobak)"}
    for v in curves.values():
        assert v["unchanged"][0] == 1.0  # a shift by 0 changes no prediction
        assert 0.1 < v["accuracy"][0] <= 1.0
    assert "classifier_shift" in {f.name for f in result.figures}
