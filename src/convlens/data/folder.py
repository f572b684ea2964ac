"""A folder of images in the ImageFolder layout, decoded into one uint8 array.

The layout is the convention of torchvision's ``ImageFolder`` and Keras's
``image_dataset_from_directory``: one folder per class, named after the class, either
``DIR/train/<class>/*`` and ``DIR/test/<class>/*`` or ``DIR/<class>/*`` (no split given).
Class names are the folder names, sorted; files inside a class folder are taken recursively,
also sorted, so the same folder always gives the same array.

PNG, JPEG, BMP, GIF (the first frame) and WebP are decoded with Pillow. An image counts as grey
when its mode is grey or every pixel has R = G = B; one colour image makes the whole set RGB
(``channels`` forces 1 or 3). Images must share one size unless ``size`` resizes them all.

Decoding is the slow part (about 0.2 ms per 28x28 PNG, nearly all of it Pillow's per-file
overhead), so a large folder is decoded by a pool of worker processes and the result is cached
(``folder_cache``): the second load of an unchanged folder reads one array instead.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import numpy as np

from convlens.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
# Below this many files one process decodes everything: a pool costs about half a second to start.
PARALLEL_MIN = 3000
CHUNK = 500  # files per task sent to a worker
PROGRESS_MIN = 500  # files before a progress bar is worth showing


@dataclass(frozen=True)
class FolderListing:
    """What a folder holds, before any decoding: each image file, its class and split."""

    root: Path
    classes: tuple[str, ...]
    files: tuple[str, ...]  # paths relative to root, in class order, then sorted
    stamps: tuple[tuple[int, int], ...]  # (size in bytes, modification time in ns) per file
    labels: np.ndarray  # int64 class index per file
    test: np.ndarray  # bool per file: True for DIR/test/... files
    has_split: bool  # DIR/train + DIR/test given


def _is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_SUFFIXES) and not name.startswith(".")


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images_in(folder: str, prefix: str) -> list[tuple[str, int, int]]:
    """(name relative to the root, size, mtime in ns) of every image below ``folder``, sorted.

    os.scandir with plain strings: it hands over each file's stat with the listing, and pathlib's
    per-path objects cost more than the listing itself (measured, 60,000 files).
    """
    found: list[tuple[str, int, int]] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            if _is_image(name) and entry.is_file():
                stat = entry.stat()
                found.append((prefix + name, stat.st_size, stat.st_mtime_ns))
            elif not name.startswith(".") and entry.is_dir():
                found += _images_in(entry.path, f"{prefix}{name}/")
    found.sort()
    return found


def list_folder(root: Path) -> FolderListing:
    """The image files of ``root`` by class and split; every layout error is one sentence."""
    subs = _subfolders(root)
    names = {p.name for p in subs}
    has_split = {"train", "test"} <= names
    split_dirs = [root / "train", root / "test"] if has_split else [root]
    train_classes = [p.name for p in _subfolders(split_dirs[0])]
    if not train_classes:
        loose = any(_is_image(p.name) for p in split_dirs[0].iterdir())
        raise DataError(
            f"{split_dirs[0]} holds "
            + (
                "image files but no class folders; put each class's images in "
                if loose
                else "no class folders; expected "
            )
            + f"{split_dirs[0]}/<class name>/ (one folder per class)"
        )
    files: list[tuple[str, int, int]] = []
    labels: list[int] = []
    test: list[bool] = []
    for is_test, folder in zip((False, True), split_dirs):
        for class_dir in _subfolders(folder):
            if class_dir.name not in train_classes:
                raise DataError(
                    f"{class_dir} is a test class with no training folder "
                    f"{split_dirs[0] / class_dir.name}; the training split lacks class {class_dir.name!r}"
                )
            prefix = f"{class_dir.relative_to(root).as_posix()}/"
            images = _images_in(str(class_dir), prefix)
            if not images:
                raise DataError(
                    f"class folder {class_dir} holds no images ({', '.join(IMAGE_SUFFIXES)}); "
                    "add some or remove the folder"
                )
            files += images
            labels += [train_classes.index(class_dir.name)] * len(images)
            test += [is_test] * len(images)
    return FolderListing(
        root=root,
        classes=tuple(train_classes),
        files=tuple(f[0] for f in files),
        stamps=tuple((f[1], f[2]) for f in files),
        labels=np.array(labels, dtype=np.int64),
        test=np.array(test, dtype=bool),
        has_split=has_split,
    )


# --- decoding one file ----------------------------------------------------------------------


def parse_size(size: str | int | Sequence[int] | None) -> tuple[int, int] | None:
    """``"32x48"``, ``"32"``, ``32`` or ``(32, 48)`` -> (height, width); None stays None."""
    if size is None or size == "":
        return None
    try:
        if isinstance(size, int):
            hw = [size, size]
        elif isinstance(size, str):
            hw = [int(v) for v in size.lower().split("x")]
        else:
            hw = [int(v) for v in size]
        if len(hw) == 1:
            hw = hw * 2
        if len(hw) != 2 or min(hw) < 1:
            raise ValueError
    except ValueError:
        raise DataError(f"size must be HxW such as 32x32, not {size!r}") from None
    return hw[0], hw[1]


def decode(path: Path, channels: int | None, size: tuple[int, int] | None) -> np.ndarray:
    """One image as uint8 (H, W) grey or (H, W, 3) colour; raises what Pillow raises."""
    from PIL import Image

    with Image.open(path) as img:
        img.seek(0)  # a GIF's first frame
        if channels == 1 or (channels is None and img.mode in GREY_MODES):
            img = img.convert("L")
        else:
            img = img.convert("RGB")
        if size is not None and img.size != (size[1], size[0]):
            img = img.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        array = np.asarray(img, dtype=np.uint8)
    if channels is None and array.ndim == 3 and _is_grey(array):
        array = array[:, :, 0]  # grey pixels stored as RGB (a JPEG or a palette GIF)
    return array


def _is_grey(rgb: np.ndarray) -> bool:
    return bool((rgb[:, :, 0] == rgb[:, :, 1]).all() and (rgb[:, :, 1] == rgb[:, :, 2]).all())


def decode_chunk(
    paths: Sequence[str], channels: int | None, size: tuple[int, int] | None
) -> list[np.ndarray | str]:
    """Decode ``paths``; an unreadable file gives the reason as a string instead of an array.

    Module level so that worker processes can run it.
    """
    out: list[np.ndarray | str] = []
    for path in paths:
        try:
            out.append(decode(Path(path), channels, size))
        # Pillow raises OSError, SyntaxError, ValueError, DecompressionBombError, ...
        except Exception as err:
            out.append(f"{type(err).__name__}: {err}")
    return out


# --- decoding a folder ----------------------------------------------------------------------


def _chunks(paths: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(paths), size):
        yield paths[start : start + size]


def _pool() -> Executor:
    """Worker processes where they can be forked (Linux, as torch's DataLoader does), else threads.

    Not spawn: a spawned worker runs the user's main script again, which breaks scripts without a
    ``__main__`` guard and notebooks. Forked workers run only Pillow and numpy, never torch.
    Threads elsewhere still overlap Pillow's decoding, which releases the GIL.
    """
    workers = min(os.cpu_count() or 1, 8)
    if "fork" in get_all_start_methods() and sys.platform.startswith("linux"):
        return ProcessPoolExecutor(workers, mp_context=get_context("fork"))
    return ThreadPoolExecutor(workers)


def _decode_all(
    paths: Sequence[str],
    channels: int | None,
    size: tuple[int, int] | None,
    advance: Callable[[int], None],
) -> list[np.ndarray | str]:
    results: list[np.ndarray | str] = []
    if len(paths) >= PARALLEL_MIN and (os.cpu_count() or 1) > 1:
        try:
            with _pool() as pool:
                futures = [
                    pool.submit(decode_chunk, c, channels, size) for c in _chunks(paths, CHUNK)
                ]
                for future in futures:  # in order, so results line up with paths
                    part = future.result()
                    results += part
                    advance(len(part))
            return results
        except BrokenProcessPool:  # a worker died (out of memory?): decode here instead
            results = []
    for chunk in _chunks(paths, CHUNK):
        results += decode_chunk(chunk, channels, size)
        advance(len(chunk))
    return results


def _progress(total: int, show: bool | None) -> tuple[Callable[[int], None], Callable[[], None]]:
    """(advance, close) of a progress bar on stderr, or no-ops when it would only be noise."""
    if show is None:
        show = total >= PROGRESS_MIN and sys.stderr.isatty()
    if not show:
        return (lambda n: None), (lambda: None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress(
        "decoding images",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task("decode", total=total)
    bar.start()
    return (lambda n: bar.advance(task, n)), bar.stop


@dataclass(frozen=True)
class DecodedFolder:
    x: np.ndarray  # uint8 (N, C, H, W) of the readable files, in listing order
    keep: np.ndarray  # bool per listed file: False for the skipped unreadable ones
    skipped: tuple[str, ...]  # "file (reason)" of the skipped files


def decode_folder(
    listing: FolderListing,
    *,
    channels: int | None = None,
    size: tuple[int, int] | None = None,
    skip_bad: bool = False,
    progress: bool | None = None,
) -> DecodedFolder:
    """Decode every listed file into one (N, C, H, W) uint8 array."""
    paths = [os.path.join(listing.root, f) for f in listing.files]
    advance, close = _progress(len(paths), progress)
    try:
        results = _decode_all(paths, channels, size, advance)
    finally:
        close()
    bad = [i for i, r in enumerate(results) if isinstance(r, str)]
    if bad and not skip_bad:
        first = bad[0]
        more = f" ({len(bad) - 1} more unreadable files)" if len(bad) > 1 else ""
        raise DataError(
            f"{paths[first]} is not an image Pillow can read ({results[first]}){more}; "
            "fix or remove it, or pass --skip-bad to skip unreadable files"
        )
    images = [r for r in results if not isinstance(r, str)]
    if not images:
        raise DataError(f"no file in {listing.root} could be read as an image")
    sizes = Counter(a.shape[:2] for a in images)
    if len(sizes) > 1:
        found = ", ".join(f"{h}x{w} ({n})" for (h, w), n in sizes.most_common(5))
        more = f" and {len(sizes) - 5} more" if len(sizes) > 5 else ""
        raise DataError(
            f"the images in {listing.root} have different sizes: {found}{more} images; "
            "give --size HxW (size= in Python) to resize them all to one"
        )
    colour = channels == 3 or any(a.ndim == 3 for a in images)
    h, w = images[0].shape[:2]
    x = np.empty((len(images), 3 if colour else 1, h, w), dtype=np.uint8)
    for i, a in enumerate(images):
        x[i] = a.transpose(2, 0, 1) if a.ndim == 3 else a  # a grey image fills every channel
    keep = np.ones(len(paths), dtype=bool)
    keep[bad] = False
    skipped = tuple(f"{listing.files[i]} ({results[i]})" for i in bad)
    return DecodedFolder(x=x, keep=keep, skipped=skipped)
