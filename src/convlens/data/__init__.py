"""Data sets as tensors in memory: MNIST, Fashion-MNIST, CIFAR-10, MNIST-1D, digits, Iris, and
the user's own folders of images, IDX folders, ``.npz`` and ``.csv`` files.

``load_dataset(name_or_path, split)`` returns a ``TensorData``; ``from_folder``, ``from_arrays``
and ``from_csv`` build one explicitly; ``augment_batch`` applies batched augmentation on the
device; ``TensorDataset``-style per-sample access is in ``convlens.data.loader``.

The names are imported lazily, so the image-decoding worker processes of ``from_folder`` (and
``convlens --help``) import this package without importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the real names for type checkers; at run time __getattr__ imports on use
    from convlens.data.augment import Augment, augment_batch
    from convlens.data.catalog import dataset_info, list_datasets, load_dataset
    from convlens.data.tensors import TensorData
    from convlens.data.user import (
        from_arrays,
        from_csv,
        from_folder,
        from_idx_folder,
        from_npz,
        load_recorded,
    )

# public name -> module that defines it
_PUBLIC: dict[str, str] = {
    "Augment": "convlens.data.augment",
    "augment_batch": "convlens.data.augment",
    "TensorData": "convlens.data.tensors",
    "dataset_info": "convlens.data.catalog",
    "list_datasets": "convlens.data.catalog",
    "load_dataset": "convlens.data.catalog",
    "from_folder": "convlens.data.user",
    "from_arrays": "convlens.data.user",
    "from_csv": "convlens.data.user",
    "from_npz": "convlens.data.user",
    "from_idx_folder": "convlens.data.user",
    "load_recorded": "convlens.data.user",
}

__all__ = [
    "Augment",
    "TensorData",
    "augment_batch",
    "dataset_info",
    "from_arrays",
    "from_csv",
    "from_folder",
    "from_idx_folder",
    "from_npz",
    "list_datasets",
    "load_dataset",
    "load_recorded",
]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'convlens.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
