"""Keep freed memory in the process: the C allocator setting that every convlens command runs with.

PyTorch on the CPU takes each tensor from the C library's ``malloc`` and gives it back on free.
glibc serves a request above its mmap threshold (which adapts up to 32 MiB) with a fresh ``mmap``
and unmaps it on free, so the next tensor of that size is faulted in again, a 4 KiB page at a
time, each page zeroed by the kernel. A CIFAR-10 `fast` training step at batch 256 (33.5 MB of
first activations) took 891 ms, 430 of them in the kernel, and takes 658 ms once freed memory
stays in the heap; evaluating 10,000 Fashion-MNIST images with flips at batch 1,024 went from
2.54 s (half a million page faults) to 1.72 s (2 cores of an AVX2-only EPYC, 2026-12-06;
benchmarks/malloc_speed.py). PyTorch's CPU tuning guide makes the same point by preloading
jemalloc or TCMalloc; ``mallopt`` gets it from glibc itself: no mmap for large blocks, and the
heap's top is returned to the system only beyond 1 GiB. The price is memory held: the heap
settles after a few blocks of the largest size (a 64 MiB tensor made and freed over and over grew
it by 448 MiB within 7 rounds, then faulted no page again).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# mallopt parameters, from glibc's malloc.h
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4

TRIM_THRESHOLD = 1 << 30  # bytes free at the heap's top before any goes back to the system

_done = False


def keep_freed_memory() -> bool:
    """Make glibc keep freed blocks for reuse instead of unmapping them; True where it applied.
    Elsewhere (macOS, Windows, musl) nothing changes. Affects the whole process, once."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc: no mallopt to call
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _done
