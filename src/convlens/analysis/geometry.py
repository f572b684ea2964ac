"""Layer arithmetic without torch: output sizes, parameters, MACs and receptive fields.

Output size of a convolution or pooling window along one dimension (N input, F kernel,
P padding, S stride, D dilation; F_eff = D(F - 1) + 1 is the dilated kernel's extent):

    H_out = floor((N + 2P - F_eff) / S) + 1

Floor is what PyTorch does. When the division is not exact the last positions of the padded input
are never visited by the window; ``LayerInfo.unused`` says how many of those are real (not
padding) pixels, and ``strict=True`` refuses any layer that does not fit exactly, in the lectures'
words: "3x3 filter with stride 3 does not fit a 7x7 input: (7 - 3)/3 + 1 = 2.33".

Receptive fields follow the recurrence of Araujo, Norris & Sim, "Computing Receptive Fields of
Convolutional Neural Networks", Distill 2019 (coordinates of input pixel centres, 0-based):

    r_out     = r_in + (F_eff - 1) * j_in         receptive field size
    j_out     = j_in * S                           jump: input pixels between adjacent outputs
    start_out = start_in + ((F_eff - 1)/2 - P) * j_in   centre of the first output's field

MACs count the multiply-accumulates of conv and fc weights (bias additions, pooling, norms and
activations are not counted); FLOPs = 2 x MACs. Peers disagree on this, so the unit is always
printed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from convlens.errors import ConfigError, LayerFitError
from convlens.spec import (
    Activation,
    BatchNorm,
    Conv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    Layer,
    Linear,
    LocalResponseNorm,
    Pool,
    Spec,
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


def effective_kernel(kernel_size: int, dilation: int = 1) -> int:
    """Extent of a dilated kernel: D(F - 1) + 1."""
    return dilation * (kernel_size - 1) + 1


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
# Whole layers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Field:
    """Receptive-field state carried from layer to layer (one value per spatial dimension)."""

    rf: tuple[int, ...]
    jump: tuple[int, ...]
    start: tuple[float, ...]
    extent: tuple[int, ...]  # spatial size of the map that reaches the layer (kept through flatten)

    @staticmethod
    def of_input(spatial: tuple[int, ...]) -> _Field:
        nd = len(spatial)
        return _Field((1,) * nd, (1,) * nd, (0.0,) * nd, spatial)

    def window(self, kernel, stride, padding, dilation, out_extent) -> _Field:
        rf, jump, start = [], [], []
        for r, j, s0, k, st, p, d in zip(
            self.rf, self.jump, self.start, kernel, stride, padding, dilation
        ):
            extent = effective_kernel(k, d)
            rf.append(r + (extent - 1) * j)
            start.append(s0 + ((extent - 1) / 2 - p) * j)
            jump.append(j * st)
        return _Field(tuple(rf), tuple(jump), tuple(start), tuple(out_extent))

    def whole_map(self) -> _Field:
        """A layer that sees every position of the map (fc after flatten, global pooling)."""
        n = self.extent
        return self.window(n, (1,) * len(n), (0,) * len(n), (1,) * len(n), (1,) * len(n))


def layer_arithmetic(
    layer: Layer,
    in_shape: Sequence[int],
    *,
    name: str = "",
    strict: bool = False,
    field: _Field | None = None,
) -> LayerInfo:
    """Shapes, parameters, MACs and receptive field of one spec layer on one input shape."""
    in_shape = tuple(int(v) for v in in_shape)
    if field is None:
        field = _Field.of_input(in_shape[1:] if len(in_shape) > 1 else ())
    info, _ = _arith(layer, in_shape, name or type(layer).__name__.lower(), strict, field)
    return info


def _arith(layer: Layer, in_shape: tuple[int, ...], name: str, strict: bool, field: _Field):
    base = LayerInfo(name=name, kind="", in_shape=in_shape, out_shape=in_shape)
    spatial = in_shape[1:] if len(in_shape) > 1 else ()

    if isinstance(layer, Conv):
        if len(in_shape) != layer.ndim + 1:
            want = "C x L" if layer.ndim == 1 else "C x H x W"
            raise LayerFitError(
                f"a {layer.ndim}-D conv needs a {want} input, but receives {_shape(in_shape)}"
            )
        c_in = in_shape[0]
        if c_in % layer.groups:
            raise LayerFitError(f"{c_in} input channels do not divide into {layer.groups} groups")
        assert isinstance(layer.stride, tuple) and isinstance(layer.dilation, tuple)
        if layer.padding == "same":
            padding = tuple(same_padding(k, d) for k, d in zip(layer.kernel_size, layer.dilation))
        else:
            padding = layer.padding
        out = tuple(
            conv_output_size(n, k, s, p, d, strict=strict, ndim=layer.ndim)
            for n, k, s, p, d in zip(
                spatial, layer.kernel_size, layer.stride, padding, layer.dilation
            )
        )
        fan_in = (c_in // layer.groups) * math.prod(layer.kernel_size)
        weights = layer.out_channels * fan_in
        biases = layer.out_channels if layer.bias else 0
        new = field.window(layer.kernel_size, layer.stride, padding, layer.dilation, out)
        info = replace(
            base,
            kind=f"conv{layer.ndim}d",
            out_shape=(layer.out_channels, *out),
            kernel_size=layer.kernel_size,
            stride=layer.stride,
            padding=padding,
            dilation=layer.dilation,
            weights=weights,
            biases=biases,
            trainable=weights + biases,
            macs=layer.out_channels * math.prod(out) * fan_in,
            unused=_unused(spatial, layer.kernel_size, layer.stride, padding, layer.dilation),
            note=fit_note(spatial, layer.kernel_size, layer.stride, padding, layer.dilation),
        )
        return _with_field(info, new), new

    if isinstance(layer, Pool):
        if len(in_shape) < 2:
            raise LayerFitError(
                f"pooling needs maps (C x L or C x H x W), but receives {_shape(in_shape)}"
            )
        nd = len(spatial)
        k, s, p = (layer.kernel_size,) * nd, (layer.step,) * nd, (layer.padding,) * nd
        what = "pooling window" if layer.kind != "sub" else "sub-sampling"
        out = tuple(
            conv_output_size(n, k[0], s[0], p[0], strict=strict, what=what, ndim=nd)
            for n in spatial
        )
        new = field.window(k, s, p, (1,) * nd, out)
        kind = {"max": "maxpool", "avg": "avgpool", "sub": "subsample"}[layer.kind]
        info = replace(
            base,
            kind=kind,
            out_shape=(in_shape[0], *out),
            kernel_size=k,
            stride=s,
            padding=p,
            dilation=(1,) * nd,
            unused=_unused(spatial, k, s, p, (1,) * nd),
            note=fit_note(spatial, k, s, p, (1,) * nd),
        )
        return _with_field(info, new), new

    if isinstance(layer, Linear):
        if len(in_shape) != 1:
            raise LayerFitError(
                f"fc{layer.out_features} needs a vector, but receives {_shape(in_shape)}; "
                "add flatten or gap before it"
            )
        weights = in_shape[0] * layer.out_features
        biases = layer.out_features if layer.bias else 0
        new = field.whole_map()
        info = replace(
            base,
            kind="linear",
            out_shape=(layer.out_features,),
            weights=weights,
            biases=biases,
            trainable=weights + biases,
            macs=weights,
        )
        return _with_field(info, new), new

    if isinstance(layer, GlobalAvgPool):
        if len(in_shape) < 2:
            raise LayerFitError(f"gap needs maps, but receives {_shape(in_shape)}")
        new = field.whole_map()
        return _with_field(replace(base, kind="gap", out_shape=(in_shape[0],)), new), new

    if isinstance(layer, Flatten):
        info = replace(base, kind="flatten", out_shape=(math.prod(in_shape),))
        return _with_field(info, field), field

    if isinstance(layer, BatchNorm):
        c = in_shape[0]
        info = replace(base, kind="batchnorm", weights=c, biases=c, trainable=2 * c)
        return _with_field(info, field), field

    other: str | None = {LocalResponseNorm: "lrn", Dropout: "dropout"}.get(type(layer))
    if isinstance(layer, Activation):
        other = "leakyrelu" if layer.name == "lrelu" else layer.name
    if other is None:
        raise LayerFitError(f"{layer!r} is not a spec layer")
    if isinstance(layer, LocalResponseNorm) and len(in_shape) < 2:
        raise LayerFitError(f"lrn needs maps, but receives {_shape(in_shape)}")
    return _with_field(replace(base, kind=other), field), field


def _with_field(info: LayerInfo, field: _Field) -> LayerInfo:
    return replace(info, rf=field.rf, jump=field.jump, start=field.start)


def _unused(spatial, kernel, stride, padding, dilation) -> tuple[int, ...]:
    unused = tuple(
        unused_pixels(n, k, s, p, d)
        for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)
    )
    return unused if any(unused) else ()


# ---------------------------------------------------------------------------------------------
# Whole specs
# ---------------------------------------------------------------------------------------------

_PREFIX: dict[type, str] = {
    Conv: "conv",
    Pool: "pool",
    Linear: "fc",
    BatchNorm: "bn",
    LocalResponseNorm: "lrn",
    Dropout: "drop",
    Flatten: "flatten",
    GlobalAvgPool: "gap",
}


def layer_names(spec: Spec) -> list[str]:
    """Module names for a spec's layers: conv1, relu1, pool1, conv2, ..., fc1, fc2."""
    counts: dict[str, int] = {}
    names = []
    for layer in spec:
        prefix = layer.name if isinstance(layer, Activation) else _PREFIX.get(type(layer), "layer")
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
    field = _Field.of_input(shape[1:] if len(shape) > 1 else ())
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
    """``"3x32x32"`` -> (3, 32, 32); also accepts commas and spaces."""
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
