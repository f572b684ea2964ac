"""Spec -> torch ``nn.Sequential``.

Channels and ``in_features`` are never written by hand: the geometry pass computes the shape that
reaches every layer, and each module is built from it. Children are named like the summary rows
(conv1, relu1, pool1, ..., flatten1, fc1), so a layer's name is the same in the table, in
``model.named_modules()`` and in a checkpoint.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from convlens.analysis.geometry import LayerInfo, analyze
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
    parse_spec,
)


class GlobalAvgPoolFlat(nn.Module):
    """Average over every spatial position: (N, C, *spatial) -> (N, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=tuple(range(2, x.dim())))


def build_model(
    spec: str | Spec,
    in_shape: Sequence[int] | str,
    *,
    activation: str | None = "relu",
    strict: bool = False,
) -> nn.Sequential:
    """Build the torch network that a spec describes, for inputs of ``in_shape`` (no batch dim).

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
    in_shape = row.in_shape
    nd = len(in_shape) - 1
    if isinstance(layer, Conv):
        cls: Any = nn.Conv1d if layer.ndim == 1 else nn.Conv2d
        return cls(
            in_shape[0],
            layer.out_channels,
            kernel_size=layer.kernel_size,
            stride=row.stride,
            padding=row.padding,
            dilation=row.dilation,
            groups=layer.groups,
            bias=layer.bias,
            padding_mode=layer.padding_mode,
        )
    if isinstance(layer, Pool):
        if layer.kind == "avg":
            avg = nn.AvgPool1d if nd == 1 else nn.AvgPool2d
            # count_include_pad=True is torch's default and the lectures' plain mean
            return avg(layer.kernel_size, layer.step, layer.padding)
        mx = nn.MaxPool1d if nd == 1 else nn.MaxPool2d
        return mx(layer.kernel_size, layer.step, layer.padding)
    if isinstance(layer, Linear):
        return nn.Linear(in_shape[0], layer.out_features, bias=layer.bias)
    if isinstance(layer, Activation):
        return _activation(layer)
    if isinstance(layer, BatchNorm):
        bn = nn.BatchNorm1d if nd <= 1 else nn.BatchNorm2d
        return bn(in_shape[0], eps=layer.eps, momentum=layer.momentum)
    if isinstance(layer, LocalResponseNorm):
        return nn.LocalResponseNorm(layer.size, layer.alpha, layer.beta, layer.k)
    if isinstance(layer, Dropout):
        return nn.Dropout(layer.p)
    if isinstance(layer, Flatten):
        return nn.Flatten()
    if isinstance(layer, GlobalAvgPool):
        return GlobalAvgPoolFlat()
    raise TypeError(f"no torch module for {layer!r}")


def _activation(layer: Activation) -> nn.Module:
    if layer.name == "lrelu":
        return nn.LeakyReLU(layer.negative_slope)
    if layer.name == "softmax":
        return nn.Softmax(dim=1)
    return {
        "relu": nn.ReLU,
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "softplus": nn.Softplus,
        "gelu": nn.GELU,
        "elu": nn.ELU,
    }[layer.name]()
