"""A digit drawn on a canvas, prepared the way MNIST's digits were.

LeCun, Cortes & Burges describe the preparation on the MNIST page: "The original black and white
(bilevel) images from NIST were size normalized to fit in a 20x20 pixel box while preserving their
aspect ratio. The resulting images contain grey levels as a result of the anti-aliasing technique
used by the normalization algorithm. the images were centered in a 28x28 image by computing the
center of mass of the pixels, and translating the image so as to position this point at the
center of the 28x28 field."

A network trained on MNIST has only ever seen digits framed like that; a stroke drawn in a corner
of a large canvas, fed in as it is, is a different kind of picture. ``center_like_mnist`` frames
it the same way:

1. crop the ink's bounding box (pixels above ``threshold``);
2. scale it with anti-aliasing (Lanczos) so that its longer side is ``box`` pixels, keeping the
   aspect ratio;
3. paste it into a ``size`` x ``size`` field and shift it by whole pixels so that its centre of
   mass lands as close as possible to the field's centre, (size - 1) / 2 in pixel-centre
   coordinates (13.5 for 28 x 28).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from PIL import Image

from convlens.errors import ConfigError


def center_of_mass(image: NDArray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted mean pixel position; the centre for a blank image."""
    total = float(image.sum())
    if total <= 0:
        return ((image.shape[0] - 1) / 2, (image.shape[1] - 1) / 2)
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def center_like_mnist(
    pixels: ArrayLike, *, size: int = 28, box: int = 20, threshold: float = 0.0
) -> NDArray[np.float32]:
    """A drawn grey image (any size, ink 1 on paper 0, values in [0, 1]) framed as MNIST's digits.

    Returns a ``(size, size)`` float32 array in [0, 1]; a blank canvas gives a blank field.
    """
    image = np.asarray(pixels, dtype=np.float64)
    if image.ndim != 2 or image.size == 0:
        raise ConfigError(
            f"a drawing is a 2-D grid of grey values, not an array of shape {image.shape}."
        )
    if not np.isfinite(image).all():
        raise ConfigError("the drawing holds values that are not numbers; send values in [0, 1].")
    if box > size:
        raise ConfigError(f"the digit's box ({box}) must fit in the field ({size}).")
    image = np.clip(image, 0.0, 1.0)
    ink = np.argwhere(image > threshold)
    field = np.zeros((size, size), dtype=np.float64)
    if len(ink) == 0:
        return field.astype(np.float32)
    (top, left), (bottom, right) = ink.min(axis=0), ink.max(axis=0) + 1
    crop = image[top:bottom, left:right]
    h, w = crop.shape
    scale = box / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    # PIL's "F" mode keeps the float values; Lanczos is the anti-aliasing filter
    scaled = np.asarray(
        Image.fromarray(crop.astype(np.float32), mode="F").resize(
            (new_w, new_h), Image.Resampling.LANCZOS
        ),
        dtype=np.float64,
    ).clip(0.0, 1.0)
    y0, x0 = (size - new_h) // 2, (size - new_w) // 2
    field[y0 : y0 + new_h, x0 : x0 + new_w] = scaled
    cy, cx = center_of_mass(field)
    centre = (size - 1) / 2
    dy, dx = _shift(centre - cy, size - new_h, y0), _shift(centre - cx, size - new_w, x0)
    field = np.roll(field, (dy, dx), axis=(0, 1))
    return field.astype(np.float32)


def _shift(wanted: float, room: int, start: int) -> int:
    """The whole-pixel shift nearest ``wanted`` that keeps the digit inside the field."""
    return int(np.clip(np.floor(wanted + 0.5), -start, room - start))
