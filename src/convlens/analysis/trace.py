"""Rows for any ``nn.Module``, from forward hooks during one forward pass on the meta device.

Every parameter and buffer is swapped by hand for a meta tensor of the same shape (not with
``torch.func.functional_call``, whose first use imports torch._dynamo for a feature this trace
does not need), so the pass computes shapes only: a 138 M-parameter VGG-16 traces in well under
a second and no real activation is ever allocated. Models whose kernels do not run on the meta
device fall back to one real forward pass on zeros, and so does the first trace in a process of
a model of modest size (``real_trace_ok``): the first conv on the meta device imports
torch._dynamo, 1.2-2 s, while one real example of ResNet-50 takes 0.15 s.

During the pass three things watch every call:

* forward hooks on the modules: one row per call of every leaf module, every module that owns
  parameters and every module that does multiply-accumulates of its own; a parameter shared by
  several modules is counted once, on the first row that uses it;
* a ``TorchFunctionMode`` that answers a few calls from ``meta_shapes`` and shows every call to the
  receptive-field tracker (``receptive_field.FieldTracker``);
* PyTorch's FLOP counter (``torch.utils.flop_counter.FlopCounterMode``), the authority for MACs:
  a row's MACs are the FLOPs counted while its module ran, less those of the modules it called,
  halved (the counter counts a multiply-accumulate as 2 FLOPs). See ``convlens.analysis.summary``
  for what it counts and what it does not. On a real example the counter's formulas run in a
  dispatch mode of convlens's own (``_Flops``), which does not import torch._dynamo.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

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

    By default (None for both) the trace takes the quickest way that counts as PyTorch's FLOP
    counter does. The first conv on the meta device, and the first use of the counter (a dispatch
    mode that torch wraps against compilation), import torch._dynamo: 1.2-2 s. So while that
    import has not happened and no real trace so far took over 0.1 s (``_real_first``), a model
    that one real example runs quickly (``real_trace_ok``: at most 268 M parameters and 1 M
    input values, no recurrent or attention layers, whose CPU kernels the counter cannot see) is
    traced on a real example of zeros and counted by ``_Flops``, the counter's formulas in a
    dispatch mode that needs no torch._dynamo; should it meet an attention or recurrent kernel
    after all, the trace goes to the meta device. Every other model, and every model once the
    import is paid, goes to the meta device and the counter (AlexNet: 3 ms there, 22 ms for one
    real example; VGG-16: 15 ms and 0.3 s).

    ``flop_counter=False`` counts MACs by the per-layer rule of conv and linear modules only
    (functional calls and recurrent layers count 0), for callers that need only a conv net's
    MACs (the training loop's FLOP rate); ``meta=False`` traces a real example, counted by
    ``_Flops`` where ``flop_counter`` is True.
    """
    in_shape = tuple(int(v) for v in in_shape)
    if meta is None and flop_counter is None and _real_first(model, in_shape):
        flops = _Flops()
        start = time.perf_counter()
        rows, error = _trace(model, in_shape, False, flops)
        _REAL.slow = time.perf_counter() - start > _REAL_QUICK
        if not flops.unsure:
            return rows, error
    # once torch._dynamo is loaded the meta device costs nothing more, and it never computes
    meta = True if meta is None else meta
    flop_counter = True if flop_counter is None else flop_counter
    counter: Any = None
    if flop_counter and meta:
        from torch.utils.flop_counter import FlopCounterMode

        counter = FlopCounterMode(display=False)
    elif flop_counter:
        counter = _Flops()  # the same formulas, without torch._dynamo
    rows, error = _trace(model, in_shape, meta, counter)
    if error is not None and meta and _is_meta_limitation(error):
        return trace_rows(model, in_shape, meta=False, flop_counter=flop_counter)
    return rows, error


class _RealTraces:
    slow = False  # a real trace taken by choice in this process took over _REAL_QUICK


_REAL = _RealTraces()
_REAL_QUICK = 0.1  # a real trace slower than this sends the later ones to the meta device


def _real_first(model: nn.Module, in_shape: tuple[int, ...]) -> bool:
    """Trace this model on a real example? While torch._dynamo is not loaded and every real trace
    so far was quick: a notebook that summarises VGG-16 again and again pays the import once
    (on its second call) and then 15 ms a call on the meta device, not 0.3 s for each."""
    if "torch._dynamo" in sys.modules or _REAL.slow:
        return False
    return _device_of(model).type != "meta" and real_trace_ok(model, in_shape)


def _trace(
    model: nn.Module, in_shape: tuple[int, ...], meta: bool, counter: Any
) -> tuple[list[LayerInfo], Exception | None]:
    """One forward pass of zeros, on the meta device or the model's own, watched."""
    tracker = FieldTracker()
    recorder = _Recorder(model, tracker, counter)
    handles = recorder.hook(model)
    error: Exception | None = None
    try:
        with eval_mode(model), torch.no_grad():
            device = torch.device("meta") if meta else _device_of(model)
            x = torch.zeros((1, *in_shape), device=device, dtype=_dtype_of(model))
            tracker.set(x, Field.of_input(in_shape[1:] if len(in_shape) > 1 else ()))
            on_meta = _on_meta(model) if meta else _nothing()
            with on_meta, counter or _nothing(), _TraceMode(tracker):
                model(x)
    except Exception as err:  # reported in the summary, after the rows that worked
        error = err
    finally:
        for h in handles:
            h.remove()
    return recorder.rows, error


class _Flops(TorchDispatchMode):
    """FLOPs of every aten call by the formulas of PyTorch's FLOP counter (``flop_registry``),
    ops it has no formula for decomposed as the counter decomposes them.

    Unlike ``FlopCounterMode`` it is not wrapped against torch.compile (``_should_skip_dynamo``),
    so its first use does not import torch._dynamo. ``unsure`` turns True when a kernel the
    formulas do not know runs attention or a recurrent layer (the fused CPU kernels that only the
    meta device's trace splits into counted products).
    """

    _UNSURE = ("attention", "rnn", "lstm", "gru", "multi_head", "transformer")
    _SHAPE_QUERIES = ("size", "sym_size", "stride", "sym_stride", "dim", "numel", "sym_numel")

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False

    def __init__(self) -> None:
        from torch.utils.flop_counter import flop_registry

        super().__init__()
        self.registry = flop_registry  # looked up once, not on every aten call
        self.total = 0
        self.unsure = False

    def get_total_flops(self) -> int:
        return self.total

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        packet = func._overloadpacket
        formula = self.registry.get(packet)
        if formula is None and func is not torch.ops.prim.device.default:
            if packet.__name__ in self._SHAPE_QUERIES:
                return func(*args, **kwargs)
            with self:  # a composite op: count the ops it is made of
                out = func.decompose(*args, **kwargs)
            if out is not NotImplemented:
                return out
            self.unsure = self.unsure or any(w in packet.__name__ for w in self._UNSURE)
        out = func(*args, **kwargs)
        if formula is not None:
            self.total += int(formula(*args, **kwargs, out_val=out))
        return out


_REAL_PARAMS, _REAL_INPUT = 1 << 28, 1 << 20  # at most 268 M parameters, 1 M input values
_FUSED = (nn.RNNBase, nn.MultiheadAttention, nn.Transformer, nn.TransformerEncoderLayer,
          nn.TransformerDecoderLayer, nn.TransformerEncoder, nn.TransformerDecoder)  # fmt: skip


def real_trace_ok(model: nn.Module, in_shape: Sequence[int]) -> bool:
    """True for a model that one real example of zeros traces quickly and ``_Flops`` counts as
    the FLOP counter does on the meta device: at most 268 M parameters and 1 M input values
    (VGG-16 at 224x224: 0.3 s), and no recurrent, attention or transformer layers, whose
    fused CPU kernels the counter's formulas do not see. (A model on the meta device needs
    ``model.to_empty(device="cpu")`` first: uninitialised memory serves for shapes.)"""
    if any(isinstance(m, _FUSED) for m in model.modules()):
        return False
    params = sum(p.numel() for p in model.parameters())
    return params <= _REAL_PARAMS and math.prod(int(v) for v in in_shape) <= _REAL_INPUT


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


def _dtype_of(model: nn.Module) -> torch.dtype:
    """The precision of the model's floating parameters (a half-precision model takes half
    inputs), float32 without any."""
    floating = (p.dtype for p in model.parameters() if p.is_floating_point())
    return next(floating, torch.float32)


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")
