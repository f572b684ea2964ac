"""Changing how gradients pass back through every ReLU, however the model calls it.

Guided backpropagation (Springenberg et al. 2015, "Striving for Simplicity", section 3.4) and the
deconvnet (Zeiler & Fergus 2014) differ from plain backpropagation only at ReLUs. With R the
gradient arriving from above and x the ReLU's input:

    plain backprop   R · [x > 0]
    deconvnet        R · [R > 0]               (the ReLU is applied to the gradient)
    guided backprop  R · [x > 0] · [R > 0]     (both: no negative gradient passes)

Libraries usually swap the rule in with backward hooks on ``nn.ReLU`` modules, which misses
``F.relu`` / ``torch.relu`` calls in a ``forward`` and breaks on ``nn.ReLU(inplace=True)`` (module
backward hooks refuse in-place outputs). Here a ``TorchFunctionMode`` sees every relu call at the
function level (``F.relu``, ``torch.relu``, ``torch.relu_``, ``Tensor.relu``, ``Tensor.relu_`` and
``nn.ReLU`` of either kind, which calls ``F.relu``) and routes it through an autograd Function with
the chosen backward rule. The forward values are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

RULES = ("backprop", "guided", "deconvnet")


class _GuidedReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        out = x.clamp(min=0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, dout):
        (out,) = ctx.saved_tensors
        return dout * (out > 0) * (dout > 0)


class _DeconvReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, dout):
        return dout.clamp(min=0)


_FUNCTIONS = {"guided": _GuidedReLU, "deconvnet": _DeconvReLU}

# Every way torch code asks for a ReLU; the in-place ones are marked True.
_RELUS = {
    F.relu: None,  # decides by its ``inplace`` argument
    torch.relu: False,
    torch.relu_: True,
    torch.Tensor.relu: False,
    torch.Tensor.relu_: True,
}


class _ReluRule(TorchFunctionMode):
    def __init__(self, rule: str) -> None:
        super().__init__()
        self.function = _FUNCTIONS[rule]
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _RELUS:
            inplace = _RELUS[func]
            if inplace is None:
                inplace = bool(kwargs.get("inplace", args[1] if len(args) > 1 else False))
            x = args[0]
            self.calls += 1
            out = self.function.apply(x)
            if inplace:
                # Keep in-place semantics for code that ignores the return value: the copy's
                # backward hands the whole gradient to ``out`` and so to the rule above.
                x.copy_(out)
                return x
            return out
        return func(*args, **kwargs)


@contextmanager
def relu_rule(rule: str = "guided") -> Iterator[_ReluRule | None]:
    """Within the block, every ReLU backpropagates by ``rule`` ("backprop", "guided", "deconvnet").

    Yields the mode object, whose ``calls`` counts the ReLUs it rerouted (None for "backprop").
    """
    if rule not in RULES:
        raise ValueError(f"unknown ReLU rule {rule!r}; choose one of: {', '.join(RULES)}")
    if rule == "backprop":
        yield None
        return
    with _ReluRule(rule) as mode:
        yield mode
