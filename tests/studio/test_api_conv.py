"""/api/conv: the step-by-step convolution, held to the lectures' worked examples."""

from __future__ import annotations

import numpy as np
from studio_api_client import client

XCORR_INPUT = [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
XCORR_KERNEL = [[0, 1, 2], [2, 2, 0], [0, 1, 2]]


def test_lecture_cross_correlation(tmp_path):
    with client(tmp_path) as c:
        result = c.post("/api/conv", json={"input": XCORR_INPUT, "kernel": XCORR_KERNEL}).json()
    assert result["output"] == [[12, 12, 17], [10, 17, 19], [9, 6, 14]]  # LECTURES.md §3
    first = result["steps"][0]
    # the top-left window by hand: 3*0 + 3*1 + 2*2 + 0*2 + 0*2 + 1*0 + 3*0 + 1*1 + 2*2 = 12
    assert first["out"] == [0, 0] and first["sum"] == 12
    assert first["window"][:3] == [[0, 0], [0, 1], [0, 2]]
    assert first["products"][2] == [2, 2, 4]
    assert [s["sum"] for s in result["steps"]] == [v for row in result["output"] for v in row]
    assert result["formula"] == {"text": "(5 - 3)/1 + 1 = 3", "fits": True, "sentence": None}


def test_seven_by_seven_stride_three_does_not_fit(tmp_path):
    grid = [[7 * r + c for c in range(7)] for r in range(7)]
    body = {"input": grid, "kernel": [[1] * 3] * 3, "stride": 3}
    with client(tmp_path) as c:
        formula = c.post("/api/conv", json=body).json()["formula"]
    assert formula["fits"] is False
    assert formula["text"] == "(7 - 3)/3 + 1 = 2.33"
    assert "does not fit" in formula["sentence"] and "2.33" in formula["sentence"]


def test_convolution_is_correlation_with_the_flipped_kernel(tmp_path):
    kernel = [[1, 2, 0], [0, -1, 3], [4, 0, 1]]
    flipped = np.array(kernel)[::-1, ::-1].tolist()
    with client(tmp_path) as c:
        conv = c.post(
            "/api/conv", json={"input": XCORR_INPUT, "kernel": kernel, "mode": "convolution"}
        ).json()
        corr = c.post("/api/conv", json={"input": XCORR_INPUT, "kernel": flipped}).json()
    assert conv["output"] == corr["output"]
    assert conv["flipped_kernel"] == flipped


def test_padding_stride_bias_and_channels(tmp_path):
    x = np.arange(2 * 4 * 4, dtype=float).reshape(2, 4, 4)
    k = np.ones((2, 2, 2))
    body = {"input": x.tolist(), "kernel": k.tolist(), "bias": 1, "stride": 2, "padding": 1}
    with client(tmp_path) as c:
        result = c.post("/api/conv", json=body).json()
    # padded 6x6 per channel; window (0, 0) holds one real pixel per channel: x[0,0,0] = 0 and
    # x[1,0,0] = 16, so the sum is 0 + 16 + bias 1 = 17
    assert result["steps"][0]["sum"] == 17
    assert len(result["steps"][0]["products"]) == 8  # 2 channels x 2 x 2
    assert np.array(result["padded_input"]).shape == (2, 6, 6)
    assert np.array(result["output"]).shape == (3, 3)  # (4 + 2 - 2)/2 + 1 = 3


def test_max_pooling_after_an_identity_kernel(tmp_path):
    body = {"input": [[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], "kernel": [[1]],
            "pool": "max", "pool_size": 2, "pool_stride": 2}  # fmt: skip
    with client(tmp_path) as c:
        pool = c.post("/api/conv", json=body).json()["pool"]
    assert pool["output"] == [[6, 8], [3, 4]]  # LECTURES.md §8
    assert pool["steps"][0]["values"] == [1, 1, 5, 6] and pool["steps"][0]["value"] == 6


def test_average_pooling(tmp_path):
    body = {"input": [[0, 4, 7, 8], [9, 2, 4, 5], [6, 7, 3, 4], [8, 2, 1, 5]], "kernel": [[1]],
            "pool": "avg", "pool_size": 2}  # fmt: skip
    with client(tmp_path) as c:
        pool = c.post("/api/conv", json=body).json()["pool"]
    assert pool["output"] == [[15 / 4, 24 / 4], [23 / 4, 13 / 4]]  # window sums by hand


def test_bad_inputs_get_one_sentence(tmp_path):
    with client(tmp_path) as c:
        ragged = c.post("/api/conv", json={"input": [[1, 2], [3]], "kernel": [[1]]})
        too_big = c.post("/api/conv", json={"input": [[1, 2], [3, 4]], "kernel": [[1] * 3] * 3})
        depth = c.post("/api/conv", json={"input": [[1, 2], [3, 4]], "kernel": [[[1]], [[1]]]})
        stride = c.post("/api/conv", json={"input": [[1, 2], [3, 4]], "kernel": [[1]], "stride": 0})
    for r in (ragged, too_big, depth, stride):
        assert r.status_code == 400
        assert r.json()["error"].endswith(".")
    assert "does not fit" in too_big.json()["error"]
