"""The NumPy engine's convolution against torch's, layer by layer: forward and backward, float32.

Each row times one conv layer's forward and backward pass (dx, dw, db) on a batch: torch's
``F.conv2d`` with autograd against the scratch ``conv2d_forward`` / ``conv2d_backward`` (im2col and
one matrix product). The times are the fastest of ``repeat`` runs after a warm-up (the minimum is
the least disturbed by other work on a shared machine), and the two take turns so that a change in
the machine's load hits both. Both get the same number of threads (one by default: on a busy
machine more BLAS threads than free cores slow OpenBLAS down badly).
``convlens bench --numpy`` and benchmarks/train_speed.py print the table; the goal is that the
NumPy engine stays within 3x of torch on every layer.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from convlens.scratch.conv import conv2d_backward, conv2d_forward

GOAL = 3.0  # scratch time / torch time, on every layer

# (name, C_in, H=W, C_out, kernel, stride, padding): LeNet-5's convolutions and a CIFAR-10 VGG's
LAYERS: tuple[tuple[str, int, int, int, int, int, int], ...] = (
    ("LeNet conv1 1x32x32 -> 6x28x28, 5x5", 1, 32, 6, 5, 1, 0),
    ("LeNet conv2 6x14x14 -> 16x10x10, 5x5", 6, 14, 16, 5, 1, 0),
    ("LeNet conv3 16x5x5 -> 120x1x1, 5x5", 16, 5, 120, 5, 1, 0),
    ("CIFAR 3x32x32 -> 32x32x32, 3x3 p1", 3, 32, 32, 3, 1, 1),
    ("CIFAR 32x16x16 -> 64x16x16, 3x3 p1", 32, 16, 64, 3, 1, 1),
    ("CIFAR 64x16x16 -> 128x8x8, 3x3 s2 p1", 64, 16, 128, 3, 2, 1),
    ("CIFAR 128x8x8 -> 128x8x8, 3x3 p1", 128, 8, 128, 3, 1, 1),
)


@dataclass(frozen=True)
class LayerTime:
    name: str
    torch_ms: float
    scratch_ms: float

    @property
    def ratio(self) -> float:
        return self.scratch_ms / self.torch_ms


def best_times(fns: Sequence[Callable[[], object]], repeat: int) -> list[float]:
    """Fastest time of each function in seconds; the runs take turns so both see the same load."""
    for fn in fns:
        fn()  # warm-up
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, record in zip(fns, times):
            start = time.perf_counter()
            fn()
            record.append(time.perf_counter() - start)
    return [min(record) for record in times]


def conv_case(
    batch: int, c_in: int, size: int, c_out: int, k: int, stride: int, pad: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[int, int], tuple[int, int]]:
    """Input, weights, bias and an upstream gradient for one layer, in float32."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, c_in, size, size)).astype(np.float32)
    w = (rng.standard_normal((c_out, c_in, k, k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    out_size = (size + 2 * pad - k) // stride + 1
    dout = rng.standard_normal((batch, c_out, out_size, out_size)).astype(np.float32)
    return x, w, b, dout, (stride, stride), (pad, pad)


def torch_conv_step(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    dout: np.ndarray,
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> Callable[[], None]:
    import torch
    import torch.nn.functional as F

    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    dt = torch.tensor(dout)

    def step() -> None:
        for t in (xt, wt, bt):
            t.grad = None
        F.conv2d(xt, wt, bt, stride, padding).backward(dt)

    return step


def scratch_conv_step(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray,
    dout: np.ndarray,
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> Callable[[], None]:
    def step() -> None:
        _, cache = conv2d_forward(x, w, b, stride, padding)
        conv2d_backward(dout, cache)

    return step


@contextlib.contextmanager
def _threads(n: int) -> Iterator[bool]:
    """torch and the BLAS under NumPy on ``n`` threads; yields whether the BLAS could be limited."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # the `bench` extra is not installed: NumPy keeps its BLAS's threads
            yield False
            return
        with threadpool_limits(n, user_api="blas"):
            yield True
    finally:
        torch.set_num_threads(before)


def time_layers(
    batch: int = 64,
    threads: int = 1,
    repeat: int = 7,
    layers: Sequence[tuple[str, int, int, int, int, int, int]] = LAYERS,
) -> tuple[list[LayerTime], bool]:
    """Each layer's forward + backward in torch and in the NumPy engine; and whether NumPy's BLAS
    ran on ``threads`` threads (False without threadpoolctl)."""
    rows = []
    with _threads(threads) as limited:
        for name, *shape in layers:
            data = conv_case(batch, *shape)
            t_torch, t_ours = best_times([torch_conv_step(*data), scratch_conv_step(*data)], repeat)
            rows.append(LayerTime(name, t_torch * 1e3, t_ours * 1e3))
    return rows, limited


def layer_report(batch: int = 64, threads: int = 1, repeat: int = 7) -> str:
    """Time every layer of ``LAYERS`` and return the table with its verdict."""
    rows, limited = time_layers(batch, threads, repeat)
    return format_layers(rows, batch, threads, limited)


def geometric_mean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def format_layers(
    rows: Sequence[LayerTime], batch: int, threads: int, limited: bool = True, goal: float = GOAL
) -> str:
    """The table, its geometric mean and the verdict on the goal (within ``goal``x on every layer)."""
    blas = "" if limited else " (NumPy's BLAS not limited: pip install threadpoolctl)"
    lines = [
        f"conv2d forward + backward, float32, batch {batch}, {threads} thread(s){blas}; "
        "fastest of the runs; ratio = NumPy engine / torch",
        f"{'layer':<40} {'torch ms':>9} {'NumPy ms':>9} {'ratio':>6}",
    ]
    lines.append("-" * len(lines[-1]))
    for r in rows:
        lines.append(f"{r.name:<40} {r.torch_ms:9.2f} {r.scratch_ms:9.2f} {r.ratio:6.2f}")
    lines.append(
        f"{'geometric mean':<40} {'':>9} {'':>9} {geometric_mean([r.ratio for r in rows]):6.2f}"
    )
    worst = max(rows, key=lambda r: r.ratio)
    verdict = "met" if worst.ratio <= goal else "NOT met"
    lines.append(
        f"goal: within {goal:g}x of torch on every layer: {verdict} "
        f"(slowest: {worst.name}, {worst.ratio:.2f}x)"
    )
    return "\n".join(lines)
