"""`convlens train MODEL_OR_SPEC --data NAME`: train, checkpoint and report one run.

Settings come from, in increasing priority: TrainConfig's defaults, ``--recipe``, ``--config``
(a TOML or JSON file, such as a run's own config.toml) and the flags themselves.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from convlens.errors import ConfigError
from convlens.train.config import (
    TrainConfig,
    add_config_arguments,
    flags_given,
    from_dict,
    read_config,
)

_EXPLICIT = ("model", "data", "input", "recipe")  # flags written by hand below


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", nargs="?", help="zoo model name (see `convlens zoo`) or spec text")
    parser.add_argument(
        "--data", help="data set: mnist, fashion-mnist, cifar10, mnist1d, digits, iris"
    )
    parser.add_argument(
        "--input", help="input shape for a spec, CxHxW or CxL (default: the data's)"
    )
    parser.add_argument("--recipe", help="named settings for the data set, e.g. fast")
    parser.add_argument(
        "--config", help="TOML or JSON settings file (a run's config.toml replays it)"
    )
    parser.add_argument("--out", help="run directory (default: runs/DATA-MODEL-TIME)")
    parser.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    parser.add_argument("--data-dir", help="where the data set files are (default: search)")
    parser.add_argument(
        "--val-size",
        type=float,
        default=0,
        help="hold out this many (or this fraction of) training examples for validation; 0: validate on the test split",
    )
    parser.add_argument("--no-report", action="store_true", help="do not write report.html")
    add_config_arguments(parser, skip=_EXPLICIT)


def resolve_config(args: argparse.Namespace) -> TrainConfig:
    """Defaults < recipe < --config file < flags."""
    from convlens.train.recipes import get_recipe

    if args.resume and not (args.out and (Path(args.out) / "state.json").exists()):
        raise ConfigError(
            f"there is no run to resume in {args.out!r}; give the run's directory with --out."
        )
    config_file = args.config
    if config_file is None and args.resume:
        config_file = str(Path(args.out) / "config.toml")
    from_file = read_config(config_file) if config_file else {}
    given = {name: getattr(args, name) for name in _EXPLICIT if getattr(args, name) is not None}
    given.update(flags_given(args, skip=_EXPLICIT))
    values: dict[str, Any] = {**from_file, **given}
    if values.get("recipe"):
        if not values.get("data"):
            raise ConfigError("a recipe is chosen per data set; add --data NAME.")
        entry = get_recipe(values["data"], values["recipe"])
        values = {"model": entry.model, **entry.settings, **values}
    config = from_dict(values, source="the command line")
    if not config.model:
        raise ConfigError(
            "name a model or spec to train, e.g. `convlens train lenet5 --data mnist`, or use --recipe fast."
        )
    if not config.data:
        raise ConfigError("name the data set to train on with --data, e.g. --data fashion-mnist.")
    return config


def run(args: argparse.Namespace) -> int:
    # under torchrun, every rank joins the process group for the whole command; only rank 0 prints
    from convlens.train.distributed import launch, quiet_unless_main

    with launch(), quiet_unless_main():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from convlens.data import load_dataset
    from convlens.train import fit
    from convlens.train.distributed import broadcast_text, is_main
    from convlens.train.recipes import make_model

    start = time.perf_counter()
    config = resolve_config(args)
    # the default name holds the time: rank 0's name is everyone's
    out = Path(args.out) if args.out else Path(broadcast_text(str(_default_out(config))))
    if args.resume and not (out / "state.json").exists():
        raise ConfigError(
            f"there is no run to resume in {str(out)!r}; give the run's directory with --out."
        )
    console = Console(stderr=True)
    load = dict(root=args.data_dir, seed=config.seed)
    if args.val_size:
        size = int(args.val_size) if args.val_size >= 1 else args.val_size
        train = load_dataset(config.data, "train", val_size=size, **load)
        val = load_dataset(config.data, "val", val_size=size, **load)
    else:
        train = load_dataset(config.data, "train", **load)
        val = None
    test = load_dataset(config.data, "test", **load)
    model = make_model(
        config.model, tuple(train.in_shape), train.num_classes, config.input, config.seed
    )
    if val is None:
        console.print(
            "validating on the test split (use --val-size N to hold out training data)",
            highlight=False,
        )
    history = fit(model, train, config, val=val or test, test=test, run_dir=out, resume=args.resume)
    seconds = time.perf_counter() - start
    if history.stopped == "interrupted":
        console.print(
            f"stopped; continue with: convlens train --resume --out {out}", highlight=False
        )
        return 130
    test_acc = history.test["acc"] if history.test else float("nan")
    print(f"test accuracy {100 * test_acc:.2f}%  ({len(test):,} examples)  {seconds:.1f} s in all")
    print(f"run directory {out}")
    if not args.no_report and is_main():
        _report(out, console)
    return 0


def _default_out(config: TrainConfig) -> Path:
    name = config.model if len(config.model) <= 24 else "spec"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return Path("runs") / f"{config.data}-{safe}-{time.strftime('%Y%m%d-%H%M%S')}"


def _report(run_dir: Path, console: Any) -> None:
    """The run's HTML report, when convlens.report is there; a failure is only a warning."""
    try:
        import importlib

        path = importlib.import_module("convlens.report").write_report(run_dir)
        print(f"report {path}")
    except Exception as err:  # the run itself succeeded; a missing page must not fail it
        console.print(
            f"warning: no report.html ({type(err).__name__}: {err})",
            highlight=False,
            soft_wrap=True,
        )
