"""Rows for any ``nn.Module``, from forward hooks during one forward pass on the meta device.

Every parameter and buffer is swapped by hand for a meta tensor of the same shape (not with
``torch.func.functional_call``, whose first use imports torch._dynamo for a feature this trace
does not need), so the pass computes shapes only: a 138 M-parameter VGG-16 traces in well under
a second and no real activation is ever allocated. Models whose kernels do not run on the meta
device fall back to one real forward pass on zeros, and so do plain networks (torch's layers in
``nn.Sequential``, of modest size; ``plain_network``): the first conv on the meta device imports
torch._dynamo, 1.3-2 s, while one real example of such a network takes milliseconds.

During the pass three things watch every call:

* forward hooks on the modules: one row per call of every leaf module, every module that owns
  parameters and every module that does multiply-accumulates of its own; a parameter shared by
  several modules is counted once, on the first row that uses it;
* a ``TorchFunctionMode`` that answers a few calls from ``meta_shapes`` and shows every call to the
  receptive-field tracker (``receptive_field.FieldTracker``);
* PyTorch's FLOP counter (``torch.utils.flop_counter.FlopCounterMode``), the authority for MACs:
  a row's MACs are the FLOPs counted while its module ran, less those of the modules it called,
  halved (the counter counts a multiply-accumulate as 2 FLOPs). See ``convlens.analysis.summary``
  for what it counts and what it does not. A plain network needs no counter: its MACs are the
  per-layer rule's (conv and fc), which is what the counter counts for it.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from convlens.analysis.geometry import LayerInfo, fit_note, same_padding, unused_pixels
from convlens.analysis.meta_shapes import meta_output
from convlens.analysis.receptive_field import Field, FieldTracker, tensors_in
from convlens.torchutil import eval_mode

# ---------------------------------------------------------------------------------------------
# What a module is
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


def _tuple(value: Any, nd: int) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * nd
    value = tuple(int(v) for v in value)
    return value * nd if len(value) == 1 else value


def module_kind(module: nn.Module) -> str:
    """The row's kind: torch's layers by table, convlens's own layers by their ``summary_kind``."""
    kind = _KINDS.get(type(module)) or getattr(module, "summary_kind", None)
    if kind == "maxpool" and _tuple(module.kernel_size, 1)[0] == 1:
        return "subsample"
    return kind if isinstance(kind, str) else type(module).__name__.lower()


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
    return getattr(module, "summary_window", None)  # convlens's own windowed layers say theirs


# ---------------------------------------------------------------------------------------------
# The recorder: hooks that turn calls into rows
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Param:
    size: int
    trainable: bool
    is_bias: bool


class _Recorder:
    """Forward hooks that write one row per module call, with its parameters, MACs and field."""

    def __init__(self, model: nn.Module, tracker: FieldTracker, counter: Any) -> None:
        self.tracker, self.counter = tracker, counter
        self.names = {m: name for name, m in model.named_modules()}
        self.leaves = {m for m in model.modules() if next(m.children(), None) is None}
        # sizes and trainability come from the real parameters (meta copies lose requires_grad);
        # keyed by id, so a tensor that two modules share is one parameter
        self.params: dict[nn.Module, dict[int, _Param]] = {
            m: {
                id(p): _Param(p.numel(), p.requires_grad, _is_bias(pname))
                for pname, p in m.named_parameters(recurse=False)
            }
            for m in model.modules()
        }
        self.counted: set[int] = set()
        self.calls: list[list[int]] = []  # per running call: [FLOPs at its start, FLOPs of callees]
        self.rows: list[LayerInfo] = []

    def hook(self, model: nn.Module) -> list[Any]:
        handles = []
        for m in model.modules():
            handles.append(m.register_forward_pre_hook(self.before))
            handles.append(m.register_forward_hook(self.after))
        return handles

    def _flops(self) -> int:
        return self.counter.get_total_flops() if self.counter is not None else 0

    def before(self, module: nn.Module, inputs: tuple) -> None:
        self.calls.append([self._flops(), 0])

    def after(self, module: nn.Module, inputs: tuple, output: Any) -> None:
        start, inner = self.calls.pop()
        flops = self._flops() - start
        if self.calls:
            self.calls[-1][1] += flops
        own_macs = (flops - inner) // 2  # the counter counts one multiply-accumulate as 2 FLOPs
        x, y = next(tensors_in(inputs), None), next(tensors_in(output), None)
        if x is None or y is None:
            return
        if self.counter is None:
            own_macs = _module_macs(module, y)
        if module in self.leaves or self.params[module] or own_macs:
            self.rows.append(self._row(module, x, y, own_macs))

    def _row(self, module: nn.Module, x: torch.Tensor, y: torch.Tensor, macs: int) -> LayerInfo:
        weights = biases = trainable = 0
        for pid, p in self.params[module].items():
            if pid in self.counted:
                continue  # a shared or re-used parameter is counted once
            self.counted.add(pid)
            biases += p.size if p.is_bias else 0
            weights += 0 if p.is_bias else p.size
            trainable += p.size if p.trainable else 0
        i_shape, o_shape = tuple(x.shape[1:]), tuple(y.shape[1:])
        field = self.tracker.field(y)
        info = LayerInfo(
            name=self.names.get(module, type(module).__name__),
            kind=module_kind(module),
            in_shape=i_shape,
            out_shape=o_shape,
            weights=weights,
            biases=biases,
            trainable=trainable,
            macs=macs,
            rf=field.rf if field else (),
            jump=field.jump if field else (),
            start=field.start if field else (),
        )
        window = _window(module, max(len(i_shape) - 1, 0))
        return info if window is None else _with_window(info, *window)


def _module_macs(module: nn.Module, y: torch.Tensor) -> int:
    """The lectures' per-layer rule, for a trace without the FLOP counter: conv and fc modules
    only (C_out x H_out x W_out x C_in/groups x K x K; out x in), as the counter counts them."""
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        fan_in = module.in_channels // module.groups * math.prod(module.kernel_size)
        return y[0].numel() * fan_in
    if isinstance(module, nn.Linear):
        return y[0].numel() * module.in_features
    return 0


def _is_bias(pname: str) -> bool:
    return pname.startswith("bias") or pname.endswith("bias")  # LSTM: bias_ih_l0, bias_hh_l0


def _with_window(info: LayerInfo, kernel, stride, padding, dilation) -> LayerInfo:
    spatial = info.in_shape[1:]
    unused = tuple(
        unused_pixels(n, k, s, p, d)
        for n, k, s, p, d in zip(spatial, kernel, stride, padding, dilation)
    )
    return replace(
        info,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        unused=unused if any(unused) else (),
        note=fit_note(spatial, kernel, stride, padding, dilation),
    )


class _TraceMode(TorchFunctionMode):
    """Every torch call: its output (by hand for a few ops on meta tensors), then its field."""

    def __init__(self, tracker: FieldTracker) -> None:
        super().__init__()
        self.tracker = tracker

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = meta_output(func, args, kwargs)
        if out is None:
            out = func(*args, **kwargs)
        self.tracker.observe(func, args, kwargs, out)
        return out


# ---------------------------------------------------------------------------------------------
# The trace
# ---------------------------------------------------------------------------------------------


def trace_rows(
    model: nn.Module,
    in_shape: Sequence[int],
    *,
    meta: bool | None = None,
    flop_counter: bool | None = None,
) -> tuple[list[LayerInfo], Exception | None]:
    """Rows for every leaf module (and every module that owns parameters) in execution order.

    Returns the rows and the exception that stopped the forward pass, if any: the rows up to the
    failing layer are kept so the table shows how far the shapes got.

    ``flop_counter=False`` counts MACs by the per-layer rule of conv and linear modules only
    (functional calls and recurrent layers count 0), without the FLOP counter: a dispatch mode's
    first use in a process imports torch._dynamo, about 1.3-2 s, and so does the first conv on
    the meta device. By default (None for both), until that import has happened, a plain
    network, torch's layers in ``nn.Sequential`` containers and nothing else (see
    ``plain_network``), of modest size is traced on one real example without the counter, which
    counts its MACs exactly as the rule does; every other model, and every model once the import
    is paid, goes to the meta device and the counter (AlexNet: 3 ms there, 30 ms for one real
    example).
    """
    from torch.utils.flop_counter import FlopCounterMode

    in_shape = tuple(int(v) for v in in_shape)
    if meta is None or flop_counter is None:
        # once torch._dynamo is loaded the meta device costs nothing more, and it never computes
        plain = "torch._dynamo" not in sys.modules and plain_network(model, in_shape)
        meta = not plain if meta is None else meta
        flop_counter = not plain if flop_counter is None else flop_counter
    tracker = FieldTracker()
    counter = FlopCounterMode(display=False) if flop_counter else None
    recorder = _Recorder(model, tracker, counter)
    handles = recorder.hook(model)
    error: Exception | None = None
    try:
        with eval_mode(model), torch.no_grad():
            device = torch.device("meta") if meta else _device_of(model)
            x = torch.zeros((1, *in_shape), device=device)
            tracker.set(x, Field.of_input(in_shape[1:] if len(in_shape) > 1 else ()))
            on_meta = _on_meta(model) if meta else _nothing()
            with on_meta, counter or _nothing(), _TraceMode(tracker):
                model(x)
    except Exception as err:  # reported in the summary, after the rows that worked
        error = err
    finally:
        for h in handles:
            h.remove()
    if error is not None and meta and _is_meta_limitation(error):
        return trace_rows(model, in_shape, meta=False, flop_counter=flop_counter)
    return recorder.rows, error


# torch's layers whose MACs the per-layer rule counts as the FLOP counter does: conv and fc by
# the rule, the others none (the counter counts matrix products and convolutions only)
_PLAIN_LAYERS = (
    *_KINDS, nn.Conv3d, nn.BatchNorm3d, nn.MaxPool1d, nn.MaxPool3d, nn.AvgPool3d,
    nn.AdaptiveMaxPool1d, nn.ReLU6, nn.SiLU, nn.Hardtanh, nn.LogSoftmax, nn.Dropout1d,
    nn.Dropout3d, nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d, nn.Unflatten,
)  # fmt: skip
_PLAIN_PARAMS, _PLAIN_INPUT = 1 << 26, 1 << 22  # at most 67 M parameters, 4 M input values


def plain_network(model: nn.Module, in_shape: Sequence[int]) -> bool:
    """True for a network that one real example traces quickly and the per-layer MAC rule
    counts exactly: every module either ``nn.Sequential`` (or a subclass with its forward) or one
    of torch's layers in ``_PLAIN_LAYERS`` (or convlens's GlobalAvgPoolFlat), and the parameters
    and the input small enough for a forward pass on zeros to cost little."""
    from convlens.modules import GlobalAvgPoolFlat

    for m in model.modules():
        if isinstance(m, nn.Sequential):
            if type(m).forward is not nn.Sequential.forward:
                return False
        elif type(m) not in _PLAIN_LAYERS and type(m) is not GlobalAvgPoolFlat:
            return False
    params = sum(p.numel() for p in model.parameters())
    return params <= _PLAIN_PARAMS and math.prod(int(v) for v in in_shape) <= _PLAIN_INPUT


@contextmanager
def _nothing() -> Iterator[None]:
    yield


@contextmanager
def _on_meta(model: nn.Module) -> Iterator[None]:
    """Swap every parameter and buffer for a meta tensor of the same shape, then put them back."""
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
        _refresh_flat_weights(model)
        yield
    finally:
        for store, key, value in saved:
            store[key] = value
        _refresh_flat_weights(model)


def _refresh_flat_weights(model: nn.Module) -> None:
    # recurrent layers keep a list of their weights beside _parameters and run from that list
    for m in model.modules():
        if isinstance(m, nn.RNNBase):
            m._init_flat_weights()


def _is_meta_limitation(error: Exception) -> bool:
    text = str(error).lower()
    return isinstance(error, NotImplementedError) or "meta" in text


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")
