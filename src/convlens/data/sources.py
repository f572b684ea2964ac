"""Where data files come from: local copies first, then a verified, atomic download into the cache.

A data set file is described by a ``RemoteFile`` (its name, the URLs that serve it, and the MD5 of
the file as published). ``fetch`` looks for the file in this order and returns the first hit:

1. ``root`` (``--data-dir``), either directly or in ``root/<data set>``;
2. the cache, ``$CONVLENS_DATA/<data set>`` or ``~/.cache/convlens/<data set>``;
3. well-known system locations such as ``/usr/share/datasets/fashion-mnist`` (installed by the
   Debian package ``dataset-fashion-mnist``).

Only when none has it does it download. A download is streamed into a temporary file in the cache
directory, its MD5 is checked, and only then is it renamed into place (``os.replace`` is atomic on
one file system), so a partial or corrupt download is never found by a later call.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convlens.errors import DataError
from convlens.fileio import atomic_write

# System folders that distributions install data sets into, by data set name.
SYSTEM_DIRS: tuple[str, ...] = ("/usr/share/datasets",)

_CHUNK = 1 << 20


@dataclass(frozen=True)
class RemoteFile:
    name: str  # file name as published, e.g. "train-images-idx3-ubyte.gz"
    urls: tuple[str, ...]  # full URLs, tried in order
    md5: str  # MD5 of the published file (the compressed archive)
    aliases: tuple[str, ...] = ()  # other names a local copy may have (e.g. gunzipped)


def cache_dir() -> Path:
    """The download cache: ``$CONVLENS_DATA`` if set, else ``~/.cache/convlens``."""
    env = os.environ.get("CONVLENS_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "convlens"


def search_dirs(dataset: str, root: str | Path | None = None) -> list[Path]:
    """The folders searched for local copies of ``dataset``, in order."""
    dirs: list[Path] = []
    if root is not None:
        root = Path(root).expanduser()
        dirs += [root, root / dataset]
    dirs.append(cache_dir() / dataset)
    dirs += [Path(base) / dataset for base in SYSTEM_DIRS]
    return dirs


def find_local(file: RemoteFile, dataset: str, root: str | Path | None = None) -> Path | None:
    """The first local copy of ``file`` (under its name or an alias), or None."""
    for folder in search_dirs(dataset, root):
        for name in (file.name, *file.aliases):
            path = folder / name
            if path.is_file():
                return path
    return None


def md5_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# The function that opens a URL; tests replace it to serve bytes without a network.
Opener = Callable[..., Any]
_opener: Opener = urllib.request.urlopen


def download(url: str, dest: Path, md5: str, *, timeout: float = 60.0) -> Path:
    """Stream ``url`` to ``dest``, check its MD5, and move it into place atomically.

    Raises DataError when the checksum does not match (the partial file is removed) and lets
    ``urllib.error.URLError`` / ``OSError`` through for ``fetch`` to turn into an offline message.
    """

    def stream(tmp: Path) -> None:
        digest = hashlib.md5(usedforsecurity=False)
        with open(tmp, "wb") as out, _opener(url, timeout=timeout) as response:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        got = digest.hexdigest()
        if got != md5:  # atomic_write removes the partial file
            raise DataError(
                f"the download of {dest.name} from {url} has MD5 {got}, not the published {md5}; "
                "it was discarded, try again later or place a good copy by hand"
            )

    return atomic_write(dest, stream)


def fetch(
    file: RemoteFile,
    dataset: str,
    root: str | Path | None = None,
    *,
    download_missing: bool = True,
) -> Path:
    """A path to ``file``: a local copy if there is one, else a fresh verified download."""
    local = find_local(file, dataset, root)
    if local is not None:
        return local
    target_dir = Path(root).expanduser() if root is not None else cache_dir() / dataset
    if not download_missing:
        raise DataError(
            f"{dataset} file {file.name} was not found in {_where(dataset, root)}; run "
            f"`convlens data prepare {dataset}` or download {file.urls[0]} into {target_dir}"
        )
    errors: list[str] = []
    for url in file.urls:
        try:
            return download(url, target_dir / file.name, file.md5)
        except (urllib.error.URLError, OSError, TimeoutError) as err:
            errors.append(f"{url} ({getattr(err, 'reason', None) or err})")
    raise DataError(
        f"cannot download {dataset} file {file.name} (tried {'; '.join(errors)}); "
        f"place the file in {target_dir} (or pass --data-dir / root=) and run again"
    )


def _where(dataset: str, root: str | Path | None) -> str:
    return ", ".join(str(d) for d in search_dirs(dataset, root))
