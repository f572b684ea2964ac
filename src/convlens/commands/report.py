"""`convlens report RUN_DIR`: write RUN_DIR/report.html, one self-contained page about the run."""

from __future__ import annotations

import argparse

from convlens.commands._data_args import add_data_arguments, data_options, load_checkpoint_data


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="a run directory written by `convlens train`")
    parser.add_argument(
        "--examples", type=int, default=3, help="test examples with attributions (default 3)"
    )
    parser.add_argument("--data-dir", help="where the data set files are (default: search)")
    add_data_arguments(
        parser,
        data=True,
        data_help="data set name or path of the test examples (default: the run's)",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from convlens.errors import ConfigError

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        raise ConfigError(
            f"run directory {str(run_dir)!r} does not exist; give the folder that `convlens train` wrote"
        )
    if args.examples < 0:
        raise ConfigError("--examples must be 0 or more")
    data = None
    if args.data_dir or args.data or data_options(args):
        data = _test_data(run_dir, args)
    from convlens.report import write_report

    print(write_report(run_dir, data=data, examples=args.examples))
    return 0


def _test_data(run_dir, args):
    from convlens.train import load_checkpoint

    meta = load_checkpoint(run_dir).meta
    return load_checkpoint_data(args, meta, "test") if args.data or meta.get("data") else None
