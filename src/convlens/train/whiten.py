"""A fixed patch-whitening first layer: the first convolution's filters from the data's patches.

The input patches a k x k convolution sees have a covariance matrix; its eigenvectors, each divided
by the square root of its eigenvalue, map a patch to decorrelated, unit-variance coordinates
(whitening, as in Coates & Ng, "Learning feature representations with k-means", 2012). airbench
(Jordan, 2024) starts its CIFAR-10 network with such a layer, each direction twice (+w and -w, so a
ReLU loses none of it), and keeps it fixed. Here the first ``Conv2d`` gets the ``min(d, out // 2)``
directions of largest variance (d = in_channels x k x k) as filters and their negatives, bias 0;
filters beyond those keep their random start; the whole layer is then frozen.

Measured on Fashion-MNIST with the `fast` recipe as it then was (32-64-128 filters, 3.75 epochs;
float32, 2026-12-06): 93.07%, 93.00%, 92.94% test for seeds 0-2 against 92.90%, 92.55%, 92.61%
without. Filters fewer than twice the directions hold the largest-variance ones: `fast` now has 16
first filters, the 8 strongest directions of a 3x3 patch (convlens/train/recipes.py).
"""

from __future__ import annotations

import torch
from torch import nn

from convlens.errors import ConfigError

MAX_PATCHES = 4_000_000  # patches for the statistics: 5,000 images of 28x28 with a 3x3 kernel
MAX_IMAGES = 5_000
EPS = 1e-2  # added to each eigenvalue, as a fraction of their mean: keeps noise directions small


def first_conv(model: nn.Module) -> nn.Conv2d:
    """The first 2-D convolution the model registers; a clear error when it has none that fits."""
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if conv is None:
        raise ConfigError("whiten needs a model with a 2-D convolution; this one has none.")
    if conv.groups != 1:
        raise ConfigError(
            f"whiten needs an ordinary first convolution, not one of {conv.groups} groups."
        )
    if conv.out_channels < 2:
        raise ConfigError("whiten needs a first convolution with at least 2 filters.")
    return conv


def patch_covariance(x: torch.Tensor, conv: nn.Conv2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (d,) and covariance (d, d) in float64 of the patches ``conv`` sees in images ``x``."""
    kernel, dilation = conv.kernel_size, conv.dilation
    height = x.shape[-2] - dilation[0] * (kernel[0] - 1)
    width = x.shape[-1] - dilation[1] * (kernel[1] - 1)
    if height < 1 or width < 1:
        raise ConfigError(f"whiten: the images are smaller than the first layer's {kernel} kernel.")
    n = max(1, min(len(x), MAX_IMAGES, MAX_PATCHES // (height * width)))
    d = conv.in_channels * kernel[0] * kernel[1]
    sums = torch.zeros(d, dtype=torch.float64, device=x.device)
    outer = torch.zeros(d, d, dtype=torch.float64, device=x.device)
    count = 0
    for chunk in x[:n].split(256):
        cols = nn.functional.unfold(chunk, kernel, dilation=dilation)  # (b, d, L)
        patches = cols.transpose(1, 2).reshape(-1, d).double()
        sums += patches.sum(0)
        outer += patches.T @ patches
        count += len(patches)
    mean = sums / count
    return mean, outer / count - torch.outer(mean, mean)


@torch.no_grad()
def whiten_first_conv(model: nn.Module, x: torch.Tensor) -> nn.Conv2d:
    """Set the first convolution to whitening filters computed from images ``x`` and freeze it."""
    conv = first_conv(model)
    if x.dim() != 4 or x.shape[1] != conv.in_channels:
        raise ConfigError(
            f"whiten: the first convolution takes {conv.in_channels} channels, the images have "
            f"shape {tuple(x.shape[1:])}."
        )
    _, cov = patch_covariance(x, conv)
    values, vectors = torch.linalg.eigh(cov)  # ascending
    keep = min(len(values), conv.out_channels // 2)
    values, vectors = values[-keep:], vectors[:, -keep:]
    eps = EPS * values.clamp(min=0).mean().clamp(min=1e-12)
    filters = (vectors / (values.clamp(min=0) + eps).sqrt()).T  # (keep, d)
    filters = filters.reshape(keep, *conv.weight.shape[1:]).to(conv.weight)
    conv.weight[:keep] = filters
    conv.weight[keep : 2 * keep] = -filters
    if conv.bias is not None:
        conv.bias[: 2 * keep] = 0
    return conv.requires_grad_(False)


def freeze_first_conv(model: nn.Module) -> None:
    """Keep the first convolution fixed (a resumed run restores its whitened weights)."""
    first_conv(model).requires_grad_(False)
