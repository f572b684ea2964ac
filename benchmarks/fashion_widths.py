"""Cost of one Fashion-MNIST training step for networks of different widths, side by side.

    .venv/bin/python benchmarks/fashion_widths.py                      # float32, 6 rounds
    .venv/bin/python benchmarks/fashion_widths.py --precision bfloat16

Every network has the `fast` recipe's three blocks (conv -> max-pool -> BN -> ReLU) with its first
convolution frozen, as the `whiten` setting leaves it, and takes full steps (forward, backward,
AdamW) on one batch of 256 in the layout and precision that `auto` picks. The rounds alternate over
the networks, so that drift in the machine's speed touches them all alike; each network's time is
its fastest round and is printed as a ratio to the 32-64-128 network (`fast` before 7 epochs of
16-64-128 took its place): the figures behind the recipes' widths (convlens/train/recipes.py).
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
import torch.nn.functional as F

from convlens.malloc import keep_freed_memory
from convlens.train.config import TrainConfig
from convlens.train.device import choose_hardware
from convlens.train.optim import make_optimizer
from convlens.train.recipes import conv_blocks, get_recipe, make_model
from convlens.train.whiten import freeze_first_conv

NETWORKS = {
    "32-64-128 (`fast` before)": conv_blocks(32, 64, 128),
    "18-64-128": conv_blocks(18, 64, 128),
    "16-64-128 (`fast`)": conv_blocks(16, 64, 128),
    "24-64-128": conv_blocks(24, 64, 128),
    "18-80-160": conv_blocks(18, 80, 160),
    "18-96-192 (`good`)": conv_blocks(18, 96, 192),
    "48-96-192 (`good` before)": conv_blocks(48, 96, 192),
}


def main() -> int:
    keep_freed_memory()  # as every convlens command runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", default="auto", choices=["auto", "float32", "bfloat16"])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=5, help="steps timed per round")
    args = parser.parse_args()
    config = TrainConfig(
        **{**get_recipe("fashion-mnist", "fast").settings, "precision": args.precision}
    )
    hw = choose_hardware(config, 2)  # two spatial dimensions
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {platform.machine()}  "
        f"torch {torch.__version__}  cpu capability {torch.backends.cpu.get_cpu_capability()}  "
        f"{torch.get_num_threads()} threads  {hw.device} {hw.precision}"
        f"{'  channels-last' if hw.channels_last else ''}"
    )
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 1, 28, 28, generator=g).to(hw.device)
    if hw.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (256,), generator=g).to(hw.device)
    runs = {}
    for name, spec in NETWORKS.items():
        model = make_model(spec, (1, 28, 28), 10, seed=0).to(hw.device)
        if hw.channels_last:
            model = model.to(memory_format=torch.channels_last)
        freeze_first_conv(model)
        runs[name] = (model, make_optimizer(model, config))

    def step(model: torch.nn.Module, optimizer) -> None:
        optimizer.zero_grad(set_to_none=True)
        with hw.autocast():
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    best = dict.fromkeys(NETWORKS, float("inf"))
    for _ in range(args.rounds):
        for name, (model, optimizer) in runs.items():
            step(model, optimizer)  # warm: kernel choice and caches
            start = time.perf_counter()
            for _ in range(args.steps):
                step(model, optimizer)
            best[name] = min(best[name], (time.perf_counter() - start) / args.steps)
    base = best[next(iter(NETWORKS))]
    print(f"{'network (conv widths)':28s} {'ms/step':>8s} {'ratio':>6s}")
    for name, seconds in best.items():
        print(f"{name:28s} {1e3 * seconds:8.1f} {seconds / base:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
