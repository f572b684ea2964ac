"""TensorData: one split of a data set as tensors in memory, with the train split's statistics.

Images stay uint8 (a quarter of the memory of float32, and the form augmentation works on) until
``float_x`` turns them into float32 in [0, 1] and, by default, standardises each channel with
the mean and std of the *training* split, so train, val and test are all scaled alike.

The targets say the task: int64 class indices (with class names) for classification, float32
values of shape (N,) or (N, k) (and no class names) for regression.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True)
class TensorData:
    name: str  # data set name, e.g. "fashion-mnist"
    split: str  # "train", "val" or "test"
    x: torch.Tensor  # uint8 (N, C, H, W) images, or float32 (N, 1, L) / (N, C, H, W) / (N, F)
    y: torch.Tensor  # int64 (N,) class indices, or float32 (N,) / (N, k) regression targets
    classes: tuple[str, ...]  # class names, index = label; () for regression
    mean: tuple[float, ...]  # per channel (axis 1) of the train split, in float_x units
    std: tuple[float, ...]
    # how a file or folder was read (load_dataset's options, e.g. size="32x32"): checkpoints
    # store them, so eval, viz and report read the same data again
    options: tuple[tuple[str, Any], ...] = ()
    # one-line remarks about the reading, for the command line to show: a guessed array layout,
    # image files skipped as unreadable
    notes: tuple[str, ...] = ()

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @property
    def in_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def task(self) -> str:
        """ "regression" for float targets, else "classification"."""
        return "regression" if self.y.is_floating_point() else "classification"

    @property
    def num_outputs(self) -> int:
        """How many outputs a model for this data has: one per class, or per target column."""
        if self.task == "classification":
            return self.num_classes
        return int(self.y.shape[1]) if self.y.dim() == 2 else 1

    def float_x(self, normalize: bool = True, device: Any = None) -> torch.Tensor:
        """x as float32 (uint8 divided by 255), then (x - mean) / std per channel if normalize."""
        x = self.x.to(device) if device is not None else self.x
        pixels = 255.0 if x.dtype == torch.uint8 else 1.0
        x = x.to(torch.float32, copy=True)  # a new tensor, so the in-place steps below are safe
        if not normalize:
            return x.div_(pixels) if pixels != 1.0 else x
        # (x / pixels - mean) / std as one multiply and one add, in place: a data set of 47 million
        # pixels is converted without the three temporaries of the plain formula
        view = (1, -1) + (1,) * (x.dim() - 2)  # broadcast over axis 1: (1, C, 1, 1) / (1, F)
        scale = [1.0 / (pixels * s) for s in self.std]
        shift = [-m / s for m, s in zip(self.mean, self.std)]
        x.mul_(torch.tensor(scale, dtype=torch.float32, device=x.device).view(view))
        return x.add_(torch.tensor(shift, dtype=torch.float32, device=x.device).view(view))

    def to(self, device: Any) -> TensorData:
        return replace(self, x=self.x.to(device), y=self.y.to(device))

    def class_counts(self) -> list[int]:
        if self.task == "regression":
            return []
        return torch.bincount(self.y.cpu(), minlength=self.num_classes).tolist()

    def __repr__(self) -> str:  # the sizes, not the tensors' values
        shape = "x".join(map(str, self.in_shape))
        dtype = str(self.x.dtype).removeprefix("torch.")
        if self.task == "classification":
            shown = ", ".join(self.classes[:6]) + (", ..." if self.num_classes > 6 else "")
            target = f"{self.num_classes} classes ({shown})"
        else:
            target = f"regression, {self.num_outputs} target(s)"
        return (
            f"TensorData({self.name!r}, split {self.split!r}: {len(self):,} examples of {shape} "
            f"{dtype}, {target})"
        )

    def _repr_html_(self) -> str:  # Jupyter: sizes, classes and a grid of the first examples
        from convlens.notebook import data_html

        return data_html(self)


def as_data(value: Any, task: str = "classification", split: str = "train") -> Any:
    """``value`` as fit and evaluate take data: a TensorData as it is; a data set's name or a path
    (``load_dataset``: the train split for training, the test split for val and test); or an
    ``(x, y)`` pair of tensors or arrays in the model's own layout, used as given (no
    normalisation: the trained model then takes the same x directly), y class indices (or, for
    ``task="regression"``, float targets)."""
    if value is None or hasattr(value, "float_x"):
        return value
    from pathlib import Path

    from convlens.errors import ConfigError

    if isinstance(value, str | Path):  # a data set's name or the path of one's own
        from convlens.data.catalog import load_dataset

        read: dict[str, Any] = {"task": "regression"} if task == "regression" else {}
        return load_dataset(value, "train" if split == "train" else "test", **read)

    if not (isinstance(value, tuple | list) and len(value) == 2):
        raise ConfigError(
            f"data must be a TensorData (load_dataset, from_arrays) or an (x, y) pair, not a "
            f"{type(value).__name__}."
        )
    x, y = (torch.as_tensor(np.asarray(v) if not torch.is_tensor(v) else v) for v in value)
    if x.dim() < 2 or y.dim() not in (1, 2) or len(x) != len(y):
        raise ConfigError(
            f"an (x, y) pair needs x of shape (N, ...) and y of N labels; got x "
            f"{tuple(x.shape)} and y {tuple(y.shape)}."
        )
    if x.dtype != torch.uint8:
        x = x.float()
    classes: tuple[str, ...] = ()
    if task == "regression":
        y = y.float()
    else:
        if y.is_floating_point() and not bool((y == y.round()).all()):
            raise ConfigError(
                "y holds fractions; class labels are whole numbers (for float targets train with "
                "task='regression')."
            )
        y = y.long()
        if y.dim() != 1 or int(y.min()) < 0:
            raise ConfigError("y must hold one class index (0, 1, 2, ...) per example.")
        classes = tuple(str(i) for i in range(int(y.max()) + 1))
    channels = int(x.shape[1])
    return TensorData("arrays", split, x, y, classes, (0.0,) * channels, (1.0,) * channels)


def _histogram(channel: np.ndarray) -> np.ndarray:
    """Counts of the 256 byte values.

    torch.bincount counts uint8 as it is; NumPy's bincount widens its input to int64 first and was
    half as fast (measured on 37.6 million pixels: 0.30 s against 0.59 s in 1M-value chunks).
    """
    with warnings.catch_warnings():  # a read-only array (IDX bytes) is only read here
        warnings.simplefilter("ignore", UserWarning)
        flat = torch.from_numpy(np.ascontiguousarray(channel).reshape(-1))
    return torch.bincount(flat, minlength=256).numpy().astype(np.float64)


def channel_stats(x: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and (population) std of each index along axis 1, in float_x units (uint8 / 255).

    uint8 images are counted with a 256-bin histogram per channel, which is exact and several
    times faster than converting 47 million pixels to float.
    """
    means, stds = [], []
    for c in range(x.shape[1]):
        channel = x[:, c]
        if x.dtype == np.uint8:
            counts = _histogram(channel)
            levels = np.arange(256) / 255.0
            mean = float(counts @ levels / counts.sum())
            var = float(counts @ (levels - mean) ** 2 / counts.sum())
        else:
            values = channel.astype(np.float64).ravel()
            mean, var = float(values.mean()), float(values.var())
        means.append(mean)
        stds.append(max(var, 1e-12) ** 0.5)  # a constant channel must not divide by zero
    return tuple(means), tuple(stds)
