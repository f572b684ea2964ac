"""keep_freed_memory: large tensors made and freed batch after batch reuse memory, not fresh pages."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

PROBE = """
import resource, sys
import torch
from convlens.malloc import keep_freed_memory

if sys.argv[1] == "on":
    assert keep_freed_memory()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
def one_batch():  # a 64 MiB float32 tensor made and freed, as each batch's activations are
    x = torch.ones(16 << 20)  # above glibc's largest mmap threshold (32 MiB)
    del x
for _ in range(12):  # the heap finds its steady layout within a few batches
    one_batch()
before = faults()
for _ in range(5):
    one_batch()
print(faults() - before)
"""

PAGES = (64 << 20) // 4096  # 16,384 pages of 4 KiB


def batch_faults(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc setting")
def test_a_freed_block_is_reused_instead_of_faulted_in_again():
    # without the setting every 64 MiB tensor is a fresh mapping: each of its pages faults
    assert batch_faults("off") >= 5 * PAGES
    # with it the freed blocks come back from the heap, already in memory
    assert batch_faults("on") < PAGES // 10


def test_the_setting_is_applied_once_and_reports_itself():
    from convlens.malloc import keep_freed_memory

    first = keep_freed_memory()
    assert keep_freed_memory() is first
    assert first == (platform.libc_ver()[0] == "glibc")
