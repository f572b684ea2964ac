"""TensorData, statistics, validation splits, the bundled sets and the data set table."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from data_formats import tiny_mnist

from convlens.data import TensorData, list_datasets, load_dataset
from convlens.data.bundled import stratified_test_mask
from convlens.data.tensors import channel_stats
from convlens.errors import DataError


def test_list_datasets():
    assert list_datasets() == ["mnist", "fashion-mnist", "cifar10", "mnist1d", "digits", "iris"]


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(
        DataError,
        match="unknown data set 'svhn'; known data sets: mnist, fashion-mnist, cifar10, mnist1d, digits, iris",
    ):
        load_dataset("svhn")


def test_unknown_split():
    with pytest.raises(DataError, match="unknown split 'dev'"):
        load_dataset("iris", "dev")


def test_channel_stats_by_hand():
    # Two images of one pixel per channel; channel 0: 0 and 255 -> 0, 1 (mean 0.5, std 0.5);
    # channel 1: 51 and 51 -> 0.2, 0.2 (mean 0.2, std 0, floored to 1e-6).
    x = np.array([[[[0]], [[51]]], [[[255]], [[51]]]], dtype=np.uint8)
    mean, std = channel_stats(x)
    assert mean == pytest.approx((0.5, 0.2), abs=1e-12)
    assert std == pytest.approx((0.5, 1e-6), abs=1e-12)
    # float features (Iris-like): per column
    mean, std = channel_stats(np.array([[1.0, 10.0], [3.0, 10.0]]))
    assert mean == pytest.approx((2.0, 10.0)) and std[0] == pytest.approx(1.0)


def test_float_x_scales_and_normalises():
    x = torch.tensor([[[[0, 255]]], [[[51, 102]]]], dtype=torch.uint8)  # (2, 1, 1, 2)
    data = TensorData("t", "train", x, torch.tensor([0, 1]), ("a", "b"), mean=(0.5,), std=(0.25,))
    raw = data.float_x(normalize=False)
    assert raw.dtype == torch.float32
    assert raw.flatten().tolist() == pytest.approx([0.0, 1.0, 0.2, 0.4])
    assert data.float_x().flatten().tolist() == pytest.approx([-2.0, 2.0, -1.2, -0.4])
    assert data.in_shape == (1, 1, 2) and data.num_classes == 2 and len(data) == 2
    assert data.to("cpu").x is not None


def test_float_x_of_float_features_leaves_the_data_set_unchanged():
    x = torch.tensor([[1.0, 3.0], [5.0, 7.0]])  # (2, 2) features, one mean/std per column
    data = TensorData("t", "train", x, torch.tensor([0, 1]), ("a", "b"), (2.0, 4.0), (2.0, 0.5))
    # (1 - 2)/2, (3 - 4)/0.5, (5 - 2)/2, (7 - 4)/0.5
    assert data.float_x().flatten().tolist() == pytest.approx([-0.5, -2.0, 1.5, 6.0])
    assert data.float_x(normalize=False) is not x
    assert x.tolist() == [[1.0, 3.0], [5.0, 7.0]]  # converted copies, never the data set itself


def test_normalised_train_split_has_zero_mean_unit_std(tmp_path):
    tiny_mnist(tmp_path, n_train=20)
    x = load_dataset("mnist", root=tmp_path, download=False, verify=False).float_x()
    assert float(x.mean()) == pytest.approx(0.0, abs=1e-5)
    assert float(x.std(unbiased=False)) == pytest.approx(1.0, abs=1e-5)


def test_validation_split_is_deterministic_disjoint_and_complete(tmp_path):
    tiny_mnist(tmp_path, n_train=20)
    kw = {"root": tmp_path, "download": False, "verify": False, "val_size": 0.25, "seed": 3}
    full = load_dataset("mnist", root=tmp_path, download=False, verify=False)
    train, val = load_dataset("mnist", "train", **kw), load_dataset("mnist", "val", **kw)
    assert (len(train), len(val)) == (15, 5)
    assert torch.equal(load_dataset("mnist", "val", **kw).x, val.x)
    rows = {bytes(img.numpy()) for img in full.x}
    assert {bytes(i.numpy()) for i in train.x} | {bytes(i.numpy()) for i in val.x} == rows
    assert not {bytes(i.numpy()) for i in train.x} & {bytes(i.numpy()) for i in val.x}
    # statistics come from the 15 train images only, for every split
    pixels = train.x.numpy().astype(np.float64) / 255
    assert val.mean[0] == pytest.approx(pixels.mean(), abs=1e-12) == train.mean[0]
    other = load_dataset("mnist", "val", **{**kw, "seed": 4})
    assert not torch.equal(other.x, val.x)
    assert len(load_dataset("mnist", "val", **{**kw, "val_size": 4})) == 4


def test_val_needs_val_size():
    with pytest.raises(DataError, match="split 'val' needs val_size > 0"):
        load_dataset("iris", "val")
    with pytest.raises(DataError, match="leaves no train"):
        load_dataset("iris", "val", val_size=120)


def test_stratified_rule_by_hand():
    y = np.array([0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0])
    # class 0 at 0,1,3,4,5,10 -> its 5th is index 5; class 1 at 2,6,7,8,9 -> its 5th is index 9
    assert np.flatnonzero(stratified_test_mask(y)).tolist() == [5, 9]


def test_iris_split_sizes():
    pytest.importorskip("sklearn")
    train, test = load_dataset("iris"), load_dataset("iris", "test")
    # 50 flowers per class (Fisher 1936): 40 train + 10 test each.
    assert train.x.shape == (120, 4) and test.x.shape == (30, 4)
    assert train.class_counts() == [40, 40, 40] and test.class_counts() == [10, 10, 10]
    assert train.classes == ("setosa", "versicolor", "virginica")


def test_digits_shape_and_range():
    pytest.importorskip("sklearn")
    train, test = load_dataset("digits"), load_dataset("digits", "test")
    assert len(train) + len(test) == 1797  # size of the UCI optdigits test set in scikit-learn
    assert train.x.shape[1:] == (1, 8, 8) and train.x.dtype == torch.float32
    assert float(train.x.min()) == 0.0 and float(train.x.max()) == 1.0  # 16 gray levels / 16
    counts = test.class_counts()
    assert sum(counts) == len(test) and all(c >= 34 for c in counts)


def test_missing_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(DataError, match=r"pip install convlens\[data\]"):
        load_dataset("digits")
