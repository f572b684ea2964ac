"""`convlens train MODEL_OR_SPEC --data NAME`: train, checkpoint and report one run.

Settings come from, in increasing priority: TrainConfig's defaults, ``--recipe``, ``--config``
(a TOML or JSON file, such as a run's own config.toml) and the flags themselves. With ``--task
regression`` the data (a .csv or .npz path) is read with float targets, and the run reports RMSE.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from convlens.commands._data_args import DATA_HELP, add_data_arguments, load_data
from convlens.errors import ConfigError, TrainingError
from convlens.train.config import (
    TrainConfig,
    add_config_arguments,
    as_flags,
    flags_given,
    from_dict,
    read_config,
)

_EXPLICIT = ("model", "data", "input", "recipe")  # flags written by hand below


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "model",
        nargs="?",
        help="zoo model name (see `convlens zoo`), spec text, or your own FILE.py:NAME (--kwargs)",
    )
    parser.add_argument("--data", help=DATA_HELP)
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
    add_data_arguments(parser)
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
    if values.get("data"):
        values["data"] = _data_name(values["data"])
    if values.get("recipe"):
        if not values.get("data"):
            raise ConfigError("a recipe is chosen per data set; add --data NAME.")
        entry = get_recipe(
            values["data"],
            values["recipe"],
            lambda: _data_shape(args, values["data"], values.get("task")),
        )
        values = {"model": entry.model, **entry.settings, **values}
    config = from_dict(values, source="the command line")
    if not config.model:
        raise ConfigError(
            "name a model or spec to train, e.g. `convlens train lenet5 --data mnist`, or use --recipe fast."
        )
    if not config.data:
        raise ConfigError("name the data set to train on with --data, e.g. --data fashion-mnist.")
    return config


def _data_name(data: str) -> str:
    """A data set name as given; a path made absolute, so the run replays from any folder."""
    from convlens.data.catalog import source_of

    source = source_of(data)
    return str(source.resolve()) if isinstance(source, Path) else data


def _data_shape(
    args: argparse.Namespace, data: str, task: str | None
) -> tuple[tuple[int, ...], int, int]:
    """(example shape, outputs, training examples): what `--recipe fast` needs for any data."""
    train = load_data(args, data, "train", **_read_as(task, data))
    return tuple(train.in_shape), train.num_outputs, len(train)


def _read_as(task: str | None, data: str) -> dict[str, Any]:
    """How the task reads the data: a regression run takes a path's labels as float targets."""
    if task != "regression":
        return {}
    from convlens.data.catalog import source_of

    if not isinstance(source_of(data), Path):
        raise ConfigError(
            f"task='regression' needs your own data with numeric targets (a .csv or .npz path); "
            f"{data} is a classification data set."
        )
    return {"task": "regression"}


def run(args: argparse.Namespace) -> int:
    # under torchrun, every rank joins the process group for the whole command; only rank 0 prints
    from convlens.train.distributed import launch, quiet_unless_main

    try:
        with launch(), quiet_unless_main():
            return _run(args)
    except ConfigError as err:  # the library names TrainConfig fields; say them as flags here
        raise type(err)(as_flags(str(err))) from None
    except TrainingError as err:
        raise type(err)(as_flags(str(err))) from None


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from convlens.models.finetune import model_for_data, pretrained_statistics
    from convlens.train import fit
    from convlens.train.distributed import broadcast_text, is_main

    start = time.perf_counter()
    config = resolve_config(args)
    # the default name holds the time: rank 0's name is everyone's
    out = Path(args.out) if args.out else Path(broadcast_text(str(_default_out(config))))
    if args.resume and not (out / "state.json").exists():
        raise ConfigError(
            f"there is no run to resume in {str(out)!r}; give the run's directory with --out."
        )
    console = Console(stderr=True)
    read = {"seed": config.seed, **_read_as(config.task, config.data)}
    if args.val_size:
        size = int(args.val_size) if args.val_size >= 1 else args.val_size
        train = load_data(args, config.data, "train", val_size=size, **read)
        val = load_data(args, config.data, "val", val_size=size, **read)
    else:
        train = load_data(args, config.data, "train", **read)
        val = None
    test = load_data(args, config.data, "test", **read)
    # a zoo model, a spec or FILE.py:NAME; --weights and --freeze for fine-tuning
    model = model_for_data(config, tuple(train.in_shape), train.num_outputs)
    train, val, test = (pretrained_statistics(d, config.weights) for d in (train, val, test))
    if val is None:
        console.print(
            "validating on the test split (use --val-size N to hold out training data)",
            highlight=False,
        )
    history = fit(model, train, config, val=val or test, test=test, run_dir=out, resume=args.resume)
    seconds = time.perf_counter() - start
    if history.stopped:  # Ctrl-C: the run can go on with --resume
        console.print(
            f"stopped; continue with: convlens train --resume --out {out}", highlight=False
        )
        return 130
    score = _test_score(history.test, config.task)
    print(f"{score}  ({len(test):,} examples)  {seconds:.1f} s in all")
    print(f"run directory {out}")
    if not args.no_report and is_main():
        _report(out, console)
    return 0


def _test_score(test: dict[str, Any] | None, task: str) -> str:
    """The test set's accuracy, or a regression's RMSE."""
    if task == "regression":
        return f"test RMSE {test['rmse'] if test else float('nan'):.4g}"
    return f"test accuracy {100 * (test['acc'] if test else float('nan')):.2f}%"


def _default_out(config: TrainConfig) -> Path:
    name = config.model if len(config.model) <= 24 else "spec"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    data = Path(config.data).name or "data"  # a path's last part: no folders inside runs/
    return Path("runs") / f"{data}-{safe}-{time.strftime('%Y%m%d-%H%M%S')}"


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
