"""`convlens data list | info NAME | prepare NAME`: the data sets, what is on disk, and fetching them."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder with local copies (searched before the cache $CONVLENS_DATA or ~/.cache/convlens)",
    )
    sub = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, parser_class=type(parser)
    )
    sub.add_parser(
        "list", parents=[common], help="the data sets and whether a local copy was found"
    )
    info = sub.add_parser(
        "info", parents=[common], help="source, sizes, classes and statistics of one data set"
    )
    info.add_argument("name", help="data set name (see `convlens data list`)")
    info.add_argument("--json", action="store_true", help="print the information as JSON")
    prepare = sub.add_parser(
        "prepare", parents=[common], help="download (if needed) and verify one data set"
    )
    prepare.add_argument("name", help="data set name (see `convlens data list`)")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console()
    if args.action == "list":
        console.print(_list_table(args.data_dir))
        return 0
    from convlens.data import dataset_info

    info = dataset_info(args.name, args.data_dir, download=args.action == "prepare")
    if getattr(args, "json", False):
        print(json.dumps(info, indent=2))
        return 0
    if args.action == "prepare":
        console.print(f"{info['name']}: ready ({info['source']})")
    console.print(_info_table(info))
    return 0


def _list_table(root: str | None):
    from rich.table import Table

    from convlens.data.catalog import DATASETS, _source

    table = Table(title="data sets")
    for column in ("name", "description", "source"):
        table.add_column(column)
    for entry in DATASETS.values():
        source = _source(entry, root)
        if source == "not found":
            source = "not found (`convlens data prepare " + entry.name + "` downloads it)"
        table.add_row(entry.name, entry.title, source)
    return table


def _info_table(info: dict):
    from rich.table import Table

    table = Table(title=f"{info['name']}: {info['title']}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("source", info["source"])
    for split, size in info["sizes"].items():
        counts = info["class_counts"][split]
        table.add_row(
            f"{split} samples", f"{size:,} (per class {min(counts):,} to {max(counts):,})"
        )
    table.add_row("classes", f"{len(info['classes'])}: " + ", ".join(info["classes"]))
    table.add_row("balanced", "yes" if info["balanced"] else "no")
    table.add_row(
        "sample shape", " x ".join(str(s) for s in info["in_shape"]) + f" ({info['dtype']})"
    )
    table.add_row("train mean", ", ".join(f"{m:.4f}" for m in info["mean"]))
    table.add_row("train std", ", ".join(f"{s:.4f}" for s in info["std"]))
    return table
