"""An image as the slides show it: matrices of 0-255 intensities, one per colour plane.

The lectures print a small grey image as its matrix of values 0-255, and a photo resized to 10x10
as its three planes ``I(:,:,1)``, ``I(:,:,2)``, ``I(:,:,3)``; dividing by 255 gives the
normalised values in [0, 1] that a network is fed. ``pixel_matrices`` returns those matrices;
the CLI (``convlens viz pixels IMAGE --size 12``) prints them. NumPy and Pillow only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from convlens.errors import ConfigError

MAX_SIZE = 64  # a matrix wider than this no longer reads as a matrix on a screen


@dataclass(frozen=True)
class PixelMatrices:
    """The planes of a resized image as uint8 matrices: ("grey",) or ("R", "G", "B")."""

    names: tuple[str, ...]
    planes: np.ndarray  # (planes, H, W) uint8, values 0-255
    original_size: tuple[int, int]  # (H, W) of the file

    @property
    def size(self) -> tuple[int, int]:
        return int(self.planes.shape[1]), int(self.planes.shape[2])


def parse_size(text: str) -> tuple[int, int] | int:
    """Read ``--size``: "12" (the longer side, aspect kept) or "12x16" (height x width)."""
    parts = text.lower().split("x")
    if not all(p.isdigit() and int(p) > 0 for p in parts) or len(parts) > 2:
        raise ConfigError(f"--size takes N or HxW in pixels, such as 12 or 12x16, not {text!r}")
    values = [int(p) for p in parts]
    if max(values) > MAX_SIZE:
        raise ConfigError(
            f"--size {text} is too large to print; use at most {MAX_SIZE} pixels a side"
        )
    return values[0] if len(values) == 1 else (values[0], values[1])


def pixel_matrices(
    path: str | Path, size: tuple[int, int] | int = 12, colour: bool = False
) -> PixelMatrices:
    """Read ``path``, resize it (an int: the longer side, aspect kept) and return its planes.

    Grey is the luminance Pillow computes (ITU-R 601-2: L = 0.299 R + 0.587 G + 0.114 B).
    """
    from PIL import Image

    from convlens.viz.images import open_image

    im = open_image(path, grey=not colour)
    width, height = im.size
    if isinstance(size, int):
        scale = size / max(width, height)
        target = (max(1, round(height * scale)), max(1, round(width * scale)))
    else:
        target = size
    # box filtering averages every source pixel into the small matrix (no aliasing)
    small = im.resize((target[1], target[0]), Image.Resampling.BOX)
    arr = np.asarray(small, dtype=np.uint8)
    planes = arr[None] if arr.ndim == 2 else np.moveaxis(arr, -1, 0)
    return PixelMatrices(("R", "G", "B") if colour else ("grey",), planes.copy(), (height, width))
