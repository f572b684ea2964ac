"""Arrays the user brings (in memory or in an ``.npz``): layout, labels, splits and checks.

Every user data source ends here as ``Raw`` (train arrays, test arrays or None, class names and
notes), and ``finish`` turns it into the ``{"train": (x, y), "test": (x, y)}`` that the catalog
serves: it holds out a seeded, stratified test split when none was given and refuses data that
cannot train a classifier (one class, a test class the training split lacks), naming the source.
For regression (``task="regression"``) the targets are float32 values of shape (N,) or (N, k)
instead of classes, and the held-out test split is a seeded random one, since there are no
classes to stratify by.

Layouts (the axis order of x), decided once from x_train and applied to x_test as well:
N x F are tabular rows; N x C x L with C of 1 to 3 and L at least 8 are 1-D signals (as Conv1d
takes them); other N x H x W are grey images; N x H x W x C (as PIL, Keras and matplotlib keep
images) and N x C x H x W (as torch does) are told apart by which end holds 1, 3 or 4 channels.
When both ends could, the guess is said in a note.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from convlens.errors import DataError

Pair = tuple[np.ndarray, np.ndarray]
CHANNEL_COUNTS = (1, 3, 4)
TEST_SIZE = 0.2  # default fraction of each class held out when no test split is given
SPLIT_SEED = 0  # fixed, so eval and report hold out the same examples as training did
TASKS = ("classification", "regression")


@dataclass(frozen=True)
class Raw:
    train: Pair
    test: Pair | None  # None: hold out a split
    classes: tuple[str, ...]  # () for regression
    notes: tuple[str, ...] = ()
    task: str = "classification"  # or "regression": float targets, no classes


# --- layout ---------------------------------------------------------------------------------


def layout_of(shape: tuple[int, ...], what: str) -> tuple[str, str | None]:
    """The layout name of an x array's shape and, when it had to be guessed, a note saying so."""
    dims = "x".join(map(str, shape))
    if len(shape) == 2:
        return "NF", None
    if len(shape) == 3:
        if shape[1] <= 3 and shape[2] >= 8:
            note = (
                f"{what} is {dims}: read as 1-D signals (N x C x L) with {shape[1]} channel(s) of "
                f"length {shape[2]}"
            )
            return "NCL", note
        return "NHW", None
    if len(shape) == 4:
        first, last = shape[1] in CHANNEL_COUNTS, shape[3] in CHANNEL_COUNTS
        if first and last:
            guess = "NHWC" if shape[1] == shape[2] else "NCHW"
            note = f"{what} is {dims}: read as {' x '.join(guess)} (both ends could hold channels)"
            return guess, note
        if first or last:
            return ("NCHW" if first else "NHWC"), None
        raise DataError(
            f"cannot tell which axis of {what} ({dims}) holds the colour channels; store images "
            "as N x H x W x C or N x C x H x W with C of 1, 3 or 4"
        )
    raise DataError(
        f"{what} has shape {dims}; expected N x F rows, N x C x L signals or N x H x W, "
        "N x H x W x C, N x C x H x W images"
    )


def to_layout(x: np.ndarray, layout: str) -> np.ndarray:
    """x in convlens's axis order: (N, F), (N, C, L) or (N, C, H, W)."""
    if layout == "NHW":
        return x[:, None, :, :]
    if layout == "NHWC":
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return x


def as_samples(x: Any, what: str) -> np.ndarray:
    """uint8 stays uint8 (pixels, divided by 255 later); any other number becomes float32."""
    array = np.asarray(x)
    if array.dtype == np.uint8:
        return array
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise DataError(f"{what} holds {array.dtype} values; it must hold numbers")
    return array.astype(np.float32)


# --- labels ---------------------------------------------------------------------------------


def _one_hot_rows(y: np.ndarray) -> bool:
    return y.ndim == 2 and bool(np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all())


def encode_labels(
    parts: list[np.ndarray], what: str, class_names: Any = None
) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """Labels of every split as int64 class indices, and the class names.

    With ``class_names`` the labels are indices into it. Otherwise the classes are the distinct
    label values, sorted (numbers by value), so labels 0..K-1 keep their meaning and string labels
    such as "setosa" become classes. One-hot rows are read as the index of their 1.
    """
    parts = [np.argmax(y, axis=1) if _one_hot_rows(np.asarray(y)) else np.asarray(y) for y in parts]
    for y in parts:
        if y.ndim != 1:
            raise DataError(f"{what} labels have shape {y.shape}; give one label per example")
    if class_names is not None:
        names = tuple(str(c) for c in np.asarray(class_names).reshape(-1))
        for y in parts:
            if not np.issubdtype(y.dtype, np.integer) or (
                y.size and not 0 <= y.min() <= y.max() < len(names)
            ):
                raise DataError(
                    f"{what} labels must be integers from 0 to {len(names) - 1}, one per class name"
                )
        return [y.astype(np.int64) for y in parts], names
    joined = np.concatenate(parts)
    if np.issubdtype(joined.dtype, np.floating):
        if not np.all(np.isfinite(joined)) or not np.all(joined == np.round(joined)):
            raise DataError(f"{what} labels must be whole numbers or strings, not fractions")
        parts, joined = [y.astype(np.int64) for y in parts], joined.astype(np.int64)
    elif not (np.issubdtype(joined.dtype, np.integer) or joined.dtype.kind in "US"):
        raise DataError(f"{what} labels hold {joined.dtype} values; use integers or strings")
    values = np.unique(joined)  # sorted: numbers by value, strings alphabetically
    return [np.searchsorted(values, y).astype(np.int64) for y in parts], tuple(
        str(v) for v in values
    )


def check_task(task: Any) -> str:
    if task not in TASKS:
        raise DataError(f"task must be one of {', '.join(TASKS)}, not {task!r}")
    return str(task)


def regression_targets(parts: list[np.ndarray], what: str) -> list[np.ndarray]:
    """Targets of every split as float32 arrays of shape (N,) or (N, k), all with the same k."""
    out = []
    for y in parts:
        array = np.asarray(y)
        if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
            raise DataError(
                f"{what} regression targets hold {array.dtype} values; they must be numbers"
            )
        if array.ndim not in (1, 2) or array.shape[-1:] == (0,):
            raise DataError(
                f"{what} regression targets have shape {array.shape}; give (N,) or (N, k)"
            )
        array = array.astype(np.float32)
        if not np.all(np.isfinite(array)):
            raise DataError(f"{what} regression targets must be finite, not NaN or infinite")
        out.append(array)
    if len({a.shape[1:] for a in out}) > 1:
        raise DataError(f"{what}: the train and test targets have different numbers of columns")
    return out


# --- split and checks -----------------------------------------------------------------------


def stratified_test_mask(y: np.ndarray, test_size: float, seed: int = SPLIT_SEED) -> np.ndarray:
    """True for a seeded random ``test_size`` fraction of each class (at least one of any class
    with two or more examples, never all of a class)."""
    mask = np.zeros(len(y), dtype=bool)
    rng = np.random.default_rng(seed)
    for label in np.unique(y):
        where = rng.permutation(np.flatnonzero(y == label))
        if len(where) < 2:
            continue
        count = min(max(1, round(len(where) * test_size)), len(where) - 1)
        mask[where[:count]] = True
    return mask


def random_test_mask(n: int, test_size: float, seed: int = SPLIT_SEED) -> np.ndarray:
    """True for a seeded random ``test_size`` fraction of n examples (at least one, never all)."""
    mask = np.zeros(n, dtype=bool)
    if n >= 2:
        count = min(max(1, round(n * test_size)), n - 1)
        mask[np.random.default_rng(seed).permutation(n)[:count]] = True
    return mask


def check_test_size(test_size: Any) -> float:
    try:
        value = float(test_size)
    except (TypeError, ValueError):
        value = -1.0
    if not 0 < value < 1:
        raise DataError(
            f"test size must be a fraction between 0 and 1 such as 0.2, not {test_size!r}"
        )
    return value


def finish(
    raw: Raw, source: str, test_size: Any = TEST_SIZE
) -> tuple[dict[str, Pair], tuple[str, ...], tuple[str, ...]]:
    """(splits, classes, notes) ready for the catalog, or one sentence about what is wrong."""
    notes = list(raw.notes)
    x, y = raw.train
    if len(x) != len(y):
        raise DataError(f"{source} has {len(x)} training examples but {len(y)} labels")
    if raw.test is None:
        train, test_pair, note = _hold_out(raw, source, test_size)
        notes.append(note)
    else:
        train, test_pair = (x, y), raw.test
        _check_test(train, test_pair, source)
    if raw.task == "classification":
        _check_classes(raw, source, train[1], test_pair[1])
    return {"train": train, "test": test_pair}, raw.classes, tuple(notes)


def _hold_out(raw: Raw, source: str, test_size: Any) -> tuple[Pair, Pair, str]:
    """A seeded test split: stratified by class, or simply random for regression."""
    x, y = raw.train
    fraction = check_test_size(test_size)
    if raw.task == "regression":
        test = random_test_mask(len(y), fraction)
        how, per = f"{fraction:.0%}, a fixed-seed random split", ""
    else:
        test = stratified_test_mask(y, fraction)
        how, per = f"{fraction:.0%} of each class, fixed seed", " per class"
    if not test.any():
        raise DataError(f"{source} has too few examples{per} to hold out a test split")
    note = (
        f"{source} has no test split: {int(test.sum())} of {len(y)} examples ({how}) are held "
        "out for testing"
    )
    return (x[~test], y[~test]), (x[test], y[test]), note


def _check_test(train: Pair, test: Pair, source: str) -> None:
    x, y = train
    if len(test[0]) != len(test[1]):
        raise DataError(f"{source} has {len(test[0])} test examples but {len(test[1])} labels")
    if not len(test[1]):
        raise DataError(f"{source} has an empty test split")
    if test[0].shape[1:] != x.shape[1:]:
        raise DataError(
            f"{source}: test examples are {'x'.join(map(str, test[0].shape[1:]))} but "
            f"training examples {'x'.join(map(str, x.shape[1:]))}"
        )
    if test[1].shape[1:] != y.shape[1:]:
        raise DataError(f"{source}: the test targets have a different shape from the training ones")


def _check_classes(raw: Raw, source: str, y_train: np.ndarray, y_test: np.ndarray) -> None:
    """A classifier needs two classes to train on and no test class it never saw."""
    seen = np.unique(y_train)
    if len(seen) < 2:
        only = raw.classes[int(seen[0])] if len(seen) else "none"
        raise DataError(
            f"{source} has only one class in its training split ({only!r}); a classifier needs "
            "at least two"
        )
    missing = np.setdiff1d(np.unique(y_test), seen)
    if missing.size:
        raise DataError(
            f"the test split of {source} has class {raw.classes[int(missing[0])]!r}, which the "
            "training split lacks"
        )


# --- sources --------------------------------------------------------------------------------


def raw_from_arrays(
    x: Any,
    y: Any,
    *,
    x_test: Any = None,
    y_test: Any = None,
    classes: Any = None,
    source: str = "the arrays",
    task: str = "classification",
) -> Raw:
    """Raw data from arrays in any supported layout (see the module's docstring); labels become
    classes, or float targets for ``task="regression"``."""
    check_task(task)
    if (x_test is None) != (y_test is None):
        raise DataError(f"{source}: give both x_test and y_test, or neither")
    x = as_samples(x, f"{source} x_train")
    layout, note = layout_of(x.shape, f"x_train of {source}")
    xs = [to_layout(x, layout)]
    ys = [np.asarray(y)]
    if x_test is not None:
        xt = as_samples(x_test, f"{source} x_test")
        if xt.ndim != x.ndim:
            raise DataError(
                f"{source}: x_test has {xt.ndim} axes but x_train {x.ndim}; store both alike"
            )
        xs.append(to_layout(xt, layout))
        ys.append(np.asarray(y_test))
    for name, xi, yi in zip(("train", "test"), xs, ys):
        if len(xi) != len(yi):
            raise DataError(
                f"{source} has {len(xi)} {name} examples (x_{name}) but {len(yi)} labels (y_{name})"
            )
    if xs[0].dtype != xs[-1].dtype:  # uint8 beside floats: both as floats
        xs = [a.astype(np.float32) for a in xs]
    names: tuple[str, ...] = ()
    if task == "regression":
        if classes is not None:
            raise DataError(f"{source}: class names are for classification; regression has none")
        labels = regression_targets(ys, source)
    else:
        labels, names = encode_labels(ys, source, classes)
    test = (xs[1], labels[1]) if x_test is not None else None
    return Raw((xs[0], labels[0]), test, names, (note,) if note else (), task)


def npz_arrays(path: Any) -> dict[str, Any]:
    """Every array of an ``.npz``, read without unpickling; a file that cannot be read is named
    in one sentence."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {k: stored[k] for k in stored.files}
    except FileNotFoundError:
        raise DataError(f"{path} does not exist") from None
    except ValueError as err:
        raise DataError(
            f"{path} cannot be read without unpickling ({err}); store plain number or string arrays"
        ) from None
    except OSError as err:
        raise DataError(f"{path} is not a readable .npz file ({err})") from None


def read_npz(path: Any, task: str = "classification") -> Raw:
    """An ``.npz`` with x_train, y_train and optionally x_test, y_test and class_names (none
    for ``task="regression"``, whose y arrays are float targets)."""
    from pathlib import Path

    path = Path(path)
    arrays = npz_arrays(path)
    if "x_train" not in arrays and "x" in arrays:  # one x, y pair: the test split is held out
        arrays["x_train"], arrays["y_train"] = arrays.pop("x"), arrays.pop("y", None)
    for key in ("x_train", "y_train"):
        if arrays.get(key) is None:
            raise DataError(
                f"{path} has no {key} array (it holds {', '.join(sorted(arrays)) or 'nothing'}); "
                "expected x_train, y_train and optionally x_test, y_test, class_names"
            )
    return raw_from_arrays(
        arrays["x_train"],
        arrays["y_train"],
        x_test=arrays.get("x_test"),
        y_test=arrays.get("y_test"),
        classes=arrays.get("class_names"),
        source=str(path),
        task=task,
    )


def read_npz_inputs(path: Any, in_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray | None]:
    """The examples of an ``.npz`` to predict from, as float32 (N, *in_shape) in the model's units
    (uint8 pixels divided by 255), and their labels where it has them: the arrays ``x`` and ``y``,
    else ``x_test`` and ``y_test``, else its only array."""
    from pathlib import Path

    path = Path(path)
    arrays = npz_arrays(path)
    key: str | None = next((k for k in ("x", "x_test") if k in arrays), None)
    if key is None and len(arrays) == 1:
        key = next(iter(arrays))
    if key is None:
        raise DataError(
            f"{path} holds {', '.join(sorted(arrays)) or 'nothing'}; the examples to predict are "
            "its x (or x_test) array"
        )
    x = as_samples(arrays[key], f"{path} {key}")
    dims = "x".join(map(str, in_shape))
    if x.ndim >= 2 and x.shape[1:] != tuple(in_shape):
        if x.ndim == len(in_shape) + 1 and x.ndim in (3, 4):
            x = to_layout(x, layout_of(x.shape, f"{key} of {path}")[0])
        elif x.ndim == len(in_shape):  # grey images stored without their channel axis
            x = x[:, None]
    if x.ndim < 2 or x.shape[1:] != tuple(in_shape):
        raise DataError(
            f"{path} {key} is {'x'.join(map(str, x.shape))}; the model takes N x {dims} examples"
        )
    values = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x
    labels = arrays.get("y" if key == "x" else "y_test") if key in ("x", "x_test") else None
    if labels is not None and len(labels) != len(values):
        labels = None
    return values, labels
