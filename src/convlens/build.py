"""Spec -> torch ``nn.Sequential``.

Channels and ``in_features`` are never written by hand: the geometry pass computes the shape that
reaches every layer, and each module is built from it. Children are named like the summary rows
(conv1, relu1, pool1, ..., flatten1, fc1), so a layer's name is the same in the table, in
``model.named_modules()`` and in a checkpoint.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from convlens import modules as M
from convlens.analysis.geometry import LayerInfo, analyze
from convlens.errors import SpecError
from convlens.modules import GlobalAvgPoolFlat
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
    parse_spec,
)

__all__ = ["GlobalAvgPoolFlat", "build_model"]


def build_model(
    spec: str | Spec,
    in_shape: Sequence[int] | str,
    *,
    activation: str | None = "relu",
    strict: bool = False,
) -> nn.Sequential:
    """Build the torch network that a spec describes, for inputs of ``in_shape`` (no batch dim).

    ``in_shape`` is channels first, as PyTorch stores it: C x H x W (``(3, 32, 32)``), C x L for
    1-D nets, (F,) for vectors. A slide's "32x32x3" (H x W x C) is ``(3, 32, 32)`` here.

    >>> model = build_model("conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10", (1, 32, 32))
    >>> model.fc1
    Linear(in_features=400, out_features=120, bias=True)
    """
    rows = analyze(spec, in_shape, strict=strict, activation=activation)
    shape_rank = len(rows[0].in_shape)
    layers = expand_spec(parse_spec(spec), shape_rank, activation)
    model = nn.Sequential(
        OrderedDict((row.name, _module(layer, row)) for layer, row in zip(layers, rows))
    )
    model.spec = layers  # type: ignore[assignment]
    model.in_shape = tuple(rows[0].in_shape)  # type: ignore[assignment]
    return model


def _module(layer: Layer, row: LayerInfo) -> nn.Module:
    make = TORCH.get(type(layer))
    if make is None:
        raise SpecError(f"{row.name}: there is no torch module for {type(layer).__name__}")
    return make(layer, row)


def _conv(layer: Conv, row: LayerInfo) -> nn.Module:
    cls: Any = nn.Conv1d if layer.ndim == 1 else nn.Conv2d
    return cls(
        row.in_shape[0],
        layer.out_channels,
        kernel_size=layer.kernel_size,
        stride=row.stride,
        padding=row.padding,
        dilation=row.dilation,
        groups=layer.groups,
        bias=layer.bias,
        padding_mode=layer.padding_mode,
    )


def _pool(layer: Pool, row: LayerInfo) -> nn.Module:
    one_d = len(row.in_shape) == 2
    if layer.kind == "avg":
        # count_include_pad=True is torch's default and the lectures' plain mean
        avg = nn.AvgPool1d if one_d else nn.AvgPool2d
        return avg(layer.kernel_size, layer.step, layer.padding)
    mx = nn.MaxPool1d if one_d else nn.MaxPool2d
    return mx(layer.kernel_size, layer.step, layer.padding)


def _batchnorm(layer: BatchNorm, row: LayerInfo) -> nn.Module:
    bn = nn.BatchNorm1d if len(row.in_shape) <= 2 else nn.BatchNorm2d
    return bn(row.in_shape[0], eps=layer.eps, momentum=layer.momentum)


_ACTIVATIONS: dict[str, Callable[[Activation], nn.Module]] = {
    "relu": lambda a: nn.ReLU(),
    "sigmoid": lambda a: nn.Sigmoid(),
    "tanh": lambda a: nn.Tanh(),
    "softplus": lambda a: nn.Softplus(),
    "gelu": lambda a: nn.GELU(),
    "elu": lambda a: nn.ELU(),
    "softmax": lambda a: nn.Softmax(dim=1),
    "lrelu": lambda a: nn.LeakyReLU(a.negative_slope),
}

# the torch implementation of every spec layer class
TORCH: dict[type, Callable[[Any, LayerInfo], nn.Module]] = {
    Conv: _conv,
    Pool: _pool,
    WeightedPool: lambda layer, row: M.WeightedAvgPool(
        layer.kernel_size, layer.step, layer.padding, len(row.in_shape) - 1
    ),
    LocalConv: lambda layer, row: M.LocalConv2d(
        row.in_shape[0],
        layer.out_channels,
        layer.kernel_size,
        (row.in_shape[1], row.in_shape[2]),
        layer.tiles,
        layer.stride,
        layer.padding,
    ),
    RecurrentConv: lambda layer, row: M.RecurrentConv2d(
        row.in_shape[0], layer.out_channels, layer.kernel_size, layer.steps
    ),
    Maxout: lambda layer, row: M.Maxout(layer.pool_size),
    Linear: lambda layer, row: nn.Linear(row.in_shape[0], layer.out_features, bias=layer.bias),
    Activation: lambda layer, row: _ACTIVATIONS[layer.name](layer),
    BatchNorm: _batchnorm,
    LocalResponseNorm: lambda layer, row: nn.LocalResponseNorm(
        layer.size, layer.alpha, layer.beta, layer.k
    ),
    Dropout: lambda layer, row: nn.Dropout(layer.p),
    Flatten: lambda layer, row: nn.Flatten(),
    GlobalAvgPool: lambda layer, row: GlobalAvgPoolFlat(),
}
