"""eval_mode(model): run a model in evaluation mode for a while, then put every flag back.

Visualisations, evaluation and tracing all need dropout off and BatchNorm on its running
statistics, and must leave the caller's model as they found it. ``model.train(was_training)`` is
not enough to undo ``model.eval()``: it sets the one flag on every submodule, so a BatchNorm that
the caller froze on purpose (fine-tuning with frozen statistics) comes back in training mode.
This saves each submodule's own flag and restores it exactly.

built_on_meta(): build modules on the meta device without running their initialisation, for
tables that need shapes only (``convlens summary``, the zoo).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn
from torch.overrides import TorchFunctionMode


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """``with eval_mode(model):`` runs the block with ``model.eval()`` and restores each flag."""
    flags = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        # each flag is set directly: calling ``train(flag)`` would recurse and overwrite the
        # flags of the children restored before it
        for module, flag in flags:
            module.training = flag


# the in-place ops of nn.init and of models' own initialisation: they write values only, which a
# meta tensor does not have (in-place ops that change metadata, requires_grad_ or unsqueeze_ say,
# still run)
_VALUE_WRITES = frozenset({
    "normal_", "uniform_", "fill_", "zero_", "copy_", "exponential_", "log_normal_", "cauchy_",
    "geometric_", "random_", "bernoulli_", "erfinv_", "mul_", "add_", "sub_", "div_", "clamp_",
    "abs_", "sqrt_", "neg_", "exp_", "log_",
})  # fmt: skip


class _SkipMetaInPlace(TorchFunctionMode):
    """An op of ``_VALUE_WRITES`` on a meta tensor returns the tensor untouched: it has nothing
    to write."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        target = args[0] if args else None
        if getattr(func, "__name__", "") in _VALUE_WRITES and getattr(target, "is_meta", False):
            return target
        return func(*args, **(kwargs or {}))


@contextmanager
def built_on_meta() -> Iterator[None]:
    """``with built_on_meta():`` builds modules on the meta device, shapes without memory, and
    skips their initialisation: an in-place op on a meta tensor has nothing to write, and some
    (``normal_``, which ``kaiming_normal_`` calls) run Python references on the meta device whose
    first use imports torch._dynamo, 1.2-2 s."""
    with torch.device("meta"), _SkipMetaInPlace():
        yield
