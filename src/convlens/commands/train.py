"""`convlens train MODEL_OR_SPEC --data NAME`: train, checkpoint and report one run.

Settings come from, in increasing priority: TrainConfig's defaults, ``--recipe``, ``--config``
(a TOML or JSON file, such as a run's own config.toml) and the flags themselves. With ``--task
regression`` the data (a .csv or .npz path) is read with float targets, and the run reports RMSE.

A run directory that already holds a run is never written over unasked: ``--resume`` continues
it, ``--overwrite`` deletes its files first. Without ``--out`` every run gets a fresh folder.
``--resume`` continues exactly where the run stopped; with another ``--epochs`` the schedule is
the one a run of that length follows (a pure function of step and total steps, ``optim.py``),
and one line says what that does to the learning rate.
"""

from __future__ import annotations

import argparse
import json
import sys
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
    parser.add_argument(
        "--out",
        help="run directory; one that holds a run is refused unless --resume or --overwrite "
        "(default: a new folder runs/DATA-MODEL-TIME, with -2, -3, ... added if it exists)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out exactly (a new --epochs changes its schedule: one line "
        "says how)",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run in --out: its checkpoints, metrics, state and report are deleted",
    )
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

    _check_out_flags(args)
    config_file = args.config
    if config_file is None and args.resume:
        config_file = str(Path(args.out) / "config.toml")
    from_file = read_config(config_file) if config_file else {}
    given = {name: getattr(args, name) for name in _EXPLICIT if getattr(args, name) is not None}
    given.update(flags_given(args, skip=_EXPLICIT))
    values: dict[str, Any] = {**from_file, **given}
    if values.get("data"):
        values["data"] = _data_name(values["data"])
    if values.get("data") and not values.get("model") and not values.get("recipe"):
        values["recipe"] = "fast"  # a data set and nothing else: train what suits it
        print(
            "note: no model named: training the `fast` recipe for this data (name a model or a "
            "spec, or --recipe, to choose another)",
            file=sys.stderr,
        )
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
    if config.input:  # refused here in one sentence, before any data is read
        from convlens.shapes import read_shape

        read_shape(config.input, "chw")
    if not config.model:
        raise ConfigError(
            "name a model or spec to train, e.g. `convlens train lenet5 --data mnist`, or use --recipe fast."
        )
    _refuse_run_directory(config.model)
    if not config.data:
        raise ConfigError("name the data set to train on with --data, e.g. --data fashion-mnist.")
    return config


def _refuse_run_directory(model: str) -> None:
    """A run directory given where a model belongs: say how to continue it or reuse its weights,
    rather than read its name as a spec."""
    from convlens.errors import CheckpointError
    from convlens.train.checkpoint import checkpoint_stem

    folder = Path(model)
    if not (folder.is_dir() and (folder / "config.json").is_file()):
        return
    try:
        spec = json.loads((folder / "config.json").read_text())["model"]
    except (OSError, ValueError, KeyError, TypeError):
        spec = "MODEL"
    try:
        weights = checkpoint_stem(folder).with_suffix(".safetensors")  # best, else last
    except CheckpointError:
        weights = folder / "last.safetensors"
    raise ConfigError(
        f"{model!r} is a run directory, not a model: continue it with `convlens train --resume "
        f"--out {model}` (--epochs N to train it longer), or start a new run from its weights "
        f"with `convlens train {spec} --weights {weights}`."
    )


def _check_out_flags(args: argparse.Namespace) -> None:
    """--resume and --overwrite name what happens to the run in --out: one of them, with --out."""
    if args.resume and args.overwrite:
        raise ConfigError(
            "--resume continues the run in --out and --overwrite replaces it; give one of them."
        )
    for flag in ("resume", "overwrite"):
        if getattr(args, flag) and not args.out:
            raise ConfigError(f"--{flag} needs the run's directory: give it with --out DIR.")
    if args.resume and not (Path(args.out) / "state.json").exists():
        raise ConfigError(
            f"there is no run to resume in {args.out!r}; give the run's directory with --out."
        )


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
    from convlens.train.distributed import is_main
    from convlens.train.evaluation import describe_scoring
    from convlens.train.state import remove_run

    start = time.perf_counter()
    config = resolve_config(args)
    out = _run_dir(args, config)
    console = Console(stderr=True)
    train, val, test = _splits(args, config)
    note = _resume_note(out, config, len(train)) if args.resume else ""
    # a zoo model, a spec or FILE.py:NAME; --weights and --freeze for fine-tuning
    notes: list[str] = []
    model = model_for_data(config, tuple(train.in_shape), train.num_outputs, notes)
    for line in notes if is_main() else ():
        console.print(f"note: {line}", highlight=False, soft_wrap=True)
    train, val, test = (pretrained_statistics(d, config.weights) for d in (train, val, test))
    if val is None:
        console.print(
            "validating on the test split (use --val-size N to hold out training data)",
            highlight=False,
        )
    if note:
        console.print(note, highlight=False, soft_wrap=True)
    if args.overwrite and is_main():
        remove_run(out)
    history = fit(model, train, config, val=val or test, test=test, run_dir=out, resume=args.resume)
    seconds = time.perf_counter() - start
    if history.stopped:  # Ctrl-C: the run can go on with --resume
        console.print(
            f"stopped; continue with: convlens train --resume --out {out}", highlight=False
        )
        return 130
    score = _test_score(history.test, config.task)
    how = describe_scoring(config, len(train.in_shape) - 1)
    print(f"{score}  ({len(test):,} examples; {how})  {seconds:.1f} s in all")
    _best_note(history, console)
    print(f"run directory {out}")
    if not args.no_report and is_main():
        _report(out, console)
    return 0


def _splits(args: argparse.Namespace, config: TrainConfig) -> tuple[Any, Any, Any]:
    """(train, val, test); val is None unless --val-size holds some training data out."""
    read = {"seed": config.seed, **_read_as(config.task, config.data)}
    if args.val_size:
        size = int(args.val_size) if args.val_size >= 1 else args.val_size
        train = load_data(args, config.data, "train", val_size=size, **read)
        val = load_data(args, config.data, "val", val_size=size, **read)
    else:
        train, val = load_data(args, config.data, "train", **read), None
    return train, val, load_data(args, config.data, "test", **read)


# --- the run directory ----------------------------------------------------------------------


def _run_dir(args: argparse.Namespace, config: TrainConfig) -> Path:
    """--out, refused when it holds a run that neither --resume nor --overwrite is about; without
    --out, a fresh folder under runs/."""
    from convlens.train.distributed import broadcast_text
    from convlens.train.state import run_files

    if not args.out:
        # the default name holds the time: rank 0's name is everyone's
        return Path(broadcast_text(str(_default_out(config))))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {args.out!r} is a file; --out names the run's folder.")
    refusal = "" if args.resume or args.overwrite or not run_files(out) else _taken(out)
    # every rank acts on what rank 0 found, before rank 0 writes the run's first file
    refusal = broadcast_text(refusal)
    if refusal:
        raise ConfigError(refusal)
    return out


def _taken(out: Path) -> str:
    """Why ``out`` is refused: it holds a run (of the model its config names)."""
    try:
        model = json.loads((out / "config.json").read_text(encoding="utf-8")).get("model")
    except (OSError, ValueError, AttributeError):
        model = None
    what = f"a run of {model}" if model else "a run"
    return f"{out} already holds {what}; continue it with --resume, or replace it with --overwrite."


def _resume_note(out: Path, config: TrainConfig, examples: int) -> str:
    """What --resume will do, in one line, when it is more than going on where the run stopped:
    a finished run is only evaluated again, a new --epochs moves the learning rate (the schedule
    is a function of the step and the total steps); a schedule shorter than the steps already
    taken is refused."""
    from convlens.train.run import schedule_steps, scheduled_lr
    from convlens.train.state import saved_progress

    saved = saved_progress(out)
    per_epoch, total = schedule_steps(config, examples)
    old_epochs = saved.config.epochs
    if total < saved.step:
        done = saved.step / per_epoch
        raise ConfigError(
            f"run {out} has already trained {done:.3g} epochs, more than --epochs "
            f"{config.epochs:g}; give --epochs {done:.3g} or more to continue it, or start a new "
            "run."
        )
    if total == saved.step:
        return (
            f"run {out} has already finished its {old_epochs:g}-epoch schedule; --resume only "
            "evaluates its final weights on the test data again (give a larger --epochs to train "
            "it further)"
        )
    if config.epochs == old_epochs:
        return ""
    old_total = schedule_steps(saved.config, examples)[1]
    last = scheduled_lr(saved.config, max(saved.step - 1, 0), old_total, per_epoch, saved.lr_scale)
    then = scheduled_lr(config, saved.step, total, per_epoch, saved.lr_scale)
    where = (
        f"finished its {old_epochs:g}-epoch schedule"
        if saved.step >= old_total
        else f"stopped at step {saved.step} of its {old_epochs:g}-epoch schedule"
    )
    change = "extending it" if config.epochs > old_epochs else "shortening it"
    return (
        f"run {out} {where}; {change} to {config.epochs:g} epochs continues as if it had been "
        f"started with --epochs {config.epochs:g}, so the learning rate goes from {last:.3g} (its "
        f"last step) to {then:.3g} (step {saved.step + 1} of {total})"
    )


def _best_note(history: Any, console: Any) -> None:
    """Say so when the best checkpoint (the one eval, predict and the report open) is not the
    final weights that the test line scored."""
    best, records = history.best, history.records
    if not best or not records or best.get("epoch") == records[-1].get("epoch"):
        return
    console.print(
        f"note: the best epoch was {best['epoch']} of {records[-1]['epoch']}; `convlens eval`, "
        "`predict` and the report open its checkpoint (best), so their scores are the best "
        "epoch's, not the final weights' above.",
        highlight=False,
        soft_wrap=True,
    )


def _test_score(test: dict[str, Any] | None, task: str) -> str:
    """The test set's accuracy, or a regression's RMSE."""
    if task == "regression":
        return f"test RMSE {test['rmse'] if test else float('nan'):.4g}"
    return f"test accuracy {100 * (test['acc'] if test else float('nan')):.2f}%"


def _default_out(config: TrainConfig) -> Path:
    """runs/DATA-MODEL-TIME, with -2, -3, ... added when a folder of that name exists."""
    name = config.model if len(config.model) <= 24 else "spec"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    data = Path(config.data).name or "data"  # a path's last part: no folders inside runs/
    base = Path("runs") / f"{data}-{safe}-{time.strftime('%Y%m%d-%H%M%S')}"
    out, number = base, 1
    while out.exists():
        number += 1
        out = base.with_name(f"{base.name}-{number}")
    return out


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
