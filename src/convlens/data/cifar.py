"""CIFAR-10 from the official *binary* archive (never the pickled Python version).

Format (Krizhevsky, https://www.cs.toronto.edu/~kriz/cifar.html, "Binary version"): the archive
``cifar-10-binary.tar.gz`` holds ``cifar-10-batches-bin/data_batch_{1..5}.bin`` and
``test_batch.bin``; each is 10,000 records of 3,073 bytes: one label byte (0..9), then the
32x32 red plane, green plane and blue plane, each row-major. ``batches.meta.txt`` names the
classes. The archive's MD5 is the one published on that page.

Members are read straight out of the archive (nothing is extracted to disk); an already extracted
``cifar-10-batches-bin`` folder is used as well.
"""

from __future__ import annotations

import tarfile
import zlib
from pathlib import Path

import numpy as np

from convlens.data.sources import RemoteFile, fetch, md5_of, search_dirs
from convlens.errors import DataError

ARCHIVE = RemoteFile(
    "cifar-10-binary.tar.gz",
    ("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
    "c32a1d4ab5d03f1284b67883e8d87530",  # "md5sum" column of the CIFAR page
)
FOLDER = "cifar-10-batches-bin"
RECORD = 1 + 3 * 32 * 32
PER_FILE = 10_000
SPLIT_FILES = {
    "train": tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
    "test": ("test_batch.bin",),
}
# batches.meta.txt of the archive, in label order.
CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
           "dog", "frog", "horse", "ship", "truck")  # fmt: skip


def parse_records(data: bytes, where: str, *, expect: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Records of one batch file as images (N, 3, 32, 32) uint8 and labels (N,) int64."""
    if len(data) == 0 or len(data) % RECORD:
        raise DataError(
            f"{where} is truncated or corrupt: {len(data)} bytes is not a whole number of "
            f"{RECORD}-byte records"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, RECORD)
    if expect is not None and len(records) != expect:
        raise DataError(f"{where} holds {len(records)} records, the official file {expect}")
    labels = records[:, 0].astype(np.int64)
    if int(labels.max()) >= len(CLASSES):
        raise DataError(f"{where} has label {int(labels.max())}, beyond the {len(CLASSES)} classes")
    return records[:, 1:].reshape(-1, 3, 32, 32), labels


def _read_members(archive: Path, names: tuple[str, ...]) -> list[bytes]:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            out = []
            for name in names:
                try:
                    member = tar.extractfile(f"{FOLDER}/{name}")
                except KeyError:
                    member = None
                if member is None:
                    raise DataError(
                        f"{archive} has no regular file {FOLDER}/{name}; it is not the CIFAR-10 binary archive"
                    )
                out.append(member.read())
            return out
    except (tarfile.TarError, EOFError, OSError, zlib.error) as err:
        raise DataError(
            f"{archive} is not a readable tar.gz archive ({err}); delete it and fetch it again"
        ) from err


def find_folder(root: str | Path | None) -> Path | None:
    for base in search_dirs("cifar10", root):
        for folder in (base / FOLDER, base):
            if all((folder / n).is_file() for n in SPLIT_FILES["test"] + SPLIT_FILES["train"]):
                return folder
    return None


def load_cifar_split(
    split: str,
    root: str | Path | None = None,
    *,
    download: bool = True,
    verify: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 3, 32, 32) uint8 and labels (N,) int64 of the official ``split``.

    ``verify`` checks the archive's published MD5 and the official record counts; without it
    (tests with tiny files) only the format is checked.
    """
    names = SPLIT_FILES[split]
    folder = find_folder(root)
    if folder is not None:
        blobs = [(folder / n).read_bytes() for n in names]
        where = [str(folder / n) for n in names]
    else:
        archive = fetch(ARCHIVE, "cifar10", root, download_missing=download)
        if verify and (got := md5_of(archive)) != ARCHIVE.md5:
            raise DataError(
                f"{archive} has the wrong checksum (MD5 {got}, published {ARCHIVE.md5}); "
                "delete it and fetch it again"
            )
        blobs = _read_members(archive, names)
        where = [f"{archive}:{FOLDER}/{n}" for n in names]
    parts = [parse_records(b, w, expect=PER_FILE if verify else None) for b, w in zip(blobs, where)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
