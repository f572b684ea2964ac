"""Data sets as tensors in memory: MNIST, Fashion-MNIST, CIFAR-10, MNIST-1D, digits and Iris.

``load_dataset(name, split)`` returns a ``TensorData``; ``augment_batch`` applies batched
augmentation on the device; ``TensorDataset``-style per-sample access is in ``convlens.data.torch``.
"""

from convlens.data.augment import Augment, augment_batch
from convlens.data.catalog import dataset_info, list_datasets, load_dataset
from convlens.data.tensors import TensorData

__all__ = [
    "Augment",
    "TensorData",
    "augment_batch",
    "dataset_info",
    "list_datasets",
    "load_dataset",
]
