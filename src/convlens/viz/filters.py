"""The weights of a convolution layer as pictures (Krizhevsky et al. 2012, figure 3).

A first layer that reads an RGB image shows each filter as one small colour picture, like AlexNet's
famous grid of 96 filters. Any other layer shows one grey tile per (output filter, input channel)
pair: a row per filter, a column per input channel.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import torch
from torch import nn

from convlens.viz.figures import new_figure, show_image, tile
from convlens.viz.layers import find_conv


def _scale_each(w: np.ndarray) -> np.ndarray:
    """Map each filter (first axis) to [0, 1] with 0.5 at zero weight: 0.5 + 0.5·w / max|w|."""
    m = np.abs(w.reshape(len(w), -1)).max(axis=1)
    m[m == 0] = 1.0
    return 0.5 + 0.5 * w / m.reshape(-1, *([1] * (w.ndim - 1)))


def filter_grid(
    weight: torch.Tensor | np.ndarray,
    *,
    rgb: bool | None = None,
    max_filters: int = 96,
    max_channels: int = 16,
    ncols: int | None = None,
) -> np.ndarray:
    """A mosaic of a conv weight ``(C_out, C_in, kH, kW)`` (or ``(C_out, C_in, k)`` for 1-D).

    ``rgb=None`` means colour when ``C_in == 3``. Colour: ``(rows, cols, 3)``, filters in reading
    order, ``ncols`` per row. Per channel: ``(rows, cols)``, a row per filter and a column per input
    channel (with one input channel, filters in reading order like colour ones). Each filter is scaled on its own so that zero weight is mid grey (0.5).
    """
    w = torch.as_tensor(weight).detach().float().cpu().numpy()
    if w.ndim == 3:  # 1-D convolution: each kernel is a 1 x k strip
        w = w[:, :, None, :]
    w = w[:max_filters]
    if rgb is None:
        rgb = w.shape[1] == 3
    if rgb:
        if w.shape[1] != 3:
            raise ValueError(f"colour filters need 3 input channels, not {w.shape[1]}")
        pics = _scale_each(w).transpose(0, 2, 3, 1)  # (N, kH, kW, 3)
        return tile(pics, ncols or math.ceil(math.sqrt(len(pics))))
    w = w[:, :max_channels]
    n_out, n_in = w.shape[:2]
    pics = _scale_each(w).reshape(n_out * n_in, *w.shape[2:])
    if n_in == 1:  # one grey picture per filter: a square-ish grid reads better than a column
        return tile(pics, ncols or math.ceil(math.sqrt(n_out)))
    return tile(pics, n_in)


def plot_filters(model: nn.Module, layer: str | None = None, **kw):
    """Figure of a conv layer's filters (the first conv layer when ``layer`` is None)."""
    name, conv = find_conv(model, layer)
    weight = cast(torch.Tensor, conv.weight).detach()
    grid = filter_grid(weight, **kw)
    c_out = weight.shape[0]
    h, w = grid.shape[:2]
    scale = 6.0 / max(h, w)
    fig, axes = new_figure(1, 1, panel=1)
    fig.set_size_inches(max(3.0, w * scale + 0.5), max(2.5, h * scale + 0.6))
    show_image(axes[0, 0], grid, aspect="auto" if weight.dim() == 3 else "equal")
    how = (
        "" if grid.ndim == 3 or weight.shape[1] == 1 else "\nrows: filters, columns: input channels"
    )
    axes[0, 0].set_title(
        f"{name}: {c_out} filters of {'×'.join(map(str, weight.shape[1:]))}{how}", fontsize=9
    )
    return fig
