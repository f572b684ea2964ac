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

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from convlens.scratch.conv import conv2d_naive, conv2d_naive_backward
from convlens.scratch.speed import (
    best_times,
    conv_case,
    layer_report,
    scratch_conv_step,
    torch_conv_step,
)

NAIVE = ("small 3x16x16 -> 8x16x16, 3x3 p1", 3, 16, 8, 3, 1, 1)


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
    print(f"torch {torch.__version__}, numpy {np.__version__}; best of {args.repeat}")
    print(layer_report(args.batch, args.threads, args.repeat))
    print()
    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads, user_api="blas"):
        name, *shape = NAIVE
        data = conv_case(8, *shape)
        t_torch, t_ours = best_times(
            [torch_conv_step(*data), scratch_conv_step(*data)], args.repeat
        )
        (t_naive,) = best_times([naive_step(*data)], max(1, args.repeat // 2))
        print(f"naive loops vs im2col vs torch, batch 8, {name}:")
        print(f"  torch {t_torch * 1e3:.2f} ms, im2col {t_ours * 1e3:.2f} ms "
              f"({t_ours / t_torch:.2f}x torch), naive {t_naive * 1e3:.1f} ms "
              f"({t_naive / t_torch:.0f}x torch, {t_naive / t_ours:.0f}x im2col)")  # fmt: skip


if __name__ == "__main__":
    main()
