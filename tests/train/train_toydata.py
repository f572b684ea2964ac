"""Small data sets built in memory, so the training tests need no files and run in seconds."""

from __future__ import annotations

import torch

from convlens.data.tensors import TensorData


def sequence_data(n: int = 256, seed: int = 0) -> TensorData:
    """(N, 1, 40) signals; the class says which half has the larger sum (learnable by a conv)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 40, generator=g)
    y = (x[:, 0, :20].sum(1) > x[:, 0, 20:].sum(1)).long()
    return TensorData("halves", "train", x, y, ("left", "right"), (0.0,), (1.0,))


def image_data(n: int = 128, seed: int = 0, classes: int = 3) -> TensorData:
    """uint8 (N, 1, 12, 12) images with random labels (only memorisable)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(0, 256, (n, 1, 12, 12), generator=g, dtype=torch.uint8)
    y = torch.randint(0, classes, (n,), generator=g)
    names = tuple(f"c{i}" for i in range(classes))
    return TensorData("noise", "train", x, y, names, (0.5,), (0.29,))
