"""`convlens zoo [--family F] [--format table|md|csv|json]`: the built-in models at a glance."""

from __future__ import annotations

import argparse
import csv
import io
import json

FORMATS = ("table", "md", "csv", "json")
COLUMNS = (
    "model",
    "family",
    "input",
    "classes",
    "params",
    "MACs",
    "RF",
    "MB",
    "MiB",
    "description",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--family",
        help="only one family: lenet, alexnet, vgg, googlenet, resnet, mlp, mnist1d, small",
    )
    parser.add_argument("--format", "-f", choices=FORMATS, default="table", help="output format")
    parser.add_argument("--model", "-m", action="append", help="only these models (repeatable)")
    parser.add_argument("--no-cache", action="store_true",
                        help="measure every model again instead of reading the cached measurements")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from convlens.models.zoo import zoo_entries, zoo_entry

    if args.model:
        entries = [zoo_entry(name) for name in args.model]
    else:
        entries = zoo_entries(args.family, cache=not args.no_cache)
    if args.format == "json":
        print(json.dumps([e.to_dict() for e in entries], indent=2))
        return 0
    rows = [_row(e) for e in entries]
    if args.format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows([_raw(e) for e in entries])
        print(out.getvalue(), end="")
    elif args.format == "md":
        print("| " + " | ".join(COLUMNS) + " |")
        print("|" + "|".join("---:" if c in _NUMERIC else "---" for c in COLUMNS) + "|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        print(_text_table(rows))
        print(
            "MACs: multiply-accumulates for one input (FLOPs = 2 x MACs); RF: receptive field of the"
        )
        print("last feature map; MB = float32 weight bytes / 10^6, MiB = bytes / 2^20.")
    return 0


_NUMERIC = {"classes", "params", "MACs", "RF", "MB", "MiB"}


def _row(e) -> list[str]:
    i = e.info
    return [
        i.name,
        i.family,
        i.input_text,
        str(i.num_classes),
        f"{e.params:,}",
        _si(e.macs),
        "x".join(str(v) for v in e.rf) if e.rf else "-",
        f"{e.param_mb:.1f}",
        f"{e.param_mib:.1f}",
        i.description,
    ]


def _raw(e) -> list[object]:
    i = e.info
    rf = "x".join(str(v) for v in e.rf)
    return [i.name, i.family, i.input_text, i.num_classes, e.params, e.macs, rf,
            round(e.param_mb, 3), round(e.param_mib, 3), i.description]  # fmt: skip


def _si(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            return f"{n / scale:.2f}{unit}"
    return str(int(n))


def _text_table(rows: list[list[str]]) -> str:
    widths = [max(len(c), *(len(r[k]) for r in rows)) for k, c in enumerate(COLUMNS)]

    def line(cells) -> str:
        parts = [
            cell.rjust(w) if COLUMNS[k] in _NUMERIC else cell.ljust(w)
            for k, (cell, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(COLUMNS), line(["-" * w for w in widths]), *(line(r) for r in rows)])
