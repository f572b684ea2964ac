"""`convlens arith`: the lecture calculator for one conv or pooling layer.

convlens arith --input 32x32x3 --kernel 5 --filters 10 --padding 2   (the slide's 760 parameters)
convlens arith conv5x5x10p2 --input 32x32x3                          (the same layer as a spec token)
"""

from __future__ import annotations

import argparse
from typing import Any

from convlens.commands._shape_args import add_shape_arguments

LAYER_FLAGS = ("kernel", "stride", "padding", "dilation", "filters", "pool")  # what LAYER says


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "layer",
        nargs="?",
        metavar="LAYER",
        help="the layer as a spec token, e.g. conv5x5x10p2, conv1d5x25s2, pool2 or avgpool3s2 "
        "(instead of --kernel, --filters, --stride, --padding, --dilation, --pool)",
    )
    add_shape_arguments(
        parser,
        "input size: HxWxC as the slides write it (32x32x3), CxHxW, HxW (an image), or N (a 1-D "
        "signal of length N)",
        required=True,
    )
    parser.add_argument(
        "--channels", "-c", type=int, help="input channels (default 1, or C of CxHxW)"
    )
    parser.add_argument("--kernel", "-k", type=int, help="kernel (filter) size F")
    parser.add_argument("--stride", "-s", type=int, help="stride S (default 1)")
    parser.add_argument("--padding", "-p", help="zero padding P, or 'same' (default 0)")
    parser.add_argument("--dilation", "-d", type=int, help="dilation D (default 1)")
    parser.add_argument(
        "--filters", "-n", type=int, help="number of filters K = output channels (default 1)"
    )
    parser.add_argument("--pool", choices=("max", "avg"), help="a pooling window instead of a conv")
    parser.add_argument(
        "--strict", action="store_true", help="refuse a stride that does not fit exactly"
    )


def run(args: argparse.Namespace) -> int:
    import sys

    from convlens.analysis.geometry import layer_arithmetic
    from convlens.errors import ConfigError
    from convlens.shapes import read_shape

    _read_layer(args)
    read = read_shape(args.input, args.layout)
    if read.note:
        print(read.note, file=sys.stderr)
    dims = read.shape
    # answer in the order the question was asked: a slide's HxWxC input gets HxWxC shapes back
    channels_last = args.hwc or bool(read.note) or (args.layout == "hwc" and len(dims) == 3)
    spatial: tuple[int, ...]
    if len(dims) == 3:
        channels, spatial = dims[0], dims[1:]
        if args.channels and args.channels != channels:
            raise ConfigError(
                f"--channels {args.channels} contradicts the {channels} channels of --input"
            )
    elif len(dims) in (1, 2):
        channels, spatial = args.channels or 1, dims
    else:
        raise ConfigError("--input takes N, HxW or CxHxW")
    if getattr(args, "nd", len(spatial)) != len(spatial):
        raise ConfigError(
            f"{args.layer!r} is a {args.nd}-D convolution and the input "
            f"{args.input!r} is {len(spatial)}-D."
        )
    layer = _layer(args, len(spatial))
    info = layer_arithmetic(layer, (channels, *spatial), strict=args.strict, name="layer")
    _explain(args, info, channels, spatial, channels_last)
    return 0


def _read_layer(args: argparse.Namespace) -> None:
    """The flags filled in from the LAYER token, or their defaults; one of the two is required."""
    from convlens.errors import ConfigError
    from convlens.spec import Conv, Pool, parse_spec

    given = [f"--{f}" for f in LAYER_FLAGS if getattr(args, f) is not None]
    if args.layer is None:
        if args.kernel is None:
            raise ConfigError(
                "give the layer: a spec token such as conv5x5x10p2 or pool2, or --kernel F "
                "(with --filters, --stride, --padding, --dilation or --pool)."
            )
        for flag, default in (("stride", 1), ("padding", "0"), ("dilation", 1), ("filters", 1)):
            if getattr(args, flag) is None:
                setattr(args, flag, default)
        return
    if given:
        raise ConfigError(
            f"the layer {args.layer!r} already says its window; drop {', '.join(given)}."
        )
    layers = parse_spec(args.layer).layers
    layer = layers[0] if len(layers) == 1 else None
    if isinstance(layer, Pool) and layer.kind in ("max", "avg"):
        args.kernel, args.stride, args.padding = layer.kernel_size, layer.step, str(layer.padding)
        args.pool, args.dilation, args.filters = layer.kind, 1, 1
        return
    if not isinstance(layer, Conv):
        raise ConfigError(
            f"arith works out one conv or pooling layer, such as conv5x5x10p2 or pool2, not "
            f"{args.layer!r}."
        )
    padding = layer.padding if layer.padding == "same" else set(layer.padding)
    if (
        len(set(layer.kernel_size)) > 1
        or len({*layer.stride}) > 1
        or len({*layer.dilation}) > 1
        or (padding != "same" and len(padding) > 1)
        or layer.groups != 1
        or not layer.bias
    ):
        raise ConfigError(
            f"arith works out square windows with one stride, padding and dilation, and no "
            f"groups or nobias; {args.layer!r} is beyond it: `convlens summary {args.layer} "
            "--input ...` gives its numbers."
        )
    args.kernel, args.stride, args.dilation = (
        layer.kernel_size[0],
        layer.stride[0],
        layer.dilation[0],
    )
    args.padding = "same" if layer.padding == "same" else str(layer.padding[0])
    args.filters, args.pool, args.nd = layer.out_channels, None, layer.ndim


def _layer(args: argparse.Namespace, nd: int) -> Any:
    """The Conv or Pool layer that the flags describe."""
    from convlens.errors import ConfigError
    from convlens.spec import Conv, Pool

    if args.padding != "same" and not args.padding.isdigit():
        raise ConfigError(f"--padding must be a whole number or 'same', not {args.padding!r}")
    if args.pool:
        if args.padding == "same":
            raise ConfigError("pooling takes a numeric --padding")
        return Pool(args.pool, args.kernel, args.stride, int(args.padding))  # type: ignore[arg-type]
    padding: Any = "same" if args.padding == "same" else (int(args.padding),)
    return Conv(args.filters, (args.kernel,) * nd, (args.stride,), padding, (args.dilation,))


def _explain(
    args: argparse.Namespace,
    info: Any,
    channels: int,
    spatial: tuple[int, ...],
    channels_last: bool,
) -> None:
    """The arithmetic written out with the numbers: shape, parameters, MACs, receptive field."""
    from convlens.analysis.geometry import effective_kernel, format_shape
    from convlens.shapes import shape_text

    nd = len(spatial)

    n, k, s, p, d = spatial[0], args.kernel, args.stride, info.padding[0], args.dilation
    extent = effective_kernel(k, d)
    what = (
        f"{args.pool} pooling {k}"
        if args.pool
        else f"{args.filters} filter(s) {'x'.join([str(k)] * nd)}"
    )
    order = (
        ("H x W x C" if nd == 2 else "L x C")
        if channels_last
        else f"C x {'H x W' if nd == 2 else 'L'}"
    )
    print(f"input {shape_text((channels, *spatial), channels_last)} ({order}), {what}, "
          f"stride {s}, padding {p}, dilation {d}")  # fmt: skip
    if d != 1:
        print(f"dilated kernel extent: F_eff = D(F - 1) + 1 = {d}({k} - 1) + 1 = {extent}")
    exact = (n + 2 * p - extent) / s + 1
    exact_text = (
        f"{exact:g}" if exact.is_integer() else f"{exact:.2f}, floored to {info.out_shape[1]}"
    )
    print(f"output size: (N + 2P - F)/S + 1 = ({n} + 2*{p} - {extent})/{s} + 1 = {exact_text}"
          f"  ->  {shape_text(info.out_shape, channels_last)}")  # fmt: skip
    if info.unused:
        print(f"warning: the stride never reaches the last {format_shape(info.unused)} input pixel(s);"
              " --strict refuses this layer")  # fmt: skip
    if args.pool:
        print("parameters: 0 (pooling has none)")
    else:
        fan_in = channels * k**nd
        print(f"parameters: ({'*'.join([str(k)] * nd)}*{channels} + 1) * {args.filters} = {info.params:,}"
              f" ({info.weights:,} weights + {info.biases:,} biases; {fan_in + 1} per filter)")  # fmt: skip
        print(f"MACs: {info.out_elements:,} outputs x {fan_in} = {info.macs:,} "
              f"({2 * info.macs:,} FLOPs)")  # fmt: skip
    print(f"receptive field: {format_shape(info.rf)}, jump {format_shape(info.jump)}")
