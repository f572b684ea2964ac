"""The cache of decoded image folders: one uncompressed ``.npz`` of uint8 arrays per folder state.

The key is a SHA-256 of every listed file's relative name, size and modification time (in
nanoseconds) plus the decoding options, so touching, adding, removing or renaming any image
makes a new entry, while an unchanged folder is found again without opening a single image.
Entries live in ``<convlens cache>/folders/`` (the cache directory of ``sources.cache_dir``:
``$CONVLENS_DATA`` or ``~/.cache/convlens``), are written to a temporary file and renamed into
place (``convlens.fileio``), and are read with ``allow_pickle=False``. A damaged entry counts as a miss and is rewritten.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from convlens.data.folder import DecodedFolder, FolderListing
from convlens.data.sources import cache_dir

VERSION = 1  # bump when the decoded content of the same files would change


def cache_key(listing: FolderListing, options: dict[str, Any]) -> str:
    """SHA-256 over the decoding options and each file's (name, size, mtime)."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"version": VERSION, **options}, sort_keys=True).encode())
    lines = (
        f"{name}\0{size}\0{mtime}\n" for name, (size, mtime) in zip(listing.files, listing.stamps)
    )
    digest.update("".join(lines).encode())
    return digest.hexdigest()


def cache_path(key: str) -> Path:
    return cache_dir() / "folders" / f"{key}.npz"


def read_cached(key: str, listing: FolderListing) -> DecodedFolder | None:
    """The decoded folder stored under ``key``, or None when there is none (or it is damaged)."""
    path = cache_path(key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            x, keep, skipped = stored["x"], stored["keep"], stored["skipped"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None
    if keep.shape != (len(listing.files),) or x.shape[0] != int(keep.sum()):
        return None
    return DecodedFolder(x=x, keep=keep.astype(bool), skipped=tuple(str(s) for s in skipped))


def write_cached(key: str, decoded: DecodedFolder) -> Path:
    """Store ``decoded`` under ``key``, atomically (``convlens.fileio``)."""
    from convlens.fileio import atomic_write

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:  # a file object: np.savez would add ".npz" to a name
            np.savez(
                handle,
                x=decoded.x,
                keep=decoded.keep,
                skipped=np.array(decoded.skipped, dtype=str),
            )

    return atomic_write(cache_path(key), write)
