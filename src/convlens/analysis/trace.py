"""Rows for any ``nn.Module``, from forward hooks on the meta device.

The module's parameters are swapped for meta tensors with ``torch.func.functional_call``, so the
forward pass computes shapes only: a 138 M-parameter VGG-16 traces in well under a second and no
real activation is ever allocated. Layers whose kernels do not run on the meta device fall back to
one real forward pass on zeros.

Receptive fields are carried along with the tensors themselves: a ``TorchFunctionMode`` sees every
torch call (convolutions and pooling inside modules, but also residual additions, concatenations
and reshapes), applies the recurrence of ``geometry._Field`` to windowed ops and passes the widest
incoming field through everything else. On a residual block this gives the field of the longest
path, which is how Araujo et al. (Distill 2019) report ResNet receptive fields.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.overrides import TorchFunctionMode

from convlens.analysis.geometry import LayerInfo, _Field, fit_note, same_padding, unused_pixels

# ---------------------------------------------------------------------------------------------
# Receptive fields through arbitrary torch code
# ---------------------------------------------------------------------------------------------

_CONVS = {F.conv1d, F.conv2d, torch.conv1d, torch.conv2d}
_POOLS = {
    F.max_pool1d, F.max_pool2d, F.avg_pool1d, F.avg_pool2d,
    F.max_pool1d_with_indices, F.max_pool2d_with_indices,
    torch.max_pool1d, torch.max_pool2d, torch.avg_pool1d,
}  # fmt: skip
_ADAPTIVE = {
    F.adaptive_avg_pool1d,
    F.adaptive_avg_pool2d,
    F.adaptive_max_pool1d,
    F.adaptive_max_pool2d,
}


# (norms, dropout and softmax keep their input's shape too: see _SAME_SHAPE)
_ELEMENTWISE = {
    F.relu, F.relu_, F.relu6, F.leaky_relu, F.leaky_relu_, F.elu, F.gelu, F.silu, F.softplus,
    F.hardtanh, F.hardtanh_, F.sigmoid, F.tanh,
    torch.relu, torch.relu_, torch.sigmoid, torch.tanh, torch.Tensor.relu, torch.Tensor.relu_,
    torch.Tensor.sigmoid, torch.Tensor.tanh, torch.Tensor.softmax,
}  # fmt: skip


# elementwise torch functions and Tensor methods, by name: arithmetic with a scalar or a tensor of
# a broadcastable shape
_ELEMENTWISE_NAMES = {
    "add", "sub", "mul", "div", "true_divide", "neg", "abs", "exp", "log", "sqrt", "rsqrt", "pow",
    "clamp", "clip", "tanh", "sigmoid", "relu", "square", "reciprocal", "maximum", "minimum",
    "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
    "__rtruediv__", "__neg__", "__pow__", "__rpow__",
}  # fmt: skip


def _is_elementwise(func: Any) -> bool:
    if func in _ELEMENTWISE:
        return True
    name = getattr(func, "__name__", "")
    base = name[:-1] if name.endswith("_") and not name.endswith("__") else name
    base = "__" + name[3:] if name.startswith("__i") and name[3:-2] + "__" else base
    return base in _ELEMENTWISE_NAMES


def _broadcast_empty(args: tuple) -> torch.Tensor:
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    shape = torch.broadcast_shapes(*(t.shape for t in tensors))
    return tensors[0].new_empty(shape)


_SAME_SHAPE = {
    F.batch_norm, F.layer_norm, F.group_norm, F.instance_norm, F.local_response_norm,
    F.dropout, F.dropout1d, F.dropout2d, F.softmax, F.log_softmax,
}  # fmt: skip


def _reduce_empty(x: torch.Tensor, dim: Any, keepdim: bool) -> torch.Tensor:
    """The output of a mean or sum over ``dim`` on a meta tensor."""
    if dim is None:
        dims = set(range(x.dim()))
    else:
        dims = {d % x.dim() for d in ((dim,) if isinstance(dim, int) else dim)}
    shape = [1 if i in dims else n for i, n in enumerate(x.shape) if keepdim or i not in dims]
    return x.new_empty(shape)


def _all_meta(tensors: Any) -> bool:
    return bool(tensors) and all(isinstance(t, torch.Tensor) and t.is_meta for t in tensors)


def _cat_empty(tensors: Sequence[torch.Tensor], dim: int) -> torch.Tensor:
    """torch.cat's output on meta tensors, without its Python reference implementation."""
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


def _is_inplace(func: Any) -> bool:
    name = getattr(func, "__name__", "")
    return (name.endswith("_") and not name.endswith("__")) or name.startswith("__i")


def _is_windowed(func: Any) -> bool:
    return func in _CONVS or func in _POOLS or func in _ADAPTIVE or func is F.pad


def _tuple(value: Any, nd: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * nd
    value = tuple(int(v) for v in value)
    return value * nd if len(value) == 1 else value


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _tensors(obj: Any) -> Iterator[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors(item)


class FieldTracker(TorchFunctionMode):
    """Attach a receptive-field state to every tensor computed from the input."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[
            int, tuple[torch.Tensor, _Field]
        ] = {}  # keeps tensors alive: ids stay unique

    def field(self, tensor: Any) -> _Field | None:
        entry = self.fields.get(id(tensor)) if isinstance(tensor, torch.Tensor) else None
        return entry[1] if entry is not None and entry[0] is tensor else None

    def set(self, tensor: torch.Tensor, field: _Field) -> None:
        self.fields[id(tensor)] = (tensor, field)

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        first_arg = args[0] if args else None
        is_meta = isinstance(first_arg, torch.Tensor) and first_arg.is_meta
        if is_meta and func in _SAME_SHAPE:
            # the meta kernels of these ops go through torch._refs, whose first use imports
            # torch._dynamo (seconds); their output has the shape of their input
            out = first_arg if kwargs.get("inplace") else torch.empty_like(first_arg)
        elif is_meta and _is_elementwise(func):
            inplace = kwargs.get("inplace") or _is_inplace(func)
            out = first_arg if inplace else _broadcast_empty(args)
        elif is_meta and getattr(func, "__name__", "") in ("mean", "sum"):
            out = _reduce_empty(
                first_arg, _arg(args, kwargs, 1, "dim", None), kwargs.get("keepdim", False)
            )
        elif func in (torch.cat, torch.concat) and args and _all_meta(args[0]):
            out = _cat_empty(args[0], _arg(args, kwargs, 1, "dim", 0))
        elif is_meta and func is F.linear:
            weight = args[1] if len(args) > 1 else kwargs["weight"]
            if first_arg.shape[-1] != weight.shape[-1]:
                raise RuntimeError(
                    f"mat1 and mat2 shapes cannot be multiplied "
                    f"({first_arg.shape.numel() // first_arg.shape[-1]}x{first_arg.shape[-1]} and "
                    f"{weight.shape[-1]}x{weight.shape[0]})"
                )
            out = first_arg.new_empty((*first_arg.shape[:-1], weight.shape[0]))
        else:
            out = func(*args, **kwargs)
        inputs = [f for t in _tensors((args, kwargs)) if (f := self.field(t)) is not None]
        if not inputs:
            return out
        source = args[0] if args else None
        widest = max(inputs, key=lambda f: math.prod(f.rf))
        # windowed ops act on their first argument; everything else (an addition, a
        # concatenation) sees the union of its inputs' fields, i.e. the widest
        first = (self.field(source) if _is_windowed(func) else None) or widest
        try:
            new = self._propagate(func, args, kwargs, first, source, out)
        except Exception:  # an op we cannot read: keep the widest field rather than fail the trace
            new = first
        for t in _tensors(out):
            if t.dim() >= 1:
                self.set(t, new)
        return out

    def _propagate(self, func, args, kwargs, first: _Field, source, out) -> _Field:
        nd = len(first.rf)
        if nd == 0 or not isinstance(out, (torch.Tensor, tuple)):
            return first
        result = out[0] if isinstance(out, tuple) else out
        if func in _CONVS:
            weight = args[1]
            kernel = tuple(weight.shape[2:])
            stride = _tuple(_arg(args, kwargs, 3, "stride", 1), nd)
            dilation = _tuple(_arg(args, kwargs, 5, "dilation", 1), nd)
            padding = _arg(args, kwargs, 4, "padding", 0)
            if padding == "same":
                padding = tuple(same_padding(k, d) for k, d in zip(kernel, dilation))
            elif padding == "valid":
                padding = (0,) * nd
            return first.window(kernel, stride, _tuple(padding, nd), dilation, result.shape[2:])
        if func in _POOLS:
            kernel = _tuple(_arg(args, kwargs, 1, "kernel_size", 1), nd)
            stride = _arg(args, kwargs, 2, "stride", None) or kernel
            padding = _tuple(_arg(args, kwargs, 3, "padding", 0), nd)
            is_max = "max" in getattr(func, "__name__", "")
            dilation = _tuple(_arg(args, kwargs, 4, "dilation", 1), nd) if is_max else (1,) * nd
            return first.window(kernel, _tuple(stride, nd), padding, dilation, result.shape[2:])
        if func in _ADAPTIVE:
            n_in, n_out = first.extent, tuple(result.shape[2:])
            stride = tuple(max(1, i // o) for i, o in zip(n_in, n_out))
            kernel = tuple(i - (o - 1) * s for i, o, s in zip(n_in, n_out, stride))
            return first.window(kernel, stride, (0,) * nd, (1,) * nd, n_out)
        if func is F.pad:
            pad = list(_arg(args, kwargs, 1, "pad", ()))
            lefts = tuple(pad[0::2][:nd][::-1])  # F.pad lists the last dimension first
            rights = tuple(pad[1::2][:nd][::-1])
            lefts = (0,) * (nd - len(lefts)) + lefts
            rights = (0,) * (nd - len(rights)) + rights
            start = tuple(s - p * j for s, p, j in zip(first.start, lefts, first.jump))
            extent = tuple(e + a + b for e, a, b in zip(first.extent, lefts, rights))
            return _Field(first.rf, first.jump, start, extent)
        if func in (F.linear, torch.matmul, torch.mm, torch.addmm) or (
            isinstance(source, torch.Tensor)
            and isinstance(result, torch.Tensor)
            and source.dim() > 2
            and result.dim() == 2
            and result.numel() < source.numel()
        ):
            # a layer that mixes every position (fc after flatten, global pooling)
            return first.whole_map() if first.extent != (1,) * nd else first
        return first


# ---------------------------------------------------------------------------------------------
# Rows from module hooks
# ---------------------------------------------------------------------------------------------

_KINDS = {
    nn.Conv1d: "conv1d", nn.Conv2d: "conv2d", nn.Conv3d: "conv3d", nn.Linear: "linear",
    nn.MaxPool1d: "maxpool", nn.MaxPool2d: "maxpool", nn.AvgPool1d: "avgpool", nn.AvgPool2d: "avgpool",
    nn.AdaptiveAvgPool1d: "adaptiveavgpool", nn.AdaptiveAvgPool2d: "adaptiveavgpool",
    nn.AdaptiveMaxPool2d: "adaptivemaxpool",
    nn.BatchNorm1d: "batchnorm", nn.BatchNorm2d: "batchnorm", nn.LocalResponseNorm: "lrn",
    nn.Dropout: "dropout", nn.Dropout2d: "dropout", nn.Flatten: "flatten", nn.ReLU: "relu",
    nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.Softplus: "softplus", nn.GELU: "gelu",
    nn.ELU: "elu", nn.LeakyReLU: "leakyrelu", nn.Softmax: "softmax", nn.Identity: "identity",
}  # fmt: skip


def module_kind(module: nn.Module) -> str:
    kind = _KINDS.get(type(module))
    if kind == "maxpool" and _tuple(module.kernel_size, 1)[0] == 1:
        return "subsample"
    if kind is None and type(module).__name__ == "GlobalAvgPoolFlat":
        return "gap"
    return kind or type(module).__name__.lower()


def _window(module: nn.Module, nd: int):
    """(kernel, stride, padding, dilation) of a windowed module, or None."""
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        dilation = _tuple(module.dilation, nd)
        if module.padding == "same":
            padding = tuple(same_padding(k, d) for k, d in zip(module.kernel_size, dilation))
        elif module.padding == "valid":
            padding = (0,) * nd
        else:
            padding = _tuple(module.padding, nd)
        return _tuple(module.kernel_size, nd), _tuple(module.stride, nd), padding, dilation
    if isinstance(module, (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)):
        kernel = _tuple(module.kernel_size, nd)
        stride = _tuple(module.stride or module.kernel_size, nd)
        dilation = _tuple(getattr(module, "dilation", 1), nd)
        return kernel, stride, _tuple(module.padding, nd), dilation
    return None


def _macs(module: nn.Module, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        fan_in = module.in_channels // module.groups * math.prod(module.kernel_size)
        return math.prod(out_shape) * fan_in
    if isinstance(module, nn.Linear):
        return math.prod(out_shape[:-1]) * module.in_features * module.out_features
    return 0


@contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        yield
    finally:
        for m, mode in modes.items():
            m.train(mode)


def trace_rows(
    model: nn.Module, in_shape: Sequence[int], *, meta: bool = True
) -> tuple[list[LayerInfo], Exception | None]:
    """Rows for every leaf module (and every module that owns parameters) in execution order.

    Returns the rows and the exception that stopped the forward pass, if any: the rows up to the
    failing layer are kept so the table shows how far the shapes got.
    """
    in_shape = tuple(int(v) for v in in_shape)
    owners = {m for m in model.modules() if next(m.parameters(recurse=False), None) is not None}
    leaves = {m for m in model.modules() if next(m.children(), None) is None}
    names = {m: name for name, m in model.named_modules()}
    counted: set[int] = set()
    rows: list[LayerInfo] = []
    tracker = FieldTracker()

    def hook(module: nn.Module, inputs: tuple, output: Any) -> None:
        x = next(_tensors(inputs), None)
        y = next(_tensors(output), None)
        if x is None or y is None:
            return
        i_shape, o_shape = tuple(x.shape[1:]), tuple(y.shape[1:])
        weights = biases = trainable = 0
        for pname, _ in module.named_parameters(recurse=False):
            pid = id_of[module, pname]
            if pid in counted:
                continue  # a shared or re-used parameter is counted once
            counted.add(pid)
            n = original_sizes[pid]
            if pname.endswith("bias"):
                biases += n
            else:
                weights += n
            trainable += n if requires_grad[pid] else 0
        nd = max(len(i_shape) - 1, 0)
        window = _window(module, nd)
        field = tracker.field(y)
        info = LayerInfo(
            name=names.get(module, type(module).__name__),
            kind=module_kind(module),
            in_shape=i_shape,
            out_shape=o_shape,
            weights=weights,
            biases=biases,
            trainable=trainable,
            macs=_macs(module, i_shape, o_shape),
            rf=field.rf if field else (),
            jump=field.jump if field else (),
            start=field.start if field else (),
        )
        if window is not None:
            kernel, stride, padding, dilation = window
            unused = tuple(
                unused_pixels(n, k, s, p, d)
                for n, k, s, p, d in zip(i_shape[1:], kernel, stride, padding, dilation)
            )
            info = _replace_window(info, kernel, stride, padding, dilation, unused)
            info = replace(info, note=fit_note(i_shape[1:], kernel, stride, padding, dilation))
        rows.append(info)

    # sizes and trainability come from the real parameters (the meta copies lose requires_grad)
    id_of: dict[tuple[nn.Module, str], int] = {}
    original_sizes: dict[int, int] = {}
    requires_grad: dict[int, bool] = {}
    for m in owners:
        for pname, p in m.named_parameters(recurse=False):
            id_of[m, pname] = id(p)
            original_sizes[id(p)] = p.numel()
            requires_grad[id(p)] = p.requires_grad

    handles = [m.register_forward_hook(hook) for m in model.modules() if m in leaves or m in owners]
    error: Exception | None = None
    try:
        with _eval_mode(model), torch.no_grad():
            device = torch.device("meta") if meta else _device_of(model)
            x = torch.zeros((1, *in_shape), device=device)
            tracker.set(x, _Field.of_input(in_shape[1:] if len(in_shape) > 1 else ()))
            with tracker:
                if meta:
                    with _on_meta(model):
                        model(x)
                else:
                    model(x)
    except Exception as err:  # reported in the summary, after the rows that worked
        error = err
    finally:
        for h in handles:
            h.remove()
    if error is not None and meta and _is_meta_limitation(error):
        return trace_rows(model, in_shape, meta=False)
    return rows, error


@contextmanager
def _on_meta(model: nn.Module) -> Iterator[None]:
    """Swap every parameter and buffer for a meta tensor of the same shape, then put them back.

    Done by hand rather than with ``torch.func.functional_call``, whose first use imports
    torch._dynamo (several seconds, measured here) for a feature this trace does not need.
    """
    saved: list[tuple[dict, str, Any]] = []
    try:
        for m in model.modules():
            stores: tuple[dict[str, Any], ...] = (m._parameters, m._buffers)
            for store in stores:
                for key, value in list(store.items()):
                    if value is None or value.device.type == "meta":
                        continue
                    saved.append((store, key, value))
                    meta = torch.empty_like(value, device="meta")
                    store[key] = (
                        nn.Parameter(meta, value.requires_grad)
                        if isinstance(value, nn.Parameter)
                        else meta
                    )
        yield
    finally:
        for store, key, value in saved:
            store[key] = value


def _is_meta_limitation(error: Exception) -> bool:
    text = str(error).lower()
    return isinstance(error, NotImplementedError) or "meta" in text


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _replace_window(info, kernel, stride, padding, dilation, unused) -> LayerInfo:
    return replace(
        info,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        unused=unused if any(unused) else (),
    )
