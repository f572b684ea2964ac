"""`convlens predict MODEL FILE...`: classify image files with a checkpoint or pretrained weights,
or the rows of a table.

MODEL is a run directory (or NAME.json), a zoo name or FILE.py:NAME; the last two take
``--weights`` (e.g. torchvision's ImageNet weights: ``convlens predict vgg16 dog.jpg --weights
vgg16-397923af.pth`` prints the ImageNet class names, the photo cut as torchvision cuts it).

A ``.csv`` or ``.npz`` file holds many examples: a model trained on a table (or on 1-D signals,
or on arrays) predicts each row of a ``.csv`` (the model's numbers, and optionally the label
column it was trained with) or each example of an ``.npz``'s ``x`` (or ``x_test``). Where the
file has labels they are shown beside the predictions, with the accuracy on those rows. A
regression model prints its outputs.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint",
        metavar="MODEL",
        help="run directory (best, else last), NAME.json / NAME.safetensors, a zoo model name or "
        "FILE.py:NAME",
    )
    parser.add_argument(
        "files",
        nargs="+",
        help="PNG or JPEG images, or .csv / .npz files of examples (one prediction per row)",
    )
    parser.add_argument(
        "--weights", help="zoo or FILE.py:NAME models: a .pth / .safetensors state dict to load"
    )
    parser.add_argument("--kwargs", help="FILE.py:NAME models: JSON keyword arguments")
    parser.add_argument(
        "--imagenet",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ImageNet class names and preprocessing (resize 256, centre crop 224, ImageNet mean/std);"
        " default: when --weights is given and the model has 1,000 outputs",
    )
    parser.add_argument(
        "--top-k", type=int, default=3, help="classes to show per image (default: 3)"
    )
    parser.add_argument(
        "--invert",
        action="store_true",
        help="invert the images first (dark ink on white paper -> MNIST's white on black)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--json", action="store_true", help="print one JSON line per image")


# Pillow's modes in words, for the line that says how a picture was converted
_MODES = {
    "1": "black-and-white", "L": "grey", "LA": "grey with alpha", "P": "palette", "RGB": "RGB",
    "RGBA": "RGBA", "CMYK": "CMYK", "I": "32-bit grey", "I;16": "16-bit grey",
}  # fmt: skip


def image_tensor(
    path: str | Path, in_shape: tuple[int, ...], invert: bool = False
) -> tuple[Any, str]:
    """An image file as a float tensor (C, H, W) in [0, 1], converted to the model's input shape
    (grey or RGB to match C, resized to H x W), and one line that says what was done ("" when the
    file already fits)."""
    import numpy as np
    import torch
    from PIL import Image, ImageOps, UnidentifiedImageError

    from convlens.errors import ConfigError, DataError

    if len(in_shape) != 3 or in_shape[0] not in (1, 3):
        raise ConfigError(
            f"the model takes {'x'.join(map(str, in_shape))} inputs, not images; give its "
            "examples as the rows of a .csv or the x array of an .npz."
        )
    channels, height, width = in_shape
    try:
        with Image.open(path) as opened:
            note = _conversion(path, opened, in_shape)
            img = opened.convert("L" if channels == 1 else "RGB")
        img = img.resize((width, height), Image.Resampling.BILINEAR)
        if invert:
            img = ImageOps.invert(img)
        array = np.asarray(img, dtype=np.uint8)
    except FileNotFoundError:
        raise DataError(f"image {str(path)!r} does not exist.") from None
    except (UnidentifiedImageError, OSError) as err:
        raise DataError(f"{str(path)!r} is not an image Pillow can read ({err}).") from None
    x = torch.from_numpy(array.copy()).float() / 255.0
    return (x.unsqueeze(0) if channels == 1 else x.permute(2, 0, 1)), note  # (H, W, C) -> (C, H, W)


def _conversion(path: str | Path, img: Any, in_shape: tuple[int, ...]) -> str:
    """One line such as "my.png is 3x64x48 RGB; converted to grey and resized to 1x32x32 for the
    model", or "" when the file already fits ``in_shape``."""
    channels, height, width = in_shape
    done = []
    if img.mode != ("L" if channels == 1 else "RGB"):
        done.append(f"converted to {'grey' if channels == 1 else 'RGB'}")
    if img.size != (width, height):  # Pillow says (width, height)
        done.append(f"resized to {channels}x{height}x{width}")
    if not done:
        return ""
    bands = len(img.getbands())
    mode = _MODES.get(img.mode, img.mode)
    return f"{path} is {bands}x{img.height}x{img.width} {mode}; {' and '.join(done)} for the model"


def _images(args: argparse.Namespace, ckpt: Any) -> Any:
    """The files as one (N, C, H, W) batch in [0, 1], cut for the model; a line on stderr for
    each file that had to be converted or resized."""
    import sys

    import torch

    from convlens.errors import ConfigError
    from convlens.models.imagenet import imagenet_image

    if ckpt.meta.get("preprocess") == "imagenet":
        return torch.stack([imagenet_image(f) for f in args.files])
    if not ckpt.in_shape:
        raise ConfigError(
            f"{args.checkpoint!r} does not say what input it takes; give a model with "
            "`in_shape`, or --imagenet for a 3x224x224 ImageNet model."
        )
    read = [image_tensor(f, ckpt.in_shape, args.invert) for f in args.files]
    for _, note in read:
        if note:
            print(note, file=sys.stderr)
    return torch.stack([tensor for tensor, _ in read])


TABLE_SUFFIXES = (".csv", ".npz")  # files of many examples, not one picture


def _examples(args: argparse.Namespace, ckpt: Any) -> tuple[Any, list[str], list[Any]]:
    """The rows of .csv and examples of .npz files as one normalised-later float batch
    (N, *in_shape), a name for each ("table.csv line 3", "arrays.npz [0]") and its label (None
    where the file has none)."""
    import torch

    from convlens.data.arrays import read_npz_inputs
    from convlens.data.tabular import read_inputs
    from convlens.errors import ConfigError

    if not ckpt.in_shape:
        raise ConfigError(f"{args.checkpoint!r} does not say what input it takes.")
    parts, names = [], []
    labels: list[Any] = []
    label = (ckpt.meta.get("data_options") or {}).get("label")
    for file in args.files:
        if file.lower().endswith(".csv"):
            values, found, lines = read_inputs(file, tuple(ckpt.in_shape), label)
            parts.append(torch.from_numpy(values))
            names += [f"{file} line {line}" for line in lines]
            labels += (
                [_cell_label(c, ckpt.classes) for c in found] if found else [None] * len(lines)
            )
        else:
            array, ys = read_npz_inputs(file, tuple(ckpt.in_shape))
            parts.append(torch.from_numpy(array))
            names += [f"{file} [{i}]" for i in range(len(array))]
            labels += (
                [_label(y, ckpt.classes) for y in ys] if ys is not None else [None] * len(array)
            )
    return torch.cat(parts), names, labels


def _cell_label(cell: str, classes: tuple[str, ...]) -> str:
    """A table's label cell as the class name training gave it: "2.0" is class "2", as training
    read numeric labels as numbers."""
    if cell in classes:
        return cell
    try:
        value = float(cell)
    except ValueError:
        return cell
    for name in classes:
        try:
            if float(name) == value:
                return name
        except ValueError:
            continue
    return cell


def _label(y: Any, classes: tuple[str, ...]) -> Any:
    """An .npz label as the class name training gave it: a class index names its class."""
    value = y.item() if hasattr(y, "item") else y
    if isinstance(value, int | float) and float(value).is_integer() and 0 <= value < len(classes):
        return classes[int(value)]
    return str(value)


def _normalised(x: Any, mean: tuple[float, ...], std: tuple[float, ...]) -> Any:
    """(x - mean) / std along the channel (or feature) axis, axis 1."""
    import torch

    if not mean:
        return x
    view = (1, -1, *(1,) * (x.dim() - 2))
    return (x - torch.tensor(mean).view(view)) / torch.tensor(std).view(view)


def run(args: argparse.Namespace) -> int:
    import json

    from convlens.errors import ConfigError
    from convlens.models.source import open_model
    from convlens.train import predict
    from convlens.train.evaluation import scored_logits, scoring_config

    if args.top_k < 1:
        raise ConfigError(f"--top-k must be at least 1, not {args.top_k}.")
    ckpt = open_model(
        args.checkpoint, weights=args.weights, kwargs=args.kwargs, imagenet=args.imagenet
    )
    if ckpt.meta.get("kind") == "zoo" and not args.weights:
        import sys

        print(
            f"note: {args.checkpoint} has its random initial weights (no --weights file), so its "
            "predictions are chance",
            file=sys.stderr,
        )
    tables = [f.lower().endswith(TABLE_SUFFIXES) for f in args.files]
    if any(tables) and not all(tables):
        raise ConfigError("give images or .csv / .npz files of examples, not both in one command.")
    if all(tables):
        x, names, labels = _examples(args, ckpt)
    else:
        x, names, labels = _images(args, ckpt), list(args.files), [None] * len(args.files)
    x = _normalised(x, ckpt.mean, ckpt.std)
    config = scoring_config(ckpt.meta, ckpt.config, device=args.device)  # as eval scores it
    if ckpt.meta.get("task") == "regression":
        outputs = scored_logits(ckpt.model, x, config).float()
        return _print_outputs(names, outputs, labels, args.json)
    probs = predict(ckpt.model, x, config)
    classes = ckpt.classes or tuple(str(i) for i in range(probs.shape[1]))
    k = min(args.top_k, probs.shape[1])
    top_p, top_i = probs.topk(k, dim=1)
    right = 0
    for name, ps, idx, label in zip(names, top_p.tolist(), top_i.tolist(), labels):
        ranked = [(classes[i], p) for i, p in zip(idx, ps)]
        right += label is not None and str(label) == ranked[0][0]
        if args.json:
            line = {"file": name, "top": [{"class": c, "probability": p} for c, p in ranked]}
            if label is not None:
                line["label"] = label
            print(json.dumps(line))
        else:
            shown = ", ".join(f"{c} {100 * p:.1f}%" for c, p in ranked)
            print(f"{name}: {shown}" + (f"  (label {label})" if label is not None else ""))
    labelled = sum(label is not None for label in labels)
    if labelled and not args.json:
        print(f"accuracy on the {labelled:,} labelled examples: {100 * right / labelled:.2f}%")
    return 0


def _print_outputs(names: list[str], outputs: Any, targets: list[Any], as_json: bool) -> int:
    """A regression model's outputs, one line per example, beside the target where the file has
    one (a table's label column), with the RMSE over those."""
    import json
    import math

    squares = []
    for name, row, target in zip(names, outputs.reshape(len(names), -1).tolist(), targets):
        value = _number(target) if len(row) == 1 else None
        if value is not None:
            squares.append((row[0] - value) ** 2)
        if as_json:
            line: dict[str, Any] = {"file": name, "outputs": row}
            if value is not None:
                line["target"] = value
            print(json.dumps(line))
        else:
            shown = ", ".join(f"{v:.4g}" for v in row)
            print(f"{name}: {shown}" + (f"  (target {value:.4g})" if value is not None else ""))
    if squares and not as_json:
        rmse = math.sqrt(sum(squares) / len(squares))
        print(f"RMSE on the {len(squares):,} examples with a target: {rmse:.4g}")
    return 0


def _number(cell: Any) -> float | None:
    """A target cell as a number, or None (no target, or not a number)."""
    try:
        return None if cell is None else float(cell)
    except (TypeError, ValueError):
        return None
