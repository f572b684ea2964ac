"""`convlens data list | info NAME | prepare NAME | export-image NAME`: the data sets, what is on
disk, fetching them, and one example written as a PNG (a picture to give `convlens predict`)."""

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
        dest="action", metavar="ACTION", required=False, parser_class=type(parser)
    )
    sub.add_parser(
        "list",
        parents=[common],
        help="the data sets and whether a local copy was found (what `convlens data` alone does)",
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
    export = sub.add_parser(
        "export-image",
        parents=[common],
        help="write one example of a data set as a PNG (for `convlens predict` or the studio)",
    )
    export.add_argument("name", help=DATA_HELP)
    export.add_argument("--index", type=int, default=0, help="which example (default: 0)")
    export.add_argument("--split", default="test", choices=("train", "test"), help="default: test")
    export.add_argument(
        "--out", metavar="FILE", help="the PNG to write (default: NAME-SPLIT-INDEX.png here)"
    )
    add_data_arguments(export)


def run(args: argparse.Namespace) -> int:
    from convlens.tables import terminal_width

    width = terminal_width()
    if args.action in (None, "list"):
        print(_list_table(getattr(args, "data_dir", None), width))
        return 0
    from convlens.data import dataset_info

    options = data_options(args)
    check_options(args.name, options)
    if args.action == "export-image":
        return _export_image(args, options)
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


def _export_image(args: argparse.Namespace, options: dict) -> int:
    """Write example ``--index`` of the split as a PNG at its own size, and say what it is."""
    from pathlib import Path

    from convlens.data import load_dataset
    from convlens.errors import ConfigError, DataError

    data = load_dataset(args.name, args.split, args.data_dir, **options)
    if len(data.in_shape) != 3 or data.in_shape[0] not in (1, 3):
        shape = "x".join(map(str, data.in_shape))
        raise DataError(f"{args.name} holds {shape} examples, not grey or colour images; "
                        "only image data sets export a PNG.")  # fmt: skip
    if not 0 <= args.index < len(data):
        raise ConfigError(
            f"--index {args.index} is outside the {args.split} split's {len(data):,} examples "
            f"(0 to {len(data) - 1:,})."
        )
    name = str(args.name).rstrip("/").split("/")[-1]
    out = Path(args.out or f"{name}-{args.split}-{args.index}.png")
    if out.suffix.lower() != ".png":
        raise ConfigError(f"--out {str(out)!r} must end in .png.")
    _write_png(out, data.x[args.index])
    label = int(data.y[args.index])
    title = data.classes[label] if label < len(data.classes) else str(label)
    print(f"wrote {out}: {args.split} example {args.index} of {data.name}, class {title!r}, "
          f"{'x'.join(map(str, data.in_shape))}")  # fmt: skip
    return 0


def _write_png(path, x) -> None:
    """One (C, H, W) example as an 8-bit grey or RGB PNG, written atomically: uint8 pixels as
    they are, floats in [0, 1] scaled by 255, other floats stretched to [0, 255]."""
    import io

    import numpy as np
    from PIL import Image

    from convlens.fileio import atomic_write_bytes

    a = x.detach().cpu().numpy()
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        low, high = float(a.min()), float(a.max())
        if low < 0 or high > 1:
            a = (a - low) / max(high - low, 1e-12)
        a = np.round(a * 255).astype(np.uint8)
    picture = a[0] if a.shape[0] == 1 else np.moveaxis(a, 0, -1)
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
