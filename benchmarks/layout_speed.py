"""NCHW against channels-last for the Fashion-MNIST `fast` recipe, at one precision, side by side.

    .venv/bin/python benchmarks/layout_speed.py                      # float32, 4 rounds
    .venv/bin/python benchmarks/layout_speed.py --precision bfloat16

Each round trains one epoch of the first 7,680 training images in each layout, one right after the
other, so that drift in the machine's speed affects both alike; the first round (kernel choice,
caches) is dropped. Prints each layout's images/s per round, the medians and their ratio: the
figure behind ``auto``'s choice of layout in convlens/train/device.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import statistics
import time

import torch

from convlens.data import load_dataset
from convlens.train import fit
from convlens.train.config import from_dict
from convlens.train.recipes import get_recipe, make_model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--rounds", type=int, default=4, help="rounds, the first dropped")
    parser.add_argument("--examples", type=int, default=7680)
    args = parser.parse_args()
    recipe = get_recipe("fashion-mnist", "fast")
    train = load_dataset("fashion-mnist", "train")
    part = dataclasses.replace(train, x=train.x[: args.examples], y=train.y[: args.examples])
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {platform.machine()}  "
        f"torch {torch.__version__}  cpu capability {torch.backends.cpu.get_cpu_capability()}  "
        f"{torch.get_num_threads()} threads  {args.precision}  {recipe.model}"
    )
    rates: dict[str, list[float]] = {"off": [], "on": []}
    models = {k: make_model(recipe.model, train.in_shape, train.num_classes, seed=0) for k in rates}
    for r in range(args.rounds):
        for layout in rates:
            config = from_dict(
                {**recipe.settings, "epochs": 1, "verbose": 0, "eval_every": 1,
                 "channels_last": layout, "precision": args.precision}
            )  # fmt: skip
            rate = fit(models[layout], part, config).records[-1]["images_per_s"]
            if r:
                rates[layout].append(rate)
    nchw, nhwc = (statistics.median(rates[k]) for k in ("off", "on"))
    print("NCHW          images/s: " + ", ".join(f"{v:,.0f}" for v in rates["off"]))
    print("channels-last images/s: " + ", ".join(f"{v:,.0f}" for v in rates["on"]))
    print(f"medians: NCHW {nchw:,.0f}, channels-last {nhwc:,.0f}: channels-last {nhwc / nchw:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
