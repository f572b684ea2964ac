"""Atomic files: every file convlens writes appears whole or not at all.

The data goes to a temporary file in the destination's own directory, is flushed to the disk
(``fsync``), and is then moved into place with ``os.replace``, which is atomic on POSIX and
Windows: a run killed at any moment leaves either the old file or the new one, never half of one.
The temporary file sits in the same directory because a rename across file systems is a copy.

One policy for permissions: the finished file gets the mode a plain ``open(path, "w")`` would give
it (0o666 less the process's umask), since ``mkstemp`` makes its files private (0o600) and a
report, a picture or a checkpoint is meant to be shared like any other file the user writes.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process's umask, read without changing it where the system shows it (Linux).

    Elsewhere it can only be read by setting it and setting it straight back: the lock keeps two
    writers from restoring each other's 0, though a file that some other code creates in that
    instant still gets mode 0o666 (so Linux, where the studio's threads write, never does this).
    """
    try:
        with open("/proc/self/status", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        umask = os.umask(0)
        os.umask(umask)
    return umask


def _default_mode() -> int:
    return 0o666 & ~_umask()


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` to fill a temporary file, then move it to ``path`` in one step.

    ``write`` may open ``tmp`` itself or hand it to a library (safetensors, ONNX); the file is
    synced to the disk before the rename either way. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, _default_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))
