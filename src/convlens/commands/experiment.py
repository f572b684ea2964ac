"""`convlens experiment NAME`: run one of the lectures' claims and write its table, plots and report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from convlens.commands._data_args import add_data_arguments, check_options, data_options

# flag -> experiment keyword; a flag is passed only when given, and only to experiments that take it
_FLAGS = {"seeds": "seeds", "quick": "quick", "epochs": "epochs", "data": "data",
          "max_shift": "max_shift", "counts_only": "counts_only", "untrained": "trained"}  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="experiment name (see --list)")
    parser.add_argument("--list", action="store_true", help="list the experiments and exit")
    parser.add_argument("--seeds", type=int, default=None, help="independent runs (default 3)")
    parser.add_argument(
        "--out",
        default=None,
        help="output directory (default convlens-runs/experiments/NAME, NAME-DATA with --data)",
    )
    parser.add_argument("--quick", action="store_true", default=None, help="a fast, smaller run")
    parser.add_argument(
        "--epochs", type=float, default=None, help="training length for experiments that train"
    )
    parser.add_argument(
        "--data",
        default=None,
        help="fc-vs-cnn: mnist1d (default), fashion-mnist or the path of your own images or "
        "signals; traditional: digits, fashion-mnist or iris (default all found)",
    )
    parser.add_argument(
        "--max-shift", type=int, default=None, help="equivariance: largest shift in pixels"
    )
    parser.add_argument("--counts-only", action="store_true", default=None,
                        help="parameter-sharing: the counts only, no training")  # fmt: skip
    parser.add_argument(
        "--untrained",
        action="store_false",
        default=None,
        help="equivariance: skip training the classifiers (random networks only)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    add_data_arguments(parser)


def _command_line(args: argparse.Namespace) -> str:
    """The command that repeats this run: the experiment and the flags that were given."""
    parts = ["convlens experiment", args.name]
    for flag in _FLAGS:
        value = getattr(args, flag)
        if value is None:
            continue
        option = "--" + flag.replace("_", "-")
        parts.append(option if isinstance(value, bool) else f"{option} {value:g}"
                     if isinstance(value, float) else f"{option} {value}")  # fmt: skip
    for key, value in data_options(args).items():  # how one's own data was read
        option = "--" + key.replace("_", "-")
        parts.append(option if value is True else f"{option} {value}")
    return " ".join(parts)


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from convlens.errors import ConfigError
    from convlens.experiments import EXPERIMENTS, experiment_options, run_experiment, save_result
    from convlens.experiments.output import table_text

    if args.list or not args.name:
        width = max(map(len, EXPERIMENTS))
        for name, exp in EXPERIMENTS.items():
            print(f"  {name:<{width}} {exp.summary}{'  (trains networks)' if exp.trains else ''}")
        return 0
    known = experiment_options(args.name)
    options = {}
    for flag, key in _FLAGS.items():
        value = getattr(args, flag)
        if value is None:
            continue
        if key not in known:
            option = "--" + flag.replace("_", "-")
            raise ConfigError(f"experiment {args.name!r} takes no {option}; it takes: "
                              + ", ".join("--" + f.replace("_", "-") for f, k in _FLAGS.items() if k in known))  # fmt: skip
        options[key] = value
    read = data_options(args)
    if read:
        if "data_options" not in known:
            flag = "--" + next(iter(read)).replace("_", "-")
            raise ConfigError(f"{flag} reads your own data, which only fc-vs-cnn takes.")
        check_options(args.data, read)
        options["data_options"] = read
    if "verbose" in known and not args.quiet:
        options["verbose"] = 1
    if "announce" in known and not args.quiet:
        options["announce"] = lambda text: print(f"training {text}", file=sys.stderr, flush=True)
    result = replace(run_experiment(args.name, **options), command=_command_line(args))
    out = args.out or default_out(args.name, args.data)
    paths = save_result(result, out)
    print(table_text(result))
    print(f"results: {paths['json']}")
    print(f"report:  {paths['report']}")
    return 0


def default_out(name: str, data: str | None) -> str:
    """convlens-runs/experiments/NAME, with the data set's name when one is given, so that the
    same experiment on two data sets keeps both results."""
    if not data:
        return f"convlens-runs/experiments/{name}"
    stem = Path(str(data).rstrip("/\\")).name.split(".")[0] or "data"
    return f"convlens-runs/experiments/{name}-{stem}"
