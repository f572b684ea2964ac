"""Writers of tiny files in the real on-disk formats, written here byte by byte from the format
descriptions (not with convlens code), so the readers are tested against the formats themselves.

IDX (http://yann.lecun.com/exdb/mnist/, "FILE FORMATS"): bytes 0,0,type,ndim; ndim big-endian
uint32 sizes; data. CIFAR-10 binary (https://www.cs.toronto.edu/~kriz/cifar.html): records of
1 label byte + 1024 R + 1024 G + 1024 B bytes, in cifar-10-batches-bin/*.bin of a tar.gz.
"""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
from pathlib import Path

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, *, compress: bool = True) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def tiny_mnist(
    folder: Path, n_train: int = 6, n_test: int = 4, *, compress: bool = True, seed: int = 0
):
    """Write the four MNIST files with random 28x28 images; return the arrays written."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        suffix = ".gz" if compress else ""
        write_idx(folder / f"{prefix}-images-idx3-ubyte{suffix}", images, compress=compress)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{suffix}", labels, compress=compress)
        arrays[prefix] = (images, labels)
    return arrays


def cifar_records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """images (N, 32, 32, 3) as a viewer shows them -> records: label, then R, G, B planes."""
    out = bytearray()
    for image, label in zip(images, labels):
        out.append(int(label))
        for channel in range(3):
            out += image[:, :, channel].tobytes()  # row-major plane
    return bytes(out)


def write_cifar_archive(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def tiny_cifar(n_per_file: int = 2, seed: int = 0):
    """Members of a tiny CIFAR-10 binary archive and the (N, 32, 32, 3) arrays they hold."""
    rng = np.random.default_rng(seed)
    members, arrays = {}, {}
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for k, name in enumerate(names):
        images = rng.integers(0, 256, size=(n_per_file, 32, 32, 3), dtype=np.uint8)
        labels = np.array([(k + j) % 10 for j in range(n_per_file)], dtype=np.uint8)
        members[name] = cifar_records(images, labels)
        arrays[name] = (images, labels)
    members["batches.meta.txt"] = (
        b"airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n"
    )
    return members, arrays
