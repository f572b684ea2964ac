"""keep_freed_memory: a freed large tensor's memory is reused, not faulted in again page by page."""

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
x = torch.ones(16 << 20)  # 64 MiB of float32, above glibc's largest mmap threshold (32 MiB)
del x
before = faults()
y = torch.ones(16 << 20)
print(faults() - before)
"""

PAGES = (64 << 20) // 4096  # 16,384 pages of 4 KiB


def second_allocation_faults(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="a glibc setting")
def test_a_freed_block_is_reused_instead_of_faulted_in_again():
    # without the setting the second 64 MiB tensor is a fresh mapping: every page faults
    assert second_allocation_faults("off") >= PAGES
    # with it the freed block comes back from the heap, already in memory
    assert second_allocation_faults("on") < PAGES // 10


def test_the_setting_is_applied_once_and_reports_itself():
    from convlens.malloc import keep_freed_memory

    first = keep_freed_memory()
    assert keep_freed_memory() is first
    assert first == (platform.libc_ver()[0] == "glibc")
