"""The spec language: a network written the way the lectures write it.

    conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10

A spec is a list of layer tokens joined by ``-``. Each token parses into a frozen dataclass
below; ``format_spec`` writes the canonical text back, so ``format_spec(parse_spec(s)) == s``
for canonical text. Channels and ``in_features`` never appear: they follow from the input shape
(see ``convlens.analysis.geometry``). This module does not import torch.

Grammar (``K`` kernel, ``C`` output channels, options in any order after the core):

    conv{KH}x{KW}x{C}[opts]   2-D convolution, e.g. conv3x3x64p1, conv11x11x96s4
    conv1d{K}x{C}[opts]       1-D convolution, e.g. conv1d5x25s2p1
        opts: s{S} stride, p{P} | psame padding, d{D} dilation, g{G} groups,
              nobias, circular | reflect | replicate padding mode
              (S, P, D may be rectangular in 2-D: s2x1)
    pool{K}[s{S}][p{P}]       max pooling (stride defaults to K)
    avgpool{K}[s{S}][p{P}]    average pooling
    sub{S}                    sub-sampling: keep every S-th position, no pooling window
    fc{N}[nobias]             fully connected (flattens automatically)
    relu sigmoid tanh softplus gelu elu softmax lrelu[{slope}]   activations
    bn                        batch normalisation
    lrn[{size}]               local response normalisation (AlexNet: size 5, alpha 1e-4,
                              beta 0.75, k 2)
    drop[{p}]                 dropout (p defaults to 0.5)
    flatten                   flatten the maps into a vector
    gap                       global average pooling (C x H x W -> C)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

from convlens.errors import SpecError

Padding: TypeAlias = tuple[int, ...] | Literal["same"]

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softplus", "gelu", "elu", "softmax", "lrelu")
PADDING_MODES = ("zeros", "circular", "reflect", "replicate")


# ---------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Conv:
    """Convolution (cross-correlation, as in every framework) in 1-D or 2-D."""

    out_channels: int  # number of filters, C_o
    kernel_size: tuple[int, ...]  # (K,) for 1-D, (KH, KW) for 2-D
    stride: tuple[int, ...] = ()  # () means 1 in every dimension
    padding: Padding = ()  # () means 0; "same" keeps the size at stride 1
    dilation: tuple[int, ...] = ()  # () means 1 in every dimension
    groups: int = 1  # in_channels and out_channels must both divide by it
    bias: bool = True
    padding_mode: str = "zeros"

    def __post_init__(self) -> None:
        nd = len(self.kernel_size)
        if nd not in (1, 2):
            raise SpecError(f"a convolution kernel has 1 or 2 dimensions, not {nd}")
        for name in ("stride", "dilation"):
            object.__setattr__(self, name, _broadcast(getattr(self, name), nd, 1, name))
        if self.padding != "same":
            object.__setattr__(self, "padding", _broadcast(self.padding, nd, 0, "padding"))
        if self.padding_mode not in PADDING_MODES:
            raise SpecError(f"padding mode must be one of {', '.join(PADDING_MODES)}")
        _positive(self.out_channels, "conv output channels")
        for name in ("kernel_size", "stride", "dilation"):
            for v in getattr(self, name):
                _positive(v, f"conv {name.replace('_', ' ')}")
        if self.padding != "same" and any(p < 0 for p in self.padding):
            raise SpecError("conv padding cannot be negative")
        _positive(self.groups, "conv groups")
        if self.out_channels % self.groups:
            raise SpecError(
                f"conv output channels ({self.out_channels}) must divide by groups ({self.groups})"
            )

    @property
    def ndim(self) -> int:
        return len(self.kernel_size)


@dataclass(frozen=True)
class Pool:
    """Pooling over each channel separately: max, average, or plain sub-sampling."""

    kind: Literal["max", "avg", "sub"]  # sub: keep every stride-th position (kernel 1)
    kernel_size: int
    stride: int | None = None  # None means stride = kernel_size
    padding: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("max", "avg", "sub"):
            raise SpecError(f"pooling kind must be max, avg or sub, not {self.kind!r}")
        _positive(self.kernel_size, "pooling window")
        if self.stride is not None:
            _positive(self.stride, "pooling stride")
        if self.padding < 0:
            raise SpecError("pooling padding cannot be negative")
        if self.padding * 2 > self.kernel_size:
            raise SpecError(
                f"pooling padding {self.padding} must be at most half the window {self.kernel_size}"
            )

    @property
    def step(self) -> int:
        return self.kernel_size if self.stride is None else self.stride


@dataclass(frozen=True)
class Linear:
    """Fully connected layer; in_features comes from the shape that reaches it."""

    out_features: int
    bias: bool = True

    def __post_init__(self) -> None:
        _positive(self.out_features, "fc output size")


@dataclass(frozen=True)
class Activation:
    name: str  # one of ACTIVATIONS
    negative_slope: float = 0.01  # only for lrelu

    def __post_init__(self) -> None:
        if self.name not in ACTIVATIONS:
            raise SpecError(f"unknown activation {self.name!r}; known: {', '.join(ACTIVATIONS)}")


@dataclass(frozen=True)
class BatchNorm:
    eps: float = 1e-5
    momentum: float = 0.1


@dataclass(frozen=True)
class LocalResponseNorm:
    # Krizhevsky et al. 2012, section 3.3: k = 2, n = 5, alpha = 1e-4, beta = 0.75.
    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 2.0

    def __post_init__(self) -> None:
        _positive(self.size, "lrn size")


@dataclass(frozen=True)
class Dropout:
    p: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.p < 1.0:
            raise SpecError(f"dropout probability must be in [0, 1), not {self.p}")


@dataclass(frozen=True)
class Flatten:
    pass


@dataclass(frozen=True)
class GlobalAvgPool:
    pass


Layer: TypeAlias = (
    Conv
    | Pool
    | Linear
    | Activation
    | BatchNorm
    | LocalResponseNorm
    | Dropout
    | Flatten
    | GlobalAvgPool
)
LAYER_TYPES = (
    Conv, Pool, Linear, Activation, BatchNorm, LocalResponseNorm, Dropout, Flatten, GlobalAvgPool,
)  # fmt: skip


@dataclass(frozen=True)
class Spec:
    """A sequential network: an ordered tuple of layers."""

    layers: tuple[Layer, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        for layer in self.layers:
            if not isinstance(layer, LAYER_TYPES):
                raise SpecError(f"{layer!r} is not a spec layer")
        if not self.layers:
            raise SpecError("a spec needs at least one layer")

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __str__(self) -> str:
        return format_spec(self)


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

_INT = r"[0-9]+"
_DIMS = rf"{_INT}(?:x{_INT})?"
_FLOAT = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e-?[0-9]+)?"
_CONV = re.compile(rf"conv(?P<one>1d)?(?P<dims>{_INT}(?:x{_INT})+)(?P<opts>.*)")
_CONV_OPT = re.compile(
    rf"s(?P<s>{_DIMS})|p(?P<p>same|valid|{_DIMS})|d(?P<d>{_DIMS})|g(?P<g>{_INT})"
    r"|(?P<nobias>nobias)|(?P<mode>circular|reflect|replicate)"
)
_POOL = re.compile(
    rf"(?P<kind>pool|maxpool|avgpool)(?P<k>{_INT})(?:s(?P<s>{_INT}))?(?:p(?P<p>{_INT}))?"
)
_SUB = re.compile(rf"sub(?P<s>{_INT})")
_FC = re.compile(rf"fc(?P<n>{_INT})(?P<nobias>nobias)?")
_LRELU = re.compile(rf"lrelu(?P<slope>{_FLOAT})?")
_LRN = re.compile(rf"lrn(?P<size>{_INT})?")
_DROP = re.compile(rf"drop(?:out)?(?P<p>{_FLOAT})?")
_SIMPLE: dict[str, Layer] = {
    "bn": BatchNorm(),
    "flatten": Flatten(),
    "gap": GlobalAvgPool(),
    **{name: Activation(name) for name in ACTIVATIONS if name != "lrelu"},
}


def parse_spec(text: str | Spec | Iterable[Layer]) -> Spec:
    """Parse spec text such as ``conv5x5x6-pool2-fc10`` into a ``Spec``.

    A ``Spec`` or a list of layer objects passes through unchanged, so every function that takes
    a spec accepts all three. Errors name the offending token and its 1-based position.
    """
    if isinstance(text, Spec):
        return text
    if not isinstance(text, str):
        return Spec(tuple(text))
    tokens = text.strip().lower().split("-")
    if not text.strip():
        raise SpecError("the spec is empty; write layers such as conv3x3x16-relu-pool2-fc10")
    layers = []
    for position, token in enumerate(tokens, start=1):
        token = token.strip()
        try:
            layers.append(_parse_token(token))
        except SpecError as err:
            shown = token or "(empty)"
            raise SpecError(f"token {position} {shown!r}: {err}") from None
    return Spec(tuple(layers))


def _parse_token(token: str) -> Layer:
    if not token:
        raise SpecError("empty token (two dashes in a row, or a dash at an end?)")
    if token in _SIMPLE:
        return _SIMPLE[token]
    if m := _CONV.fullmatch(token):
        return _parse_conv(m)
    if m := _POOL.fullmatch(token):
        kind: Literal["max", "avg"] = "avg" if m["kind"] == "avgpool" else "max"
        stride = int(m["s"]) if m["s"] else None
        return Pool(kind, int(m["k"]), stride, int(m["p"] or 0))
    if m := _SUB.fullmatch(token):
        return Pool("sub", 1, int(m["s"]))
    if m := _FC.fullmatch(token):
        return Linear(int(m["n"]), bias=not m["nobias"])
    if m := _LRELU.fullmatch(token):
        return Activation("lrelu", float(m["slope"]) if m["slope"] else 0.01)
    if m := _LRN.fullmatch(token):
        return LocalResponseNorm(int(m["size"])) if m["size"] else LocalResponseNorm()
    if m := _DROP.fullmatch(token):
        return Dropout(float(m["p"]) if m["p"] else 0.5)
    raise SpecError(_unknown_token_hint(token))


def _parse_conv(m: re.Match[str]) -> Conv:
    sizes = [int(v) for v in m["dims"].split("x")]
    if m["one"]:
        if len(sizes) != 2:
            raise SpecError("a 1-D conv is written conv1d{kernel}x{channels}, e.g. conv1d5x25")
    elif len(sizes) != 3:
        raise SpecError(
            "a 2-D conv is written conv{height}x{width}x{channels}, e.g. conv3x3x16 "
            "(use conv1d{kernel}x{channels} for 1-D)"
        )
    *kernel, channels = sizes
    nd = len(kernel)
    options: dict = {}
    rest = m["opts"]
    while rest:
        o = _CONV_OPT.match(rest)
        if not o or not o.group(0):
            raise SpecError(
                f"cannot read conv option {rest!r}; options are s{{stride}}, p{{padding}} or "
                "psame, d{dilation}, g{groups}, nobias, circular, reflect, replicate"
            )
        key = next(k for k, v in o.groupdict().items() if v is not None)
        if key in options:
            raise SpecError(f"conv option {key!r} is given twice")
        value = o.group(key)
        if key == "p" and value == "same":
            options[key] = "same"
        elif key == "p" and value == "valid":
            options[key] = (0,) * nd
        elif key in ("s", "p", "d"):
            dims = tuple(int(v) for v in value.split("x"))
            if len(dims) not in (1, nd):
                raise SpecError(f"{key}{value} has {len(dims)} values for a {nd}-D conv")
            options[key] = dims
        else:
            options[key] = value
        rest = rest[o.end() :]
    return Conv(
        out_channels=channels,
        kernel_size=tuple(kernel),
        stride=options.get("s", ()),
        padding=options.get("p", ()),
        dilation=options.get("d", ()),
        groups=int(options.get("g", 1)),
        bias="nobias" not in options,
        padding_mode=options.get("mode", "zeros"),
    )


def _unknown_token_hint(token: str) -> str:
    if token.startswith("conv"):
        return "cannot read this convolution; write conv{H}x{W}x{channels} or conv1d{K}x{channels}"
    if "pool" in token:
        return "cannot read this pooling layer; write pool{K}, pool{K}s{S} or avgpool{K}"
    if token.startswith("fc"):
        return "cannot read this fully connected layer; write fc{units}, e.g. fc10"
    known = "conv, pool, avgpool, sub, fc, bn, lrn, drop, flatten, gap, " + ", ".join(ACTIVATIONS)
    return f"unknown layer; known layers: {known}"


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


def format_spec(spec: Spec | Iterable[Layer] | str) -> str:
    """The canonical text of a spec (the inverse of ``parse_spec``)."""
    return "-".join(format_layer(layer) for layer in parse_spec(spec))


def format_layer(layer: Layer) -> str:
    if isinstance(layer, Conv):
        core = (
            f"conv1d{layer.kernel_size[0]}x{layer.out_channels}"
            if layer.ndim == 1
            else f"conv{layer.kernel_size[0]}x{layer.kernel_size[1]}x{layer.out_channels}"
        )
        opts = ""
        assert isinstance(layer.stride, tuple) and isinstance(layer.dilation, tuple)
        if any(s != 1 for s in layer.stride):
            opts += "s" + _dims(layer.stride)
        if layer.padding == "same":
            opts += "psame"
        elif any(p != 0 for p in layer.padding):
            opts += "p" + _dims(layer.padding)
        if any(d != 1 for d in layer.dilation):
            opts += "d" + _dims(layer.dilation)
        if layer.groups != 1:
            opts += f"g{layer.groups}"
        if not layer.bias:
            opts += "nobias"
        if layer.padding_mode != "zeros":
            opts += layer.padding_mode
        return core + opts
    if isinstance(layer, Pool):
        if layer.kind == "sub":
            return f"sub{layer.step}"
        text = ("pool" if layer.kind == "max" else "avgpool") + str(layer.kernel_size)
        if layer.stride is not None and layer.stride != layer.kernel_size:
            text += f"s{layer.stride}"
        return text + (f"p{layer.padding}" if layer.padding else "")
    if isinstance(layer, Linear):
        return f"fc{layer.out_features}" + ("" if layer.bias else "nobias")
    if isinstance(layer, Activation):
        if layer.name == "lrelu" and layer.negative_slope != 0.01:
            return f"lrelu{layer.negative_slope:g}"
        return layer.name
    if isinstance(layer, BatchNorm):
        return "bn"
    if isinstance(layer, LocalResponseNorm):
        return "lrn" if layer.size == 5 else f"lrn{layer.size}"
    if isinstance(layer, Dropout):
        return "drop" if layer.p == 0.5 else f"drop{layer.p:g}"
    if isinstance(layer, Flatten):
        return "flatten"
    if isinstance(layer, GlobalAvgPool):
        return "gap"
    raise SpecError(f"{layer!r} is not a spec layer")


def _dims(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _broadcast(value: int | tuple[int, ...], nd: int, default: int, name: str) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * nd
    value = tuple(value)
    if not value:
        return (default,) * nd
    if len(value) == 1:
        return value * nd
    if len(value) != nd:
        raise SpecError(f"conv {name} {value} does not match a {nd}-D kernel")
    return value


def _positive(value: int, what: str) -> None:
    if not isinstance(value, int) or value < 1:
        raise SpecError(f"{what} must be a positive whole number, not {value!r}")


def expand_spec(spec: Spec, in_rank: int, activation: str | None = "relu") -> Spec:
    """The spec exactly as it will run: default activations and implicit flattens added.

    ``in_rank`` is the number of input dimensions without the batch (3 for C x H x W, 2 for
    C x L, 1 for a feature vector). Both ``build_model`` and ``summarize`` run this, so the
    table and the torch module always have the same rows.

    * The lectures often write stages without the detector (``conv5x5x6-pool2-...``); a network
      without any non-linearity collapses to one linear map. So when a spec names no activation
      at all, ``activation`` (ReLU by default) follows every conv and fc layer but the last
      weighted one (after its batch norm, if one follows). A spec that names any activation is
      taken exactly as written; ``activation=None`` turns this off.
    * An fc layer that receives maps instead of a vector gets a ``flatten`` in front of it.
    """
    layers = list(spec.layers)
    if activation is not None and not any(isinstance(x, Activation) for x in layers):
        weighted = [i for i, x in enumerate(layers) if isinstance(x, (Conv, Linear))]
        out: list[Layer] = []
        for i, layer in enumerate(layers):
            out.append(layer)
            if weighted and i >= weighted[-1]:
                continue
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            after_weight = isinstance(layer, (Conv, Linear)) and not isinstance(nxt, BatchNorm)
            after_norm = (
                isinstance(layer, BatchNorm) and i > 0 and isinstance(layers[i - 1], (Conv, Linear))
            )
            if after_weight or after_norm:
                out.append(Activation(activation))
        layers = out
    rank = in_rank
    final: list[Layer] = []
    for layer in layers:
        if isinstance(layer, Linear) and rank > 1:
            final.append(Flatten())
            rank = 1
        if isinstance(layer, (Flatten, GlobalAvgPool, Linear)):
            rank = 1
        final.append(layer)
    return Spec(tuple(final))
