"""The lecture decks' worked examples, computed step by step, with the slides' mistakes flagged.

Each example is a function that returns a ``Worked`` value: the computation line by line as the
slide writes it, the correct results, and where a slide's figure is wrong. The numbers come from
convlens's own arithmetic (``analysis.geometry``, ``summarize``) and the NumPy engine
(``scratch``), so an example is also a check of those. ``shared/LECTURES.md`` (sections 2, 3, 5
and 8) lists the examples and the slides' figures.

    >>> run_example("conv-params").values["ten_filters_pad2"]
    760
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from convlens.analysis.geometry import conv_output_size
from convlens.errors import ConfigError, LayerFitError
from convlens.shapes import shape_text


@dataclass(frozen=True)
class Worked:
    """One worked example: the steps, the correct results, and the slide's mistakes."""

    name: str
    title: str
    source: str  # where in the lectures (the section of shared/LECTURES.md)
    steps: tuple[str, ...]  # the computation, one line each, in the slide's order
    results: tuple[str, ...]  # the correct answers
    slide_errors: tuple[str, ...] = ()  # what a slide gets wrong, and the right value
    values: Mapping[str, Any] = field(default_factory=dict)  # the numbers, for tests and JSON


_EXAMPLES: dict[str, tuple[str, Callable[[], Worked]]] = {}


def _example(name: str, title: str) -> Callable[[Callable[[], Worked]], Callable[[], Worked]]:
    def register(func: Callable[[], Worked]) -> Callable[[], Worked]:
        _EXAMPLES[name] = (title, func)
        return func

    return register


def list_examples() -> list[tuple[str, str]]:
    """(name, title) of every worked example, in the order of the decks."""
    return [(name, title) for name, (title, _) in _EXAMPLES.items()]


def run_example(name: str) -> Worked:
    """Compute one worked example (``ConfigError`` for an unknown name)."""
    if name not in _EXAMPLES:
        close = difflib.get_close_matches(name, list(_EXAMPLES), n=2)
        hint = f"did you mean {' or '.join(close)}?" if close else "`convlens lecture` lists them"
        raise ConfigError(f"there is no worked example {name!r}; {hint}")
    title, func = _EXAMPLES[name]
    return dataclasses.replace(func(), title=title)


def matrix_lines(rows: Any, indent: str = "    ") -> list[str]:
    """A matrix of numbers as right-aligned text rows, as a slide prints it."""
    cells = [[_num(v) for v in row] for row in rows]
    width = max(len(c) for row in cells for c in row)
    return [indent + " ".join(c.rjust(width) for c in row) for row in cells]


def _num(v: Any) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else f"{v:g}"


# -- section 3: output size and parameters -------------------------------------------------------


@_example("output-size", "7x7 input, 3x3 filter at stride 1, 2, 3, and with padding 1")
def output_size() -> Worked:
    steps = ["output size = (N + 2P - F)/S + 1"]
    sizes: dict[str, int | None] = {}
    for stride, pad in ((1, 0), (2, 0), (3, 0), (1, 1)):
        exact = (7 + 2 * pad - 3) / stride + 1
        line = f"N=7, F=3, S={stride}, P={pad}: (7 + 2*{pad} - 3)/{stride} + 1 = {exact:.3g}"
        try:
            n = conv_output_size(7, 3, stride, pad, strict=True)
            sizes[f"s{stride}p{pad}"] = n
            steps.append(f"{line} -> {n}x{n}")
        except LayerFitError:
            sizes[f"s{stride}p{pad}"] = None
            steps.append(f"{line} -> does not fit: not a whole number of steps")
    results = ("stride 1: 5x5; stride 2: 3x3; stride 3: does not fit (2.33); "
               "stride 1 with padding 1: 7x7 ('same': P = (F - 1)/2 = 1)",)  # fmt: skip
    return Worked("output-size", "", "LECTURES.md section 3", tuple(steps), results, values=sizes)


def _conv_line(h: int, c_in: int, k: int, filters: int, stride: int = 1, pad: int = 0) -> tuple[str, int, int]:  # fmt: skip
    out = conv_output_size(h, k, stride, pad)
    params = (k * k * c_in + 1) * filters
    text = (f"{h}x{h}x{c_in}, {filters} filter(s) {k}x{k}x{c_in}, stride {stride}, pad {pad}: "
            f"({h} + 2*{pad} - {k})/{stride} + 1 = {out} -> {out}x{out}x{filters}; "
            f"params ({k}*{k}*{c_in} + 1)*{filters} = {params:,}")  # fmt: skip
    return text, out, params


@_example("conv-params", "parameters of conv and fc layers: 76, 456, 760, 2,080, 140, 8,256")
def conv_params() -> Worked:
    one, _, p_one = _conv_line(32, 3, 5, 1)
    six, _, p_six = _conv_line(32, 3, 5, 6)
    ten, out_ten, p_ten = _conv_line(32, 3, 5, 10, pad=2)
    pointwise, _, p_1x1 = _conv_line(56, 64, 1, 32)
    conv1d_a, conv1d_b = 3 * 3 * 4, 5 * 4 * 10  # kernel x in-channels x out-channels
    five = (3 * 3 * 3 + 1) * 5
    fc = 128 * 64 + 64
    steps = (
        "conv params = (F_w * F_h * C_in + 1) * K: a filter spans the whole input depth, plus one bias",
        one, six, ten, pointwise,
        f"1-D, 3 channels, kernel 3 -> 4 channels: 3*3*4 = {conv1d_a} weights + 4 biases; "
        f"then kernel 5 -> 10 channels: 5*4*10 = {conv1d_b} weights + 10 biases",
        f"3x3 kernels on 3 input channels, 5 filters: (3*3*3 + 1)*5 = {five}",
        f"fc 128 -> 64: 128*64 + 64 = {fc:,}",
    )  # fmt: skip
    results = (f"{p_one}, {p_six}, {p_ten} (76 per filter; output {out_ten}x{out_ten}x10), "
               f"{p_1x1:,}, {conv1d_a} + 4 then {conv1d_b} + 10, {five}, {fc:,}",)  # fmt: skip
    values = {"one_filter": p_one, "six_filters": p_six, "ten_filters_pad2": p_ten,
              "ten_filters_out": out_ten, "pointwise": p_1x1, "conv1d": (conv1d_a, 4, conv1d_b, 10),
              "five_filters": five, "fc": fc}  # fmt: skip
    return Worked("conv-params", "", "LECTURES.md section 3", steps, results, values=values)


# -- section 3: the operation itself -------------------------------------------------------------


@_example("cross-correlation", "5x5 input, 3x3 kernel: cross-correlation against convolution")
def cross_correlation() -> Worked:
    import numpy as np

    from convlens.scratch import convolve2d, correlate2d

    image = np.array([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                      [2, 0, 0, 0, 1]], dtype=float)  # fmt: skip
    kernel = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=float)
    corr = correlate2d(image, kernel)
    conv = convolve2d(image, kernel)
    first = " + ".join(
        f"{int(image[m, n])}*{int(kernel[m, n])}" for m in range(3) for n in range(3)
    )
    steps = ("input I", *matrix_lines(image), "kernel K", *matrix_lines(kernel),
             f"s(0,0) = sum_m sum_n I(m, n) K(m, n) = {first} = {_num(corr[0, 0])}",
             "cross-correlation s(i,j) = sum_m sum_n I(i+m, j+n) K(m,n) (what networks compute)",
             *matrix_lines(corr),
             "true convolution s(i,j) = sum_m sum_n I(m,n) K(i-m, j-n) (the kernel flipped)",
             *matrix_lines(conv))  # fmt: skip
    return Worked("cross-correlation", "", "LECTURES.md section 3", steps,
                  ("cross-correlation [[12,12,17],[10,17,19],[9,6,14]]",),
                  values={"correlation": corr.tolist(), "convolution": conv.tolist()})  # fmt: skip


# a concrete colour image and filter (values chosen for this example): three 5x5 planes and one
# 3x3 kernel per plane, bias 1, zero padding 1 (LECTURES.md section 8, "Bias = 1")
RGB_PLANES = (
    ((0, 1, 2, 1, 0), (2, 0, 1, 0, 2), (1, 2, 2, 1, 1), (0, 1, 0, 2, 1), (2, 2, 1, 0, 0)),
    ((1, 0, 0, 2, 1), (0, 2, 1, 1, 0), (2, 1, 0, 0, 2), (1, 1, 2, 1, 0), (0, 2, 0, 1, 2)),
    ((2, 1, 1, 0, 0), (1, 0, 2, 2, 1), (0, 0, 1, 2, 2), (2, 1, 1, 0, 1), (1, 0, 2, 1, 0)),
)
RGB_KERNELS = (
    ((1, 0, -1), (0, 1, 0), (-1, 0, 1)),
    ((0, 1, 0), (1, -1, 1), (0, 1, 0)),
    ((-1, -1, 0), (0, 1, 0), (1, 0, 1)),
)
RGB_BIAS = 1


@_example("rgb-convolution", "a 3-plane colour image, one 3x3 kernel per plane, bias 1")
def rgb_convolution() -> Worked:
    import numpy as np

    from convlens.scratch.conv import conv2d_naive

    x = np.array(RGB_PLANES, dtype=float)[None]  # (N=1, C=3, 5, 5)
    w = np.array(RGB_KERNELS, dtype=float)[None]  # (F=1, C=3, 3, 3): the filter spans all 3 planes
    out = conv2d_naive(x, w, np.array([RGB_BIAS], dtype=float), padding=(1, 1))[0, 0]
    per_plane = [
        conv2d_naive(x[:, c : c + 1], w[:, c : c + 1], padding=(1, 1))[0, 0] for c in range(3)
    ]
    steps: list[str] = []
    for c, name in enumerate(("R", "G", "B")):
        steps += [f"input plane {name} (zero-padded by 1)", *matrix_lines(np.pad(x[0, c], 1)),
                  f"kernel for {name}", *matrix_lines(w[0, c]),
                  f"{name} * kernel (cross-correlation)", *matrix_lines(per_plane[c])]  # fmt: skip
    corner = [int(per_plane[c][0, 0]) for c in range(3)]
    steps.append(f"output(0,0) = R + G + B + bias = {corner[0]} + {corner[1]} + {corner[2]} + "
                 f"{RGB_BIAS} = {int(out[0, 0])}")  # fmt: skip
    steps += ["output = sum of the three planes' correlations + bias", *matrix_lines(out)]
    results = ("one 5x5 output map: the filter's depth matches the 3 colour channels, and "
               f"({3 * 3 * 3} weights + 1 bias) = 28 parameters",)  # fmt: skip
    return Worked("rgb-convolution", "", "LECTURES.md section 8", tuple(steps), results,
                  values={"output": out.tolist(), "per_plane": [p.tolist() for p in per_plane]})  # fmt: skip


@_example("max-pool", "max pooling 2x2 stride 2, both slides' examples")
def max_pool() -> Worked:
    import numpy as np

    from convlens.scratch import pool_forward

    examples = ([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]],
                [[0, 4, 7, 8], [9, 2, 4, 5], [6, 7, 3, 4], [8, 2, 1, 5]])  # fmt: skip
    steps, outs = [], []
    for x in examples:
        a = np.array(x, dtype=float)
        out = pool_forward(a[None, None], "max", 2, 2)[0][0, 0]
        outs.append(out.tolist())
        windows = [f"max({', '.join(_num(v) for v in a[i:i + 2, j:j + 2].ravel())}) = {_num(out[i // 2, j // 2])}"
                   for i in (0, 2) for j in (0, 2)]  # fmt: skip
        steps += [
            "input",
            *matrix_lines(a),
            *("  " + w for w in windows),
            "output",
            *matrix_lines(out),
        ]
    return Worked("max-pool", "", "LECTURES.md sections 3 and 8", tuple(steps),
                  ("[[6,8],[3,4]] and [[9,8],[8,5]]; pooling has no parameters",),
                  values={"outputs": outs})  # fmt: skip


# -- sections 2 and 8: why not fully connected ---------------------------------------------------


@_example("fc-explosion", "fully connected first layers: 3,072, 3x10^9, 14.4 billion, 10,100 vs 10")
def fc_explosion() -> Worked:
    per_neuron = 32 * 32 * 3
    big = 1000 * 1000 * 3 * 1000
    huge = 200 * 200 * 3 * 120_000
    dense, kernel, kernels = 100 * 100 + 100, 3 * 3 + 1, 200 * (3 * 3 + 1)
    steps = (
        f"32x32x3 image: each fc neuron has 32*32*3 = {per_neuron:,} weights",
        f"1000x1000x3 image into 1,000 units: 1000*1000*3*1000 = {big:,} = 3x10^9 weights",
        f"200x200x3 image into 120,000 units: 200*200*3*120,000 = {huge:,} = 14.4 billion",
        f"10x10 image, dense 100 -> 100: 100*100 + 100 = {dense:,}",
        f"one 3x3 kernel: 3*3 + 1 = {kernel}; 200 kernels: 200*10 = {kernels:,}",
    )
    return Worked("fc-explosion", "", "LECTURES.md sections 2 and 8", steps,
                  (f"{per_neuron:,}; {big:,}; {huge:,}; {dense:,} vs {kernel} vs {kernels:,}",),
                  values={"per_neuron": per_neuron, "megapixel": big, "two_hundred": huge,
                          "dense": dense, "kernel": kernel, "kernels": kernels})  # fmt: skip


# -- section 8: 1x1 convolutions -----------------------------------------------------------------


def _conv_cost(h: int, c_in: int, c_out: int, k: int) -> tuple[int, int]:
    """(multiplications, parameters) of a same-padded k x k conv on an h x h x c_in volume."""
    return h * h * c_out * k * k * c_in, (k * k * c_in + 1) * c_out


@_example("bottleneck", "28x28x128 into 64 5x5 filters, with and without a 1x1 reduction to 32")
def bottleneck() -> Worked:
    direct_mult, direct_params = _conv_cost(28, 128, 64, 5)
    reduce_mult, reduce_params = _conv_cost(28, 128, 32, 1)
    then_mult, then_params = _conv_cost(28, 32, 64, 5)
    total_mult, total_params = reduce_mult + then_mult, reduce_params + then_params
    steps = (
        f"direct: 28*28*64 outputs x 5*5*128 = {direct_mult:,} multiplications "
        f"(params (5*5*128 + 1)*64 = {direct_params:,})",
        f"1x1 reduction to 32: 28*28*32 x 1*1*128 = {reduce_mult:,} (params (128 + 1)*32 = {reduce_params:,})",
        f"then 5x5 to 64: 28*28*64 x 5*5*32 = {then_mult:,} (params (5*5*32 + 1)*64 = {then_params:,})",
        f"with the reduction: {reduce_mult:,} + {then_mult:,} = {total_mult:,} multiplications, "
        f"{total_params:,} parameters",
    )
    slide_errors = (
        f"the slide writes 28x28x32x128x1x1 = 4.8M: it is {reduce_mult:,} (3.2M)",
        f"the slide's total 44.8M is {total_mult:,} (43.4M)",
        f"the slide labels the multiplications '#params': the parameters are {direct_params:,} "
        f"and {total_params:,}",
    )
    return Worked("bottleneck", "", "LECTURES.md section 8", steps,
                  (f"{direct_mult:,} vs {total_mult:,} multiplications "
                   f"({direct_mult / total_mult:.1f}x fewer); {direct_params:,} vs {total_params:,} parameters",),
                  slide_errors,
                  values={"direct_mult": direct_mult, "reduce_mult": reduce_mult, "then_mult": then_mult,
                          "total_mult": total_mult, "direct_params": direct_params,
                          "total_params": total_params})  # fmt: skip


# inception (3a), Szegedy et al. 2015 Table 1: (branch, kernel, in, out); "in" None = the input
_INCEPTION_NAIVE = (("1x1", 1, None, 64), ("3x3", 3, None, 128), ("5x5", 5, None, 32))
_INCEPTION_REDUCED = (("1x1", 1, None, 64), ("3x3 reduce", 1, None, 96), ("3x3", 3, 96, 128),
                      ("5x5 reduce", 1, None, 16), ("5x5", 5, 16, 32), ("pool proj", 1, None, 32))  # fmt: skip


@_example("inception", "one inception module on 28x28x192: naive vs with 1x1 reductions")
def inception() -> Worked:
    steps, values = [], {}
    for label, branches, pool_out in (("naive", _INCEPTION_NAIVE, 192),
                                      ("with 1x1 reductions", _INCEPTION_REDUCED, 0)):  # fmt: skip
        steps.append(f"{label} (parameters : multiplications, per conv, 28x28 outputs each):")
        mult = params = 0
        for name, k, c_in, c_out in branches:
            c_in = c_in or 192
            m, p = _conv_cost(28, c_in, c_out, k)
            steps.append(
                f"  {name}: ({k}*{k}*{c_in} + 1)*{c_out} = {p:,} : 28*28*{c_out}*{k}*{k}*{c_in} = {m:,}"
            )
            mult, params = mult + m, params + p
        out_c = sum(b[3] for b in branches if "reduce" not in b[0]) + pool_out
        steps.append(f"  3x3 max pooling: 0 : 0, passing on {pool_out or 'no'} input maps")
        steps.append(
            f"  in all {params:,} parameters : {mult:,} multiplications; output 28x28x{out_c}"
        )
        values[label.split()[0]] = {"params": params, "mult": mult, "out_channels": out_c}
    naive, reduced = values["naive"], values["with"]
    results = (f"naive {naive['params']:,} params, {naive['mult']:,} multiplications, 28x28x{naive['out_channels']}; "
               f"with reductions {reduced['params']:,} params, {reduced['mult']:,} multiplications, "
               f"28x28x{reduced['out_channels']}",
               "the module as a network: convlens summary inception3a --input 192x28x28")  # fmt: skip
    return Worked(
        "inception", "", "LECTURES.md sections 5 and 8", tuple(steps), results, values=values
    )


# -- section 3 and 5: whole networks as tables ---------------------------------------------------


def _table_steps(spec: str, in_shape: tuple[int, ...]) -> tuple[list[str], Any]:
    from convlens.analysis.summary import summarize

    summary = summarize(spec, in_shape, activation=None)
    steps = []
    for r in summary.rows:
        if r.kind == "flatten":
            continue
        line = (
            f"{r.name:<6} {shape_text(r.in_shape, True):>10} -> {shape_text(r.out_shape, True):<10}"
        )
        if r.kernel_size:
            k, s, p = r.kernel_size[0], r.stride[0], r.padding[0]
            n = r.in_shape[1]
            exact = (n + 2 * p - k) / s + 1
            line += f"  ({n} + 2*{p} - {k})/{s} + 1 = {exact:.4g}"
            if not exact.is_integer():
                line += f", floored to {r.out_shape[1]}"
        line = line.rstrip()
        if r.kind.startswith("conv"):
            line += f"; params ({'*'.join(map(str, r.kernel_size))}*{r.in_shape[0]} + 1)*{r.out_shape[0]} = {r.params:,}"
        elif r.kind == "linear":
            line += f"; params {r.in_shape[0]}*{r.out_shape[0]} + {r.out_shape[0]} = {r.params:,}"
        steps.append(line)
    return steps, summary


@_example("lenet", "the LeNet-style table on 32x32x1: 156, 2,416, 48,120, 10,164, 850")
def lenet() -> Worked:
    steps, summary = _table_steps(
        "conv5x5x6-avgpool2-conv5x5x16-avgpool2-conv5x5x120-fc84-fc10", (1, 32, 32)
    )
    params = [r.params for r in summary.rows if r.params]
    return Worked("lenet", "", "LECTURES.md section 3", tuple(steps),
                  (f"parameters per layer {', '.join(f'{p:,}' for p in params)}; "
                   f"in all {summary.total_params:,}",),
                  values={"params": params, "total": summary.total_params})  # fmt: skip


@_example("small-cnn", "28x28x1: conv 16 5x5 p2, pool, conv 32 5x5 p2, pool, fc 10")
def small_cnn() -> Worked:
    steps, summary = _table_steps("conv5x5x16p2-pool2-conv5x5x32p2-pool2-fc10", (1, 28, 28))
    shapes = [shape_text(r.out_shape, True) for r in summary.rows if r.kind != "flatten"]
    return Worked("small-cnn", "", "LECTURES.md section 3", tuple(steps),
                  (" -> ".join(shapes) + f"; {summary.total_params:,} parameters",),
                  values={"shapes": shapes, "total": summary.total_params})  # fmt: skip


ALEXNET = "conv11x11x96s4-pool3s2-lrn5-conv5x5x256p2-pool3s2-lrn5-conv3x3x384p1-conv3x3x384p1-conv3x3x256p1-pool3s2-fc4096-fc4096-fc1000"  # fmt: skip


@_example("alexnet", "AlexNet on 227x227x3: the layer list, the fc weights 37,748,736 and 58.6M")
def alexnet() -> Worked:
    steps, summary = _table_steps(ALEXNET, (3, 227, 227))
    fc_weights = [r.weights for r in summary.rows if r.kind == "linear"]
    fc6, fc7 = fc_weights[0], fc_weights[1]
    steps.append(f"fc weights (the paper's fc6, fc7, fc8): 6*6*256*4096 = {fc6:,}; 4096*4096 = "
                 f"{fc7:,}; 4096*1000 = {fc_weights[2]:,}; in all {sum(fc_weights):,}")  # fmt: skip
    shares = summary.shares()
    conv_p, conv_m = shares["conv"]
    results = (f"{summary.total_params:,} parameters; fc weights {sum(fc_weights):,} = "
               f"{sum(fc_weights) / 1e6:.1f}M; conv layers hold {conv_p:.1%} of the parameters and "
               f"do {conv_m:.1%} of the multiply-accumulates",)  # fmt: skip
    slide_errors = (f"6x6x256x4096 is written 3.7x10^6 on the slide: it is {fc6:,} = {fc6 / 1e7:.2f}x10^7",
                    f"4096x4096 is written 16x10^9: it is {fc7:,} = {fc7 / 1e6:.1f}x10^6")  # fmt: skip
    return Worked("alexnet", "", "LECTURES.md sections 3 and 8", tuple(steps), results, slide_errors,
                  values={"fc_weights": fc_weights, "total": summary.total_params,
                          "conv_share": shares["conv"]})  # fmt: skip


@_example("alexnet-32", "AlexNet's first layer on 32x32x3 with 'Same (p=5)' at stride 4")
def alexnet_32() -> Worked:
    from convlens.analysis.summary import summarize

    steps, _ = _table_steps(ALEXNET.replace("s4-", "s4p5-", 1), (3, 32, 32))
    summary = summarize(ALEXNET.replace("s4-", "s4p5-", 1), (3, 32, 32), activation=None)
    exact = (32 + 2 * 5 - 11) / 4 + 1
    out = conv_output_size(32, 11, 4, 5)
    # TensorFlow-style "same" at stride 4 gives ceil(32 / 4) = 8 with padding 3 + 4 (uneven)
    same_total = max((math.ceil(32 / 4) - 1) * 4 + 11 - 32, 0)
    steps.insert(
        0, f"conv1 11x11 s4 p5 on 32x32: (32 + 2*5 - 11)/4 + 1 = {exact} -> floored to {out}"
    )
    if summary.error:
        steps.append(f"stops: {summary.error}")
    slide_errors = (
        f"'Same (p=5)' at stride 4: (32 + 10 - 11)/4 + 1 = {exact}, not a whole number; PyTorch "
        f"floors it to {out}, and the last {int((exact - out) * 4)} padded columns are never reached",
        f"'same' padding means P = (F - 1)/2 only at stride 1; at stride 4 an output of "
        f"ceil(32/4) = 8 needs {same_total} padding pixels in all ({same_total // 2} + "
        f"{same_total - same_total // 2}), not 5 on each side",
    )
    return Worked("alexnet-32", "", "LECTURES.md section 3", tuple(steps),
                  (f"conv1: 8x8x96 (8.75 floored), {summary.rows[0].params:,} parameters",),
                  slide_errors, values={"exact": exact, "out": out, "stopped": summary.error})  # fmt: skip


def run_all(names: Sequence[str] | None = None) -> list[Worked]:
    """Every worked example (or the named ones), in the decks' order."""
    return [run_example(n) for n in (names or list(_EXAMPLES))]
