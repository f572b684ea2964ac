"""`convlens export CKPT [--onnx out.onnx]`: write a checkpoint's model as ONNX and check it.

Without ``--onnx`` the file goes beside the checkpoint (``RUN/model.onnx``, ``NAME.onnx`` next to
``NAME.json``), or into the current folder for a zoo model or ``FILE.py:NAME`` (``NAME.onnx``).
"""

from __future__ import annotations

import argparse

from convlens.commands._shape_args import add_shape_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint",
        metavar="MODEL",
        help="run directory (best, else last), NAME.json / NAME.safetensors, a zoo model name or "
        "FILE.py:NAME",
    )
    parser.add_argument(
        "--weights", help="zoo or FILE.py:NAME models: a .pth / .safetensors state dict to load"
    )
    parser.add_argument("--kwargs", help="FILE.py:NAME models: JSON keyword arguments")
    parser.add_argument(
        "--onnx",
        metavar="FILE",
        help="the .onnx file to write (default: RUN/model.onnx for a run directory, NAME.onnx "
        "beside NAME.json, ./NAME.onnx for a zoo model or FILE.py:NAME)",
    )
    add_shape_arguments(
        parser,
        "one example's shape, CxHxW, HxWxC (said on stderr) or CxL (default: the checkpoint's)",
        hwc=False,
    )
    parser.add_argument("--opset", type=int, help="ONNX opset version (default: the exporter's)")
    parser.add_argument(
        "--torchscript",
        action="store_true",
        help="use PyTorch's older TorchScript exporter (faster; deprecated) instead of dynamo",
    )


def run(args: argparse.Namespace) -> int:
    from convlens.errors import ConfigError
    from convlens.export import export_onnx
    from convlens.models.source import open_model

    ckpt = open_model(args.checkpoint, weights=args.weights, kwargs=args.kwargs)
    if args.input:
        import sys

        from convlens.shapes import read_shape

        read = read_shape(args.input, args.layout)
        if read.note:
            print(read.note, file=sys.stderr)
        in_shape = read.shape
    else:
        in_shape = ckpt.in_shape
    if not in_shape:
        raise ConfigError("this checkpoint does not record its input shape; give it with --input.")
    check = export_onnx(
        ckpt.model,
        args.onnx or default_onnx(args.checkpoint),
        in_shape,
        opset=args.opset,
        dynamo=not args.torchscript,
    )
    print(check.describe())
    if ckpt.mean:
        mean = ", ".join(f"{m:.4g}" for m in ckpt.mean)
        std = ", ".join(f"{s:.4g}" for s in ckpt.std)
        print(
            f"the model expects inputs normalised as in training, (x - mean) / std per channel "
            f"(images as values in [0, 1]): mean {mean}; std {std}"
        )
    return 0 if check.ok else 1


def default_onnx(ref: str) -> str:
    """Where ``convlens export REF`` writes without ``--onnx``."""
    from pathlib import Path

    from convlens.models.source import is_checkpoint
    from convlens.models.user import is_reference

    if is_reference(ref):  # FILE.py:NAME
        return f"{ref.rsplit(':', 1)[1]}.onnx"
    path = Path(ref)
    if path.is_dir():
        return str(path / "model.onnx")
    if is_checkpoint(ref):
        return str(path.with_suffix(".onnx"))
    return f"{ref}.onnx"  # a zoo name
