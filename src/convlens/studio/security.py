"""What the studio lets a request reach, and who may send one.

The server binds to 127.0.0.1 unless told otherwise. On any other interface everyone on the
network could reach it, so it then demands a random token in every request's URL, as Jupyter
does (``secrets.token_urlsafe``; compared in constant time). A loopback server with no token
still refuses requests whose Host header names another machine: a web page elsewhere could
otherwise point a name of its own at 127.0.0.1 and read the API through it (DNS rebinding).

Paths that come from a request (run ids, data paths, exports) are resolved, symlinks included,
and must stay inside the runs folder or the data the server was started with; anything else is
refused with 403, whether it was written ``../``, as an absolute path or percent-encoded.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from convlens.errors import ConvlensError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


class Forbidden(ConvlensError):
    """A request for something outside what the server was started with, or without its token."""


class NotFound(ConvlensError):
    """A run or layer that does not exist."""


class Busy(ConvlensError):
    """A training is already running in this server."""


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def new_token() -> str:
    return secrets.token_urlsafe(24)


def check_token(given: str | None, token: str | None) -> None:
    if token is None:
        return
    if given is None or not secrets.compare_digest(given.encode(), token.encode()):
        raise Forbidden(
            "this studio needs its access token; open the URL that `convlens studio` printed."
        )


def check_host(host_header: str | None, token: str | None) -> None:
    """Without a token, only requests addressed to a loopback name are served."""
    if token is not None:
        return
    host = (
        (host_header or "").rsplit(":", 1)[0]
        if "]" not in (host_header or "")
        else ((host_header or "").split("]")[0] + "]")
    )
    if not is_loopback(host):
        raise Forbidden(
            f"this studio answers requests to 127.0.0.1 or localhost only, not to {host!r}."
        )


def inside(root: Path, candidate: Path) -> bool:
    """Whether ``candidate``, with every symlink resolved, lies in ``root`` (or is it)."""
    root, candidate = root.resolve(), candidate.resolve()
    return candidate == root or root in candidate.parents


def run_path(root: Path | None, run: str) -> Path:
    """The directory of run id ``run`` (a path relative to the runs folder), checked."""
    if root is None:
        raise NotFound("this studio was started without a runs folder.")
    if not run or "\\" in run or "\x00" in run:
        raise Forbidden(f"{run!r} is not a run of this studio.")
    parts = PurePosixPath(run)
    if parts.is_absolute() or ".." in parts.parts:
        raise Forbidden(f"{run!r} is outside the runs folder this studio serves.")
    path = root / parts
    if not inside(root, path):
        raise Forbidden(f"{run!r} is outside the runs folder this studio serves.")
    if not path.is_dir():
        raise NotFound(f"there is no run {run!r} in {str(root)!r}.")
    return path


def check_data(data: str, is_name: Callable[[str], bool], allowed: Path | None) -> str:
    """A data set name the catalog knows, as given, or a path inside the data the server was
    started with (relative paths are read from the working directory, then from that data)."""
    if is_name(data):
        return data
    path = Path(data)
    if allowed is not None:
        for candidate in (path, allowed / path):
            if (candidate.is_absolute() or candidate.exists()) and inside(allowed, candidate):
                return str(candidate.resolve())
    raise Forbidden(
        f"data {data!r} is outside what this studio was started with; "
        "restart it with --data PATH to train on your own files."
    )
