"""A classifier's head: its last ``nn.Linear``, found in any module, and swapped for a new one.

Every zoo network, and nearly every image classifier written in PyTorch, ends in one linear layer
from features to class scores (torchvision's ``fc`` or ``classifier.6``, convlens's ``fc3``). It is
registered last, so it is the last ``nn.Linear`` of ``named_modules()``; auxiliary heads
(GoogLeNet's ``aux1``, ``aux2``) are registered before it. Fine-tuning replaces it with a fresh
layer for the new classes and keeps the rest.
"""

from __future__ import annotations

from torch import nn

from convlens.errors import ConfigError


def head_name(model: nn.Module) -> str:
    """Module path of the last ``nn.Linear`` (e.g. ``fc`` or ``fc3``)."""
    names = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not names:
        raise ConfigError(
            f"{type(model).__name__} has no nn.Linear layer, so it has no classifier head to replace."
        )
    return names[-1]


def num_outputs(model: nn.Module) -> int | None:
    """The head's ``out_features`` (the number of classes), or None without a linear layer."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    return linears[-1].out_features if linears else None


def replace_head(model: nn.Module, num_classes: int) -> str:
    """Swap the head for a new ``nn.Linear`` with ``num_classes`` outputs (PyTorch's default
    initialisation, on the old head's device and dtype); return its name. No-op if it fits."""
    name = head_name(model)
    old = model.get_submodule(name)
    assert isinstance(old, nn.Linear)
    if old.out_features != num_classes:
        parent_name, _, attr = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        new = nn.Linear(
            old.in_features,
            num_classes,
            bias=old.bias is not None,
            device=old.weight.device,
            dtype=old.weight.dtype,
        )
        setattr(parent, attr, new)
    return name
