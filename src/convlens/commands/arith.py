"""`convlens arith`: the lecture calculator for one conv or pooling layer.

convlens arith --input 32x32x3 --kernel 5 --filters 10 --padding 2   (the slide's 760 parameters)
"""

from __future__ import annotations

import argparse
from typing import Any

from convlens.commands._shape_args import add_shape_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_shape_arguments(
        parser,
        "input size: HxWxC as the slides write it (32x32x3), CxHxW, HxW (an image), or N (a 1-D "
        "signal of length N)",
        required=True,
    )
    parser.add_argument(
        "--channels", "-c", type=int, help="input channels (default 1, or C of CxHxW)"
    )
    parser.add_argument("--kernel", "-k", type=int, required=True, help="kernel (filter) size F")
    parser.add_argument("--stride", "-s", type=int, default=1, help="stride S (default 1)")
    parser.add_argument(
        "--padding", "-p", default="0", help="zero padding P, or 'same' (default 0)"
    )
    parser.add_argument("--dilation", "-d", type=int, default=1, help="dilation D (default 1)")
    parser.add_argument(
        "--filters", "-n", type=int, default=1, help="number of filters K = output channels"
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
    layer = _layer(args, len(spatial))
    info = layer_arithmetic(layer, (channels, *spatial), strict=args.strict, name="layer")
    _explain(args, info, channels, spatial, channels_last)
    return 0


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
