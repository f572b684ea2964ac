"""Small drawing helpers shared by the ``plot_*`` functions.

Figures are built with ``matplotlib.figure.Figure`` directly, never through pyplot, so library code
touches no global state, opens no window and works on any backend; ``save_png`` writes one
atomically and ``png_bytes`` gives the bytes for the HTML report.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from convlens.fileio import atomic_write_bytes


def new_figure(nrows: int = 1, ncols: int = 1, *, panel: float = 2.2, **kw):
    """A figure with an ``(nrows, ncols)`` grid of axes (always a 2-D array)."""
    fig = Figure(figsize=(max(2.0, panel * ncols), max(1.8, panel * nrows)), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def show_image(ax, image: np.ndarray, title: str = "", *, cmap: str = "gray", **kw) -> None:
    """Draw a [0, 1] grey or RGB picture (or a signed map with ``cmap`` and vmin/vmax) without ticks."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    ax.imshow(arr, cmap=None if arr.ndim == 3 else cmap, interpolation="nearest", **kw)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=8)


def suptitle_to_fit(fig, title: str, fontsize: float = 10) -> None:
    """``fig.suptitle(title)``, wrapped onto as many lines as the figure's width needs.

    A title wider than the figure runs off the canvas: constrained layout makes room above the
    axes for it, not beside them.
    """
    # an average character of DejaVu Sans (matplotlib's default) is about 0.55 em wide and its
    # digits 0.64 em, so 0.65 em per character errs on the narrow side
    width = max(10, int(fig.get_figwidth() * 72 / (0.65 * fontsize)))
    fig.suptitle(textwrap.fill(title, width), fontsize=fontsize)


def image_grid(
    images: Sequence[np.ndarray],
    titles: Sequence[str] | None = None,
    *,
    ncols: int | None = None,
    cmap: str = "gray",
    suptitle: str = "",
    panel: float = 1.6,
    symmetric: bool = False,
):
    """One figure showing ``images`` in a grid; ``symmetric`` centres a diverging map on zero."""
    n = max(1, len(images))
    ncols = ncols or min(n, 8)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols, panel=panel)
    for k, ax in enumerate(axes.flat):
        if k >= len(images):
            ax.axis("off")
            continue
        kw = {}
        if symmetric:
            m = float(np.abs(images[k]).max()) or 1.0
            kw = {"vmin": -m, "vmax": m}
        show_image(ax, images[k], titles[k] if titles else "", cmap=cmap, **kw)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def tile(images: np.ndarray, ncols: int, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """Tile ``(N, h, w[, 3])`` images into one mosaic with ``pad`` pixels of ``fill`` between."""
    n, h, w = images.shape[:3]
    rest = images.shape[3:]
    nrows = math.ceil(n / ncols)
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, *rest), fill, dtype=np.float32)
    for k in range(n):
        r, c = divmod(k, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y : y + h, x : x + w] = images[k]
    return out


def png_bytes(fig, dpi: int = 100) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_png(fig, path: str | Path, dpi: int = 100) -> Path:
    """Write the figure to ``path`` atomically (``fileio.atomic_write``)."""
    return atomic_write_bytes(path, png_bytes(fig, dpi=dpi))
