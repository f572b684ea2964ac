"""A convolution (and a pooling) written out step by step: every window, product and sum.

The lectures work a convolution by hand: slide the kernel to one position, multiply each input
value under it by the kernel value on top of it, add the products (and the bias), write the sum
into the output, move on by the stride. ``conv_steps`` returns exactly that list, one entry per
output position, so a page or a notebook can replay it; the output itself comes from the im2col
engine (``conv2d_forward``), and the tests hold the two together.

Coordinates are those of the padded input ("padded frame"): with padding P the real input starts
at (P, P). Convolution mode flips the kernel by 180 degrees first (s(i, j) = Σ I(m, n) K(i − m,
j − n)); cross-correlation, what networks compute, does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from convlens.analysis.geometry import conv_output_size, effective_kernel
from convlens.errors import ConfigError, LayerFitError
from convlens.scratch.conv import conv2d_forward
from convlens.scratch.im2col import Pair, pad2d
from convlens.scratch.pool import pool_forward


@dataclass(frozen=True)
class Step:
    out: tuple[int, int]  # output position (i, j)
    window: list[tuple[int, int]]  # input positions (y, x) under the kernel, padded frame
    products: list[tuple[float, float, float]]  # (input value, kernel value, product), c-major
    sum: float  # the products' sum plus the bias (pooling: the max or the mean)


@dataclass(frozen=True)
class SizeFormula:
    """The output-size formula with the numbers put in, for each spatial dimension."""

    text: str  # e.g. "(7 - 3)/3 + 1 = 2.33"
    fits: bool  # the stride lands exactly on the last position in every dimension
    sentence: str | None  # convlens's sentence when it does not fit


@dataclass(frozen=True)
class ConvSteps:
    output: NDArray  # (H_out, W_out), summed over input channels
    padded_input: NDArray  # (C, H + 2P, W + 2P)
    kernel: NDArray  # (C, KH, KW) as multiplied (flipped in convolution mode)
    steps: list[Step]
    formula: SizeFormula


@dataclass(frozen=True)
class PoolStep:
    out: tuple[int, int]  # output position (i, j)
    window: list[tuple[int, int]]  # map positions (y, x) in the window
    values: list[float]  # the map's values there
    value: float  # their max or mean


@dataclass(frozen=True)
class PoolSteps:
    output: NDArray
    steps: list[PoolStep] = field(default_factory=list)


def pair(value: Any, name: str, minimum: int) -> Pair:
    """An int or a two-element list as (height, width) values, checked against ``minimum``."""
    values = [value, value] if isinstance(value, (int, np.integer)) else list(value)
    if len(values) != 2 or not all(isinstance(v, (int, np.integer)) for v in values):
        raise ConfigError(f"{name} must be a whole number or two of them, not {value!r}.")
    if any(v < minimum for v in values):
        raise ConfigError(f"{name} must be at least {minimum}, not {value!r}.")
    return int(values[0]), int(values[1])


def _as_chw(array: ArrayLike, what: str) -> NDArray:
    try:
        a = np.asarray(array, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"the {what} must be a grid of numbers (a list of equal rows).") from None
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.size == 0:
        raise ConfigError(
            f"the {what} must be a 2-D grid or channels x height x width, not shape {a.shape}."
        )
    if not np.isfinite(a).all():
        raise ConfigError(f"the {what} holds a value that is not a finite number.")
    return a


def size_formula(n: Pair, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> SizeFormula:
    """(N + 2P − F_eff)/S + 1 with the numbers, per dimension (one text when both agree)."""
    texts, sentence = [], None
    for dim in range(2):
        args = (n[dim], kernel[dim], stride[dim], padding[dim], dilation[dim])
        extent = effective_kernel(kernel[dim], dilation[dim])
        pad = f" + 2*{padding[dim]}" if padding[dim] else ""
        value = (n[dim] + 2 * padding[dim] - extent) / stride[dim] + 1
        shown = str(int(value)) if float(value).is_integer() else f"{value:.2f}"
        texts.append(f"({n[dim]}{pad} - {extent})/{stride[dim]} + 1 = {shown}")
        try:
            conv_output_size(*args, strict=True)
        except LayerFitError as err:
            sentence = sentence or f"{err}."
    text = texts[0] if texts[0] == texts[1] else f"height {texts[0]}; width {texts[1]}"
    return SizeFormula(text, sentence is None, sentence)


def conv_steps(
    image: ArrayLike,
    kernel: ArrayLike,
    bias: float = 0.0,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    *,
    mode: str = "correlation",
) -> ConvSteps:
    """Every step of one filter sliding over ``image`` (H x W, or C x H x W with a C-deep kernel)."""
    if mode not in ("correlation", "convolution"):
        raise ConfigError(f"mode must be 'correlation' or 'convolution', not {mode!r}.")
    x, w = _as_chw(image, "input"), _as_chw(kernel, "kernel")
    if x.shape[0] != w.shape[0]:
        raise ConfigError(
            f"the kernel has {w.shape[0]} channels but the input has {x.shape[0]}; a filter spans "
            "the full input depth."
        )
    s, p, d = pair(stride, "stride", 1), pair(padding, "padding", 0), pair(dilation, "dilation", 1)
    (c, h, wd), (kh, kw) = x.shape, w.shape[1:]
    formula = size_formula((h, wd), (kh, kw), s, p, d)
    try:
        out, _ = conv2d_forward(
            x[None], w[None], np.array([float(bias)]), s, p, d, flip=mode == "convolution"
        )
    except LayerFitError as err:
        raise ConfigError(f"{err}; make the kernel smaller or add padding.") from None
    used = w[:, ::-1, ::-1] if mode == "convolution" else w
    padded = pad2d(x[None], p)[0]
    steps = []
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = [
                (i * s[0] + m * d[0], j * s[1] + k * d[1]) for m in range(kh) for k in range(kw)
            ]
            products = [
                (
                    float(padded[ch, y, xx]),
                    float(used[ch, m, k]),
                    float(padded[ch, y, xx] * used[ch, m, k]),
                )
                for ch in range(c)
                for (y, xx), (m, k) in zip(window, ((m, k) for m in range(kh) for k in range(kw)))
            ]
            total = float(sum(prod for _, _, prod in products) + float(bias))
            steps.append(Step((i, j), window, products, total))
    return ConvSteps(out[0, 0], padded, used.copy(), steps, formula)


def pool_steps(
    image: ArrayLike, kind: str, kernel_size: int, stride: int | None = None
) -> PoolSteps:
    """Every window of max or average pooling over a 2-D map, with the value each one gives."""
    if kind not in ("max", "avg"):
        raise ConfigError(f"pooling must be 'max' or 'avg', not {kind!r}.")
    x = _as_chw(image, "pooling input")[0]
    k = pair(kernel_size, "pooling size", 1)[0]
    st = pair(k if stride is None else stride, "pooling stride", 1)[0]
    try:
        out, _ = pool_forward(x[None, None], kind, k, st)
    except (LayerFitError, ValueError) as err:
        raise ConfigError(f"{err}; make the pooling window smaller.") from None
    steps = []
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            window = [(i * st + m, j * st + n) for m in range(k) for n in range(k)]
            values = [float(x[y, xx]) for y, xx in window]
            value = max(values) if kind == "max" else sum(values) / len(values)
            steps.append(PoolStep((i, j), window, values, value))
    return PoolSteps(out[0, 0], steps)
