"""Freed memory kept (convlens.malloc) against glibc's defaults: training steps and evaluation.

    .venv/bin/python benchmarks/malloc_speed.py              # 3 rounds
    .venv/bin/python benchmarks/malloc_speed.py --rounds 5

Each measurement runs in a fresh process, once with glibc's defaults and once after
``keep_freed_memory()``, the two alternating so that drift in the machine's speed touches both
alike: training steps of the CIFAR-10 and Fashion-MNIST `fast` recipes' networks (batch 256,
random data, the layout and precision `auto` picks) and evaluating 10,000 Fashion-MNIST-sized
images with flips at batch 1,024. Printed: time, minor page faults and kernel time per step or
pass, the fastest round of each, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time

PROBE = r"""
import json, resource, sys, time
import torch
import torch.nn.functional as F
from convlens.malloc import keep_freed_memory
from convlens.train.config import TrainConfig
from convlens.train.device import choose_hardware
from convlens.train.evaluation import logits_of
from convlens.train.optim import make_optimizer
from convlens.train.recipes import get_recipe, make_model

kept, data, what = sys.argv[1] == "kept", sys.argv[2], sys.argv[3]
if kept:
    keep_freed_memory()
recipe = get_recipe(data, "fast")
shape = (3, 32, 32) if data == "cifar10" else (1, 28, 28)
config = TrainConfig(**recipe.settings)
hw = choose_hardware(config, 2)
model = make_model(recipe.model, shape, 10, seed=0)
if hw.channels_last:
    model = model.to(memory_format=torch.channels_last)
g = torch.Generator().manual_seed(0)
if what == "train":
    x = torch.randn(256, *shape, generator=g)
    x = x.contiguous(memory_format=torch.channels_last) if hw.channels_last else x
    y = torch.randint(0, 10, (256,), generator=g)
    optimizer = make_optimizer(model, config)

    def work():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    warm, timed = 4, 12
else:
    x = torch.randn(10_000, *shape, generator=g)

    def work():
        logits_of(model, x, hw, 1024, tta=True)

    warm, timed = 1, 2
for _ in range(warm):
    work()
before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
for _ in range(timed):
    work()
seconds = (time.perf_counter() - start) / timed
after = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"s": seconds, "faults": (after.ru_minflt - before.ru_minflt) / timed,
                  "kernel": (after.ru_stime - before.ru_stime) / timed}))
"""

CASES = [
    ("CIFAR-10 `fast` network, one training step", "cifar10", "train"),
    ("Fashion-MNIST `fast` network, one training step", "fashion-mnist", "train"),
    ("Fashion-MNIST `fast` network, 10,000 images with flips", "fashion-mnist", "eval"),
]


def measure(kept: bool, data: str, what: str) -> dict[str, float]:
    argv = [sys.executable, "-c", PROBE, "kept" if kept else "default", data, what]
    out = subprocess.run(argv, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {platform.machine()}  "
        f"{platform.libc_ver()[0]} {platform.libc_ver()[1]}  fastest of {args.rounds} rounds"
    )
    print(f"{'':58s} {'glibc defaults':>30s}   {'freed memory kept':>30s}   {'speed-up':>8s}")
    for title, data, what in CASES:
        best: dict[bool, dict[str, float]] = {}
        for _ in range(args.rounds):
            for kept in (False, True):
                result = measure(kept, data, what)
                if kept not in best or result["s"] < best[kept]["s"]:
                    best[kept] = result
        cells = [
            f"{1e3 * r['s']:8.1f} ms {r['faults']:9,.0f} flt {1e3 * r['kernel']:6.1f} ms sys"
            for r in (best[False], best[True])
        ]
        ratio = best[False]["s"] / best[True]["s"]
        print(f"{title:58s} {cells[0]:>30s}   {cells[1]:>30s}   {ratio:7.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
