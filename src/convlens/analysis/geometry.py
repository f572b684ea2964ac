"""Layer arithmetic without torch: output sizes, parameters, MACs and receptive fields.

Output size of a convolution or pooling window along one dimension (N input, F kernel,
P padding, S stride, D dilation; F_eff = D(F - 1) + 1 is the dilated kernel's extent):

    H_out = floor((N + 2P - F_eff) / S) + 1

Floor is what PyTorch does. When the division is not exact the last positions of the padded input
are never visited by the window; ``LayerInfo.unused`` says how many of those are real (not
padding) pixels, and ``strict=True`` refuses any layer that does not fit exactly, in the lectures'
words: "3x3 filter with stride 3 does not fit a 7x7 input: (7 - 3)/3 + 1 = 2.33".

Each spec layer class has one rule in ``RULES`` that gives its row: output shape, weights and
biases, MACs, and the receptive field that it passes on (the rule of
``convlens.analysis.receptive_field``, Araujo et al., Distill 2019).

MACs count the multiply-accumulates of weights: convolutions (shared, local, tiled, recurrent),
fc layers and the fixed weights of weighted-average pooling; bias additions, max and average
pooling, norms and activations are not counted; FLOPs = 2 x MACs. This is the convention of
PyTorch's FLOP counter, which ``convlens.analysis.trace`` uses for any module (see
``convlens.analysis.summary``). Peers disagree on it, so the unit is always printed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from convlens.analysis.receptive_field import Field, effective_kernel
from convlens.errors import ConfigError, LayerFitError, SpecError
from convlens.spec import (
    Activation,
    BatchNorm,
    Conv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Layer,
    Linear,
    LocalConv,
    LocalResponseNorm,
    Maxout,
    Pool,
    RecurrentConv,
    Spec,
    WeightedPool,
    expand_spec,
    format_layer,
    parse_spec,
)

BYTES_PER_VALUE = 4  # float32


@dataclass(frozen=True)
class LayerInfo:
    """One row of the summary: what a layer receives, produces, holds and sees."""

    name: str  # module path, e.g. "conv1" or "layer1.0.conv2"
    kind: str  # conv1d, conv2d, maxpool, avgpool, subsample, linear, relu, batchnorm, ...
    in_shape: tuple[int, ...]  # without the batch dimension, e.g. (3, 32, 32)
    out_shape: tuple[int, ...]
    kernel_size: tuple[int, ...] = ()  # () where the layer has no window
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    weights: int = 0
    biases: int = 0
    trainable: int = 0  # trainable parameters among weights + biases
    macs: int = 0  # multiply-accumulates for one sample
    rf: tuple[int, ...] = ()  # receptive field size per spatial dimension
    jump: tuple[int, ...] = ()  # effective stride per spatial dimension
    start: tuple[float, ...] = ()  # centre of the first output's receptive field
    unused: tuple[int, ...] = ()  # real input pixels the window never reaches, per dimension
    note: str = ""

    @property
    def params(self) -> int:
        return self.weights + self.biases

    @property
    def out_elements(self) -> int:
        return math.prod(self.out_shape)


# ---------------------------------------------------------------------------------------------
# One dimension
# ---------------------------------------------------------------------------------------------


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """Padding that keeps the size at stride 1: P = (F_eff - 1)/2; needs an odd F_eff."""
    extent = effective_kernel(kernel_size, dilation)
    if extent % 2 == 0:
        raise LayerFitError(
            f"padding 'same' needs an odd kernel extent, but {kernel_size} dilated by "
            f"{dilation} spans {extent}; give the padding as a number instead"
        )
    return (extent - 1) // 2


def conv_output_size(
    n: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    *,
    strict: bool = False,
    what: str = "filter",
    ndim: int = 2,
) -> int:
    """Output length of a conv or pooling window along one dimension (floor, like PyTorch).

    Raises ``LayerFitError`` when the window is larger than the padded input, or (with
    ``strict``) when the stride does not land exactly on the last position.
    """
    extent = effective_kernel(kernel_size, dilation)
    span = n + 2 * padding - extent
    exact = span / stride + 1
    if span < 0 or (strict and span % stride):
        raise LayerFitError(
            _does_not_fit(n, kernel_size, stride, padding, dilation, exact, what, ndim)
        )
    return span // stride + 1


def unused_pixels(n: int, kernel_size: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Real (non-padding) input pixels at the far border that no window position reaches."""
    span = n + 2 * padding - effective_kernel(kernel_size, dilation)
    return max(0, span % stride - padding) if span >= 0 else 0


def fit_note(spatial, kernel, stride, padding, dilation) -> str:
    """'8.75 -> 8' when a window's output size is floored (the first dimension where it is)."""
    for n, k, st, p, d in zip(spatial, kernel, stride, padding, dilation):
        span = n + 2 * p - effective_kernel(k, d)
        if span >= 0 and span % st:
            return f"{span / st + 1:.2f} floored to {span // st + 1}"
    return ""


def _does_not_fit(n, kernel_size, stride, padding, dilation, exact, what, ndim) -> str:
    extent = effective_kernel(kernel_size, dilation)
    kernel = f"{kernel_size}x{kernel_size}" if ndim == 2 else f"size-{kernel_size}"
    size = f"{n}x{n}" if ndim == 2 else f"length-{n}"
    if dilation != 1:
        kernel += f" (dilation {dilation}, extent {extent})"
    pad = f" + 2*{padding}" if padding else ""
    formula = f"({n}{pad} - {extent})/{stride} + 1 = {_num(exact)}"
    stride_text = f" with stride {stride}" if stride != 1 else ""
    return f"{kernel} {what}{stride_text} does not fit a {size} input: {formula}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.2f}"


# ---------------------------------------------------------------------------------------------
# Whole layers: one rule per spec layer class
# ---------------------------------------------------------------------------------------------

Rule = Callable[[Any, LayerInfo, bool, Field], tuple[LayerInfo, Field]]


def layer_arithmetic(
    layer: Layer,
    in_shape: Sequence[int],
    *,
    name: str = "",
    strict: bool = False,
    field: Field | None = None,
) -> LayerInfo:
    """Shapes, parameters, MACs and receptive field of one spec layer on one input shape."""
    in_shape = tuple(int(v) for v in in_shape)
    if field is None:
        field = Field.of_input(in_shape[1:] if len(in_shape) > 1 else ())
    info, _ = _arith(layer, in_shape, name or type(layer).__name__.lower(), strict, field)
    return info


def _arith(layer: Layer, in_shape: tuple[int, ...], name: str, strict: bool, field: Field):
    rule = RULES.get(type(layer))
    if rule is None:
        raise SpecError(f"{layer!r} is not a spec layer")
    base = LayerInfo(name=name, kind="", in_shape=in_shape, out_shape=in_shape)
    info, new = rule(layer, base, strict, field)
    return replace(info, rf=new.rf, jump=new.jump, start=new.start), new


def _windowed(
    base: LayerInfo,
    kind: str,
    out_channels: int,
    window,
    strict: bool,
    field: Field,
    what: str = "filter",
) -> tuple[LayerInfo, Field]:
    """A layer that slides a window over the maps: (kernel, stride, padding, dilation)."""
    kernel, stride, padding, dilation = window
    spatial = base.in_shape[1:]
    nd = len(spatial)
    out = tuple(
        conv_output_size(n, k, s, p, d, strict=strict, what=what, ndim=nd)
        for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)
    )
    info = replace(
        base,
        kind=kind,
        out_shape=(out_channels, *out),
        kernel_size=tuple(kernel),
        stride=tuple(stride),
        padding=tuple(padding),
        dilation=tuple(dilation),
        unused=_unused(spatial, kernel, stride, padding, dilation),
        note=fit_note(spatial, kernel, stride, padding, dilation),
    )
    return info, field.window(kernel, stride, padding, dilation, out)


def _with_params(info: LayerInfo, weights: int, biases: int, macs: int) -> LayerInfo:
    return replace(info, weights=weights, biases=biases, trainable=weights + biases, macs=macs)


def _needs_maps(layer: Layer, in_shape: tuple[int, ...], nd: tuple[int, ...] = (1, 2)) -> None:
    if len(in_shape) - 1 not in nd:
        want = " or ".join({1: "C x L", 2: "C x H x W"}[d] for d in nd)
        hint = ""
        if nd == (2,) and len(in_shape) == 2:  # a 1-D signal, or a picture without its channel
            hint = (
                f"; 1-D inputs take conv1d layers (conv1d3x8), and a grey {_shape(in_shape)} "
                f"picture is written 1x{_shape(in_shape)}"
            )
        elif nd == (1,) and len(in_shape) == 1:
            hint = f"; one signal of length {in_shape[0]} is written 1x{in_shape[0]}"
        elif nd == (1,) and len(in_shape) == 3:
            hint = "; pictures take 2-D convolutions (conv3x3x8)"
        raise LayerFitError(
            f"{format_layer(layer)} needs a {want} input, but receives {_shape(in_shape)}{hint}"
        )


def _conv(layer: Conv, base: LayerInfo, strict: bool, field: Field):
    in_shape = base.in_shape
    _needs_maps(layer, in_shape, (layer.ndim,))
    c_in = in_shape[0]
    if c_in % layer.groups:
        raise LayerFitError(f"{c_in} input channels do not divide into {layer.groups} groups")
    assert isinstance(layer.stride, tuple) and isinstance(layer.dilation, tuple)
    if layer.padding == "same":
        padding = tuple(same_padding(k, d) for k, d in zip(layer.kernel_size, layer.dilation))
    else:
        padding = layer.padding
    window = (layer.kernel_size, layer.stride, padding, layer.dilation)
    info, new = _windowed(base, f"conv{layer.ndim}d", layer.out_channels, window, strict, field)
    fan_in = (c_in // layer.groups) * math.prod(layer.kernel_size)
    weights = layer.out_channels * fan_in
    macs = math.prod(info.out_shape) * fan_in
    return _with_params(info, weights, layer.out_channels if layer.bias else 0, macs), new


def _pool(layer: Pool, base: LayerInfo, strict: bool, field: Field):
    _needs_maps(layer, base.in_shape)
    nd = len(base.in_shape) - 1
    window = ((layer.kernel_size,) * nd, (layer.step,) * nd, (layer.padding,) * nd, (1,) * nd)
    what = "pooling window" if layer.kind != "sub" else "sub-sampling"
    kind = {"max": "maxpool", "avg": "avgpool", "sub": "subsample"}[layer.kind]
    return _windowed(base, kind, base.in_shape[0], window, strict, field, what)


def _weighted_pool(layer: WeightedPool, base: LayerInfo, strict: bool, field: Field):
    # a weighted sum: one multiply-accumulate per window pixel, per output value
    _needs_maps(layer, base.in_shape)
    nd = len(base.in_shape) - 1
    window = ((layer.kernel_size,) * nd, (layer.step,) * nd, (layer.padding,) * nd, (1,) * nd)
    info, new = _windowed(base, "wavgpool", base.in_shape[0], window, strict, field, "window")
    return replace(info, macs=math.prod(info.out_shape) * layer.kernel_size**nd), new


def _local(layer: LocalConv, base: LayerInfo, strict: bool, field: Field):
    # weights per output position (local) or per position modulo the tiles (tiled):
    # params = banks * C_out * (C_in * KH * KW) + banks * C_out, banks = H_out * W_out or T * T;
    # MACs are a convolution's, H_out * W_out * C_out * (C_in * KH * KW), shared or not
    _needs_maps(layer, base.in_shape, (2,))
    window = (layer.kernel_size, (layer.stride,) * 2, (layer.padding,) * 2, (1, 1))
    kind = "local2d" if layer.tiles == 0 else "tiled2d"
    info, new = _windowed(base, kind, layer.out_channels, window, strict, field)
    banks = math.prod(info.out_shape[1:]) if layer.tiles == 0 else layer.tiles**2
    fan_in = base.in_shape[0] * math.prod(layer.kernel_size)
    macs = math.prod(info.out_shape) * fan_in
    weights = banks * layer.out_channels * fan_in
    return _with_params(info, weights, banks * layer.out_channels, macs), new


def _recurrent_conv(layer: RecurrentConv, base: LayerInfo, strict: bool, field: Field):
    # x(0) = f(w_f * u + b), then T steps x(t) = f(w_f * u + w_r * x(t-1) + b): w_f * u is
    # computed once, w_r * x runs T times. The longest path crosses T + 1 convolutions, so the
    # field grows by (K - 1) * jump at each of them (Liang & Hu 2015, section 3.2).
    _needs_maps(layer, base.in_shape, (2,))
    k, c, c_in = layer.kernel_size, layer.out_channels, base.in_shape[0]
    pad = (k - 1) // 2
    window = ((k, k), (1, 1), (pad, pad), (1, 1))
    info, first = _windowed(base, "rcl2d", c, window, strict, field)
    positions = math.prod(info.out_shape[1:])
    w_f, w_r = c * c_in * k * k, c * c * k * k
    macs = positions * (w_f + layer.steps * w_r)
    new = first.repeat(layer.steps, (k, k), (pad, pad), (1, 1))
    return _with_params(info, w_f + w_r, c, macs), new


def _maxout(layer: Maxout, base: LayerInfo, strict: bool, field: Field):
    c = base.in_shape[0]
    if c % layer.pool_size:
        raise LayerFitError(
            f"maxout{layer.pool_size} needs channels that divide into groups of "
            f"{layer.pool_size}, but receives {c}"
        )
    return replace(base, kind="maxout", out_shape=(c // layer.pool_size, *base.in_shape[1:])), field


def _linear(layer: Linear, base: LayerInfo, strict: bool, field: Field):
    if len(base.in_shape) != 1:
        raise LayerFitError(
            f"fc{layer.out_features} needs a vector, but receives {_shape(base.in_shape)}; "
            "add flatten or gap before it"
        )
    weights = base.in_shape[0] * layer.out_features
    info = replace(base, kind="linear", out_shape=(layer.out_features,))
    biases = layer.out_features if layer.bias else 0
    return _with_params(info, weights, biases, weights), field.whole_map()


def _gap(layer: GlobalAvgPool, base: LayerInfo, strict: bool, field: Field):
    if len(base.in_shape) < 2:
        raise LayerFitError(f"gap needs maps, but receives {_shape(base.in_shape)}")
    return replace(base, kind="gap", out_shape=(base.in_shape[0],)), field.whole_map()


def _flatten(layer: Flatten, base: LayerInfo, strict: bool, field: Field):
    return replace(base, kind="flatten", out_shape=(math.prod(base.in_shape),)), field


def _batchnorm(layer: BatchNorm, base: LayerInfo, strict: bool, field: Field):
    c = base.in_shape[0]
    return _with_params(replace(base, kind="batchnorm"), c, c, 0), field


def _lrn(layer: LocalResponseNorm, base: LayerInfo, strict: bool, field: Field):
    if len(base.in_shape) < 2:
        raise LayerFitError(f"lrn needs maps, but receives {_shape(base.in_shape)}")
    return replace(base, kind="lrn"), field


def _activation(layer: Activation, base: LayerInfo, strict: bool, field: Field):
    return replace(base, kind="leakyrelu" if layer.name == "lrelu" else layer.name), field


def _dropout(layer: Dropout, base: LayerInfo, strict: bool, field: Field):
    return replace(base, kind="dropout"), field


RULES: dict[type, Rule] = {
    Conv: _conv,
    Pool: _pool,
    WeightedPool: _weighted_pool,
    LocalConv: _local,
    RecurrentConv: _recurrent_conv,
    Maxout: _maxout,
    Linear: _linear,
    GlobalAvgPool: _gap,
    Flatten: _flatten,
    BatchNorm: _batchnorm,
    LocalResponseNorm: _lrn,
    Activation: _activation,
    Dropout: _dropout,
}


def _unused(spatial, kernel, stride, padding, dilation) -> tuple[int, ...]:
    unused = tuple(
        unused_pixels(n, k, s, p, d)
        for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)
    )
    return unused if any(unused) else ()


# ---------------------------------------------------------------------------------------------
# Whole specs
# ---------------------------------------------------------------------------------------------


def layer_names(spec: Spec) -> list[str]:
    """Module names for a spec's layers: conv1, relu1, pool1, conv2, ..., fc1, fc2."""
    counts: dict[str, int] = {}
    names = []
    for layer in spec:
        prefix = layer.prefix
        counts[prefix] = counts.get(prefix, 0) + 1
        names.append(f"{prefix}{counts[prefix]}")
    return names


def analyze(
    spec: str | Spec,
    in_shape: Sequence[int] | str,
    *,
    strict: bool = False,
    activation: str | None = "relu",
) -> list[LayerInfo]:
    """Every layer's arithmetic for a spec on an input shape (without the batch dimension).

    The spec is expanded first (default activations, implicit flatten; see ``expand_spec``).
    A layer that does not fit raises ``LayerFitError`` whose ``.rows`` holds the layers before it
    and whose message names the layer.
    """
    shape = parse_shape(in_shape) if isinstance(in_shape, str) else tuple(int(v) for v in in_shape)
    if not shape or any(v < 1 for v in shape):
        raise ConfigError(f"input shape must be positive sizes such as 3x32x32, not {shape}")
    expanded = expand_spec(parse_spec(spec), len(shape), activation)
    field = Field.of_input(shape[1:] if len(shape) > 1 else ())
    rows: list[LayerInfo] = []
    for name, layer in zip(layer_names(expanded), expanded):
        try:
            info, field = _arith(layer, shape, name, strict, field)
        except LayerFitError as err:
            error = LayerFitError(f"layer {name} ({format_layer(layer)}): {err}")
            error.rows = rows  # type: ignore[attr-defined]
            raise error from None
        rows.append(info)
        shape = info.out_shape
    return rows


def parse_shape(text: str) -> tuple[int, ...]:
    """``"3x32x32"`` -> (3, 32, 32); also accepts commas and spaces, and a tuple's or list's
    brackets (``"(3, 32, 32)"``, as PyTorch prints a shape)."""
    text = text.strip().removeprefix("torch.Size(").strip("()[] ")
    parts = [p for p in text.lower().replace(",", "x").replace(" ", "x").split("x") if p]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(v < 1 for v in shape) or len(shape) > 4:
        raise ConfigError(
            f"cannot read the input shape {text!r}; write channels x height x width "
            "such as 3x32x32 (images), 1x40 (signals) or 784 (vectors)"
        )
    return shape


def _shape(shape: Sequence[int]) -> str:
    return "x".join(map(str, shape))


format_shape = _shape
