"""The user's IDX folders, .npz and .csv files and in-memory arrays, and their bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from data_formats import idx_bytes, tiny_mnist, write_idx

from convlens.data import (
    from_arrays,
    from_csv,
    from_idx_folder,
    from_npz,
    load_dataset,
    load_recorded,
)
from convlens.errors import DataError

# --- IDX folders ------------------------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
def test_idx_folder_of_any_content_loads_without_checksums(tmp_path, compress):
    arrays = tiny_mnist(tmp_path / "idx", n_train=12, n_test=5, compress=compress)
    train = load_dataset(tmp_path / "idx", "train")
    test = from_idx_folder(tmp_path / "idx", "test")
    assert np.array_equal(train.x[:, 0].numpy(), arrays["train"][0])
    assert train.y.tolist() == [i % 10 for i in range(12)]
    assert np.array_equal(test.x[:, 0].numpy(), arrays["t10k"][0])
    assert train.classes == tuple(str(i) for i in range(10))


def test_idx_folder_without_t10k_files_gets_a_split(tmp_path):
    folder = tmp_path / "idx"
    folder.mkdir()
    images = np.random.default_rng(0).integers(0, 256, (20, 4, 4), dtype=np.uint8)
    write_idx(folder / "train-images-idx3-ubyte.gz", images)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.arange(20) % 2)
    assert load_dataset(folder, "test").class_counts() == [2, 2]  # 20% of 10 per class


def test_idx_format_errors_name_the_file(tmp_path):
    folder = tmp_path / "idx"
    tiny_mnist(folder)
    bad = bytearray(idx_bytes(np.zeros((6, 28, 28), np.uint8)))
    bad[2] = 0x0D  # float data, not unsigned bytes
    (folder / "train-images-idx3-ubyte.gz").unlink()
    (folder / "train-images-idx3-ubyte").write_bytes(bytes(bad))
    with pytest.raises(DataError, match="train-images-idx3-ubyte is not an unsigned-byte IDX"):
        load_dataset(folder)
    (folder / "train-images-idx3-ubyte").write_bytes(
        idx_bytes(np.zeros((6, 28, 28), np.uint8))[:-3]
    )
    with pytest.raises(DataError, match="is truncated"):
        load_dataset(folder)
    (folder / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((5, 28, 28), np.uint8)))
    with pytest.raises(DataError, match=r"5 images but .* 6 labels"):
        load_dataset(folder)


# --- .npz -------------------------------------------------------------------------------------


def _nchw(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3, 5, 5), dtype=np.uint8)


@pytest.mark.parametrize(
    "layout, to_file",
    [
        ("NCHW", lambda x: x),
        ("NHWC", lambda x: x.transpose(0, 2, 3, 1)),
    ],
)
def test_npz_image_layouts_are_detected(tmp_path, layout, to_file):
    x, xt = _nchw(8), _nchw(4, 1)
    path = tmp_path / "d.npz"
    np.savez(path, x_train=to_file(x), y_train=np.arange(8) % 2, x_test=to_file(xt),
             y_test=np.arange(4) % 2, class_names=np.array(["no", "yes"]))  # fmt: skip
    train, test = from_npz(path, "train"), load_dataset(path, "test")
    assert train.x.dtype == torch.uint8 and np.array_equal(train.x.numpy(), x)
    assert np.array_equal(test.x.numpy(), xt) and train.classes == ("no", "yes")
    assert not train.notes


def test_npz_grey_images_signals_tables_and_guesses(tmp_path):
    rng = np.random.default_rng(0)
    y = np.arange(10) % 2
    cases = {
        "grey": (rng.random((10, 6, 6)), (1, 6, 6), None),
        "signal": (rng.random((10, 1, 40)), (1, 40), "1-D signals"),
        "rows": (rng.random((10, 4)), (4,), None),
        "ambiguous": (rng.random((10, 3, 4, 3)), (3, 4, 3), "read as N x C x H x W"),
    }
    for name, (x, shape, note) in cases.items():
        np.savez(tmp_path / f"{name}.npz", x_train=x, y_train=y)
        data = load_dataset(tmp_path / f"{name}.npz")
        assert data.in_shape == shape and data.x.dtype == torch.float32, name
        assert (note is None) == (len(data.notes) == 1), name  # the split note is always there
        if note:
            assert note in data.notes[0]


def test_npz_string_labels_and_bad_files(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, x_train=np.zeros((6, 2)), y_train=np.array(["b", "a", "b", "a", "c", "c"]))
    data = load_dataset(path, test_size=0.5)
    assert data.classes == ("a", "b", "c") and sorted(data.y.tolist()) == [0, 1, 2]
    np.savez(path, x_train=np.zeros((6, 2)), y_train=np.arange(5))
    with pytest.raises(DataError, match=r"d\.npz has 6 train examples \(x_train\) but 5 labels"):
        load_dataset(path)
    np.savez(path, x_train=np.zeros((6, 2)), y_train=np.arange(6) % 2, x_test=np.zeros((2, 2)))
    with pytest.raises(DataError, match="give both x_test and y_test"):
        load_dataset(path)
    np.savez(path, images=np.zeros((6, 2)))
    with pytest.raises(DataError, match=r"has no x_train array .*images"):
        load_dataset(path)
    np.savez(path, x_train=np.array([None] * 4, dtype=object), y_train=np.arange(4))
    with pytest.raises(DataError, match="without unpickling"):
        load_dataset(path)


# --- .csv -------------------------------------------------------------------------------------

# The first rows of each species in Fisher's Iris data (as in scikit-learn's copy of it).
IRIS_ROWS = [
    ("5.1", "3.5", "1.4", "0.2", "setosa"), ("4.9", "3.0", "1.4", "0.2", "setosa"),
    ("4.7", "3.2", "1.3", "0.2", "setosa"), ("7.0", "3.2", "4.7", "1.4", "versicolor"),
    ("6.4", "3.2", "4.5", "1.5", "versicolor"), ("6.9", "3.1", "4.9", "1.5", "versicolor"),
    ("6.3", "3.3", "6.0", "2.5", "virginica"), ("5.8", "2.7", "5.1", "1.9", "virginica"),
    ("7.1", "3.0", "5.9", "2.1", "virginica"),
]  # fmt: skip
HEADER = "sepal_length,sepal_width,petal_length,petal_width,species"


def _write_csv(path, rows, header=HEADER):
    lines = ([header] if header else []) + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_csv_with_header_and_string_labels(tmp_path):
    path = _write_csv(tmp_path / "iris.csv", IRIS_ROWS)
    train, test = from_csv(path, "train", test_size=0.34), from_csv(path, "test", test_size=0.34)
    assert train.classes == ("setosa", "versicolor", "virginica")
    assert train.in_shape == (4,) and len(train) + len(test) == 9
    assert test.class_counts() == [1, 1, 1]  # round(3 * 0.34) = 1 per class
    rows = {tuple(float(v) for v in r[:4]): r[4] for r in IRIS_ROWS}
    for x, y in zip(train.x.tolist(), train.y.tolist()):
        assert rows[tuple(round(v, 4) for v in x)] == train.classes[y]
    # the train statistics are those of the train rows, per column (population std)
    assert train.mean[0] == pytest.approx(float(np.mean(train.x[:, 0].numpy())))


def test_csv_without_header_label_column_by_name_or_number(tmp_path):
    moved = [(r[4], *r[:4]) for r in IRIS_ROWS]  # label first
    headless = _write_csv(tmp_path / "a.csv", moved, header=None)
    data = load_dataset(headless, label="0", test_size=0.34)
    assert data.in_shape == (4,) and data.classes[0] == "setosa"
    named = _write_csv(tmp_path / "b.csv", moved, header="species,a,b,c,d")
    assert load_dataset(named, label="species", test_size=0.34).classes == data.classes
    with pytest.raises(
        DataError, match=r"label column 'kind' is not in .*b\.csv; its columns are species, a"
    ):
        load_dataset(named, label="kind")


def test_csv_numeric_labels_and_bad_cells(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("".join(f"{i},{i * 2},{i % 3 + 1}\n" for i in range(12)))
    data = load_dataset(path)
    assert data.classes == ("1", "2", "3") and data.in_shape == (2,)
    path.write_text("a,b,y\n1,2,x\n3,four,y\n5,6,x\n")
    with pytest.raises(DataError, match=r"line 3, b: 'four' is not a number"):
        load_dataset(path)
    path.write_text("1,2,x\n3,4\n")
    with pytest.raises(DataError, match="line 2 has 2 cells, the first row 3"):
        load_dataset(path)
    with pytest.raises(DataError, match=r"--size does not apply to .*csv table"):
        load_dataset(path, size="4x4")


# --- in-memory arrays and recorded options ------------------------------------------------------


def test_from_arrays_one_hot_labels_and_a_test_class_the_train_split_lacks():
    x = np.random.default_rng(0).random((6, 1, 4, 4)).astype(np.float32)
    one_hot = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    data = from_arrays(
        x, one_hot, classes=["r", "g", "b"], x_test=x[:3], y_test=np.array([0, 1, 2])
    )
    assert data.y.tolist() == [0, 1, 2, 0, 1, 2] and data.classes == ("r", "g", "b")
    assert torch.equal(data.x, torch.from_numpy(x))
    with pytest.raises(
        DataError, match="test split of arrays has class '2', which the training split lacks"
    ):
        from_arrays(x[:4], [0, 1, 0, 1], x_test=x[:2], y_test=[1, 2])
    with pytest.raises(DataError, match="only one class"):
        from_arrays(x, [5] * 6)


def test_load_recorded_reads_the_data_as_training_did(tmp_path):
    np.savez(tmp_path / "d.npz", x_train=np.zeros((20, 3)), y_train=np.arange(20) % 2)
    trained = load_dataset(tmp_path / "d.npz", "test", test_size=0.5)
    meta = {"data": trained.name, "data_options": dict(trained.options)}
    assert len(load_recorded(meta, "test")) == len(trained) == 10
    assert len(load_recorded({"data": trained.name}, "test")) == 4  # the default 20%


def test_unknown_names_and_unreadable_paths(tmp_path):
    with pytest.raises(DataError, match=r"unknown data set 'svhn'.*or give the path"):
        load_dataset("svhn")
    (tmp_path / "x.txt").write_text("1,2")
    with pytest.raises(DataError, match="not a data source convlens reads"):
        load_dataset(tmp_path / "x.txt")
