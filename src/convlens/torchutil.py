"""eval_mode(model): run a model in evaluation mode for a while, then put every flag back.

Visualisations, evaluation and tracing all need dropout off and BatchNorm on its running
statistics, and must leave the caller's model as they found it. ``model.train(was_training)`` is
not enough to undo ``model.eval()``: it sets the one flag on every submodule, so a BatchNorm that
the caller froze on purpose (fine-tuning with frozen statistics) comes back in training mode.
This saves each submodule's own flag and restores it exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


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
