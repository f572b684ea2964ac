"""The IDX file format of MNIST and Fashion-MNIST, read strictly.

Layout (LeCun et al., http://yann.lecun.com/exdb/mnist/, section "FILE FORMATS"): a 4-byte magic
number ``0x00 0x00 <type> <ndim>``, then ``ndim`` big-endian uint32 sizes, then the data in C
order. MNIST uses type ``0x08`` (unsigned byte): labels are ``idx1`` (N,), images ``idx3``
(N, 28, 28). Files may be gzip-compressed (detected by the gzip magic, not by the name).

Every defect is an error naming the file: a bad magic number, a wrong number of dimensions,
a payload shorter or longer than the header promises, a broken gzip stream, or an MD5 of the
uncompressed bytes that differs from the published one.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np

from convlens.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
_UBYTE = 0x08


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped if it is gzip-compressed (its CRC is checked by gzip)."""
    raw = path.read_bytes()
    try:
        if raw[:2] == _GZIP_MAGIC:
            return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as err:
        # gzip raises EOFError for a truncated stream and BadGzipFile (an OSError) for bad CRCs.
        raise DataError(
            f"{path} is not a readable gzip file ({err}); delete it and fetch it again"
        ) from err
    return raw


def parse_idx(data: bytes, path: Path, ndim: int) -> np.ndarray:
    """An IDX payload as a uint8 array of ``ndim`` dimensions; ``path`` only names the file in errors."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != _UBYTE:
        head = data[:4].hex() or "nothing"
        raise DataError(
            f"{path} is not an unsigned-byte IDX file (magic number {head}, expected 000008{ndim:02x})"
        )
    if data[3] != ndim:
        raise DataError(f"{path} has {data[3]} dimensions, expected {ndim}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path} is truncated inside its header ({len(data)} bytes)")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "longer than its header says"
        raise DataError(
            f"{path} is {what}: {len(data)} bytes, the header {tuple(shape)} needs {expected}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def read_idx(path: Path, ndim: int, md5: str | None = None) -> np.ndarray:
    """Read an IDX file (gzip or raw); check the MD5 of the uncompressed bytes when given."""
    data = read_bytes(path)
    array = parse_idx(data, path, ndim)  # structural defects first: they say more than a checksum
    if md5 is not None:
        got = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if got != md5:
            raise DataError(
                f"{path} has the wrong checksum (MD5 of its uncompressed bytes is {got}, the "
                f"published file has {md5}); delete it and fetch it again"
            )
    return array
