"""MNIST and Fashion-MNIST from their original IDX files.

Checksums, two per file:
- ``md5`` is the MD5 of the published ``.gz`` file, checked on download. MNIST: the values that
  torchvision lists for its mirror (torchvision/datasets/mnist.py, ``MNIST.resources``);
  Fashion-MNIST: the table in the README of github.com/zalandoresearch/fashion-mnist.
- ``raw_md5`` is the MD5 of the uncompressed IDX bytes, checked on every read. Local copies are
  often recompressed (the Debian package strips the file name from the gzip header, which changes
  the archive's MD5 but not its content), so the content is what identifies the real data. These
  values are listed by several public projects (for example torchvision's ``FashionMNIST``
  subclasses that keep ``raw_data`` checksums); the Fashion-MNIST ones agree with the Debian
  package ``dataset-fashion-mnist``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convlens.data.idx import read_idx
from convlens.data.sources import RemoteFile, fetch
from convlens.errors import DataError


@dataclass(frozen=True)
class IdxFile:
    name: str  # without .gz
    md5: str  # of name + ".gz" as published
    raw_md5: str  # of the uncompressed bytes
    count: int  # records the official file holds


@dataclass(frozen=True)
class IdxDataset:
    name: str
    title: str
    mirrors: tuple[str, ...]  # base URLs, tried in order
    files: dict[str, tuple[IdxFile, IdxFile]]  # split -> (images, labels)
    classes: tuple[str, ...]

    def remote(self, file: IdxFile) -> RemoteFile:
        gz = f"{file.name}.gz"
        return RemoteFile(gz, tuple(base + gz for base in self.mirrors), file.md5, (file.name,))


MNIST = IdxDataset(
    name="mnist",
    title="MNIST handwritten digits (LeCun, Cortes and Burges)",
    # yann.lecun.com is the original home but often refuses downloads, so the mirrors of
    # torchvision and of TensorFlow's tutorials (same files, same MD5s) come first.
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    files={
        "train": (
            IdxFile("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873",
                    "6bbc9ace898e44ae57da46a324031adb", 60_000),
            IdxFile("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432",
                    "a25bea736e30d166cdddb491f175f624", 60_000),
        ),
        "test": (
            IdxFile("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3",
                    "2646ac647ad5339dbf082846283269ea", 10_000),
            IdxFile("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c",
                    "27ae3e4e09519cfbb04c329615203637", 10_000),
        ),
    },
    classes=tuple(str(d) for d in range(10)),
)  # fmt: skip

FASHION_MNIST = IdxDataset(
    name="fashion-mnist",
    title="Fashion-MNIST Zalando article images (Xiao, Rasul and Vollgraf 2017)",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    files={
        "train": (
            IdxFile("train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                    "f4a8712d7a061bf5bd6d2ca38dc4d50a", 60_000),
            IdxFile("train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe",
                    "9018921c3c673c538a1fc5bad174d6f9", 60_000),
        ),
        "test": (
            IdxFile("t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79",
                    "8181f5470baa50b63fa0f6fddb340f0a", 10_000),
            IdxFile("t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310",
                    "15d484375f8d13e6eb1aabb0c3f46965", 10_000),
        ),
    },
    # Label names from the Fashion-MNIST README.
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
             "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)  # fmt: skip


def load_idx_split(
    dataset: IdxDataset,
    split: str,
    root: str | Path | None = None,
    *,
    download: bool = True,
    verify: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 1, 28, 28) uint8 and labels (N,) int64 of the official ``split``.

    ``verify=False`` skips the content checksum, which lets tests load small files written in the
    real format; the structural checks (magic, sizes, counts, label range) always run.
    """
    image_file, label_file = dataset.files[split]
    image_path = fetch(dataset.remote(image_file), dataset.name, root, download_missing=download)
    label_path = fetch(dataset.remote(label_file), dataset.name, root, download_missing=download)
    images = read_idx(image_path, 3, image_file.raw_md5 if verify else None)
    labels = read_idx(label_path, 1, label_file.raw_md5 if verify else None)
    if len(images) != len(labels):
        raise DataError(
            f"{image_path} holds {len(images)} images but {label_path} holds {len(labels)} labels; "
            "the two files do not belong together"
        )
    if verify and len(images) != image_file.count:
        raise DataError(
            f"{image_path} holds {len(images)} images, the official file {image_file.count}"
        )
    if labels.size and int(labels.max()) >= len(dataset.classes):
        raise DataError(
            f"{label_path} has label {int(labels.max())}, beyond the {len(dataset.classes)} classes"
        )
    return images[:, None, :, :], labels.astype(np.int64)
