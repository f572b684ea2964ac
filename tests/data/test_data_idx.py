"""MNIST / Fashion-MNIST loading from tiny files in the real IDX format, and every kind of bad file."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pytest
import torch
from data_formats import idx_bytes, tiny_mnist, write_idx

from convlens.data import load_dataset
from convlens.data.idx import read_idx
from convlens.errors import DataError


@pytest.mark.parametrize("compress", [True, False])
def test_tiny_mnist_loads_with_shapes_labels_and_pixels(tmp_path, compress):
    arrays = tiny_mnist(tmp_path / "d", compress=compress)
    train = load_dataset("mnist", "train", tmp_path / "d", download=False, verify=False)
    test = load_dataset("mnist", "test", tmp_path / "d", download=False, verify=False)
    assert train.x.shape == (6, 1, 28, 28) and train.x.dtype == torch.uint8
    assert test.x.shape == (4, 1, 28, 28)
    assert train.y.dtype == torch.int64
    assert train.y.tolist() == [0, 1, 2, 3, 4, 5]
    assert np.array_equal(train.x[:, 0].numpy(), arrays["train"][0])
    assert np.array_equal(test.x[:, 0].numpy(), arrays["t10k"][0])
    assert train.classes == tuple("0123456789")


def test_fashion_mnist_class_names_and_folder_layout(tmp_path):
    # root/<name>/ is searched as well as root itself.
    tiny_mnist(tmp_path / "fashion-mnist")
    data = load_dataset("fashion-mnist", "train", tmp_path, download=False, verify=False)
    # Label names from the Fashion-MNIST README (github.com/zalandoresearch/fashion-mnist).
    assert data.classes[0] == "T-shirt/top" and data.classes[9] == "Ankle boot"
    assert len(data) == 6


def test_stats_are_those_of_the_train_split(tmp_path):
    arrays = tiny_mnist(tmp_path)
    test = load_dataset("mnist", "test", tmp_path, download=False, verify=False)
    pixels = arrays["train"][0].astype(np.float64) / 255
    assert test.mean[0] == pytest.approx(pixels.mean(), abs=1e-12)
    assert test.std[0] == pytest.approx(pixels.std(), abs=1e-12)


def test_uncompressed_checksum_is_checked_and_names_the_file(tmp_path):
    tiny_mnist(tmp_path)
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz has the wrong checksum"):
        load_dataset("mnist", "train", tmp_path, download=False)  # verify=True by default


def test_checksum_is_of_the_content_not_of_the_gzip_wrapper(tmp_path):
    images = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    data = idx_bytes(images)
    md5 = hashlib.md5(data).hexdigest()
    for name, blob in (
        ("a.gz", gzip.compress(data, mtime=0)),
        ("b.gz", gzip.compress(data, mtime=12345)),
        ("c", data),
    ):
        (tmp_path / name).write_bytes(blob)
        assert np.array_equal(read_idx(tmp_path / name, 3, md5), images)


def test_bad_magic(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"\x00\x00\x0d\x03" + bytes(12))  # type 0x0d is float, not unsigned byte
    with pytest.raises(
        DataError, match=r"x is not an unsigned-byte IDX file \(magic number 00000d03"
    ):
        read_idx(path, 3)


def test_wrong_number_of_dimensions(tmp_path):
    path = write_idx(tmp_path / "labels.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(DataError, match=r"labels\.gz has 1 dimensions, expected 3"):
        read_idx(path, 3)


def test_truncated_payload(tmp_path):
    data = idx_bytes(np.zeros((3, 28, 28), dtype=np.uint8))
    path = tmp_path / "cut"
    path.write_bytes(data[:-100])
    # Header 4 + 3*4 = 16 bytes, payload 3*784 = 2352: needs 2368.
    with pytest.raises(
        DataError, match=r"cut is truncated: 2268 bytes, the header \(3, 28, 28\) needs 2368"
    ):
        read_idx(path, 3)


def test_longer_than_header(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros(4, dtype=np.uint8)) + b"\x00")
    with pytest.raises(DataError, match="longer than its header says"):
        read_idx(path, 1)


def test_truncated_gzip_stream(tmp_path):
    blob = gzip.compress(idx_bytes(np.arange(1000, dtype=np.uint8) % 7))
    path = tmp_path / "t.gz"
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match=r"t\.gz is not a readable gzip file"):
        read_idx(path, 1)


def test_corrupt_gzip_crc(tmp_path):
    blob = bytearray(gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8))))
    blob[-8] ^= 0xFF  # the CRC32 of the uncompressed data sits in the last 8 bytes
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(blob))
    with pytest.raises(DataError, match=r"crc\.gz is not a readable gzip file"):
        read_idx(path, 1)


def test_image_and_label_counts_must_agree(tmp_path):
    tiny_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(5, dtype=np.uint8))
    with pytest.raises(DataError, match=r"holds 6 images but .* holds 5 labels"):
        load_dataset("mnist", "train", tmp_path, download=False, verify=False)


def test_label_beyond_classes(tmp_path):
    tiny_mnist(tmp_path)
    write_idx(
        tmp_path / "train-labels-idx1-ubyte.gz", np.array([0, 1, 2, 3, 4, 10], dtype=np.uint8)
    )
    with pytest.raises(DataError, match="has label 10, beyond the 10 classes"):
        load_dataset("mnist", "train", tmp_path, download=False, verify=False)


def test_offline_without_local_copy_says_where_to_put_the_files(tmp_path, isolated_cache):
    with pytest.raises(DataError) as err:
        load_dataset("mnist", "train", download=False)
    message = str(err.value)
    assert "train-images-idx3-ubyte.gz" in message
    assert "https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz" in message
    assert str(isolated_cache / "mnist") in message
