"""ImageNet as pretrained weights see it: the 1,000 class names and the input preprocessing.

The class names are ILSVRC-2012's, in the order of its class indices, as torchvision lists them
(``_IMAGENET_CATEGORIES`` in torchvision/models/_meta.py): index 0 is "tench", 251 "dalmatian".
They ship as ``imagenet_classes.txt``, one name a line.

Preprocessing is that of torchvision's ImageNet weights (``ImageClassification`` in
torchvision/transforms/_presets.py): resize the shorter side to 256 pixels, cut the central
224x224, scale to [0, 1], normalise each channel with the ImageNet training set's mean and
standard deviation below.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # per RGB channel, of pixels in [0, 1]
IMAGENET_STD = (0.229, 0.224, 0.225)
RESIZE = 256  # shorter side before the crop
CROP = 224


@cache
def imagenet_classes() -> tuple[str, ...]:
    """The 1,000 ILSVRC-2012 class names, in class-index order."""
    text = resources.files("convlens.models").joinpath("imagenet_classes.txt").read_text("utf-8")
    return tuple(line for line in text.splitlines() if line)


def center_crop_box(width: int, height: int, size: int = CROP) -> tuple[int, int, int, int]:
    """The (left, top, right, bottom) box of the central ``size`` x ``size`` square; torchvision
    rounds the offsets, ``int(round((side - size) / 2))``, halves to even as Python does."""
    left = round((width - size) / 2.0)
    top = round((height - size) / 2.0)
    return left, top, left + size, top + size


def imagenet_image(path: str | Path) -> Any:
    """An image file as torchvision's ImageNet models expect it, before normalisation:
    a float tensor (3, 224, 224) in [0, 1], the shorter side resized to 256 and the centre cut."""
    import numpy as np
    import torch
    from PIL import Image, UnidentifiedImageError

    from convlens.errors import DataError

    try:
        with Image.open(path) as opened:
            img = opened.convert("RGB")
    except FileNotFoundError:
        raise DataError(f"image {str(path)!r} does not exist.") from None
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{str(path)!r} is not an image Pillow can read ({err}).") from None
    width, height = img.size
    if min(width, height) < 1:
        raise DataError(f"image {str(path)!r} is empty.")
    # torchvision keeps the aspect ratio and truncates the long side: int(256 * long / short)
    if width <= height:
        size = (RESIZE, int(RESIZE * height / width))
    else:
        size = (int(RESIZE * width / height), RESIZE)
    img = img.resize(size, Image.Resampling.BILINEAR).crop(center_crop_box(*size))
    array = np.asarray(img, dtype=np.uint8)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float() / 255.0  # (C, H, W)


def to_half_range(x: Any) -> Any:
    """GoogLeNet's ``transform_input``: ImageNet-normalised input -> ``(pixel - 0.5) / 0.5``.

    torchvision's GoogLeNet weights were trained (ported from TensorFlow) on pixels scaled to
    [-1, 1], while every other torchvision model takes the mean/std normalisation above; this
    undoes one and applies the other per channel, ``x * std / 0.5 + (mean - 0.5) / 0.5``, as
    ``GoogLeNet._transform_input`` in torchvision/models/googlenet.py does.
    """
    import torch

    channels = [
        x[:, c : c + 1] * (s / 0.5) + (m - 0.5) / 0.5
        for c, (m, s) in enumerate(zip(IMAGENET_MEAN, IMAGENET_STD))
    ]
    return torch.cat(channels, dim=1)
