"""The receptive field a spec's arithmetic gives, checked against the one gradients measure."""

from __future__ import annotations

from collections.abc import Callable

import torch
from hypothesis import assume
from torch import nn

from convlens.analysis.geometry import analyze
from convlens.build import build_model
from convlens.errors import LayerFitError


def assert_field_matches_gradients(
    spec: str, in_shape: tuple[int, ...], open_paths: Callable[[nn.Module], None]
) -> None:
    """The input pixels whose gradient reaches the middle unit of the last map are exactly the
    box the arithmetic gives. ``open_paths`` sets weights so that every path carries gradient."""
    try:
        rows = analyze(spec, in_shape, activation=None)
    except LayerFitError:
        assume(False)
    model = build_model(spec, in_shape, activation=None).double()
    open_paths(model)
    last = rows[-1]
    index = tuple(n // 2 for n in last.out_shape[1:])  # a unit in the middle of the last map
    x = torch.zeros(1, *in_shape, dtype=torch.float64, requires_grad=True)
    model(x)[(0, 0, *index)].backward()
    boxes = []
    for dim, (n, i) in enumerate(zip(in_shape[1:], index)):
        centre = last.start[dim] + i * last.jump[dim]
        lo = round(centre - (last.rf[dim] - 1) / 2)
        hi = round(centre + (last.rf[dim] - 1) / 2)
        # a field that reaches past the border is cut there by zero padding somewhere inside the
        # network; compare only fields that lie wholly inside the input
        assume(lo >= 0 and hi <= n - 1)
        boxes.append((lo, hi))
    nonzero = x.grad[0].abs().sum(0).nonzero()
    assert len(nonzero) > 0
    for dim, (lo, hi) in enumerate(boxes):
        assert nonzero[:, dim].min().item() == lo
        assert nonzero[:, dim].max().item() == hi
