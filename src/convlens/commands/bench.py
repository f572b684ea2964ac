"""`convlens bench`: convlens's training loop against the PyTorch-tutorial loop, side by side.

The recipe's model is trained three ways: the tutorial loop with the tutorials' own settings until
it reaches ``--target`` (at most ``--tutorial-epochs``), the tutorial loop with the recipe's
settings, and convlens. The small form (the default) uses a subset for ``--epochs``; the full
measurement with time budgets is benchmarks/train_speed.py, which runs the same functions.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convlens.train.bench import Comparison, SpeedResult


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="fashion-mnist", help="data set (default: fashion-mnist)")
    parser.add_argument(
        "--recipe",
        default="fast",
        help="recipe whose model all loops train (and whose settings two use)",
    )
    parser.add_argument(
        "--epochs",
        type=float,
        default=None,
        help="epochs for convlens and the same-recipe loop (default: the recipe's, at most 1)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=10000,
        help="training examples to use; 0 = all (default: 10000)",
    )
    parser.add_argument(
        "--target", type=float, default=0.9, help="test accuracy to time (default: 0.9)"
    )
    parser.add_argument(
        "--tutorial-epochs",
        type=float,
        default=3,
        help="most epochs for the tutorial loop with the tutorials' own settings, which stops at "
        "the target (default: 3; 0 = leave it out)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="rounds of short alternating runs that measure both loops' images/s under the same "
        "machine conditions (default: 3; 0 = none)",
    )
    parser.add_argument(
        "--sized",
        type=_lengths,
        default=(),
        metavar="E1,E2,...",
        help="also train the recipe shortened to each of these epochs (one-cycle runs sized to "
        "end at the target) and time the shortest that reaches it, e.g. 1,1.25,1.5,2",
    )
    parser.add_argument(
        "--budget-seeds",
        type=int,
        default=0,
        help="also time the whole `convlens train --recipe` command for this many seeds",
    )
    parser.add_argument(
        "--budget-recipe",
        metavar="NAME",
        help="the recipe those whole commands train (default: --recipe), so that one run can "
        "time `quick` to 90%% and `fast` to its budget",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="CPU threads for both loops; 0 = torch's default"
    )
    parser.add_argument(
        "--device",
        default="auto",
        help="where every loop trains: auto (a GPU when there is one, as the tutorials choose), "
        "cpu, cuda, cuda:1, mps (default: auto)",
    )
    parser.add_argument("--data-dir", help="where the data set files are (default: search)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead: where one training step's time goes, per kind of operation, with each "
        "kind's FLOP/s against this machine's matmul peak (measured in the same run)",
    )
    parser.add_argument(
        "--profile-steps", type=int, default=20, help="steps to profile (default: 20)"
    )
    parser.add_argument(
        "--numpy",
        action="store_true",
        help="also time the NumPy engine's convolutions against torch's, layer by layer, "
        "forward and backward on one thread (goal: within 3x on every layer)",
    )


def run(args: argparse.Namespace) -> int:
    import dataclasses

    import torch

    from convlens.data import load_dataset
    from convlens.errors import ConfigError
    from convlens.train.bench import budget_run, compare
    from convlens.train.config import from_dict
    from convlens.train.device import cpu_info, gpu_name, resolve_device
    from convlens.train.recipes import get_recipe, make_model

    negative = min(args.limit, args.tutorial_epochs, args.rounds) < 0
    if (args.epochs is not None and args.epochs <= 0) or negative:
        raise ConfigError(
            "--epochs must be positive, --limit, --tutorial-epochs and --rounds zero or positive."
        )
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.profile:
        from convlens.train.profile import format_profile, profile_training

        if args.profile_steps < 1:
            raise ConfigError("--profile-steps must be at least 1.")
        found = profile_training(
            args.data, args.recipe, steps=args.profile_steps, root=args.data_dir, device=args.device
        )
        print(format_profile(found))
        _numpy_table(args.numpy)
        return 0
    recipe = get_recipe(args.data, args.recipe)
    budget_recipe = args.budget_recipe or args.recipe
    if args.budget_seeds:
        get_recipe(args.data, budget_recipe)  # an unknown name fails before any training
    epochs = args.epochs or min(1.0, float(recipe.settings.get("epochs", 1)))
    train = load_dataset(args.data, "train", root=args.data_dir)
    test = load_dataset(args.data, "test", root=args.data_dir)
    if args.limit and args.limit < len(train):
        train = dataclasses.replace(train, x=train.x[: args.limit], y=train.y[: args.limit])
    settings = {**recipe.settings, "epochs": epochs, "verbose": 0, "device": args.device}
    config = from_dict({**settings, "model": recipe.model})
    device = resolve_device(args.device)  # a device that is not there fails before any training

    def new_model() -> torch.nn.Module:
        return make_model(recipe.model, train.in_shape, train.num_classes, seed=config.seed)

    gpu = f", GPU: {gpu_name(device)}" if device.type == "cuda" else ""
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"{now}, CPU: {cpu_info().describe()}{gpu}")
    print(
        f"{args.data}: {len(train):,} training examples, {epochs_text(epochs)}, model {recipe.model}"
    )
    result = compare(
        new_model, train, test, config, args.target, args.tutorial_epochs, args.rounds, args.sized
    )
    print(format_comparison(result, args.target))
    if args.budget_seeds:
        on = ("--device", args.device)
        runs = [budget_run(args.data, s, budget_recipe, on) for s in range(args.budget_seeds)]
        for r in runs:
            print(
                f"convlens train --recipe {budget_recipe} --data {args.data} --seed {r.seed}: {100 * r.test_acc:.2f}% in {r.wall_seconds:.1f} s"
            )
        wall = statistics.median(r.wall_seconds for r in runs)
        acc = statistics.median(r.test_acc for r in runs)
        print(f"median of {len(runs)} seeds: {100 * acc:.2f}% test accuracy, {wall:.1f} s wall")
    _numpy_table(args.numpy)
    return 0


def _numpy_table(wanted: bool) -> None:
    """The NumPy engine's convolutions against torch's (convlens.scratch.speed), when asked."""
    if not wanted:
        return
    from convlens.scratch.speed import layer_report

    print("\nNumPy engine (convlens.scratch, im2col) against torch, per layer:")
    print(layer_report())


def epochs_text(epochs: float, spec: str = "g") -> str:
    """'1 epoch', '0.5 epochs': a number of epochs as the tables write it."""
    return f"{epochs:{spec}} epoch" + ("" if epochs == 1 else "s")


def _lengths(text: str) -> tuple[float, ...]:
    """'1,1.5,2' as epochs, each positive."""
    try:
        lengths = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of epochs such as 1,1.5,2"
        ) from None
    if not lengths or min(lengths) <= 0 or not all(map(math.isfinite, lengths)):
        raise argparse.ArgumentTypeError(
            f"{text!r}: every length must be a positive number of epochs"
        )
    return lengths


def format_comparison(c: Comparison, target: float) -> str:
    """The side-by-side table: throughput, FLOP/s and time to ``target`` test accuracy, as ratios.

    Each ratio is the peer's figure over convlens's (how many times faster convlens is).
    """
    peers = [r for r in (c.tutorial, c.adam, c.same_recipe) if r is not None]
    runs = [*peers, c.convlens]
    ours = c.convlens

    def gflops(r: SpeedResult) -> str:
        return f"{r.flops_per_s / 1e9:.1f}" if r.flops_per_s else "-"

    def reach(r: SpeedResult) -> str:
        t = r.time_to(target)
        if math.isfinite(t):
            return f"{t:.1f} s"
        return f"not in {epochs_text(r.epochs, '.3g')}"

    def rate(p: SpeedResult) -> str:
        return f"{ours.images_per_s / p.images_per_s:.2f}x"

    def train_ratio(p: SpeedResult) -> str:
        return f"{p.train_seconds / ours.train_seconds:.2f}x" if p.epochs == ours.epochs else ""

    header = ["", *(r.name for r in runs), *(f"vs {p.name}" for p in peers)]
    rows = [
        header,
        ["images/s", *(f"{r.images_per_s:,.0f}" for r in runs), *(rate(p) for p in peers)],
        ["GFLOP/s", *(gflops(r) for r in runs), *(rate(p) if p.flops_per_s else "" for p in peers)],
        ["epochs", *(f"{r.epochs:.3g}" for r in runs), *("" for _ in peers)],
        ["train s", *(f"{r.train_seconds:.1f}" for r in runs), *(train_ratio(p) for p in peers)],
        [f"to {100 * target:g}% test", *(reach(r) for r in runs),
         *(_ratio(p.time_to(target), ours.time_to(target)) for p in peers)],
        ["last test acc", *(f"{100 * r.test_acc[-1]:.2f}%" for r in runs), *("" for _ in peers)],
    ]  # fmt: skip
    if c.interleaved:
        peer_rate, our_rate = (statistics.median(v) for v in c.interleaved)
        # the bursts run the same-recipe loop (the last peer) against convlens (the last run)
        cells = [""] * (len(runs) - 2) + [f"{peer_rate:,.0f}", f"{our_rate:,.0f}"]
        ratios = [""] * (len(peers) - 1) + [f"{our_rate / peer_rate:.2f}x"]
        rounds = len(c.interleaved[0])
        rows.append([f"images/s, {rounds} alternating bursts", *cells, *ratios])
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    table = [("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()) for r in rows]
    return "\n".join(table + _sized_lines(c, target) + _notes(c))


def _sized_lines(c: Comparison, target: float) -> list[str]:
    """The recipe shortened to each length: where each ended, and the shortest to the target."""
    from convlens.train.bench import time_to_sized

    if not c.sized:
        return []
    ends = "; ".join(
        f"{epochs_text(r.epochs)}: {100 * r.test_acc:.2f}% after {r.train_seconds:.1f} s"
        for r in c.sized
    )
    seconds, epochs = time_to_sized(c.sized, target)
    lines = ["", f"convlens, one-cycle runs sized to end at a target: {ends}"]
    if not math.isfinite(seconds):
        return [*lines, f"no sized run reached {100 * target:g}%"]
    peers = [r for r in (c.tutorial, c.adam, c.same_recipe) if r is not None]
    ratios = ", ".join(f"{_ratio(p.time_to(target), seconds)} vs {p.name}" for p in peers)
    return [
        *lines,
        f"to {100 * target:g}% test with the shortest such run ({epochs_text(epochs)}): "
        f"{seconds:.1f} s, {ratios}",
        "",
    ]


def _notes(c: Comparison) -> list[str]:
    """What each column's loop is, under the table."""
    from convlens.train.bench import TUTORIAL_SETTINGS

    notes = []
    if c.tutorial is not None:
        t = TUTORIAL_SETTINGS
        notes.append(
            f"tutorial: per-sample Dataset + DataLoader, float32, the tutorials' SGD lr {t['lr']:g} "
            f"momentum {t['momentum']:g}, batches of {t['batch_size']}, stopped at the target"
        )
    if c.adam is not None:
        notes.append(
            "Adam loop: the same per-sample loop, float32, batches of 64, with Adam lr 1e-3 (a "
            "well-written loop of the tutorials' kind), stopped at the target"
        )
    notes.append(
        "tutorial, same recipe: the same loop with convlens's optimiser, schedule, batch size, "
        "augmentation and epochs"
    )
    notes.append(f"convlens: {c.convlens.hardware or 'its default hardware choice'}")
    if c.interleaved:
        notes.append(
            "alternating bursts: the median of short same-recipe runs of the two loops taken in "
            "turn, so that drift in the machine's speed affects both alike"
        )
    return notes


def _ratio(slow: float, fast: float) -> str:
    if math.isinf(slow) and math.isfinite(fast):
        return "peer never"
    if not math.isfinite(fast):
        return "-"
    return f"{slow / fast:.2f}x"
