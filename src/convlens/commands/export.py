"""`convlens export CKPT --onnx out.onnx`: write a checkpoint's model as ONNX and check it."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint", help="run directory (best, else last) or NAME.json / NAME.safetensors"
    )
    parser.add_argument("--onnx", required=True, metavar="FILE", help="the .onnx file to write")
    parser.add_argument(
        "--input", help="one example's shape, CxHxW or CxL (default: the checkpoint's)"
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
    from convlens.train import load_checkpoint

    ckpt = load_checkpoint(args.checkpoint)
    if args.input:
        from convlens.analysis.geometry import parse_shape

        in_shape = tuple(parse_shape(args.input))
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
