"""The data set table and ``load_dataset``: name or path -> loader, then splits, statistics, tensors."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from convlens.errors import DataError

if TYPE_CHECKING:
    from convlens.data.tensors import TensorData

Splits = dict[str, tuple[np.ndarray, np.ndarray]]  # "train"/"test" -> (x, y)


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    downloads: bool  # False: generated or bundled, never needs a network
    load: Callable[[str | Path | None, bool, dict[str, Any]], tuple[Splits, tuple[str, ...]]]


def _no_options(name: str, options: dict[str, Any]) -> None:
    if options:
        raise DataError(f"{name} takes no options, got {', '.join(sorted(options))}")


def _idx(dataset_name: str) -> Callable[..., tuple[Splits, tuple[str, ...]]]:
    def load(
        root: str | Path | None, download: bool, options: dict[str, Any]
    ) -> tuple[Splits, tuple[str, ...]]:
        from convlens.data.mnist import FASHION_MNIST, MNIST, load_idx_split

        dataset = {"mnist": MNIST, "fashion-mnist": FASHION_MNIST}[dataset_name]
        verify = bool(options.pop("verify", True))
        _no_options(dataset_name, options)
        splits = {
            s: load_idx_split(dataset, s, root, download=download, verify=verify)
            for s in ("train", "test")
        }
        return splits, dataset.classes

    return load


def _cifar(
    root: str | Path | None, download: bool, options: dict[str, Any]
) -> tuple[Splits, tuple[str, ...]]:
    from convlens.data.cifar import CLASSES, load_cifar_split

    verify = bool(options.pop("verify", True))
    _no_options("cifar10", options)
    return {
        s: load_cifar_split(s, root, download=download, verify=verify) for s in ("train", "test")
    }, CLASSES


def _mnist1d(
    root: str | Path | None, download: bool, options: dict[str, Any]
) -> tuple[Splits, tuple[str, ...]]:
    from convlens.data.mnist1d import CLASSES, Mnist1dConfig, load_or_generate
    from convlens.data.sources import cache_dir

    splits = load_or_generate(Mnist1dConfig.from_options(options), cache_dir() / "mnist1d")
    # (N, L) float64 -> (N, 1, L) float32: one channel, ready for Conv1d.
    return {s: (x[:, None, :].astype(np.float32), y) for s, (x, y) in splits.items()}, CLASSES


def _bundled(name: str) -> Callable[..., tuple[Splits, tuple[str, ...]]]:
    def load(
        root: str | Path | None, download: bool, options: dict[str, Any]
    ) -> tuple[Splits, tuple[str, ...]]:
        from convlens.data.bundled import load_bundled

        _no_options(name, options)
        return load_bundled(name)

    return load


DATASETS: dict[str, Entry] = {
    e.name: e
    for e in (
        Entry("mnist", "MNIST handwritten digits, 28x28 gray", True, _idx("mnist")),
        Entry("fashion-mnist", "Fashion-MNIST clothing, 28x28 gray", True, _idx("fashion-mnist")),
        Entry("cifar10", "CIFAR-10 objects, 32x32 color", True, _cifar),
        Entry("mnist1d", "MNIST-1D, generated 1-D digits of length 40", False, _mnist1d),
        Entry("digits", "scikit-learn digits, 8x8 gray", False, _bundled("digits")),
        Entry("iris", "Iris flowers, 4 measurements", False, _bundled("iris")),
    )
}
SPLITS = ("train", "val", "test")


def list_datasets() -> list[str]:
    return list(DATASETS)


def entry(name: str) -> Entry:
    key = name.lower().replace("_", "-")
    key = {
        "fashion": "fashion-mnist",
        "fashionmnist": "fashion-mnist",
        "cifar-10": "cifar10",
        "mnist-1d": "mnist1d",
    }.get(key, key)
    if key not in DATASETS:
        raise DataError(f"unknown data set {name!r}; known data sets: {', '.join(DATASETS)}")
    return DATASETS[key]


def source_of(name: str | Path) -> Entry | Path:
    """The catalog entry that ``name`` names, or the file or folder it points to.

    A known name wins over a file of the same name in the working directory; anything with a
    path separator or a ``.npz`` / ``.csv`` suffix is a path.
    """
    text = str(name)
    if isinstance(name, Path) or "/" in text or os.sep in text:
        return Path(text).expanduser()
    if Path(text).suffix.lower() in (".npz", ".csv"):
        return Path(text).expanduser()
    try:
        return entry(text)
    except DataError:
        if Path(text).expanduser().exists():
            return Path(text).expanduser()
        raise DataError(
            f"unknown data set {text!r}; known data sets: {', '.join(DATASETS)}; or give the "
            "path of a folder of images, an IDX folder, a .npz or a .csv file"
        ) from None


@dataclass
class Loaded:
    name: str  # the catalog name, or the absolute path of the user's file or folder
    splits: Splits
    classes: tuple[str, ...]
    stats: dict  # memoised train statistics, by (val_size, seed)
    notes: tuple[str, ...] = ()  # remarks about reading the user's data
    options: tuple[tuple[str, Any], ...] = ()  # how the user's data was read, for checkpoints
    task: str = "classification"  # "regression": float targets and no classes


# Recently loaded raw splits, so train, val and test (which all need the train statistics) read
# the files once per process. Keyed by everything that decides the content.
_CACHE: dict[tuple, Loaded] = {}
_CACHE_SIZE = 4


def _cached(
    name: str | Path, root: str | Path | None, download: bool, options: dict[str, Any]
) -> Loaded:
    """The splits, classes and memoised statistics of ``name``, from the cache or the loader."""
    from convlens.data.sources import cache_dir

    source = source_of(name)
    options = dict(options)
    progress = options.pop("progress", None)  # how to show the loading, not what is loaded
    if isinstance(source, Path):
        from convlens.data.user import path_state

        path = source.resolve()
        key: tuple = (
            "path",
            str(path),
            path_state(path),
            str(cache_dir()),
            repr(sorted(options.items())),
        )
    else:
        key = (source.name, str(root), download, str(cache_dir()), repr(sorted(options.items())))
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        if isinstance(source, Path):
            from convlens.data.user import read_user

            _CACHE[key] = read_user(source.resolve(), options, progress)
        else:
            splits, classes = source.load(root, download, options)
            _CACHE[key] = Loaded(source.name, splits, classes, {})
    return _CACHE[key]


def load_splits(
    name: str | Path, root: str | Path | None = None, *, download: bool = True, **options: Any
) -> tuple[Splits, tuple[str, ...]]:
    """The train and test arrays (numpy, as stored) and the class names."""
    loaded = _cached(name, root, download, options)
    return loaded.splits, loaded.classes


def val_indices(n_train: int, val_size: int | float, seed: int) -> np.ndarray:
    """Sorted indices of the train samples held out for validation (a seeded random subset)."""
    if 0 < val_size < 1:
        count = round(n_train * float(val_size))
    elif float(val_size).is_integer():
        count = int(val_size)
    else:
        raise DataError(f"val_size {val_size} must be a count or a fraction between 0 and 1")
    if not 0 < count < n_train:
        raise DataError(f"val_size {val_size} leaves no train or no val samples out of {n_train}")
    return np.sort(np.random.default_rng(seed).permutation(n_train)[:count])


def load_dataset(
    name: str | Path,
    split: str = "train",
    root: str | Path | None = None,
    *,
    download: bool = True,
    val_size: int | float = 0,
    seed: int = 0,
    **options: Any,
) -> TensorData:
    """One split of a data set, or of the user's own data, as tensors in memory.

    name: a data set name (see ``list_datasets``) or a path: a folder of images in class folders,
    a folder of IDX files, a ``.npz`` or a ``.csv`` file (see ``convlens.data.user``).
    split: "train", "test" or "val". "val" is a seeded random subset of the train split, of
    ``val_size`` samples (a count, or a fraction of train); when ``val_size > 0``, "train" is
    the rest. mean/std always come from the samples "train" returns. ``options`` go to the data
    set: mnist1d takes the fields of ``Mnist1dConfig`` (num_samples, corr_noise_scale,
    iid_noise_scale, shuffle, ...; its generator seed is ``data_seed``, default 42); mnist,
    fashion-mnist and cifar10 take ``verify=False``, which skips the published checksum and
    official counts for files you made yourself (the format checks always run); paths take
    test_size, channels, size, label, skip_bad and progress (``convlens.data.user.OPTIONS``), and
    a ``.csv`` or ``.npz`` takes ``task="regression"`` for float targets.
    """
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    return split_data(_cached(name, root, download, options), split, val_size, seed)


def split_data(loaded: Loaded, split: str, val_size: int | float = 0, seed: int = 0) -> TensorData:
    """The TensorData of ``split`` from loaded splits; "val" is held out of "train" (see above)."""
    import torch  # here, not at the top: listing the data sets needs no torch (1.2 s)

    from convlens.data.tensors import TensorData, channel_stats

    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if val_size < 0:
        raise DataError(f"val_size must not be negative, got {val_size}")
    if split == "val" and not val_size:
        raise DataError("split 'val' needs val_size > 0 (a count or a fraction of the train split)")
    x_train, y_train = loaded.splits["train"]
    held = np.zeros(len(y_train), dtype=bool)
    if val_size:
        held[val_indices(len(y_train), val_size, seed)] = True
    stats_key = (val_size, seed) if val_size else 0
    if stats_key not in loaded.stats:
        loaded.stats[stats_key] = channel_stats(x_train[~held] if val_size else x_train)
    mean, std = loaded.stats[stats_key]
    if split == "test":
        x, y = loaded.splits["test"]
    elif val_size:
        keep = held if split == "val" else ~held
        x, y = x_train[keep], y_train[keep]
    else:
        x, y = x_train, y_train
    return TensorData(
        name=loaded.name,
        split=split,
        x=torch.from_numpy(np.array(x, copy=True)),
        y=torch.from_numpy(np.array(y, dtype=_TARGET_TYPES[loaded.task], copy=True)),
        classes=loaded.classes,
        mean=mean,
        std=std,
        options=loaded.options,
        notes=loaded.notes,
    )


_TARGET_TYPES = {"classification": np.int64, "regression": np.float32}


@dataclass(frozen=True)
class DatasetInfo:
    """What ``convlens data info`` shows about a data set; ``to_dict()`` is its JSON."""

    name: str
    title: str
    source: str  # where the files were found, or how the data is made
    classes: list[str]
    sizes: dict[str, int]  # split -> examples
    class_counts: dict[str, list[int]]  # split -> examples per class
    balanced: bool  # every split has as many examples of each class
    in_shape: list[int]  # one example: (C, H, W) or (C, L)
    dtype: str  # as stored, before normalisation
    mean: list[float]  # per channel, of the training split
    std: list[float]
    notes: list[str]
    options: dict[str, Any]  # how a user's files were read (size, label column, ...)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def dataset_info(
    name: str | Path, root: str | Path | None = None, *, download: bool = False, **options: Any
) -> DatasetInfo:
    """What ``convlens data info`` shows: source, sizes, classes and counts, shape, statistics."""
    from convlens.data.tensors import channel_stats

    loaded = _cached(name, root, download, options)
    source = source_of(name)
    x_train = loaded.splits["train"][0]
    if 0 not in loaded.stats:
        loaded.stats[0] = channel_stats(x_train)
    mean, std = loaded.stats[0]
    classes = loaded.classes
    counts = {
        s: np.bincount(y, minlength=len(classes)).tolist() if classes else []
        for s, (_, y) in loaded.splits.items()
    }
    if isinstance(source, Path):
        from convlens.data.user import describe

        title, where = describe(source.resolve()), loaded.name
    else:
        title, where = source.title, _source(source, root)
    return DatasetInfo(
        name=loaded.name,
        title=title,
        source=where,
        classes=list(classes),
        sizes={s: len(y) for s, (_, y) in loaded.splits.items()},
        class_counts=counts,
        balanced=all(min(c) == max(c) for c in counts.values() if c),
        in_shape=list(x_train.shape[1:]),
        dtype=str(x_train.dtype),
        mean=list(mean),
        std=list(std),
        notes=list(loaded.notes),
        options=dict(loaded.options),
    )


def _source(e: Entry, root: str | Path | None) -> str:
    if e.name in ("mnist", "fashion-mnist"):
        from convlens.data.mnist import FASHION_MNIST, MNIST
        from convlens.data.sources import find_local

        dataset = MNIST if e.name == "mnist" else FASHION_MNIST
        found = find_local(dataset.remote(dataset.files["train"][0]), e.name, root)
        return str(found.parent) if found else "not found"
    if e.name == "cifar10":
        from convlens.data.cifar import ARCHIVE, find_folder
        from convlens.data.sources import find_local

        found = find_folder(root) or find_local(ARCHIVE, e.name, root)
        return str(found) if found else "not found"
    return "generated locally (no download)" if e.name == "mnist1d" else "bundled with scikit-learn"
