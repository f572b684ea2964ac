"""Locally connected (unshared) 1-D layers: a convolution's windows with a weight set per position.

The lectures mention local (unshared) convolution beside the shared kind. It isolates what
parameter sharing buys: the same sparse connectivity as a Conv1d, but L_out times the weights.
``unshare(model)`` swaps every Conv1d of a network for one of these with the same geometry, and
a test holds a LocallyConnected1d whose positions all carry the same weights to ``F.conv1d``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class LocallyConnected1d(nn.Module):
    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, in_length: int,
        stride: int = 1, padding: int = 0,
    ) -> None:  # fmt: skip
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.out_length = (
            in_length + 2 * padding - kernel_size
        ) // stride + 1  # (N + 2P - F)/S + 1
        fan_in = in_channels * kernel_size
        bound = 1 / math.sqrt(fan_in)  # the same uniform range as torch's Conv1d default
        # (L_out, C_out, C_in * K): one filter bank per output position
        self.weight = nn.Parameter(
            torch.empty(self.out_length, out_channels, fan_in).uniform_(-bound, bound)
        )
        self.bias = nn.Parameter(torch.empty(out_channels, self.out_length).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, (self.padding, self.padding))
        windows = x.unfold(2, self.kernel_size, self.stride)  # (N, C_in, L_out, K)
        windows = windows.permute(0, 2, 1, 3).flatten(2)  # (N, L_out, C_in * K)
        out = torch.einsum("nlf,lof->nol", windows, self.weight)  # (N, C_out, L_out)
        return out + self.bias


def unshare(model: nn.Module, in_shape: tuple[int, ...]) -> nn.Module:
    """Replace each ``nn.Conv1d`` child of a Sequential by a LocallyConnected1d (same windows)."""
    from convlens.analysis.summary import summarize

    rows = {r.name: r for r in summarize(model, in_shape).rows}
    for name, child in list(model.named_children()):
        if isinstance(child, nn.Conv1d):
            assert isinstance(child.padding, tuple)
            local = LocallyConnected1d(
                child.in_channels, child.out_channels, child.kernel_size[0],
                rows[name].in_shape[-1], child.stride[0], child.padding[0],
            )  # fmt: skip
            setattr(model, name, local)
    return model
