"""digits (8x8) and Iris: the small data sets that ship inside scikit-learn (no download).

Neither has an official train/test split, so convlens uses a fixed, stratified one: within each
class, in the order the file lists the samples, every fifth sample (the 5th, 10th, 15th, ...)
is test and the rest is train. That is 20% per class, the same split on every machine and
for every seed. Iris: 40 + 10 per class (120 / 30); digits: 1,442 / 355.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from convlens.errors import DataError

TEST_EVERY = 5  # every fifth sample of each class is test


def _sklearn_loader(name: str) -> Callable[[], Any]:
    try:
        from sklearn import datasets
    except ImportError as err:
        raise DataError(
            f"the {name} data set ships with scikit-learn, which is not installed; "
            "run `pip install convlens[data]`"
        ) from err
    return {"digits": datasets.load_digits, "iris": datasets.load_iris}[name]


def stratified_test_mask(y: np.ndarray, every: int = TEST_EVERY) -> np.ndarray:
    """True for the samples at positions every-1, 2*every-1, ... within their class."""
    mask = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        where = np.flatnonzero(y == label)
        mask[where[every - 1 :: every]] = True
    return mask


def load_bundled(name: str) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], tuple[str, ...]]:
    """({"train": (x, y), "test": (x, y)}, class names) for "digits" or "iris".

    digits: x float32 (N, 1, 8, 8), the 0..16 gray levels divided by 16; Iris: x float32 (N, 4)
    in centimetres (sepal length, sepal width, petal length, petal width).
    """
    bunch = _sklearn_loader(name)()
    y = np.asarray(bunch.target, dtype=np.int64)
    if name == "digits":
        x = (np.asarray(bunch.images, dtype=np.float32) / 16.0)[:, None, :, :]
        classes = tuple(str(c) for c in bunch.target_names)
    else:
        x = np.asarray(bunch.data, dtype=np.float32)
        classes = tuple(str(c) for c in bunch.target_names)
    test = stratified_test_mask(y)
    return {"train": (x[~test], y[~test]), "test": (x[test], y[test])}, classes
