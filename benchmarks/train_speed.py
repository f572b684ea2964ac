"""Training speed of convlens against the loop of the PyTorch tutorials, and the time budgets.

Run on a quiet machine (other processes on the same cores make every number noisy):

    .venv/bin/python benchmarks/train_speed.py            # everything, about 10 minutes on 2 cores
    .venv/bin/python benchmarks/train_speed.py --quick    # one epoch on a subset, about a minute

It prints, in one run and side by side:
0. The profile of one `fast` recipe step on Fashion-MNIST (`convlens bench --profile`): time per
   kind of operation and each kind's FLOP/s against the matmul peaks measured in the same run.
   Goal: at least 40% of the bf16 peak with AMX, at least 50% without.
1. Fashion-MNIST, the `fast` recipe's model trained by three loops: the tutorial loop with the
   tutorials' settings (SGD lr 0.001 momentum 0.9, batches of 64) until it reaches 90% test accuracy
   (at most 10 epochs), the same loop with Adam lr 1e-3 until 90%, the tutorial loop with the
   recipe's settings and epochs, and convlens:
   images/s, GFLOP/s (3 x forward MACs x 2 FLOPs per training example, MACs from the summary),
   training seconds, and training seconds until 90% test accuracy, each with the ratio.
   Goals: at least 3x the throughput of the same recipe and 5x shorter time to 90% than the
   Adam loop (and so than the tutorial's SGD). convlens's time to 90% is given twice: part-way
   through the recipe's own run, and as the shortest one-cycle run sized to end there (the recipe
   shortened to 1, 1.25, 1.5 and 2 epochs; airbench's records are times of such sized runs).
   Then the `quick` recipe (the same network for half a pass, batches of 64 at a higher rate),
   against the same two peers (their settings are fixed, so they are not trained again), with
   runs sized to 0.3, 0.4 and 0.5 epochs: convlens's shortest time to 90%.
2. `convlens train --recipe fast` end to end (start-up, loading, training, testing) for 3 seeds:
   Fashion-MNIST, goal at least 93.5% test accuracy within 60 s (median);
   MNIST-1D, goal at least 98% within 10 s (median).
3. The NumPy engine's convolutions against torch's, layer by layer (convlens.scratch.speed, as
   `convlens bench --numpy` prints them): goal within 3x of torch on every layer.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

from convlens.commands.bench import epochs_text, format_comparison
from convlens.data import load_dataset
from convlens.malloc import keep_freed_memory
from convlens.train.bench import TUTORIAL_EPOCHS, Comparison, budget_run, compare
from convlens.train.config import from_dict
from convlens.train.device import cpu_info
from convlens.train.recipes import get_recipe, make_model

SIZED = (1.0, 1.25, 1.5, 2.0)  # epochs of the runs sized to a target
QUICK_SIZED = (0.3, 0.4, 0.5)  # the same for the `quick` recipe
BUDGETS = {"fashion-mnist": (0.935, 60.0), "mnist1d": (0.98, 10.0)}  # (test accuracy, seconds)


def side_by_side(
    name: str,
    epochs: float,
    limit: int,
    tutorial_epochs: float,
    rounds: int,
    sized: tuple[float, ...],
    peers: Comparison | None = None,
) -> Comparison:
    recipe = get_recipe("fashion-mnist", name)
    train, test = load_dataset("fashion-mnist", "train"), load_dataset("fashion-mnist", "test")
    if limit:
        import dataclasses

        train = dataclasses.replace(train, x=train.x[:limit], y=train.y[:limit])
    config = from_dict({**recipe.settings, "epochs": epochs, "verbose": 0})

    def new_model() -> torch.nn.Module:
        return make_model(recipe.model, train.in_shape, train.num_classes, seed=0)

    print(
        f"\n## Fashion-MNIST, `{name}`, {len(train):,} examples, {epochs_text(epochs)}, {recipe.model}"
    )
    result = compare(new_model, train, test, config, 0.9, tutorial_epochs, rounds, sized, peers)
    print(format_comparison(result, 0.9))
    return result


def budgets(seeds: int) -> None:
    for data, (goal_acc, goal_s) in BUDGETS.items():
        print(
            f"\n## convlens train --recipe fast --data {data}  (goal: {100 * goal_acc:g}% in {goal_s:g} s)"
        )
        runs = [budget_run(data, seed) for seed in range(seeds)]
        for r in runs:
            print(f"seed {r.seed}: {100 * r.test_acc:.2f}% in {r.wall_seconds:.1f} s")
        acc = statistics.median(r.test_acc for r in runs)
        wall = statistics.median(r.wall_seconds for r in runs)
        verdict = "met" if acc >= goal_acc and wall <= goal_s else "NOT met"
        print(f"median: {100 * acc:.2f}% in {wall:.1f} s  ({verdict})")


def main() -> int:
    keep_freed_memory()  # as every convlens command runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="one epoch on 10,000 examples, no budgets"
    )
    parser.add_argument(
        "--epochs",
        type=float,
        default=0,
        help="epochs for the side-by-side part (default: the recipe's)",
    )
    parser.add_argument(
        "--seeds", type=int, default=3, help="seeds for the time budgets (default: 3)"
    )
    parser.add_argument(
        "--tutorial-epochs",
        type=float,
        default=TUTORIAL_EPOCHS,
        help=f"most epochs for the tutorial-settings loop (default: {TUTORIAL_EPOCHS}; 0 = skip it)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=7,
        help="rounds of alternating throughput bursts (default: 7; 0 = none)",
    )
    args = parser.parse_args()
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {cpu_info().describe()}"
        f"  torch {torch.__version__}  {torch.get_num_threads()} threads  python {sys.version.split()[0]}"
    )
    from convlens.train.profile import format_profile, profile_training

    print("## Profile of one `fast` step on Fashion-MNIST")
    print(format_profile(profile_training("fashion-mnist", "fast")))
    if args.quick:
        side_by_side("fast", 1, 10000, min(args.tutorial_epochs, 2), min(args.rounds, 3), ())
        numpy_engine()
        return 0
    recipe_epochs = get_recipe("fashion-mnist", "fast").settings["epochs"]
    fast = side_by_side(
        "fast", args.epochs or recipe_epochs, 0, args.tutorial_epochs, args.rounds, SIZED
    )
    quick = get_recipe("fashion-mnist", "quick")
    assert quick.model == get_recipe("fashion-mnist", "fast").model, "the peers need one network"
    side_by_side("quick", quick.settings["epochs"], 0, 0, 0, QUICK_SIZED, peers=fast)
    budgets(args.seeds)
    numpy_engine()
    return 0


def numpy_engine() -> None:
    from convlens.scratch.speed import layer_report

    print("\n## NumPy engine against torch, per layer")
    print(layer_report())


if __name__ == "__main__":
    raise SystemExit(main())
