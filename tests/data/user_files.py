"""Writers of the user's own data for the tests: image folders (written by Pillow), .npz, .csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def write_image(path: Path, array: np.ndarray, fmt: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)
    return path


def image_folder(
    root: Path,
    counts: dict[str, int],
    *,
    shape: tuple[int, ...] = (6, 5),
    seed: int = 0,
    suffix: str = ".png",
) -> dict[str, list[np.ndarray]]:
    """root/<class>/<i>.png with random uint8 pixels; returns the arrays per class, in file order."""
    rng = np.random.default_rng(seed)
    written: dict[str, list[np.ndarray]] = {}
    for name, n in counts.items():
        written[name] = []
        for i in range(n):
            array = rng.integers(0, 256, size=shape, dtype=np.uint8)
            write_image(root / name / f"{i:03d}{suffix}", array)
            written[name].append(array)
    return written
