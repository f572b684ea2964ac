"""Output shapes of a few torch calls on meta tensors, written out by hand.

torch's own meta kernels for these ops (norms, dropout, softmax, elementwise arithmetic, means,
``torch.cat``) go through the Python reference implementations in ``torch._refs``, whose first
use costs seconds of imports; a summary needs only the output's shape, which for all of them is
the input's shape, a broadcast, a reduction or a concatenation. ``meta_output`` returns that
output, or ``None`` when the call should run as usual (any op not listed here, and every op on
real tensors). Ops that carry MACs (convolutions, matrix products) are never listed, so the FLOP
counter of the trace always sees them run.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F


@functools.cache
def _same_shape() -> frozenset:
    # (activations too: see _is_elementwise)
    return frozenset({
        F.batch_norm, F.layer_norm, F.group_norm, F.instance_norm, F.local_response_norm,
        F.dropout, F.dropout1d, F.dropout2d, F.softmax, F.log_softmax,
    })  # fmt: skip


@functools.cache
def _elementwise() -> frozenset:
    return frozenset({
        F.relu, F.relu_, F.relu6, F.leaky_relu, F.leaky_relu_, F.elu, F.gelu, F.silu, F.softplus,
        F.hardtanh, F.hardtanh_, F.sigmoid, F.tanh,
        torch.relu, torch.relu_, torch.sigmoid, torch.tanh, torch.Tensor.relu, torch.Tensor.relu_,
        torch.Tensor.sigmoid, torch.Tensor.tanh, torch.Tensor.softmax,
    })  # fmt: skip


# elementwise torch functions and Tensor methods, by name: arithmetic with a scalar or a tensor of
# a broadcastable shape
_ELEMENTWISE_NAMES = frozenset({
    "add", "sub", "mul", "div", "true_divide", "neg", "abs", "exp", "log", "sqrt", "rsqrt", "pow",
    "clamp", "clip", "tanh", "sigmoid", "relu", "square", "reciprocal", "maximum", "minimum",
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__neg__", "__pow__", "__rpow__",
})  # fmt: skip


def meta_output(func: Any, args: tuple, kwargs: dict) -> torch.Tensor | None:
    """The output of ``func(*args, **kwargs)`` on meta tensors, or None to run it as usual."""
    first = args[0] if args else None
    if not isinstance(first, torch.Tensor) or not first.is_meta:
        return _cat_output(func, args, kwargs)
    if func in _same_shape():
        return first if kwargs.get("inplace") else torch.empty_like(first)
    if _is_elementwise(func):
        inplace = kwargs.get("inplace") or _is_inplace(func)
        return first if inplace else _broadcast_empty(args)
    if getattr(func, "__name__", "") in ("mean", "sum"):
        dim = kwargs["dim"] if "dim" in kwargs else (args[1] if len(args) > 1 else None)
        return _reduce_empty(first, dim, kwargs.get("keepdim", False))
    return _cat_output(func, args, kwargs)


def _cat_output(func: Any, args: tuple, kwargs: dict) -> torch.Tensor | None:
    if func in (torch.cat, torch.concat) and args and _all_meta(args[0]):
        dim = kwargs["dim"] if "dim" in kwargs else (args[1] if len(args) > 1 else 0)
        return _cat_empty(args[0], dim)
    return None


def _is_elementwise(func: Any) -> bool:
    if func in _elementwise():
        return True
    name = getattr(func, "__name__", "")
    base = name[:-1] if name.endswith("_") and not name.endswith("__") else name
    base = "__" + name[3:] if name.startswith("__i") and name[3:-2] + "__" else base
    return base in _ELEMENTWISE_NAMES


def _is_inplace(func: Any) -> bool:
    name = getattr(func, "__name__", "")
    return (name.endswith("_") and not name.endswith("__")) or name.startswith("__i")


def _broadcast_empty(args: tuple) -> torch.Tensor:
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    shape = torch.broadcast_shapes(*(t.shape for t in tensors))
    return tensors[0].new_empty(shape)


def _reduce_empty(x: torch.Tensor, dim: Any, keepdim: bool) -> torch.Tensor:
    """The output of a mean or sum over ``dim``."""
    if dim is None:
        dims = set(range(x.dim()))
    else:
        dims = {d % x.dim() for d in ((dim,) if isinstance(dim, int) else dim)}
    shape = [1 if i in dims else n for i, n in enumerate(x.shape) if keepdim or i not in dims]
    return x.new_empty(shape)


def _all_meta(tensors: Any) -> bool:
    return bool(tensors) and all(isinstance(t, torch.Tensor) and t.is_meta for t in tensors)


def _cat_empty(tensors: Sequence[torch.Tensor], dim: int) -> torch.Tensor:
    """torch.cat's output, with torch's error for tensors that do not fit together."""
    first = tensors[0]
    dim = dim % first.dim()
    for t in tensors[1:]:
        if t.dim() != first.dim() or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != dim
        ):
            raise RuntimeError(
                f"torch.cat: sizes of tensors must match except in dimension {dim}: "
                f"{tuple(first.shape)} and {tuple(t.shape)}"
            )
    shape = list(first.shape)
    shape[dim] = sum(t.shape[dim] for t in tensors)
    return first.new_empty(shape)
