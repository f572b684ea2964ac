"""Loading a folder of 60,000 small PNGs: convlens cold and from its cache, beside per-file loading.

    python benchmarks/folder_loading.py [--count 60000] [--folder DIR] [--workers 2]

The folder is written first (DIR/<class>/<n>.png, 28x28 grey): Fashion-MNIST's training images
when a local copy is found (the Debian package dataset-fashion-mnist installs one), else random
pixels. Then, with an empty convlens cache in a temporary directory:

- convlens cold: ``load_dataset(DIR, "train")`` and ``"test"`` decode every file (in worker
  processes) and write the cache;
- convlens cached: the same two calls in a fresh state (in-process memo cleared) read the cache;
- per-file loading as torchvision's ``ImageFolder`` does it: a ``Dataset`` whose ``__getitem__``
  opens one file with PIL and converts it to a float tensor, batched by a ``DataLoader`` with the
  same number of worker processes, one full pass.

Goals (issue 14): cold at most 30 s and cached at most 1 s on 2 cores. Timings depend on the
machine's load; the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def source_images(count: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(images (N, 28, 28) uint8, labels, where they came from)."""
    try:
        from convlens.data import load_dataset

        data = load_dataset("fashion-mnist", "train", download=False)
        reps = -(-count // len(data))
        x = np.concatenate([data.x[:, 0].numpy()] * reps)[:count]
        y = np.concatenate([data.y.numpy()] * reps)[:count]
        return x, y, "Fashion-MNIST training images"
    except Exception:  # no local copy: random pixels decode at the same speed
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        return x, np.arange(count) % 10, "random 28x28 images"


def write_folder(folder: Path, count: int) -> str:
    from PIL import Image

    x, y, what = source_images(count)
    for label in np.unique(y):
        (folder / f"class{label}").mkdir(parents=True, exist_ok=True)
    for i, (image, label) in enumerate(zip(x, y)):
        Image.fromarray(image).save(folder / f"class{label}" / f"{i:05d}.png")
    return what


def convlens_load(folder: Path) -> int:
    from convlens.data import catalog, load_dataset

    catalog._CACHE.clear()  # as a new process would start
    train = load_dataset(folder, "train", progress=False)
    test = load_dataset(folder, "test", progress=False)
    return len(train) + len(test)


class PerFileDataset:
    """torchvision's ImageFolder pattern: list the files, open one per ``__getitem__``."""

    def __init__(self, folder: Path) -> None:
        classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
        self.samples = [
            (path, index)
            for index, name in enumerate(classes)
            for path in sorted((folder / name).iterdir())
        ]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        import torch
        from PIL import Image

        path, label = self.samples[i]
        with Image.open(path) as img:
            array = np.asarray(img.convert("L"), dtype=np.uint8)
        # ToTensor: (H, W) uint8 -> (1, H, W) float in [0, 1]
        return torch.from_numpy(array.copy()).unsqueeze(0).float().div_(255), label


def per_file_pass(folder: Path, workers: int) -> int:
    from torch.utils.data import DataLoader

    loader = DataLoader(PerFileDataset(folder), batch_size=256, num_workers=workers)
    return sum(len(labels) for _, labels in loader)


def timed(fn, *args) -> tuple[float, int]:
    start = time.perf_counter()
    n = fn(*args)
    return time.perf_counter() - start, n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60_000, help="images (default 60,000)")
    parser.add_argument("--folder", help="write (or reuse) the folder here (default: a temp dir)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers (default 2)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CONVLENS_DATA"] = str(Path(tmp) / "cache")  # an empty convlens cache
        folder = Path(args.folder) if args.folder else Path(tmp) / "images"
        if not folder.is_dir():
            start = time.perf_counter()
            what = write_folder(folder, args.count)
            print(f"wrote {args.count:,} PNGs ({what}) in {time.perf_counter() - start:.1f} s")
        cold, n = timed(convlens_load, folder)
        cached, _ = timed(convlens_load, folder)
        peer, n_peer = timed(per_file_pass, folder, args.workers)
        assert n == n_peer, (n, n_peer)
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end")
        print(f"{'loader':<48}{'seconds':>9}{'per-file / this':>17}")
        rows = [
            ("convlens cold (decode + write cache)", cold),
            ("convlens from the cache", cached),
            (f"per-file Dataset + DataLoader ({args.workers} workers)", peer),
        ]
        for name, seconds in rows:
            print(f"{name:<48}{seconds:>9.2f}{peer / seconds:>16.1f}x")
        print(f"goals: cold <= 30 s ({'met' if cold <= 30 else 'missed'}), "
              f"cached <= 1 s ({'met' if cached <= 1 else 'missed'})")  # fmt: skip


if __name__ == "__main__":
    main()
