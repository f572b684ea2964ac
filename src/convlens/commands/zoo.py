"""`convlens zoo [NAME ...] [--family F] [--format table|md|csv|json] [--compare]`: the built-in
models, all of them or the ones named (the same as ``--model``).

``--compare`` prints the lectures' architecture comparison slide, measured from the zoo and set
beside the published errors (``convlens.models.comparison``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json

from convlens.commands._format_args import add_format_arguments
from convlens.tables import Column, decimal_text

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
        "names",
        nargs="*",
        metavar="NAME",
        help="only these models, the same as --model (a model's layers: convlens summary NAME)",
    )
    parser.add_argument(
        "--family",
        help="only one family: lenet, alexnet, vgg, googlenet, resnet, mlp, mnist1d, small",
    )
    add_format_arguments(parser, FORMATS)
    parser.add_argument("--model", "-m", action="append", help="only these models (repeatable)")
    parser.add_argument("--no-cache", action="store_true",
                        help="measure every model again instead of reading the cached measurements")  # fmt: skip
    parser.add_argument("--compare", action="store_true",
                        help="the lectures' comparison slide: depth, size, published top-1/top-5 error "
                        "of AlexNet, VGG-16/19, GoogLeNet, ResNet-50/152 (or the --model list)")  # fmt: skip
    parser.add_argument("--width", type=int,
                        help="table width in characters (default: the terminal's; a pipe gets the full table)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    from convlens.errors import ConfigError
    from convlens.models.zoo import zoo_entries, zoo_entry
    from convlens.tables import terminal_width

    if args.width is not None and args.width < 20:
        raise ConfigError(f"--width must be at least 20 characters, not {args.width}")
    width = args.width or terminal_width()
    args.model = [*(args.model or ()), *args.names] or None
    if args.compare:
        if args.family:
            raise ConfigError("--compare takes --model names, not --family")
        return _print_comparison(args.model, args.format, width)
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
        from convlens.tables import render_table, wrap_text

        print(render_table(_TEXT_COLUMNS, rows, width=width))
        note = ("MACs: multiply-accumulates for one input (FLOPs = 2 x MACs); RF: receptive field of "
                "the last feature map; MB = float32 weight bytes / 10^6, MiB = bytes / 2^20.")  # fmt: skip
        print("\n".join(wrap_text(note, width)))
    return 0


_NUMERIC = {"classes", "params", "MACs", "RF", "MB", "MiB"}


def _column(name: str) -> Column:
    if name in _NUMERIC:
        return Column(name, fixed=True, left=name == "RF")
    return Column(name, fixed=name == "input", left=True, wrap=name != "input")


_TEXT_COLUMNS = [_column(c) for c in COLUMNS]


def _row(e) -> list[str]:
    i = e.info
    return [
        i.name,
        i.family,
        i.input_text,
        str(i.num_classes),
        f"{e.params:,}",
        f"{e.macs:,}",
        "x".join(str(v) for v in e.rf) if e.rf else "-",
        decimal_text(e.param_mb),
        decimal_text(e.param_mib),
        i.description,
    ]


def _raw(e) -> list[object]:
    i = e.info
    rf = "x".join(str(v) for v in e.rf)
    return [i.name, i.family, i.input_text, i.num_classes, e.params, e.macs, rf,
            round(e.param_mb, 3), round(e.param_mib, 3), i.description]  # fmt: skip


# -- the comparison slide -------------------------------------------------------------------------

_COMPARE_COLUMNS = (
    Column("model", wrap=True), Column("depth", fixed=True), Column("conv", fixed=True),
    Column("fc", fixed=True), Column("params", fixed=True), Column("MB", fixed=True),
    Column("MiB", fixed=True), Column("MACs", fixed=True), Column("RF", fixed=True, left=True),
    Column("top-1 err", fixed=True), Column("top-5 err", fixed=True),
    Column("slide MB", fixed=True), Column("slide top-1/top-5", fixed=True),
    Column("slide layers", wrap=True),
)  # fmt: skip


def _print_comparison(names: list[str] | None, fmt: str, width: int | None) -> int:
    from convlens.models.comparison import FOOTNOTES, SLIDE_MODELS, compare
    from convlens.tables import render_table, wrap_text

    rows = compare(names or SLIDE_MODELS)
    if fmt == "json":
        print(json.dumps({"rows": [_compare_dict(r) for r in rows], "notes": FOOTNOTES}, indent=2))
        return 0
    cells = [_compare_cells(r) for r in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([c.header for c in _COMPARE_COLUMNS] + ["errors from", "slide errors"])
        for r, row in zip(rows, cells):
            writer.writerow([*row, *_sources(r)])
        print(out.getvalue(), end="")
        return 0
    if fmt == "md":
        print("| " + " | ".join(c.header for c in _COMPARE_COLUMNS) + " |")
        print("|" + "|".join("---:" if c.fixed else "---" for c in _COMPARE_COLUMNS) + "|")
        for row in cells:
            print("| " + " | ".join(row) + " |")
        print()
        print("\n".join(f"- {line}" for r in rows for line in _source_lines(r)))
        print("\n".join(f"- {note}" for note in FOOTNOTES))
        return 0
    print(render_table(_COMPARE_COLUMNS, cells, width=width,
                       title="The architecture comparison slide, measured (ImageNet, 224x224)"))  # fmt: skip
    print()
    for line in [*(line for r in rows for line in _source_lines(r)), *FOOTNOTES]:
        print("\n".join(wrap_text(line, width, "  ")))
    return 0


def _compare_cells(r) -> list[str]:
    pub, slide = r.published, r.slide
    return [
        r.name,
        str(r.depth),
        str(r.conv_layers),
        str(r.fc_layers),
        f"{r.params:,}",
        decimal_text(r.mb),
        decimal_text(r.mib),
        f"{r.macs:,}",
        "x".join(map(str, r.rf)) or "-",
        f"{pub.top1:.3f}" if pub else "-",
        f"{pub.top5:.3f}" if pub else "-",
        str(slide.mb) if slide else "-",
        f"{slide.top1:.2f} / {slide.top5:.2f}" if slide else "-",
        f"{slide.layers}: {slide.description}" if slide else "-",
    ]


def _sources(r) -> tuple[str, str]:
    return (r.published.source if r.published else "", r.slide.where_from if r.slide else "")


def _source_lines(r) -> list[str]:
    ours, theirs = _sources(r)
    lines = [f"{r.name}: errors from {ours}"] if ours else []
    return lines + ([f"{r.name}: the slide's errors are {theirs}"] if theirs else [])


def _compare_dict(r) -> dict:
    import dataclasses

    return {**dataclasses.asdict(r), "mb": r.mb, "mib": r.mib}
