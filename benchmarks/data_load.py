"""How long loading a data set into memory takes: convlens's checked loader beside a bare read.

    python benchmarks/data_load.py [NAME ...]      (default: fashion-mnist mnist1d)

For each data set: the time of ``load_dataset(name, "train")`` plus ``load_dataset(name, "test")``
with an empty in-process cache (the files are read, gunzipped, checksummed and format-checked,
and the train statistics computed), the time of a bare read (gzip + numpy.frombuffer with no
checks, IDX sets only), and their ratio. Target for Fashion-MNIST: under 2 s. Timings are the
median of three runs and depend on the machine's load.
"""

from __future__ import annotations

import gzip
import statistics
import sys
import time

import numpy as np


def _timed(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def convlens_load(name: str) -> None:
    from convlens.data import catalog, load_dataset

    catalog._CACHE.clear()
    load_dataset(name, "train")
    load_dataset(name, "test")


def bare_read(name: str) -> None:
    """The least a loader can do: gunzip the four files and view the bytes as arrays."""
    from convlens.data.mnist import FASHION_MNIST, MNIST
    from convlens.data.sources import find_local

    dataset = MNIST if name == "mnist" else FASHION_MNIST
    for images, labels in dataset.files.values():
        for file, offset in ((images, 16), (labels, 8)):
            path = find_local(dataset.remote(file), dataset.name)
            assert path is not None, f"no local copy of {file.name}"
            np.frombuffer(gzip.decompress(path.read_bytes()), dtype=np.uint8, offset=offset)


def main(names: list[str]) -> None:
    import torch

    torch.set_num_threads(1)
    print(f"{'data set':<15}{'convlens load':>15}{'bare read':>12}{'ratio':>8}")
    for name in names:
        ours = _timed(lambda n=name: convlens_load(n))
        if name in ("mnist", "fashion-mnist"):
            bare = _timed(lambda n=name: bare_read(n))
            print(f"{name:<15}{ours:>14.3f}s{bare:>11.3f}s{ours / bare:>7.2f}x")
        else:
            print(f"{name:<15}{ours:>14.3f}s{'-':>12}{'-':>8}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["fashion-mnist", "mnist1d"])
