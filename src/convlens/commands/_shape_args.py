"""The flags that read an input shape the way the slides or PyTorch write it, shared by commands.

``--input`` takes HxWxC (32x32x3, as the decks write volumes), CxHxW, HxW or a length; ``--layout``
settles a three-number shape; ``--hwc`` prints shapes back in the slides' order. ``shapes.py``
does the reading.
"""

from __future__ import annotations

import argparse

LAYOUT_HELP = (
    "how to read a 3-number --input: hwc (height x width x channels, as the slides write it), "
    "chw, or auto (default: HxWxC when it ends in 1 or 3 and starts above 4, said on stderr)"
)


def add_shape_arguments(
    parser: argparse.ArgumentParser, input_help: str, *, required: bool = False, hwc: bool = True
) -> None:
    """``--input`` (with ``input_help``), ``--layout`` and, where output shapes are printed, ``--hwc``."""
    parser.add_argument("--input", "-i", required=required, help=input_help)
    parser.add_argument(
        "--layout", choices=("auto", "hwc", "chw"), default="auto", help=LAYOUT_HELP
    )
    if hwc:
        parser.add_argument(
            "--hwc", action="store_true",
            help="print shapes in the slides' order, height x width x channels",
        )  # fmt: skip
