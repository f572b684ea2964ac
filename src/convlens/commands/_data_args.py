"""The flags of ``--data``, shared by every command that reads a data set.

``--data`` takes a data set name or a path (a folder of images, an IDX folder, a .npz or a .csv
file); the flags below say how a path is read and go to ``load_dataset`` as its options. Only
flags that were given are passed, so a named data set never sees them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

DATA_HELP = (
    "data set name (mnist, fashion-mnist, cifar10, mnist1d, digits, iris) or a path: a folder "
    "of images in class folders, an IDX folder, a .npz or a .csv file"
)

# option of load_dataset -> (argparse keywords); the flag is the name with dashes
_OPTIONS: dict[str, dict[str, Any]] = {
    "test_size": dict(type=float, metavar="FRACTION",
                      help="held out of each class for testing when the data has no test split "
                      "(default 0.2)"),
    "channels": dict(type=int, choices=(1, 3),
                     help="images: 1 (grey) or 3 (colour); default: as the files are"),
    "size": dict(metavar="HxW", help="images: resize every image to HxW (needed when sizes differ)"),
    "label": dict(metavar="COLUMN",
                  help=".csv: the label column, by header name or number (default: the last)"),
    "skip_bad": dict(action="store_true", default=None,
                     help="images: skip unreadable files and count them, instead of stopping"),
}  # fmt: skip


def add_data_arguments(
    parser: argparse.ArgumentParser, *, data: bool = False, data_help: str = DATA_HELP
) -> None:
    """The flags of the user's own data; ``data=True`` also adds ``--data`` itself."""
    if data:
        parser.add_argument("--data", help=data_help)
    group = parser.add_argument_group("reading your own data (--data PATH)")
    for name, keywords in _OPTIONS.items():
        group.add_argument("--" + name.replace("_", "-"), dest=name, **keywords)


def data_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options given on the command line, as ``load_dataset`` takes them."""
    return {k: getattr(args, k) for k in _OPTIONS if getattr(args, k, None) not in (None, False)}


def check_options(name: str | None, options: Mapping[str, Any]) -> None:
    """Refuse the path flags without a data path, or for a named data set, in one sentence."""
    if not options:
        return
    from pathlib import Path

    from convlens.data.catalog import source_of
    from convlens.errors import ConfigError, DataError

    flag = "--" + next(iter(options)).replace("_", "-")
    if not name:
        raise ConfigError(f"{flag} says how to read your own data; give it with --data PATH.")
    if not isinstance(source_of(name), Path):
        raise DataError(f"{flag} is for your own data (--data PATH), not for the data set {name}")


_SHOWN: set[str] = set()


def show_notes(data: Any) -> Any:
    """Print the data's notes (a guessed layout, skipped files) on stderr, each once; return data."""
    for note in getattr(data, "notes", ()):
        if note not in _SHOWN:
            _SHOWN.add(note)
            print(f"note: {note}", file=sys.stderr)
    return data


def load_data(args: argparse.Namespace, name: str, split: str, **kwargs: Any) -> Any:
    """``load_dataset(name, split)`` with the command's --data-dir and path flags."""
    from convlens.data import load_dataset

    options = data_options(args)
    check_options(name, options)
    root = getattr(args, "data_dir", None)
    return show_notes(load_dataset(name, split, root=root, **options, **kwargs))


def load_checkpoint_data(args: argparse.Namespace, meta: Mapping[str, Any], split: str) -> Any:
    """The data a checkpoint was trained on, read as it was then; --data and flags override."""
    from convlens.data import load_recorded

    options = data_options(args)
    name = getattr(args, "data", None) or meta.get("data")
    if name:
        check_options(str(name), options)
    root = getattr(args, "data_dir", None)
    data = getattr(args, "data", None)
    return show_notes(load_recorded(meta, split, root, data=data, **options))
