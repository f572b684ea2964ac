"""Regression data: float targets from arrays, .csv and .npz files, a plain random test split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convlens.data import dataset_info, from_arrays, from_csv, load_dataset, load_recorded
from convlens.errors import DataError


def _write_csv(path, rows, header="a,b,price"):
    path.write_text(header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


ROWS = [(i, 10 - i, 0.5 * i - 1.25) for i in range(10)]  # the targets are not whole numbers


def test_arrays_keep_float_targets_and_split_them_at_random():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.array([0.1, 2.5, -3.0, 4.25, 5.5, 6.0, 7.75, 8.0, 9.5, 1e3])
    train = from_arrays(x, y, task="regression")
    test = from_arrays(x, y, "test", task="regression")
    assert train.task == test.task == "regression"
    assert train.y.dtype == torch.float32 and train.classes == () and train.num_outputs == 1
    # every target is its own value, so a stratified split could hold none out: 20% of 10 is 2
    assert (len(train), len(test)) == (8, 2)
    rows = {tuple(r) for r in torch.cat([train.x, test.x]).tolist()}
    assert rows == {tuple(r) for r in x.tolist()}
    for data in (train, test):  # each example keeps its own target: row i is (2i, 2i + 1)
        for row, target in zip(data.x.tolist(), data.y.tolist()):
            assert target == pytest.approx(float(y[int(row[0]) // 2]))
    again = from_arrays(x, y, "test", task="regression")
    assert torch.equal(again.x, test.x)  # the seed is fixed: eval holds out what training did


def test_two_target_columns_keep_their_shape():
    x = np.random.default_rng(0).normal(size=(6, 3))
    y = np.stack([x[:, 0], 2 * x[:, 1]], axis=1)
    data = from_arrays(x, y, task="regression", x_test=x[:2], y_test=y[:2])
    assert tuple(data.y.shape) == (6, 2) and data.num_outputs == 2
    assert data.class_counts() == []


@pytest.mark.parametrize(
    ("y", "kwargs", "message"),
    [
        (np.array(["a", "b", "c", "d"]), {}, "must be numbers"),
        (np.array([1.0, np.nan, 2.0, 3.0]), {}, "must be finite"),
        (np.zeros((4, 2, 2)), {}, r"give \(N,\) or \(N, k\)"),
        (np.arange(4.0), {"classes": ["a", "b"]}, "class names are for classification"),
        (np.arange(4.0), {"task": "ranking"}, "task must be one of classification, regression"),
    ],
)
def test_bad_regression_targets_are_one_sentence(y, kwargs, message):
    options = {"task": "regression", **kwargs}
    with pytest.raises(DataError, match=message):
        from_arrays(np.zeros((4, 3)), y, **options)


def test_csv_label_column_as_float_targets(tmp_path):
    path = _write_csv(tmp_path / "prices.csv", ROWS)
    train = load_dataset(path, "train", task="regression")
    test = from_csv(path, "test", task="regression", label="price")
    assert (len(train), len(test)) == (8, 2) and train.classes == ()
    targets = sorted(torch.cat([train.y, test.y]).tolist())
    assert targets == sorted(r[2] for r in ROWS)  # 0.5 * i - 1.25, exact in float32
    assert dict(train.options) == {"task": "regression"}  # recorded, so eval reads it alike
    assert dict(test.options) == {"format": "csv", "label": "price", "task": "regression"}


def test_classification_reading_is_recorded_as_before(tmp_path):
    path = _write_csv(tmp_path / "kinds.csv", [(i, i % 3, i % 2) for i in range(10)])
    data = load_dataset(path, "train", task="classification")
    assert data.task == "classification" and dict(data.options) == {}
    assert data.y.dtype == torch.int64 and data.classes == ("0", "1")


def test_csv_text_label_is_named_by_file_line_and_column(tmp_path):
    path = _write_csv(tmp_path / "bad.csv", [(1, 2, 0.5), (3, 4, "cheap"), (5, 6, 1.5)])
    with pytest.raises(DataError) as caught:
        load_dataset(path, "train", task="regression")
    text = str(caught.value)
    assert str(path) in text and "line 3" in text and "label column 'price'" in text
    assert "'cheap' is not a number" in text and text.count(". ") == 0


def test_npz_float_targets_with_a_test_split(tmp_path):
    rng = np.random.default_rng(1)
    x, xt = rng.normal(size=(12, 4)), rng.normal(size=(3, 4))
    y, yt = x.sum(1), xt.sum(1)
    np.savez(tmp_path / "sums.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    test = load_dataset(tmp_path / "sums.npz", "test", task="regression")
    assert np.allclose(test.y.numpy(), yt.astype(np.float32))
    recorded = load_recorded(
        {"data": str(tmp_path / "sums.npz"), "data_options": dict(test.options)}
    )
    assert recorded.task == "regression" and torch.equal(recorded.y, test.y)


def test_task_does_not_apply_to_an_image_folder(tmp_path):
    from PIL import Image

    for name in ("cat", "dog"):
        (tmp_path / "pics" / name).mkdir(parents=True)
        for k in range(3):
            Image.new("L", (4, 4), 40 * k).save(tmp_path / "pics" / name / f"{k}.png")
    with pytest.raises(DataError, match=r"--task does not apply to .*a folder of images"):
        load_dataset(tmp_path / "pics", "train", task="regression")


def test_data_info_of_a_regression_table(tmp_path):
    path = _write_csv(tmp_path / "prices.csv", ROWS)
    info = dataset_info(path, task="regression")
    assert info.classes == [] and info.sizes == {"train": 8, "test": 2}
    assert info.class_counts == {"train": [], "test": []}
