"""`convlens bench`: convlens's training loop against the PyTorch-tutorial loop, side by side.

The recipe's model is trained three ways: the tutorial loop with the tutorials' own settings until
it reaches ``--target`` (at most ``--tutorial-epochs``), the tutorial loop with the recipe's
settings, and convlens. The small form (the default) uses a subset for ``--epochs``; the full
measurement with time budgets is benchmarks/train_speed.py, which runs the same functions.
"""

from __future__ import annotations

import argparse


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
        default=1,
        help="epochs for convlens and the same-recipe loop (default: 1)",
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
        "--budget-seeds",
        type=int,
        default=0,
        help="also time the whole `convlens train --recipe` command for this many seeds",
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="CPU threads for both loops; 0 = torch's default"
    )
    parser.add_argument("--data-dir", help="where the data set files are (default: search)")


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import statistics

    import torch

    from convlens.data import load_dataset
    from convlens.errors import ConfigError
    from convlens.train.bench import budget_run, compare, format_comparison
    from convlens.train.config import from_dict
    from convlens.train.recipes import get_recipe, make_model

    if args.epochs <= 0 or min(args.limit, args.tutorial_epochs, args.rounds) < 0:
        raise ConfigError(
            "--epochs must be positive, --limit, --tutorial-epochs and --rounds zero or positive."
        )
    if args.threads:
        torch.set_num_threads(args.threads)
    recipe = get_recipe(args.data, args.recipe)
    train = load_dataset(args.data, "train", root=args.data_dir)
    test = load_dataset(args.data, "test", root=args.data_dir)
    if args.limit and args.limit < len(train):
        train = dataclasses.replace(train, x=train.x[: args.limit], y=train.y[: args.limit])
    config = from_dict(
        {**recipe.settings, "epochs": args.epochs, "verbose": 0, "model": recipe.model}
    )

    def new_model() -> torch.nn.Module:
        return make_model(recipe.model, train.in_shape, train.num_classes, seed=config.seed)

    print(
        f"{args.data}: {len(train):,} training examples, {args.epochs:g} epochs, model {recipe.model}"
    )
    result = compare(new_model, train, test, config, args.target, args.tutorial_epochs, args.rounds)
    print(format_comparison(result, args.target))
    if args.budget_seeds:
        runs = [budget_run(args.data, seed, args.recipe) for seed in range(args.budget_seeds)]
        for r in runs:
            print(
                f"convlens train --recipe {args.recipe} --data {args.data} --seed {r.seed}: {100 * r.test_acc:.2f}% in {r.wall_seconds:.1f} s"
            )
        wall = statistics.median(r.wall_seconds for r in runs)
        acc = statistics.median(r.test_acc for r in runs)
        print(f"median of {len(runs)} seeds: {100 * acc:.2f}% test accuracy, {wall:.1f} s wall")
    return 0
