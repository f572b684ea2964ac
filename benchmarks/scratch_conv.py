"""Scratch convolution (NumPy, im2col) against torch, forward + backward, float32, side by side.

    .venv/bin/python benchmarks/scratch_conv.py [--threads 1] [--batch 64] [--repeat 7]

Each row times one conv layer's forward and backward pass (dx, dw, db) on a batch: torch's
``F.conv2d`` with autograd, the scratch ``conv2d_forward`` / ``conv2d_backward``, and their ratio
(scratch time / torch time; 1.0 means as fast as torch). The last rows show the naive loops of the
formula on a small size for contrast. Times are the fastest of ``--repeat`` runs after one warm-up
(the minimum is the least disturbed by other work on a shared machine, as timeit advises), and the
torch and scratch runs take turns so that a change in the machine's load hits both.
Both libraries get the same number of threads; on a busy machine more threads than free cores
slows OpenBLAS down badly, so the default is one.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from convlens.scratch.conv import (
    conv2d_backward,
    conv2d_forward,
    conv2d_naive,
    conv2d_naive_backward,
)

# (name, C_in, H=W, C_out, kernel, stride, padding)
LAYERS = [
    ("LeNet conv1 1x32x32 -> 6x28x28, 5x5", 1, 32, 6, 5, 1, 0),
    ("LeNet conv2 6x14x14 -> 16x10x10, 5x5", 6, 14, 16, 5, 1, 0),
    ("LeNet conv3 16x5x5 -> 120x1x1, 5x5", 16, 5, 120, 5, 1, 0),
    ("CIFAR 3x32x32 -> 32x32x32, 3x3 p1", 3, 32, 32, 3, 1, 1),
    ("CIFAR 32x16x16 -> 64x16x16, 3x3 p1", 32, 16, 64, 3, 1, 1),
    ("CIFAR 64x16x16 -> 128x8x8, 3x3 s2 p1", 64, 16, 128, 3, 2, 1),
    ("CIFAR 128x8x8 -> 128x8x8, 3x3 p1", 128, 8, 128, 3, 1, 1),
]
NAIVE = ("small 3x16x16 -> 8x16x16, 3x3 p1", 3, 16, 8, 3, 1, 1)


def best_times(fns, repeat: int) -> list[float]:
    """Fastest time of each function; the runs take turns so that both see the same load."""
    for fn in fns:
        fn()  # warm-up
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, record in zip(fns, times):
            start = time.perf_counter()
            fn()
            record.append(time.perf_counter() - start)
    return [min(record) for record in times]


def case(batch, c_in, size, c_out, k, stride, pad, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, c_in, size, size)).astype(np.float32)
    w = (rng.standard_normal((c_out, c_in, k, k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(c_out).astype(np.float32)
    out_size = (size + 2 * pad - k) // stride + 1
    dout = rng.standard_normal((batch, c_out, out_size, out_size)).astype(np.float32)
    return x, w, b, dout, (stride, stride), (pad, pad)


def torch_step(x, w, b, dout, stride, padding):
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    dt = torch.tensor(dout)

    def step():
        for t in (xt, wt, bt):
            t.grad = None
        F.conv2d(xt, wt, bt, stride, padding).backward(dt)

    return step


def scratch_step(x, w, b, dout, stride, padding):
    def step():
        _, cache = conv2d_forward(x, w, b, stride, padding)
        conv2d_backward(dout, cache)

    return step


def naive_step(x, w, b, dout, stride, padding):
    def step():
        conv2d_naive(x, w, b, stride, padding)
        conv2d_naive_backward(dout, x, w, stride, padding)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"conv2d forward + backward, float32, batch {args.batch}, {args.threads} thread(s); "
          f"torch {torch.__version__}, numpy {np.__version__}; best of {args.repeat}")  # fmt: skip
    header = f"{'layer':<40} {'torch ms':>9} {'scratch ms':>11} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    ratios = []
    with threadpool_limits(args.threads, user_api="blas"):
        for name, *shape in LAYERS:
            data = case(args.batch, *shape)
            t_torch, t_ours = best_times([torch_step(*data), scratch_step(*data)], args.repeat)
            ratios.append(t_ours / t_torch)
            print(f"{name:<40} {t_torch * 1e3:9.2f} {t_ours * 1e3:11.2f} {t_ours / t_torch:6.2f}")
        geo = float(np.exp(np.mean(np.log(ratios))))
        print(f"{'geometric mean ratio (scratch / torch)':<40} {'':>9} {'':>11} {geo:6.2f}")
        print()
        name, *shape = NAIVE
        data = case(8, *shape)
        t_torch, t_ours = best_times([torch_step(*data), scratch_step(*data)], args.repeat)
        (t_naive,) = best_times([naive_step(*data)], max(1, args.repeat // 2))
        print(f"naive loops vs im2col vs torch, batch 8, {name}:")
        print(f"  torch {t_torch * 1e3:.2f} ms, im2col {t_ours * 1e3:.2f} ms "
              f"({t_ours / t_torch:.2f}x torch), naive {t_naive * 1e3:.1f} ms "
              f"({t_naive / t_torch:.0f}x torch, {t_naive / t_ours:.0f}x im2col)")  # fmt: skip


if __name__ == "__main__":
    main()
