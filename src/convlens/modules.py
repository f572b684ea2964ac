"""Torch modules for the spec layers that ``torch.nn`` lacks.

Each one computes with ordinary torch calls (a convolution, an unfold and a batched matrix
product, a max over a reshaped axis), so it runs on the meta device, autograd differentiates it,
and PyTorch's FLOP counter sees its multiply-accumulates. ``summary_kind`` and ``summary_window``
((kernel, stride, padding, dilation) per spatial dimension) tell the summary's trace what the
module is, the way ``nn.Conv2d``'s own attributes do. Their NumPy twins are in
``convlens.scratch.connections``; the tests hold each pair together (forward and gradients).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from convlens.spec import binomial_weights


class GlobalAvgPoolFlat(nn.Module):
    """Average over every spatial position: (N, C, *spatial) -> (N, C)."""

    summary_kind = "gap"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=tuple(range(2, x.dim())))


class WeightedAvgPool(nn.Module):
    """Weighted-average pooling around the central pixel: (N, C, *spatial) -> (N, C, *out).

    One fixed, normalised binomial window (outer product of ``binomial_weights`` in 2-D), the same
    for every channel; zero padding counts as pixels of value 0, as in ``nn.AvgPool2d``'s default.
    """

    summary_kind = "wavgpool"

    def __init__(self, kernel_size: int, stride: int, padding: int = 0, ndim: int = 2) -> None:
        super().__init__()
        row = torch.tensor(binomial_weights(kernel_size))
        kernel = row if ndim == 1 else torch.outer(row, row)
        # not in the state_dict: it is part of the layer's definition, not a learned value
        self.kernel: torch.Tensor
        self.register_buffer("kernel", kernel[None, None], persistent=False)
        self.stride, self.padding, self.ndim = stride, padding, ndim
        self.summary_window = tuple((v,) * ndim for v in (kernel_size, stride, padding, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, *spatial = x.shape
        conv = F.conv1d if self.ndim == 1 else F.conv2d
        ones = x.reshape(n * c, 1, *spatial)  # every channel through the same one-channel window
        out = conv(ones, self.kernel, stride=self.stride, padding=self.padding)
        return out.reshape(n, c, *out.shape[2:])


class LocalConv2d(nn.Module):
    """A 2-D convolution's windows with weights that depend on the output position.

    ``tiles = 0``: locally connected, one filter bank per output position (H_out * W_out banks);
    ``tiles = T``: tiled, position (i, j) uses bank (i mod T) * T + (j mod T) (T * T banks).
    weight (banks, C_out, C_in * KH * KW), laid out like ``F.unfold``'s columns; bias
    (banks, C_out). x (N, C_in, H, W) -> out (N, C_out, H_out, W_out).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple[int, int],
        in_size: tuple[int, int],
        tiles: int = 0,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.tiles = (
            kernel_size,
            stride,
            padding,
            tiles,
        )
        self.out_size = tuple(
            (n + 2 * padding - k) // stride + 1 for n, k in zip(in_size, kernel_size)
        )
        h_out, w_out = self.out_size
        banks = h_out * w_out if tiles == 0 else tiles * tiles
        fan_in = in_channels * kernel_size[0] * kernel_size[1]
        bound = 1 / math.sqrt(fan_in)  # the uniform range of torch's Conv2d default
        self.weight = nn.Parameter(torch.empty(banks, out_channels, fan_in).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(banks, out_channels).uniform_(-bound, bound))
        i, j = torch.meshgrid(torch.arange(h_out), torch.arange(w_out), indexing="ij")
        bank = (i % tiles) * tiles + j % tiles if tiles else i * w_out + j
        self.bank: torch.Tensor
        self.register_buffer("bank", bank.flatten(), persistent=False)  # (H_out * W_out,)
        self.summary_kind = "local2d" if tiles == 0 else "tiled2d"
        self.summary_window = (kernel_size, (stride,) * 2, (padding,) * 2, (1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cols = F.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)
        # (N, C_in*KH*KW, L) with each position's own bank: (L, C_out, C_in*KH*KW)
        weight = self.weight if self.tiles == 0 else self.weight[self.bank]
        bias = self.bias if self.tiles == 0 else self.bias[self.bank]
        out = torch.einsum("nfl,lof->nol", cols, weight) + bias.t()  # (N, C_out, L)
        return out.reshape(x.shape[0], -1, *self.out_size)


class RecurrentConv2d(nn.Module):
    """Recurrent convolutional layer (Liang & Hu, CVPR 2015), unrolled for ``steps`` steps:
    x(0) = relu(w_f * u + b), x(t) = relu(w_f * u + w_r * x(t - 1) + b), 'same' padding.

    weight (C, C_in, K, K) is w_f, recurrent_weight (C, C, K, K) is w_r, shared by every step.
    """

    summary_kind = "rcl2d"

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, steps: int) -> None:
        super().__init__()
        k = kernel_size
        self.steps, self.padding = steps, (k - 1) // 2
        bound_f = 1 / math.sqrt(in_channels * k * k)
        bound_r = 1 / math.sqrt(out_channels * k * k)
        shape_f, shape_r = (out_channels, in_channels, k, k), (out_channels, out_channels, k, k)
        self.weight = nn.Parameter(torch.empty(shape_f).uniform_(-bound_f, bound_f))
        self.recurrent_weight = nn.Parameter(torch.empty(shape_r).uniform_(-bound_r, bound_r))
        self.bias = nn.Parameter(torch.empty(out_channels).uniform_(-bound_f, bound_f))
        self.summary_window = ((k, k), (1, 1), (self.padding,) * 2, (1, 1))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        feed = F.conv2d(u, self.weight, self.bias, padding=self.padding)  # the same at every step
        x = F.relu(feed)
        for _ in range(self.steps):
            x = F.relu(feed + F.conv2d(x, self.recurrent_weight, padding=self.padding))
        return x


class Maxout(nn.Module):
    """Cross-channel pooling: the max over each group of ``pool_size`` consecutive channels,
    (N, C, *spatial) -> (N, C / pool_size, *spatial) (Goodfellow et al., ICML 2013)."""

    summary_kind = "maxout"

    def __init__(self, pool_size: int) -> None:
        super().__init__()
        self.pool_size = pool_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, *rest = x.shape
        return x.reshape(n, c // self.pool_size, self.pool_size, *rest).max(dim=2).values
