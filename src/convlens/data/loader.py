"""A plain ``torch.utils.data.Dataset`` / ``DataLoader`` over a TensorData, for users who want one.

convlens's own training slices whole batches out of tensors already in memory; this adapter is
the conventional per-sample path (one ``__getitem__`` per image, collated by the DataLoader), kept
for compatibility with ordinary PyTorch code and as the baseline that benchmarks compare against.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset

from convlens.data.tensors import TensorData


class TensorDataDataset(Dataset):
    """Sample i is (float32 x[i], normalised like ``TensorData.float_x``, int label)."""

    def __init__(self, data: TensorData, normalize: bool = True) -> None:
        self.data = data
        self.normalize = normalize
        shape = (-1,) + (1,) * (data.x.dim() - 2)  # per channel over one sample's axes
        self._mean = torch.tensor(data.mean, dtype=torch.float32).view(shape)
        self._std = torch.tensor(data.std, dtype=torch.float32).view(shape)
        self._scale = 255.0 if data.x.dtype == torch.uint8 else 1.0

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        x = self.data.x[index].float() / self._scale
        if self.normalize:
            x = (x - self._mean) / self._std
        return x, int(self.data.y[index])


def data_loader(
    data: TensorData,
    batch_size: int = 64,
    *,
    shuffle: bool = False,
    seed: int = 0,
    normalize: bool = True,
    num_workers: int = 0,
    drop_last: bool = False,
) -> DataLoader:
    """A DataLoader over ``data``; with ``shuffle`` the order is drawn from a generator seeded by ``seed``."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        TensorDataDataset(data, normalize),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=generator,
        num_workers=num_workers,
        drop_last=drop_last,
    )
