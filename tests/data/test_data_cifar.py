"""CIFAR-10 from tiny archives in the official binary format, and broken ones."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from data_formats import tiny_cifar, write_cifar_archive

from convlens.data import load_dataset
from convlens.errors import DataError


def test_tiny_archive_loads_in_nchw_with_labels(tmp_path):
    members, arrays = tiny_cifar(n_per_file=2)
    write_cifar_archive(tmp_path / "cifar-10-binary.tar.gz", members)
    train = load_dataset("cifar10", "train", tmp_path, download=False, verify=False)
    test = load_dataset("cifar10", "test", tmp_path, download=False, verify=False)
    assert train.x.shape == (10, 3, 32, 32) and train.x.dtype == torch.uint8
    assert test.x.shape == (2, 3, 32, 32)
    # data_batch_1 .. 5 in order, then the records of each file in order.
    expected = np.concatenate([arrays[f"data_batch_{i}.bin"][0] for i in range(1, 6)])
    assert np.array_equal(train.x.permute(0, 2, 3, 1).numpy(), expected)
    assert train.y.tolist() == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5]
    assert test.y.tolist() == [5, 6]
    assert test.classes[0] == "airplane" and test.classes[9] == "truck"
    assert len(train.mean) == 3  # one per channel


def test_extracted_folder_is_used_too(tmp_path):
    members, arrays = tiny_cifar(n_per_file=1)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name, data in members.items():
        (folder / name).write_bytes(data)
    test = load_dataset("cifar10", "test", tmp_path, download=False, verify=False)
    assert np.array_equal(test.x[0].permute(1, 2, 0).numpy(), arrays["test_batch.bin"][0][0])


def test_truncated_record(tmp_path):
    members, _ = tiny_cifar()
    members["data_batch_3.bin"] = members["data_batch_3.bin"][:-5]
    write_cifar_archive(tmp_path / "cifar-10-binary.tar.gz", members)
    # 2 records of 3073 bytes minus 5 = 6141 bytes.
    with pytest.raises(DataError, match=r"data_batch_3\.bin is truncated or corrupt: 6141 bytes"):
        load_dataset("cifar10", "train", tmp_path, download=False, verify=False)


def test_official_record_count_is_required_when_verifying(tmp_path):
    members, _ = tiny_cifar()
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name, data in members.items():
        (folder / name).write_bytes(data)
    with pytest.raises(
        DataError, match=r"data_batch_1\.bin holds 2 records, the official file 10000"
    ):
        load_dataset("cifar10", "test", tmp_path, download=False)


def test_bad_label(tmp_path):
    members, _ = tiny_cifar()
    blob = bytearray(members["test_batch.bin"])
    blob[0] = 12
    members["test_batch.bin"] = bytes(blob)
    write_cifar_archive(tmp_path / "cifar-10-binary.tar.gz", members)
    with pytest.raises(DataError, match="has label 12, beyond the 10 classes"):
        load_dataset("cifar10", "test", tmp_path, download=False, verify=False)


def test_archive_without_the_binary_members(tmp_path):
    # e.g. the Python (pickle) version renamed: it has data_batch_1 but no data_batch_1.bin.
    write_cifar_archive(tmp_path / "cifar-10-binary.tar.gz", {"readme.html": b"<html></html>"})
    with pytest.raises(
        DataError, match=r"has no regular file cifar-10-batches-bin/data_batch_1\.bin"
    ):
        load_dataset("cifar10", "test", tmp_path, download=False, verify=False)


def test_wrong_archive_checksum(tmp_path):
    members, _ = tiny_cifar()
    write_cifar_archive(tmp_path / "cifar-10-binary.tar.gz", members)
    with pytest.raises(
        DataError,
        match=r"cifar-10-binary\.tar\.gz has the wrong checksum .*published c32a1d4ab5d03f1284b67883e8d87530",
    ):
        load_dataset("cifar10", "test", tmp_path, download=False)


def test_truncated_archive(tmp_path):
    members, _ = tiny_cifar()
    path = write_cifar_archive(tmp_path / "cifar-10-binary.tar.gz", members)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(
        DataError, match=r"cifar-10-binary\.tar\.gz is not a readable tar\.gz archive"
    ):
        load_dataset("cifar10", "test", tmp_path, download=False, verify=False)
