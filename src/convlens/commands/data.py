"""`convlens data list | info NAME | prepare NAME`: the data sets, what is on disk, and fetching them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from convlens.commands._data_args import (
    DATA_HELP,
    add_data_arguments,
    check_options,
    data_options,
)

if TYPE_CHECKING:
    from convlens.data.catalog import DatasetInfo


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
    info.add_argument("name", help=f"{DATA_HELP} (see `convlens data list`)")
    info.add_argument("--json", action="store_true", help="print the information as JSON")
    add_data_arguments(info)
    prepare = sub.add_parser(
        "prepare", parents=[common], help="download (if needed) and verify one data set"
    )
    prepare.add_argument("name", help=f"{DATA_HELP}; a folder of images is decoded into the cache")
    add_data_arguments(prepare)


def run(args: argparse.Namespace) -> int:
    from convlens.tables import terminal_width

    width = terminal_width()
    if args.action == "list":
        print(_list_table(args.data_dir, width))
        return 0
    from convlens.data import dataset_info

    options = data_options(args)
    check_options(args.name, options)
    info = dataset_info(args.name, args.data_dir, download=args.action == "prepare", **options)
    for note in info.notes:
        print(f"note: {note}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps(info.to_dict(), indent=2))
        return 0
    if args.action == "prepare":
        print(f"{info.name}: ready ({info.source})")
    print(_info_table(info, width))
    return 0


def _list_table(root: str | None, width: int | None = None) -> str:
    from convlens.data.catalog import DATASETS, _source
    from convlens.tables import Column, render_table

    rows = []
    for entry in DATASETS.values():
        source = _source(entry, root)
        if source == "not found":
            source = "not found (`convlens data prepare " + entry.name + "` downloads it)"
        rows.append([entry.name, entry.title, source])
    columns = [Column("name"), Column("description", wrap=True), Column("source", wrap=True)]
    return render_table(columns, rows, width=width, title="data sets")


def _info_table(info: DatasetInfo, width: int | None = None) -> str:
    from convlens.tables import Column, render_table

    rows = [["source", info.source]]
    for split, size in info.sizes.items():
        counts = info.class_counts[split]
        rows.append(
            [f"{split} samples", f"{size:,} (per class {min(counts):,} to {max(counts):,})"]
        )
    rows.append(["classes", f"{len(info.classes)}: " + ", ".join(info.classes)])
    rows.append(["balanced", "yes" if info.balanced else "no"])
    rows.append(["sample shape", " x ".join(str(s) for s in info.in_shape) + f" ({info.dtype})"])
    rows.append(["train mean", ", ".join(f"{m:.4f}" for m in info.mean)])
    rows.append(["train std", ", ".join(f"{s:.4f}" for s in info.std)])
    for name, value in info.options.items():
        rows.append([f"read with {name}", str(value)])
    columns = [Column("field"), Column("value", wrap=True)]
    return render_table(columns, rows, width=width, title=f"{info.name}: {info.title}")
