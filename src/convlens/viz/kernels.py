"""Convolution by hand: the lecture's kernels applied to a picture.

The lectures define 2-D convolution with a flipped kernel, s(i, j) = Σ_m Σ_n I(m, n) K(i − m, j − n),
and note that networks compute cross-correlation, s(i, j) = Σ_m Σ_n I(i + m, j + n) K(m, n), with no
flip. Both are here (``convolve`` is ``cross_correlate`` with the kernel turned by 180 degrees), and
``plot_flip`` shows the difference. ``plot_hyperparameters`` shows stride, padding and dilation
changing the output size: H_out = floor((N + 2P − D(F − 1) − 1) / S) + 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from convlens.errors import ConfigError
from convlens.viz.figures import new_figure, show_image
from convlens.viz.images import grey


def _shift_kernel(size: int = 9) -> np.ndarray:
    # A single 1 in the corner: cross-correlation moves the picture one way, convolution (flipped
    # kernel) the other, which makes the flip visible at a glance.
    k = np.zeros((size, size))
    k[-1, -1] = 1.0
    return k


KERNELS: dict[str, np.ndarray] = {
    "diff": np.array([[-1.0, 1.0]]),  # the lecture's [-1, 1]: horizontal change
    "vertical": np.array([[-1.0, 0, 1], [-1, 0, 1], [-1, 0, 1]]),  # Prewitt: vertical edges
    "horizontal": np.array([[-1.0, -1, -1], [0, 0, 0], [1, 1, 1]]),  # Prewitt: horizontal edges
    "sobel_x": np.array([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_y": np.array([[-1.0, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "laplacian": np.array([[-1.0, -1, -1], [-1, 8, -1], [-1, -1, -1]]),  # the lecture's kernel
    "blur": np.full((5, 5), 1 / 25),  # box blur
    "gaussian": np.outer([1.0, 4, 6, 4, 1], [1.0, 4, 6, 4, 1]) / 256,  # binomial ≈ Gaussian
    "sharpen": np.array([[0.0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "shift": _shift_kernel(),
}


def get_kernel(name_or_array: str | np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
    """A kernel by name (see ``KERNELS``) or from nested lists."""
    if isinstance(name_or_array, str):
        if name_or_array not in KERNELS:
            raise ConfigError(
                f"unknown kernel {name_or_array!r}; choose one of: {', '.join(KERNELS)}"
            )
        return KERNELS[name_or_array]
    k = np.asarray(name_or_array, dtype=np.float64)
    if k.ndim == 1:
        k = k[None, :]
    if k.ndim != 2 or k.size == 0:
        raise ConfigError(f"a kernel must be a non-empty 2-D array, not shape {k.shape}")
    return k


def cross_correlate(
    image: np.ndarray,
    kernel: str | np.ndarray,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
) -> np.ndarray:
    """What a conv layer computes: Σ_m Σ_n I(i·S + m·D − P, j·S + n·D − P) K(m, n).

    A colour image is filtered channel by channel (the result keeps its channels); zero padding.
    """
    k = torch.as_tensor(get_kernel(kernel), dtype=torch.float64)
    img = np.asarray(image, dtype=np.float64)
    chans = img[None] if img.ndim == 2 else img.transpose(2, 0, 1)
    x = torch.from_numpy(np.ascontiguousarray(chans)).unsqueeze(1)  # (C, 1, H, W)
    kh, kw = k.shape
    dil = (dilation, dilation) if isinstance(dilation, int) else tuple(dilation)
    pad = (padding, padding) if isinstance(padding, int) else tuple(padding)
    for n, f, p, d, axis in zip(x.shape[2:], (kh, kw), pad, dil, ("height", "width")):
        if n + 2 * p < d * (f - 1) + 1:
            raise ConfigError(
                f"the kernel spans {d * (f - 1) + 1} pixels but the padded image {axis} is only "
                f"{n + 2 * p}; use a smaller kernel or dilation, or more padding"
            )
    out = F.conv2d(x, k[None, None], stride=stride, padding=pad, dilation=dil)[:, 0].numpy()
    return out[0] if img.ndim == 2 else out.transpose(1, 2, 0)


def convolve(image: np.ndarray, kernel: str | np.ndarray, **kw) -> np.ndarray:
    """True convolution: cross-correlation with the kernel flipped in both axes."""
    return cross_correlate(image, np.flip(get_kernel(kernel), (0, 1)).copy(), **kw)


def _signed(ax, arr: np.ndarray, title: str) -> None:
    """Signed maps in red (+) and blue (−) around white zero; maps without negatives in grey."""
    if float(arr.min()) >= 0:
        show_image(ax, arr, title)
        return
    # scale by a high percentile rather than the maximum, so a few strong edges do not wash out
    # the rest (values beyond it saturate)
    m = float(np.percentile(np.abs(arr), 99.5)) or float(np.abs(arr).max()) or 1.0
    show_image(ax, arr, title, cmap="RdBu_r", vmin=-m, vmax=m)


def plot_kernels(image: np.ndarray, names: Sequence[str] | None = None):
    """The picture and its cross-correlation with each named kernel (signed maps: red +, blue −)."""
    names = list(
        names or ("diff", "vertical", "horizontal", "sobel_x", "laplacian", "blur", "sharpen")
    )
    g = grey(np.asarray(image, dtype=np.float64))
    ncols = min(4, len(names) + 1)
    nrows = -(-(len(names) + 1) // ncols)
    fig, axes = new_figure(nrows, ncols, panel=2.4)
    flat = list(axes.flat)
    show_image(flat[0], image, "input")
    for ax, name in zip(flat[1:], names):
        out = cross_correlate(g, name, padding=tuple(s // 2 for s in get_kernel(name).shape))
        if name in ("blur", "gaussian", "sharpen", "shift"):
            show_image(ax, np.clip(out, 0, 1), name)
        else:
            _signed(ax, out, name)
    for ax in flat[len(names) + 1 :]:
        ax.axis("off")
    return fig


def plot_flip(image: np.ndarray, kernel: str | np.ndarray = "shift"):
    """Cross-correlation and convolution with the same kernel, side by side, and their difference."""
    k = get_kernel(kernel)
    g = grey(np.asarray(image, dtype=np.float64))
    pad = (k.shape[0] // 2, k.shape[1] // 2)
    xc = cross_correlate(g, k, padding=pad)
    cv = convolve(g, k, padding=pad)
    fig, axes = new_figure(1, 5, panel=2.4)
    show_image(axes[0, 0], g, "input")
    _signed(axes[0, 1], k, "kernel K")
    _signed(axes[0, 2], xc, "cross-correlation\n(what conv layers do)")
    _signed(axes[0, 3], cv, "convolution\n(K flipped)")
    _signed(axes[0, 4], xc - cv, "difference")
    return fig


def plot_hyperparameters(image: np.ndarray, kernel: str | np.ndarray = "laplacian"):
    """One kernel under different stride, padding and dilation; titles give the output size."""
    g = grey(np.asarray(image, dtype=np.float64))
    settings = [
        {"stride": 1, "padding": 0, "dilation": 1},
        {"stride": 2, "padding": 0, "dilation": 1},
        {"stride": 4, "padding": 0, "dilation": 1},
        {"stride": 1, "padding": 8, "dilation": 1},
        {"stride": 1, "padding": 0, "dilation": 4},
        {"stride": 2, "padding": 4, "dilation": 4},
    ]
    fig, axes = new_figure(2, 3, panel=2.6)
    for ax, kw in zip(axes.flat, settings):
        out = cross_correlate(g, kernel, **kw)
        title = (
            f"S={kw['stride']} P={kw['padding']} D={kw['dilation']}: {out.shape[0]}×{out.shape[1]}"
        )
        _signed(ax, out, title)
        # the same pixel size for every panel, so smaller outputs look smaller
        ax.set_xlim(-0.5, g.shape[1] + 2 * 8 - 0.5)
        ax.set_ylim(g.shape[0] + 2 * 8 - 0.5, -0.5)
    fig.suptitle(f"input {g.shape[0]}×{g.shape[1]}", fontsize=10)
    return fig
