"""Summary time: convlens.summarize (meta-device hooks) against torchinfo.summary, side by side.

    python benchmarks/summary_speed.py [--repeats 3]

Both summarise the same already-built model at its default input size; the time of building the
model is not counted. torchinfo runs a real forward pass; convlens traces shapes on the meta device,
or a plain network (torch's layers in nn.Sequential) on one real example while torch._dynamo is not
yet loaded. The first table is the first summary in a fresh process, as `convlens summary` and a
notebook's first cell see it (the meta device's first conv imports torch._dynamo); the second is
the best of several calls in one process. The table also checks that both tools report the same
parameter count.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time

import torch

import convlens

MODELS = ("lenet5", "alexnet", "vgg16", "googlenet", "resnet50", "resnet152")


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


_FIRST = """
import sys, time
import convlens
model = convlens.create_model(sys.argv[1])
shape = tuple(model.in_shape)
t0 = time.perf_counter()
if sys.argv[2] == "convlens":
    convlens.summarize(model, shape)
else:
    import torchinfo
    torchinfo.summary(model, input_size=(1, *shape), verbose=0)
print(time.perf_counter() - t0)
"""


def first_call(name: str, tool: str) -> float:
    """Seconds of the first summary in a new process (imports and model building not counted)."""
    out = subprocess.run(
        [sys.executable, "-c", _FIRST, name, tool], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    try:
        import torchinfo
    except ImportError:
        raise SystemExit("this benchmark compares with torchinfo: pip install torchinfo") from None

    print(f"torch {torch.__version__}, torchinfo {torchinfo.__version__}, {platform.processor() or platform.machine()}, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    print("first summary in a fresh process")
    print(f"{'model':<10} {'convlens s':>11} {'torchinfo s':>12} {'speed-up':>9}")
    firsts = []
    for name in MODELS:
        if name not in convlens.list_models():
            continue
        ours, theirs = first_call(name, "convlens"), first_call(name, "torchinfo")
        firsts.append(theirs / ours)
        print(f"{name:<10} {ours:>11.3f} {theirs:>12.3f} {theirs / ours:>8.1f}x")
    if firsts:
        print(f"geometric mean speed-up: {statistics.geometric_mean(firsts):.1f}x")
    print(f"\nbest of {args.repeats} calls in one process")
    print(
        f"{'model':<10} {'params':>12} {'convlens s':>11} {'torchinfo s':>12} {'speed-up':>9}  same params"
    )
    ratios = []
    for name in MODELS:
        if name not in convlens.list_models():
            continue
        model = convlens.create_model(name)
        shape = tuple(model.in_shape)
        ours = best_of(lambda: convlens.summarize(model, shape), args.repeats)  # noqa: B023
        theirs = best_of(
            lambda: torchinfo.summary(model, input_size=(1, *shape), verbose=0),  # noqa: B023
            args.repeats,
        )
        same = (
            convlens.summarize(model, shape).total_params
            == torchinfo.summary(model, input_size=(1, *shape), verbose=0).total_params
        )
        ratios.append(theirs / ours)
        print(f"{name:<10} {convlens.summarize(model, shape).total_params:>12,} {ours:>11.3f} "
              f"{theirs:>12.3f} {theirs / ours:>8.1f}x  {same}")  # fmt: skip
    if ratios:
        print(f"geometric mean speed-up: {statistics.geometric_mean(ratios):.1f}x")


if __name__ == "__main__":
    main()
