"""Input shapes as people type them: the slides' H x W x C and convlens's C x H x W.

Every lecture deck writes a volume as height x width x channels ("32x32x3", "227x227x3",
"28x28x1"); convlens, like PyTorch, stores channels first. ``read_shape`` reads what a user types
on the command line and says, in one line, when it turned a slide's shape around. The Python API
(``summarize``, ``build_model``) takes C x H x W only and never guesses.

    >>> read_shape("32x32x3").shape
    (3, 32, 32)
    >>> read_shape("32x32x3").note
    'read 32x32x3 as height x width x channels; convlens writes 3x32x32'
    >>> read_shape("3x32x32").shape, read_shape("32x32x3", "chw").shape
    ((3, 32, 32), (32, 32, 3))
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from convlens.analysis.geometry import format_shape, parse_shape
from convlens.errors import ConfigError

LAYOUTS = ("auto", "hwc", "chw")

# the channel counts of the slides' images: grey (1) and RGB (3)
_IMAGE_CHANNELS = (1, 3)
# a first number above this is a height, not a channel count (no slide draws a 4-pixel image)
_MAX_GUESSED_CHANNELS = 4
# whole numbers separated by x (any case), commas or spaces, with nothing before, between or after
_SHAPE_TEXT = re.compile(r"\s*\d+(?:\s*[x,]\s*\d+|\s+\d+)*\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ReadShape:
    """A typed shape in convlens's order, and how it was read."""

    shape: tuple[int, ...]  # C x H x W, C x L or (F,)
    note: str = ""  # one line when the text was read as H x W x C without --layout


def read_shape(text: str, layout: str = "auto") -> ReadShape:
    """Read ``text`` ("32x32x3", "3x32x32", "1x40", "784") as a C x H x W shape.

    ``layout="auto"`` reads a three-number shape that ends in 1 or 3 and starts with a number
    larger than 4 as height x width x channels, and says so in ``note``; ``"hwc"`` and ``"chw"``
    settle it. Shapes of one or two numbers are read as they are (N, C x L or H x W).
    """
    if layout not in LAYOUTS:
        raise ConfigError(f"--layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    bare = text.strip().removeprefix("torch.Size(").strip("()[] ")  # "(3, 32, 32)" as PyTorch
    if not _SHAPE_TEXT.fullmatch(bare):  # parse_shape alone drops the empty part of "1x32x32x"
        raise ConfigError(  # parse_shape's sentence, word for word
            f"cannot read the input shape {text!r}; write channels x height x width such as "
            "3x32x32 (images), 1x40 (signals) or 784 (vectors)"
        )
    dims = parse_shape(text)
    if len(dims) != 3 or layout == "chw":
        return ReadShape(dims)
    height, width, channels = dims
    if layout == "hwc":
        return ReadShape((channels, height, width))
    if channels in _IMAGE_CHANNELS and height > _MAX_GUESSED_CHANNELS:
        chw = (channels, height, width)
        return ReadShape(
            chw,
            f"read {format_shape(dims)} as height x width x channels; "
            f"convlens writes {format_shape(chw)}",
        )
    return ReadShape(dims)


def hwc(shape: Sequence[int]) -> tuple[int, ...]:
    """C x H x W (or C x L) in the slides' order, channels last; a vector stays as it is."""
    shape = tuple(shape)
    return shape if len(shape) < 2 else (*shape[1:], shape[0])


def shape_text(shape: Sequence[int], channels_last: bool = False) -> str:
    """``(3, 32, 32)`` as "3x32x32", or as "32x32x3" with ``channels_last``."""
    return format_shape(hwc(shape) if channels_last else tuple(shape))
