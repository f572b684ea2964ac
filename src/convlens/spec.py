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

Layers from the lectures' list of connection kinds (Goodfellow et al., Deep Learning, ch. 9):

    wavgpool{K}[s{S}][p{P}]   weighted-average pooling around the central pixel: binomial
                              weights, e.g. wavgpool3 weighs a 3x3 window by [1 2 1]^T [1 2 1] / 16
                              (K odd; stride defaults to K)
    local{KH}x{KW}x{C}[s{S}][p{P}]         locally connected (unshared) 2-D convolution: every
                              output position has its own filters and biases
    tiled{KH}x{KW}x{C}t{T}[s{S}][p{P}]     tiled convolution: T x T filter banks cycled over the
                              output positions (position (i, j) uses bank (i mod T, j mod T))
    maxout{K}                 cross-channel (maxout) pooling: the max over each group of K
                              consecutive channels (C -> C/K)
    rcl{K}x{K}x{C}t{T}        recurrent convolutional layer (Liang & Hu, CVPR 2015), unrolled for
                              T steps: x(0) = relu(w_f * u + b),
                              x(t) = relu(w_f * u + w_r * x(t-1) + b); 'same' padding, stride 1

Each layer class carries its own text form (``token``) and the prefix of its module names
(``prefix``: conv1, pool1, fc1 ...); its arithmetic is in ``convlens.analysis.geometry``, its
torch module in ``convlens.build`` and its NumPy twin in ``convlens.scratch.net``, each one table
keyed by these classes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import ClassVar, Literal, TypeAlias

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

    prefix: ClassVar[str] = "conv"
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

    def token(self) -> str:
        k = self.kernel_size
        core = (
            f"conv1d{k[0]}x{self.out_channels}"
            if self.ndim == 1
            else f"conv{k[0]}x{k[1]}x{self.out_channels}"
        )
        assert isinstance(self.stride, tuple) and isinstance(self.dilation, tuple)
        opts = ""
        if any(s != 1 for s in self.stride):
            opts += "s" + _dims(self.stride)
        if self.padding == "same":
            opts += "psame"
        elif any(p != 0 for p in self.padding):
            opts += "p" + _dims(self.padding)
        if any(d != 1 for d in self.dilation):
            opts += "d" + _dims(self.dilation)
        if self.groups != 1:
            opts += f"g{self.groups}"
        if not self.bias:
            opts += "nobias"
        if self.padding_mode != "zeros":
            opts += self.padding_mode
        return core + opts


@dataclass(frozen=True)
class Pool:
    """Pooling over each channel separately: max, average, or plain sub-sampling."""

    prefix: ClassVar[str] = "pool"
    kind: Literal["max", "avg", "sub"]  # sub: keep every stride-th position (kernel 1)
    kernel_size: int
    stride: int | None = None  # None means stride = kernel_size
    padding: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("max", "avg", "sub"):
            raise SpecError(f"pooling kind must be max, avg or sub, not {self.kind!r}")
        _check_window(self.kernel_size, self.stride, self.padding, "pooling")

    @property
    def step(self) -> int:
        return self.kernel_size if self.stride is None else self.stride

    def token(self) -> str:
        if self.kind == "sub":
            return f"sub{self.step}"
        name = "pool" if self.kind == "max" else "avgpool"
        return _window_token(name, self.kernel_size, self.stride, self.padding)


@dataclass(frozen=True)
class WeightedPool:
    """Weighted-average pooling around the central pixel: a fixed, normalised binomial window.

    The weights along one dimension are row K - 1 of Pascal's triangle over 2^(K-1) (3: [1 2 1]/4,
    5: [1 4 6 4 1]/16), the discrete approximation of a Gaussian; in 2-D their outer product.
    """

    prefix: ClassVar[str] = "pool"
    kernel_size: int  # odd, so that the window has a central pixel
    stride: int | None = None  # None means stride = kernel_size
    padding: int = 0

    def __post_init__(self) -> None:
        _check_window(self.kernel_size, self.stride, self.padding, "weighted pooling")
        if self.stride == self.kernel_size:
            object.__setattr__(self, "stride", None)  # one canonical form of the default
        if self.kernel_size % 2 == 0:
            raise SpecError(
                f"weighted pooling needs an odd window with a central pixel, not {self.kernel_size}"
            )

    @property
    def step(self) -> int:
        return self.kernel_size if self.stride is None else self.stride

    def token(self) -> str:
        return _window_token("wavgpool", self.kernel_size, self.stride, self.padding)


@dataclass(frozen=True)
class LocalConv:
    """A 2-D convolution's windows with weights that depend on the output position.

    ``tiles = 0``: locally connected (unshared) convolution, a filter bank per output position.
    ``tiles = T``: tiled convolution (Goodfellow et al., Deep Learning, section 9.5; Le et al.,
    "Tiled convolutional neural networks", NIPS 2010): T x T banks, position (i, j) uses bank
    (i mod T, j mod T); T = 1 is an ordinary convolution. Biases are unshared like the weights.
    """

    out_channels: int
    kernel_size: tuple[int, int]
    tiles: int = 0  # 0: every position its own weights
    stride: int = 1
    padding: int = 0

    def __post_init__(self) -> None:
        _positive(self.out_channels, "output channels")
        if len(self.kernel_size) != 2:
            raise SpecError("a locally connected layer has a 2-D kernel, e.g. local3x3x8")
        for v in (*self.kernel_size, self.stride):
            _positive(v, "kernel size and stride")
        if self.tiles < 0 or self.padding < 0:
            raise SpecError("tiles and padding cannot be negative")

    @property
    def prefix(self) -> str:
        return "local" if self.tiles == 0 else "tiled"

    def token(self) -> str:
        kh, kw = self.kernel_size
        name = "local" if self.tiles == 0 else "tiled"
        text = f"{name}{kh}x{kw}x{self.out_channels}" + (f"t{self.tiles}" if self.tiles else "")
        return (
            text
            + (f"s{self.stride}" if self.stride != 1 else "")
            + (f"p{self.padding}" if self.padding else "")
        )


@dataclass(frozen=True)
class Maxout:
    """Cross-channel (maxout) pooling: the max over each group of ``pool_size`` channels.

    Pooling over several learned filters is how a network learns invariances (Goodfellow et al.,
    Deep Learning, fig. 9.9; maxout units: Goodfellow et al., ICML 2013).
    """

    prefix: ClassVar[str] = "maxout"
    pool_size: int

    def __post_init__(self) -> None:
        _positive(self.pool_size, "maxout group size")

    def token(self) -> str:
        return f"maxout{self.pool_size}"


@dataclass(frozen=True)
class RecurrentConv:
    """Recurrent convolutional layer (Liang & Hu, "Recurrent Convolutional Neural Network for
    Object Recognition", CVPR 2015, eq. 1-2), unrolled for ``steps`` time steps:

        x(0) = relu(w_f * u + b),   x(t) = relu(w_f * u + w_r * x(t - 1) + b),  t = 1 .. T

    with shared weights across steps, 'same' padding and stride 1 (the paper also normalises each
    step with LRN, left to the spec here). The feed-forward input u is the same at every step.
    """

    prefix: ClassVar[str] = "rcl"
    out_channels: int
    kernel_size: int  # odd: 'same' padding keeps the map size at every step
    steps: int  # T recurrent iterations after the feed-forward step

    def __post_init__(self) -> None:
        _positive(self.out_channels, "rcl output channels")
        _positive(self.kernel_size, "rcl kernel size")
        _positive(self.steps, "rcl steps")
        if self.kernel_size % 2 == 0:
            raise SpecError(
                f"an rcl kernel must be odd to keep the map size, not {self.kernel_size}"
            )

    def token(self) -> str:
        k = self.kernel_size
        return f"rcl{k}x{k}x{self.out_channels}t{self.steps}"


@dataclass(frozen=True)
class Linear:
    """Fully connected layer; in_features comes from the shape that reaches it."""

    prefix: ClassVar[str] = "fc"
    out_features: int
    bias: bool = True

    def __post_init__(self) -> None:
        _positive(self.out_features, "fc output size")

    def token(self) -> str:
        return f"fc{self.out_features}" + ("" if self.bias else "nobias")


@dataclass(frozen=True)
class Activation:
    name: str  # one of ACTIVATIONS
    negative_slope: float = 0.01  # only for lrelu

    def __post_init__(self) -> None:
        if self.name not in ACTIVATIONS:
            raise SpecError(f"unknown activation {self.name!r}; known: {', '.join(ACTIVATIONS)}")

    @property
    def prefix(self) -> str:
        return self.name

    def token(self) -> str:
        if self.name == "lrelu" and self.negative_slope != 0.01:
            return f"lrelu{self.negative_slope:g}"
        return self.name


@dataclass(frozen=True)
class BatchNorm:
    prefix: ClassVar[str] = "bn"
    eps: float = 1e-5
    momentum: float = 0.1

    def token(self) -> str:
        return "bn"


@dataclass(frozen=True)
class LocalResponseNorm:
    # Krizhevsky et al. 2012, section 3.3: k = 2, n = 5, alpha = 1e-4, beta = 0.75.
    prefix: ClassVar[str] = "lrn"
    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    k: float = 2.0

    def __post_init__(self) -> None:
        _positive(self.size, "lrn size")

    def token(self) -> str:
        return "lrn" if self.size == 5 else f"lrn{self.size}"


@dataclass(frozen=True)
class Dropout:
    prefix: ClassVar[str] = "drop"
    p: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.p < 1.0:
            raise SpecError(f"dropout probability must be in [0, 1), not {self.p}")

    def token(self) -> str:
        return "drop" if self.p == 0.5 else f"drop{self.p:g}"


@dataclass(frozen=True)
class Flatten:
    prefix: ClassVar[str] = "flatten"

    def token(self) -> str:
        return "flatten"


@dataclass(frozen=True)
class GlobalAvgPool:
    prefix: ClassVar[str] = "gap"

    def token(self) -> str:
        return "gap"


Layer: TypeAlias = (
    Conv
    | Pool
    | WeightedPool
    | LocalConv
    | Maxout
    | RecurrentConv
    | Linear
    | Activation
    | BatchNorm
    | LocalResponseNorm
    | Dropout
    | Flatten
    | GlobalAvgPool
)
LAYER_TYPES = (
    Conv, Pool, WeightedPool, LocalConv, Maxout, RecurrentConv, Linear, Activation, BatchNorm,
    LocalResponseNorm, Dropout, Flatten, GlobalAvgPool,
)  # fmt: skip
WEIGHTED = (Conv, LocalConv, Linear)  # followed by the default activation (see expand_spec)


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
# Parsing: one pattern and one constructor per token form
# ---------------------------------------------------------------------------------------------

_INT = r"[0-9]+"
_DIMS = rf"{_INT}(?:x{_INT})?"
_FLOAT = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e-?[0-9]+)?"
_WINDOW = rf"(?P<k>{_INT})(?:s(?P<s>{_INT}))?(?:p(?P<p>{_INT}))?"
_CONV = re.compile(rf"conv(?P<one>1d)?(?P<dims>{_INT}(?:x{_INT})+)(?P<opts>.*)")
_CONV_OPT = re.compile(
    rf"s(?P<s>{_DIMS})|p(?P<p>same|valid|{_DIMS})|d(?P<d>{_DIMS})|g(?P<g>{_INT})"
    r"|(?P<nobias>nobias)|(?P<mode>circular|reflect|replicate)"
)
_SIMPLE: dict[str, Layer] = {
    "bn": BatchNorm(),
    "flatten": Flatten(),
    "gap": GlobalAvgPool(),
    **{name: Activation(name) for name in ACTIVATIONS if name != "lrelu"},
}


def _int(m: re.Match[str], key: str, default: int | None = None) -> int | None:
    return int(m[key]) if m[key] else default


def _pool(m: re.Match[str]) -> Pool:
    kind: Literal["max", "avg"] = "avg" if m["kind"] == "avgpool" else "max"
    return Pool(kind, int(m["k"]), _int(m, "s"), _int(m, "p", 0) or 0)


def _local(m: re.Match[str]) -> LocalConv:
    if m["kind"] == "tiled" and not m["t"]:
        raise SpecError("a tiled convolution names its tiles, e.g. tiled3x3x8t2")
    if m["kind"] == "local" and m["t"]:
        raise SpecError("a locally connected layer has no tiles; write tiled3x3x8t2 for tiling")
    kernel = (int(m["kh"]), int(m["kw"]))
    tiles = _int(m, "t", 0) or 0
    return LocalConv(int(m["c"]), kernel, tiles, _int(m, "s", 1) or 1, _int(m, "p", 0) or 0)


def _rcl(m: re.Match[str]) -> RecurrentConv:
    if m["kh"] != m["kw"]:
        raise SpecError("an rcl kernel is square, e.g. rcl3x3x32t3")
    return RecurrentConv(int(m["c"]), int(m["kh"]), int(m["t"]))


_TOKENS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], Layer]], ...] = (
    (_CONV, lambda m: _parse_conv(m)),
    (re.compile(rf"(?P<kind>pool|maxpool|avgpool){_WINDOW}"), _pool),
    (re.compile(rf"wavgpool{_WINDOW}"),
     lambda m: WeightedPool(int(m["k"]), _int(m, "s"), _int(m, "p", 0) or 0)),
    (re.compile(rf"sub(?P<s>{_INT})"), lambda m: Pool("sub", 1, int(m["s"]))),
    (re.compile(rf"(?P<kind>local|tiled)(?P<kh>{_INT})x(?P<kw>{_INT})x(?P<c>{_INT})"
                rf"(?:t(?P<t>{_INT}))?(?:s(?P<s>{_INT}))?(?:p(?P<p>{_INT}))?"), _local),
    (re.compile(rf"maxout(?P<k>{_INT})"), lambda m: Maxout(int(m["k"]))),
    (re.compile(rf"rcl(?P<kh>{_INT})x(?P<kw>{_INT})x(?P<c>{_INT})t(?P<t>{_INT})"), _rcl),
    (re.compile(rf"fc(?P<n>{_INT})(?P<nobias>nobias)?"),
     lambda m: Linear(int(m["n"]), bias=not m["nobias"])),
    (re.compile(rf"lrelu(?P<slope>{_FLOAT})?"),
     lambda m: Activation("lrelu", float(m["slope"]) if m["slope"] else 0.01)),
    (re.compile(rf"lrn(?P<size>{_INT})?"),
     lambda m: LocalResponseNorm(int(m["size"])) if m["size"] else LocalResponseNorm()),
    (re.compile(rf"drop(?:out)?(?P<p>{_FLOAT})?"),
     lambda m: Dropout(float(m["p"]) if m["p"] else 0.5)),
)  # fmt: skip


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
            zoo = _zoo_name_meant(text) if position == 1 else None
            if zoo:
                raise SpecError(
                    f"{text.strip()!r} is neither a spec nor a zoo model; did you mean the zoo "
                    f"model {zoo}?"
                ) from None
            shown = token or "(empty)"
            joined = _joined_wrongly(token)
            if joined:
                raise SpecError(
                    f"token {position} {shown!r}: layers are joined by dashes, {joined}"
                ) from None
            raise SpecError(f"token {position} {shown!r}: {err}") from None
    return Spec(tuple(layers))


def _joined_wrongly(token: str) -> str | None:
    """``token`` written with dashes where it holds layers joined by another separator
    (``conv3x3x8,fc10``, ``conv3x3x8_fc10``), or None."""
    for sep in ",_/;|+> ":
        pieces = [p.strip() for p in token.split(sep) if p.strip()]
        if len(pieces) > 1:
            try:
                for piece in pieces:
                    _parse_token(piece)
            except SpecError:
                continue
            return "-".join(pieces)
    return None


def _zoo_name_meant(text: str) -> str | None:
    """The zoo model that text whose first token is no layer was probably meant to name."""
    try:
        from convlens.models.registry import closest_model
    except ImportError:  # a checkout without the zoo still parses specs
        return None
    return closest_model(text.strip())


def _parse_token(token: str) -> Layer:
    if not token:
        raise SpecError("empty token (two dashes in a row, or a dash at an end?)")
    if token in _SIMPLE:
        return _SIMPLE[token]
    for pattern, make in _TOKENS:
        if m := pattern.fullmatch(token):
            return make(m)
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
    options = _conv_options(m["opts"], len(kernel))
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


def _conv_options(rest: str, nd: int) -> dict:
    options: dict = {}
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
    return options


_HINTS = (
    ("conv", "cannot read this convolution; write conv{H}x{W}x{channels} or conv1d{K}x{channels}"),
    ("local", "cannot read this locally connected layer; write local{H}x{W}x{channels}, e.g. local3x3x8"),
    ("tiled", "cannot read this tiled convolution; write tiled{H}x{W}x{channels}t{tiles}, e.g. tiled3x3x8t2"),
    ("rcl", "cannot read this recurrent conv layer; write rcl{K}x{K}x{channels}t{steps}, e.g. rcl3x3x32t3"),
    ("maxout", "cannot read this maxout layer; write maxout{group size}, e.g. maxout2"),
    ("wavgpool", "cannot read this weighted pooling layer; write wavgpool{K} with an odd K, e.g. wavgpool3"),
    ("fc", "cannot read this fully connected layer; write fc{units}, e.g. fc10"),
)  # fmt: skip


def _unknown_token_hint(token: str) -> str:
    for start, hint in _HINTS:
        if token.startswith(start):
            return hint
    if "pool" in token:
        return "cannot read this pooling layer; write pool{K}, pool{K}s{S} or avgpool{K}"
    known = (
        "conv, pool, avgpool, wavgpool, sub, local, tiled, maxout, rcl, fc, bn, lrn, drop, "
        "flatten, gap, " + ", ".join(ACTIVATIONS)
    )
    return f"unknown layer; known layers: {known}"


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


def format_spec(spec: Spec | Iterable[Layer] | str) -> str:
    """The canonical text of a spec (the inverse of ``parse_spec``)."""
    return "-".join(format_layer(layer) for layer in parse_spec(spec))


def format_layer(layer: Layer) -> str:
    """The canonical text of one layer."""
    if not isinstance(layer, LAYER_TYPES):
        raise SpecError(f"{layer!r} is not a spec layer")
    return layer.token()


def _dims(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "x".join(map(str, values))


def _window_token(name: str, kernel_size: int, stride: int | None, padding: int) -> str:
    text = f"{name}{kernel_size}"
    if stride is not None and stride != kernel_size:
        text += f"s{stride}"
    return text + (f"p{padding}" if padding else "")


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def binomial_weights(kernel_size: int) -> list[float]:
    """Row K - 1 of Pascal's triangle over 2^(K - 1): [1, 2, 1]/4, [1, 4, 6, 4, 1]/16, ...

    The weights of ``wavgpool{K}`` along one dimension (a discrete Gaussian).
    """
    k = kernel_size
    return [math.comb(k - 1, i) / 2 ** (k - 1) for i in range(k)]


def _check_window(kernel_size: int, stride: int | None, padding: int, what: str) -> None:
    _positive(kernel_size, f"{what} window")
    if stride is not None:
        _positive(stride, f"{what} stride")
    if padding < 0:
        raise SpecError(f"{what} padding cannot be negative")
    if padding * 2 > kernel_size:
        raise SpecError(f"{what} padding {padding} must be at most half the window {kernel_size}")


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
        weighted = [i for i, x in enumerate(layers) if isinstance(x, WEIGHTED)]
        out: list[Layer] = []
        for i, layer in enumerate(layers):
            out.append(layer)
            if weighted and i >= weighted[-1]:
                continue
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            after_weight = isinstance(layer, WEIGHTED) and not isinstance(nxt, BatchNorm)
            after_norm = (
                isinstance(layer, BatchNorm) and i > 0 and isinstance(layers[i - 1], WEIGHTED)
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
