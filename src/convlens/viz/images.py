"""Pictures in and out: sample images, reading a user's file, and turning tensors into pixels.

Images on the NumPy side are float arrays in [0, 1], ``(H, W)`` for grey and ``(H, W, 3)`` for
colour. Models see ``(1, C, H, W)`` float tensors, normalised with the data set's mean and std.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from convlens.errors import ConfigError, DataError

SAMPLES = ("shapes", "hopper")


def shapes_image(size: int = 128) -> np.ndarray:
    """A synthetic colour test picture: a square, a disk, a triangle and stripes on a gradient.

    Every edge orientation the lecture's kernels look for is present, and nothing is downloaded.
    """
    y, x = np.mgrid[0:size, 0:size] / size
    img = np.stack([0.15 + 0.2 * x, 0.15 + 0.2 * y, 0.25 + 0.0 * x], axis=-1)
    square = (x > 0.1) & (x < 0.4) & (y > 0.1) & (y < 0.4)
    disk = (x - 0.7) ** 2 + (y - 0.27) ** 2 < 0.17**2
    triangle = (y > 0.55) & (y < 0.9) & (np.abs(x - 0.27) < (y - 0.55) * 0.6)
    stripes = (
        (x > 0.55) & (x < 0.9) & (y > 0.55) & (y < 0.9) & (((x + y) * 12).astype(int) % 2 == 0)
    )
    img[square] = (0.95, 0.2, 0.2)
    img[disk] = (0.2, 0.4, 0.95)
    img[triangle] = (0.2, 0.85, 0.3)
    img[stripes] = (0.95, 0.95, 0.9)
    return img.astype(np.float32)


def _hopper_path() -> Path | None:
    # Matplotlib ships this official U.S. Navy portrait of Grace Hopper (a work of the U.S.
    # government, so in the public domain) among its sample data.
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    except Exception:  # pragma: no cover - matplotlib is a dependency
        return None
    return path if path.is_file() else None


def sample_image(name: str = "shapes", size: int = 128) -> np.ndarray:
    """A bundled picture, ``(size, size, 3)`` in [0, 1]: "shapes" (synthetic) or "hopper"."""
    if name == "shapes":
        return shapes_image(size)
    if name == "hopper":
        path = _hopper_path()
        if path is None:
            return shapes_image(size)
        return load_image(path, size=(size, size))
    raise ConfigError(f"unknown sample image {name!r}; choose one of: {', '.join(SAMPLES)}")


def open_image(path: str | Path, *, grey: bool = False) -> Image.Image:
    """A Pillow image of ``path`` in grey ("L") or RGB, or one sentence on why it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"image file {str(path)!r} does not exist; give the path of a PNG or JPEG")
    try:
        with Image.open(path) as opened:
            return opened.convert("L" if grey else "RGB")
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise DataError(
            f"{str(path)!r} is not an image that can be read ({type(err).__name__}); "
            "give a PNG, JPEG or other common image file"
        ) from None


def load_image(
    path: str | Path, *, size: Sequence[int] | None = None, grey: bool = False
) -> np.ndarray:
    """Read an image file into [0, 1] floats, optionally resized to ``size = (H, W)``."""
    im = open_image(path, grey=grey)
    if size is not None:
        im = im.resize((int(size[1]), int(size[0])), Image.Resampling.BILINEAR)
    return np.asarray(im, dtype=np.float32) / 255.0


def grey(image: np.ndarray) -> np.ndarray:
    """Luminance of a colour image (ITU-R BT.601 weights); grey images pass through."""
    if image.ndim == 2:
        return image
    return image[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=image.dtype)


def to_input(
    image: np.ndarray,
    in_shape: Sequence[int],
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> torch.Tensor:
    """A [0, 1] picture as a normalised ``(1, C, H, W)`` model input of shape ``in_shape``."""
    c, h, w = (int(v) for v in in_shape)
    if image.shape[:2] != (h, w):
        pil = Image.fromarray((np.clip(image, 0, 1) * 255).astype(np.uint8))
        image = np.asarray(pil.resize((w, h), Image.Resampling.BILINEAR), dtype=np.float32) / 255
    if c == 1:
        image = grey(image)[..., None]
    elif image.ndim == 2:
        image = np.repeat(image[..., None], c, axis=-1)
    if image.shape[-1] != c:
        raise ConfigError(f"the model wants {c} input channels but the image has {image.shape[-1]}")
    x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))).float()
    if mean is not None and std is not None:
        m = torch.tensor(list(mean), dtype=torch.float32).reshape(-1, 1, 1)
        s = torch.tensor(list(std), dtype=torch.float32).reshape(-1, 1, 1)
        x = (x - m) / s
    return x.unsqueeze(0)


def to_picture(
    x: torch.Tensor | np.ndarray,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> np.ndarray:
    """A ``(C, H, W)`` or ``(1, C, H, W)`` model input back into a displayable [0, 1] array.

    With the data set's mean and std the normalisation is undone; without them the values are
    stretched to [0, 1] (which is what a picture of an optimised input needs).
    """
    t = torch.as_tensor(x).detach().float().cpu()
    if t.dim() == 4:
        t = t[0]
    if t.dim() == 2:
        t = t.unsqueeze(0)
    if mean is not None and std is not None:
        m = torch.tensor(list(mean), dtype=torch.float32).reshape(-1, 1, 1)
        s = torch.tensor(list(std), dtype=torch.float32).reshape(-1, 1, 1)
        t = (t * s + m).clamp(0, 1)
    else:
        t = stretch(t)
    arr = t.permute(1, 2, 0).numpy()
    return arr[..., 0] if arr.shape[-1] == 1 else arr


# Values whose spread is under this fraction of their magnitude count as one number. Rounding
# makes about 1e-7 of it in float32 (Grad-CAM at LeNet-5's 1x1 conv3, upsampled: 2e-7), which
# stretching to [0, 1] would turn into speckles; real contrast this small is invisible anyway.
FLAT_RTOL = 1e-3


def is_flat(lo: float, hi: float) -> bool:
    """Whether values from ``lo`` to ``hi`` are (nearly) constant: all zero counts as flat."""
    return hi - lo <= FLAT_RTOL * max(abs(lo), abs(hi))


def stretch(t: torch.Tensor) -> torch.Tensor:
    """Linearly map a tensor's values onto [0, 1]; a (nearly) constant tensor becomes 0.5."""
    lo, hi = t.min(), t.max()
    if is_flat(float(lo), float(hi)):
        return torch.full_like(t, 0.5)
    return (t - lo) / (hi - lo)
