"""Traditional features vs end to end: HOG (Dalal & Triggs 2005) checked by hand, the Iris rule."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from convlens.errors import DataError
from convlens.experiments.traditional import (
    cell_histograms,
    hog,
    iris_rule,
    traditional_vs_end_to_end,
)


def test_vertical_edge_votes_into_the_zero_degree_bin():
    img = np.zeros((1, 8, 8))
    img[:, :, 4:] = 1.0
    # centred differences: columns 3 and 4 see 1 - 0 = 1, horizontal gradient, 0 degrees;
    # each 4x4 cell holds one of those columns: 4 pixels x 1
    hist = cell_histograms(img, 4)
    expected = np.zeros((2, 2, 9))
    expected[..., 0] = 4.0
    np.testing.assert_allclose(hist[0], expected)


def test_diagonal_ramp_splits_between_bins_by_hand():
    r, c = np.mgrid[0:8, 0:8]
    hist = cell_histograms((r + c)[None].astype(float), 8)[0, 0, 0]
    expected = np.zeros(9)
    # 36 interior pixels: gx = gy = 2, 45 degrees -> 2.25 bins: 3/4 to bin 2, 1/4 to bin 3
    expected[2] = 36 * 0.75 * 2 * math.sqrt(2)
    expected[3] = 36 * 0.25 * 2 * math.sqrt(2)
    # 12 pixels on the top and bottom rows (not corners): gy = 0, gx = 2 -> bin 0
    expected[0] = 12 * 2
    # 12 on the left and right columns: gx = 0, gy = 2 -> 90 degrees, half to bins 4 and 5
    expected[4] = expected[5] = 12 * 0.5 * 2
    np.testing.assert_allclose(hist, expected, atol=1e-9)


def test_hog_sizes_and_block_normalisation():
    rng = np.random.default_rng(0)
    # 8x8 with 2x2 cells: 4x4 cells, 3x3 blocks of 2x2 cells x 9 bins = 324
    assert hog(rng.random((2, 8, 8)), 2).shape == (2, 324)
    feats = hog(rng.random((2, 28, 28)), 4)  # 7x7 cells, 6x6 blocks: 1,296
    assert feats.shape == (2, 1296)
    norms = np.linalg.norm(feats.reshape(2, 36, 36), axis=-1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-3)


def test_iris_rule_on_rows_of_fishers_table():
    rows = np.array([[5.1, 3.5, 1.4, 0.2],  # row 1, setosa
                     [7.0, 3.2, 4.7, 1.4],  # row 51, versicolor
                     [6.3, 3.3, 6.0, 2.5]])  # row 101, virginica  # fmt: skip
    assert iris_rule(rows).tolist() == [0, 1, 2]


def test_iris_comparison_and_a_missing_data_set_is_one_line(monkeypatch):
    import convlens.data

    real = convlens.data.load_dataset

    def only_iris(name, *args, **kwargs):
        if name != "iris":
            raise DataError(f"{name} is not here")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(convlens.data, "load_dataset", only_iris)
    result = traditional_vs_end_to_end()
    assert [r[0] for r in result.rows] == ["iris"] * 3
    assert result.findings[:2] == ("digits skipped: digits is not here",
                                   "fashion-mnist skipped: fashion-mnist is not here")  # fmt: skip
    rule = result.row("iris")
    assert rule["learned parameters"] == 0 and rule["test accuracy"] > 0.85
    mlp = result.rows[-1]
    assert mlp[4] == 4 * 16 + 16 + 16 * 3 + 3  # 131 weights and biases
    json.dumps(result.to_dict())  # plain numbers only: results.json must be writable


@pytest.mark.slow
def test_digits_cnn_beats_hand_features():
    result = traditional_vs_end_to_end(data="digits", quick=True)
    acc = {r[1]: r[5] for r in result.rows}
    cnn = next(v for k, v in acc.items() if k.startswith("end-to-end"))
    assert cnn > acc["traditional: HOG + linear classifier"]
