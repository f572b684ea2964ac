"""`convlens export CKPT --onnx out.onnx`: write a checkpoint's model as ONNX and check it."""

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
    parser.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")
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
        ckpt.model, args.onnx, in_shape, opset=args.opset, dynamo=not args.torchscript
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
