"""The receptive field: which input pixels one unit of a layer can see.

The analytic rule is the recurrence of Araujo, Norris & Sim, "Computing Receptive Fields of
Convolutional Neural Networks", Distill 2019, in coordinates of input pixel centres (0-based),
for a window of extent F_eff = D(F - 1) + 1, padding P and stride S:

    r_out     = r_in + (F_eff - 1) * j_in                 receptive field size
    j_out     = j_in * S                                  jump: input pixels between adjacent units
    start_out = start_in + ((F_eff - 1)/2 - P) * j_in     centre of the first unit's field

``Field`` carries (r, j, start) from layer to layer; unit i of a layer then sees the r pixels
centred at start + i * j (``field_box``), part of which may lie in the padding.

The same rule is carried through arbitrary torch code by ``FieldTracker``: the trace
(``convlens.analysis.trace``) shows it every torch call, and it applies the rule to windowed ops
(convolutions, pooling, padding) and passes the widest incoming field through everything else
(residual additions, concatenations, reshapes). On a residual block that gives the field of the
longest path, which is how Araujo et al. report ResNet receptive fields.

This module imports torch only when a trace asks for the tracker's rules, so the spec arithmetic
(``convlens.analysis.geometry``) stays torch-free.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convlens.analysis.geometry import LayerInfo


def effective_kernel(kernel_size: int, dilation: int = 1) -> int:
    """Extent of a dilated kernel: D(F - 1) + 1."""
    return dilation * (kernel_size - 1) + 1


# ---------------------------------------------------------------------------------------------
# The analytic rule
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """Receptive-field state carried from layer to layer (one value per spatial dimension)."""

    rf: tuple[int, ...]
    jump: tuple[int, ...]
    start: tuple[float, ...]
    extent: tuple[int, ...]  # spatial size of the map that reaches the layer (kept through flatten)

    @staticmethod
    def of_input(spatial: tuple[int, ...]) -> Field:
        nd = len(spatial)
        return Field((1,) * nd, (1,) * nd, (0.0,) * nd, tuple(spatial))

    def window(self, kernel, stride, padding, dilation, out_extent) -> Field:
        """Through a window of ``kernel`` (per dimension) at ``stride``, ``padding``, ``dilation``."""
        rf, jump, start = [], [], []
        for r, j, s0, k, st, p, d in zip(
            self.rf, self.jump, self.start, kernel, stride, padding, dilation
        ):
            extent = effective_kernel(k, d)
            rf.append(r + (extent - 1) * j)
            start.append(s0 + ((extent - 1) / 2 - p) * j)
            jump.append(j * st)
        return Field(tuple(rf), tuple(jump), tuple(start), tuple(out_extent))

    def repeat(self, times: int, kernel, padding, dilation) -> Field:
        """Through ``times`` stride-1 windows in a row (a recurrent layer unrolled in time)."""
        field = self
        ones = (1,) * len(self.rf)
        for _ in range(times):
            field = field.window(kernel, ones, padding, dilation, field.extent)
        return field

    def whole_map(self) -> Field:
        """A layer that sees every position of the map (fc after flatten, global pooling)."""
        n = self.extent
        return self.window(n, (1,) * len(n), (0,) * len(n), (1,) * len(n), (1,) * len(n))


# ---------------------------------------------------------------------------------------------
# One unit's field
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldBox:
    """A unit's analytic receptive field: per spatial dimension the first and last input pixel."""

    lo: tuple[float, ...]  # may be negative (the field reaches into the padding)
    hi: tuple[float, ...]  # inclusive

    @property
    def size(self) -> tuple[int, ...]:
        return tuple(round(h - lo + 1) for lo, h in zip(self.lo, self.hi))

    def clipped(self, spatial: Sequence[int]) -> tuple[slice, ...]:
        """The part inside an input of ``spatial`` size, as slices."""
        return tuple(
            slice(max(0, math.ceil(lo)), min(n, math.floor(h) + 1))
            for lo, h, n in zip(self.lo, self.hi, spatial)
        )

    def visible(self, spatial: Sequence[int]) -> tuple[int, ...]:
        """Size of the part inside the input, per dimension."""
        return tuple(max(0, s.stop - s.start) for s in self.clipped(spatial))


def field_box(row: LayerInfo, index: Sequence[int]) -> FieldBox:
    """The analytic field of unit ``index`` (one int per spatial dim) of the layer in ``row``."""
    from convlens.errors import ConfigError

    if not row.rf:
        raise ConfigError(f"layer {row.name!r} has no spatial receptive field in the summary")
    if len(index) != len(row.rf):
        raise ConfigError(
            f"layer {row.name!r} has {len(row.rf)} spatial dimensions, so give {len(row.rf)} "
            f"indices, not {len(index)}"
        )
    spatial = row.out_shape[1:] if len(row.out_shape) == len(row.rf) + 1 else ()
    for i, n in zip(index, spatial):
        if not 0 <= i < n:
            raise ConfigError(
                f"unit index {tuple(index)} is outside layer {row.name!r}'s {spatial} map"
            )
    centre = [s + i * j for s, i, j in zip(row.start, index, row.jump)]
    half = [(r - 1) / 2 for r in row.rf]
    return FieldBox(
        tuple(c - h for c, h in zip(centre, half)), tuple(c + h for c, h in zip(centre, half))
    )


# ---------------------------------------------------------------------------------------------
# The field carried through any torch code
# ---------------------------------------------------------------------------------------------


@functools.cache
def _ops() -> dict[str, frozenset]:
    """The torch functions the tracker reads, by role (built on first use: imports torch)."""
    import torch
    import torch.nn.functional as F

    return {
        "conv": frozenset({F.conv1d, F.conv2d, torch.conv1d, torch.conv2d}),
        "pool": frozenset(
            {
                F.max_pool1d,
                F.max_pool2d,
                F.avg_pool1d,
                F.avg_pool2d,
                F.max_pool1d_with_indices,
                F.max_pool2d_with_indices,
                torch.max_pool1d,
                torch.max_pool2d,
                torch.avg_pool1d,
            }
        ),
        "adaptive": frozenset(
            {
                F.adaptive_avg_pool1d,
                F.adaptive_avg_pool2d,
                F.adaptive_max_pool1d,
                F.adaptive_max_pool2d,
            }
        ),
        "pad": frozenset({F.pad}),
        "unfold": frozenset({F.unfold}),
        "mixing": frozenset({F.linear, torch.matmul, torch.mm, torch.addmm}),
    }


def _tuple(value: Any, nd: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * nd
    value = tuple(int(v) for v in value)
    return value * nd if len(value) == 1 else value


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def tensors_in(obj: Any) -> Iterator[Any]:
    """Every tensor inside nested lists, tuples and dicts, in order."""
    import torch

    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from tensors_in(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from tensors_in(item)


class FieldTracker:
    """A receptive-field state attached to every tensor computed from the input."""

    def __init__(self) -> None:
        # keeps the tensors alive, so that their ids stay unique while the trace runs
        self.fields: dict[int, tuple[Any, Field]] = {}

    def field(self, tensor: Any) -> Field | None:
        entry = self.fields.get(id(tensor))
        return entry[1] if entry is not None and entry[0] is tensor else None

    def set(self, tensor: Any, field: Field) -> None:
        self.fields[id(tensor)] = (tensor, field)

    def observe(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        """Give the outputs of one torch call the field that its inputs' fields lead to."""
        outputs = [t for t in tensors_in(out) if t.dim() >= 1]
        if not outputs:  # .dim(), .size(), comparisons: nothing to carry a field
            return
        inputs = [f for t in tensors_in((args, kwargs)) if (f := self.field(t)) is not None]
        if not inputs:
            return
        ops = _ops()
        source = args[0] if args else None
        widest = max(inputs, key=lambda f: math.prod(f.rf))
        windowed = any(func in ops[role] for role in ("conv", "pool", "adaptive", "unfold"))
        # windowed ops act on their first argument; everything else (an addition, a
        # concatenation) sees the union of its inputs' fields, i.e. the widest
        first = (self.field(source) if windowed or func in ops["pad"] else None) or widest
        try:
            new = _propagate(func, args, kwargs, first, source, out)
        except Exception:  # an op we cannot read: keep the widest field rather than fail the trace
            new = first
        for t in outputs:
            self.set(t, new)


def _propagate(func, args, kwargs, first: Field, source, out) -> Field:
    import torch

    nd = len(first.rf)
    if nd == 0 or not isinstance(out, (torch.Tensor, tuple)):
        return first
    result = out[0] if isinstance(out, tuple) else out
    ops = _ops()
    if func in ops["conv"]:
        return _through_conv(args, kwargs, first, result, nd)
    if func in ops["pool"]:
        kernel = _tuple(_arg(args, kwargs, 1, "kernel_size", 1), nd)
        stride = _arg(args, kwargs, 2, "stride", None) or kernel
        padding = _tuple(_arg(args, kwargs, 3, "padding", 0), nd)
        is_max = "max" in getattr(func, "__name__", "")
        dilation = _tuple(_arg(args, kwargs, 4, "dilation", 1), nd) if is_max else (1,) * nd
        return first.window(kernel, _tuple(stride, nd), padding, dilation, result.shape[2:])
    if func in ops["adaptive"]:
        n_in, n_out = first.extent, tuple(result.shape[2:])
        stride = tuple(max(1, i // o) for i, o in zip(n_in, n_out))
        kernel = tuple(i - (o - 1) * s for i, o, s in zip(n_in, n_out, stride))
        return first.window(kernel, stride, (0,) * nd, (1,) * nd, n_out)
    if func in ops["pad"]:
        return _through_pad(args, kwargs, first, nd)
    if func in ops["unfold"]:
        return _through_unfold(args, kwargs, first, nd)
    if func in ops["mixing"] or (
        isinstance(source, torch.Tensor)
        and isinstance(result, torch.Tensor)
        and source.dim() > 2
        and result.dim() == 2
        and result.numel() < source.numel()
    ):
        # a layer that mixes every position (fc after flatten, global pooling)
        return first.whole_map() if first.extent != (1,) * nd else first
    return first


def _through_conv(args, kwargs, first: Field, result, nd: int) -> Field:
    from convlens.analysis.geometry import same_padding

    kernel = tuple(args[1].shape[2:])
    stride = _tuple(_arg(args, kwargs, 3, "stride", 1), nd)
    dilation = _tuple(_arg(args, kwargs, 5, "dilation", 1), nd)
    padding = _arg(args, kwargs, 4, "padding", 0)
    if padding == "same":
        padding = tuple(same_padding(k, d) for k, d in zip(kernel, dilation))
    elif padding == "valid":
        padding = (0,) * nd
    return first.window(kernel, stride, _tuple(padding, nd), dilation, result.shape[2:])


def _through_unfold(args, kwargs, first: Field, nd: int) -> Field:
    """F.unfold: every window as a column, (N, C*K*K, L); the windows' field, as for a conv."""
    from convlens.analysis.geometry import conv_output_size

    kernel = _tuple(_arg(args, kwargs, 1, "kernel_size", 1), nd)
    dilation = _tuple(_arg(args, kwargs, 2, "dilation", 1), nd)
    padding = _tuple(_arg(args, kwargs, 3, "padding", 0), nd)
    stride = _tuple(_arg(args, kwargs, 4, "stride", 1), nd)
    out = tuple(
        conv_output_size(n, k, s, p, d)
        for n, k, s, p, d in zip(first.extent, kernel, stride, padding, dilation)
    )
    return first.window(kernel, stride, padding, dilation, out)


def _through_pad(args, kwargs, first: Field, nd: int) -> Field:
    pad = list(_arg(args, kwargs, 1, "pad", ()))
    lefts = tuple(pad[0::2][:nd][::-1])  # F.pad lists the last dimension first
    rights = tuple(pad[1::2][:nd][::-1])
    lefts = (0,) * (nd - len(lefts)) + lefts
    rights = (0,) * (nd - len(rights)) + rights
    start = tuple(s - p * j for s, p, j in zip(first.start, lefts, first.jump))
    extent = tuple(e + a + b for e, a, b in zip(first.extent, lefts, rights))
    return Field(first.rf, first.jump, start, extent)
