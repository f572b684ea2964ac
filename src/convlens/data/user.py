"""The user's own data: a path works wherever a data set name does.

``load_dataset(path, split)`` reads, by what the path is (the ``FORMATS`` table):

- a folder of images in class folders, ``DIR/train/<class>/*`` + ``DIR/test/<class>/*`` or
  ``DIR/<class>/*`` (``folder.py``; decoded once, then cached);
- a folder of IDX files as MNIST ships them, ``train-images-idx3-ubyte[.gz]``,
  ``train-labels-idx1-ubyte[.gz]`` and optionally ``t10k-*`` (format-checked like the named
  sets, without their published checksums);
- a ``.npz`` with x_train, y_train and optionally x_test, y_test, class_names (``arrays.py``);
- a ``.csv`` table with a label column (``tabular.py``).

Sources without a test split get a seeded, stratified one (``test_size``, default 0.2). A
``.npz`` or ``.csv`` read with ``task="regression"`` gives float targets instead of classes (and
a plain random test split). The options that shaped the data are recorded in the ``TensorData``
(and so in checkpoints), and ``load_recorded`` reads the same data again for ``eval``, ``viz``
and ``report``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from convlens.data.arrays import TEST_SIZE, Raw, check_task, finish, raw_from_arrays, read_npz
from convlens.errors import DataError

if TYPE_CHECKING:
    from convlens.data.catalog import Loaded
    from convlens.data.tensors import TensorData

# every option a path takes; the command-line flags are these names with dashes
OPTIONS = ("test_size", "channels", "size", "label", "skip_bad", "format", "task")
IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _read_folder(path: Path, options: dict[str, Any], progress: bool | None) -> Raw:
    from convlens.data.folder import decode_folder, list_folder, parse_size
    from convlens.data.folder_cache import cache_key, read_cached, write_cached

    channels = options.get("channels")
    if channels is not None and int(channels) not in (1, 3):
        raise DataError(f"channels must be 1 (grey) or 3 (colour), not {channels!r}")
    channels = None if channels is None else int(channels)
    size = parse_size(options.get("size"))
    skip_bad = bool(options.get("skip_bad", False))
    listing = list_folder(path)
    key = cache_key(listing, {"channels": channels, "size": size, "skip_bad": skip_bad})
    decoded = read_cached(key, listing)
    notes: list[str] = []
    if decoded is None:
        decoded = decode_folder(
            listing, channels=channels, size=size, skip_bad=skip_bad, progress=progress
        )
        try:
            write_cached(key, decoded)
        except OSError as err:  # a read-only cache costs the next run time, not this one
            notes.append(f"could not cache the decoded images ({err.strerror or err})")
    if decoded.skipped:
        notes.append(
            f"skipped {len(decoded.skipped)} unreadable image file(s) in {path}, first "
            f"{decoded.skipped[0]}"
        )
    x = decoded.x
    y, test = listing.labels[decoded.keep], listing.test[decoded.keep]
    if listing.has_split:
        return Raw((x[~test], y[~test]), (x[test], y[test]), listing.classes, tuple(notes))
    return Raw((x, y), None, listing.classes, tuple(notes))


def _idx_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _read_idx_folder(path: Path, options: dict[str, Any], progress: bool | None) -> Raw:
    from convlens.data.idx import read_idx

    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for split, names in IDX_NAMES.items():
        files = [_idx_file(path, n) for n in names]
        if files[0] is None and files[1] is None and split == "test":
            continue
        if files[0] is None or files[1] is None:
            have, lack = (files[0], names[1]) if files[0] else (files[1], names[0])
            raise DataError(f"{path} has {have.name if have else names[0]} but no {lack}[.gz]")
        images, labels = read_idx(files[0], 3), read_idx(files[1], 1)
        if len(images) != len(labels):
            raise DataError(
                f"{files[0]} holds {len(images)} images but {files[1]} holds {len(labels)} labels"
            )
        pairs[split] = (images[:, None, :, :], labels.astype(np.int64))
    top = max((int(y.max()) for _, y in pairs.values() if y.size), default=0)
    classes = tuple(str(i) for i in range(top + 1))
    return Raw(pairs["train"], pairs.get("test"), classes)


@dataclass(frozen=True)
class Format:
    what: str  # for messages and `convlens data info`
    options: tuple[str, ...]  # the options it takes besides test_size and format
    read: Callable[[Path, dict[str, Any], bool | None], Raw]


FORMATS: dict[str, Format] = {
    "folder": Format("a folder of images in class folders", ("channels", "size", "skip_bad"), _read_folder),
    "idx": Format("a folder of IDX files (the MNIST format)", (), _read_idx_folder),
    "npz": Format("a NumPy .npz file of arrays", ("task",), lambda p, o, _: _read_npz(p, o)),
    "csv": Format("a .csv table", ("label", "task"), lambda p, o, _: _read_csv(p, o)),
}  # fmt: skip


def _read_csv(path: Path, options: dict[str, Any]) -> Raw:
    from convlens.data.tabular import read_csv

    return read_csv(path, options.get("label"), options.get("task", "classification"))


def _read_npz(path: Path, options: dict[str, Any]) -> Raw:
    return read_npz(path, options.get("task", "classification"))


def detect_format(path: Path) -> str:
    """Which ``FORMATS`` entry reads ``path``; a missing or unsupported path is one sentence."""
    if not path.exists():
        raise DataError(f"data path {str(path)!r} does not exist")
    if path.is_dir():
        return "idx" if _idx_file(path, IDX_NAMES["train"][0]) else "folder"
    suffix = path.suffix.lower()
    if suffix in (".npz", ".csv"):
        return suffix[1:]
    raise DataError(
        f"{path} is not a data source convlens reads; give a folder of images, an IDX folder, "
        "a .npz or a .csv file"
    )


def path_state(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of a file, or of a folder and its direct subfolders
    (which change when files are added or removed): a changed source is read again."""
    if not path.exists():
        return ()
    paths = [path]
    if path.is_dir():
        paths += sorted(p for p in path.iterdir() if p.is_dir())
        paths += sorted(
            p
            for sub in paths[1:]
            if sub.name in ("train", "test")
            for p in sub.iterdir()
            if p.is_dir()
        )
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in paths)


def describe(path: Path) -> str:
    return FORMATS[detect_format(path)].what


def read_user(path: Path, options: Mapping[str, Any], progress: bool | None = None) -> Loaded:
    """Read the user's file or folder into the catalog's ``Loaded`` form."""
    from convlens.data.catalog import Loaded

    options = {k: v for k, v in options.items() if v is not None and v is not False}
    if check_task(options.get("task", "classification")) == "classification":
        options.pop("task", None)  # the default: recorded as before, by its absence
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise DataError(
            f"unknown option {unknown[0]!r} for {path}; a path takes {', '.join(OPTIONS)}"
        )
    kind = options.get("format") or detect_format(path)
    if kind not in FORMATS:
        raise DataError(f"unknown format {kind!r}; choose one of {', '.join(FORMATS)}")
    fmt = FORMATS[kind]
    for name in options:
        if name not in (*fmt.options, "test_size", "format"):
            raise DataError(
                f"--{name.replace('_', '-')} does not apply to {path}, which is {fmt.what}"
            )
    raw = fmt.read(path, options, progress)
    splits, classes, notes = finish(raw, str(path), options.get("test_size", TEST_SIZE))
    recorded = {k: _plain(v) for k, v in sorted(options.items())}
    return Loaded(str(path), splits, classes, {}, notes, tuple(recorded.items()), raw.task)


def _plain(value: Any) -> Any:
    """An option as JSON keeps it: a size tuple becomes "HxW"."""
    if isinstance(value, (tuple, list)):
        return "x".join(str(v) for v in value)
    return value


# --- explicit constructors --------------------------------------------------------------------


def from_folder(path: str | Path, split: str = "train", **options: Any) -> TensorData:
    """A split of a folder of images in class folders (see ``load_dataset`` for split/val_size;
    options: test_size, channels, size, skip_bad, progress)."""
    from convlens.data.catalog import load_dataset

    return load_dataset(Path(path), split, format="folder", **options)


def from_idx_folder(path: str | Path, split: str = "train", **options: Any) -> TensorData:
    """A split of a folder of IDX files (options: test_size when there are no t10k files)."""
    from convlens.data.catalog import load_dataset

    return load_dataset(Path(path), split, format="idx", **options)


def from_npz(path: str | Path, split: str = "train", **options: Any) -> TensorData:
    """A split of an .npz of x_train, y_train[, x_test, y_test, class_names] (options: test_size,
    task)."""
    from convlens.data.catalog import load_dataset

    return load_dataset(Path(path), split, format="npz", **options)


def from_csv(
    path: str | Path, split: str = "train", *, label: str | int | None = None, **options: Any
) -> TensorData:
    """A split of a .csv table; ``label`` is the label column's name or number (default last);
    ``task="regression"`` reads it as float targets."""
    from convlens.data.catalog import load_dataset

    return load_dataset(Path(path), split, format="csv", label=label, **options)


def from_arrays(
    x: Any,
    y: Any,
    split: str = "train",
    *,
    classes: Any = None,
    x_test: Any = None,
    y_test: Any = None,
    test_size: float = TEST_SIZE,
    val_size: int | float = 0,
    seed: int = 0,
    name: str = "arrays",
    task: str = "classification",
) -> TensorData:
    """A split of in-memory arrays (NumPy or anything ``np.asarray`` takes, such as tensors).

    x in any layout of ``arrays.py``; y integer or string labels (or one-hot rows); ``classes``
    names the integer labels. Without x_test/y_test a stratified ``test_size`` is held out.
    With ``task="regression"`` y holds float targets of shape (N,) or (N, k), there are no
    classes, and the held-out ``test_size`` is a seeded random split.
    """
    from convlens.data.catalog import Loaded, split_data

    raw = raw_from_arrays(
        x, y, x_test=x_test, y_test=y_test, classes=classes, source=name, task=task
    )
    splits, names, notes = finish(raw, name, test_size)
    loaded = Loaded(name, splits, names, {}, notes, task=raw.task)
    return split_data(loaded, split, val_size, seed)


def load_recorded(
    meta: Mapping[str, Any],
    split: str = "test",
    root: str | Path | None = None,
    *,
    data: str | None = None,
    **options: Any,
) -> TensorData:
    """The ``split`` of the data a checkpoint was trained on, read as it was then.

    ``meta`` is a checkpoint's metadata; ``data`` and ``options`` override what it records.
    """
    from convlens.data.catalog import load_dataset

    name = data or meta.get("data")
    if not name:
        raise DataError("the checkpoint does not name its data set; give it with --data")
    recorded = dict(meta.get("data_options") or {}) if not data else {}
    if data and meta.get("task") == "regression":  # other data, read for the same kind of model
        recorded["task"] = "regression"
    recorded.update({k: v for k, v in options.items() if v is not None})
    return load_dataset(name, split, root=root, **recorded)
