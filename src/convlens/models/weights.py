"""Pretrained weights from files: torchvision's state dicts, drop-in, for the zoo models.

A weight file holds a state dict, a flat map from parameter names to tensors: ``.pth`` / ``.pt``
(read with ``torch.load(weights_only=True)``, which refuses anything but tensors and plain
containers, so opening a file cannot run code) or ``.safetensors``.

Names. convlens's ResNets and GoogLeNet are built with torchvision's module names, so their keys
are torchvision's. AlexNet and VGG are spec-built ``nn.Sequential`` networks whose layers are
named like the summary rows (``conv1``, ``relu1``, ``pool1``, ``fc1``); torchvision splits the same
layers, in the same order, into ``features`` (everything before the adaptive pooling) and
``classifier`` (everything after it but the flatten) and numbers them (torchvision/models/vgg.py,
``make_layers``; alexnet.py). ``torchvision_names`` computes that numbering from the module
itself, so it holds for every VGG depth, with or without batch norm, and the model keeps its own
names.

Two differences between torchvision's files and its module are accepted, as torchvision's own
builders accept them: GoogLeNet files hold the auxiliary classifiers (``aux1``, ``aux2``), which
``googlenet(weights=...)`` loads and then deletes when ``aux_logits=False``; files saved before
PyTorch 0.4.1 lack batch norm's ``num_batches_tracked`` counter (``_NormBase`` fills it in).
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convlens.errors import CheckpointError
from convlens.models.head import head_name
from convlens.train.checkpoint import check_tensors

SUFFIXES = (".pth", ".pt", ".safetensors")


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a ``.pth`` / ``.pt`` / ``.safetensors`` file, on the CPU."""
    path = Path(path)
    if path.suffix not in SUFFIXES:
        raise CheckpointError(
            f"weights {str(path)!r} should be a .pth, .pt or .safetensors state dict file."
        )
    if not path.is_file():
        raise CheckpointError(f"weights file {str(path)!r} does not exist.")
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        if path.suffix == ".safetensors":
            state: Any = load_file(str(path), device="cpu")
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except (
        pickle.UnpicklingError,
        SafetensorError,
        RuntimeError,
        OSError,
        ValueError,
        EOFError,
    ) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"weights file {str(path)!r} cannot be read as a state dict ({first})."
        ) from None
    # training scripts often wrap the state dict: {"state_dict": {...}} (PyTorch Lightning)
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError(
            f"weights file {str(path)!r} holds no state dict (a map from names to tensors)."
        )
    return {str(k): v for k, v in state.items()}


def torchvision_names(model: nn.Module) -> dict[str, str]:
    """torchvision key -> this model's key, for the parameters and buffers that differ.

    Empty for models that already use torchvision's names. For a Sequential with an adaptive
    pooling child (AlexNet, VGG): the children before it are ``features.0``, ``features.1``, ...,
    those after it ``classifier.0``, ... (without the flatten, which torchvision calls in
    ``forward``).
    """
    children = list(model.named_children())
    pools = [i for i, (_, m) in enumerate(children) if isinstance(m, nn.AdaptiveAvgPool2d)]
    if not isinstance(model, nn.Sequential) or not pools:
        return {}
    features = children[: pools[0]]
    classifier = [(n, m) for n, m in children[pools[0] + 1 :] if not isinstance(m, nn.Flatten)]
    names: dict[str, str] = {}
    for part, modules in (("features", features), ("classifier", classifier)):
        for index, (name, module) in enumerate(modules):
            for key in module.state_dict():
                names[f"{part}.{index}.{key}"] = f"{name}.{key}"
    return names


def fit_state_dict(
    model: nn.Module,
    tensors: Mapping[str, torch.Tensor],
    where: str,
    *,
    replace_head: bool = False,
    notes: list[str] | None = None,
) -> dict[str, torch.Tensor]:
    """The file's tensors under the model's names, checked against the model.

    Raises ``CheckpointError`` naming the first missing or unexpected key or mismatched shape.
    With ``replace_head`` the head (last ``nn.Linear``) keeps the model's own fresh weights when
    the file's have another number of classes, and ``notes`` (when given) gets a sentence that
    says so.
    """
    own = model.state_dict()
    tensors = dict(tensors)
    mapping = torchvision_names(model)
    if mapping and not any(k in own for k in tensors):
        tensors = {mapping.get(k, k): v for k, v in tensors.items()}
    for aux in ("aux1.", "aux2."):  # torchvision's GoogLeNet files; see the module docstring
        if not any(k.startswith(aux) for k in own):
            tensors = {k: v for k, v in tensors.items() if not k.startswith(aux)}
    for key, value in own.items():
        if key.endswith("num_batches_tracked") and key not in tensors:
            tensors[key] = torch.zeros_like(value, device="cpu")
    if replace_head:
        head = head_name(model)
        key = f"{head}.weight"
        if key in tensors and key in own and tensors[key].shape != own[key].shape:
            if notes is not None:
                notes.append(
                    f"the head {head} starts afresh with {own[key].shape[0]} outputs for the "
                    f"data's classes ({where} has {tensors[key].shape[0]}); every other layer "
                    "starts from the file"
                )
            for k in (key, f"{head}.bias"):
                if k in tensors and k in own:
                    tensors[k] = own[k]
    back = {ours: theirs for theirs, ours in mapping.items()}

    def named(key: str) -> str:  # the model's key, and the file's where it differs
        return f"{key!r} ({back[key]!r} in torchvision's names)" if key in back else repr(key)

    check_tensors(own, tensors, where, holder="the file", named=named)
    return tensors


def load_pretrained(
    model: nn.Module,
    weights: str | Path,
    *,
    replace_head: bool = False,
    notes: list[str] | None = None,
) -> nn.Module:
    """Load a state dict file into ``model`` (in place; also returned); with ``replace_head``,
    a head for another number of classes keeps its fresh weights (said in ``notes``).

    A zoo model with a ``transform_input`` switch that was not chosen explicitly (GoogLeNet) gets
    it turned on, as torchvision's builder does whenever it loads its weights.
    """
    tensors = read_state_dict(weights)
    fitted = fit_state_dict(
        model, tensors, f"weights {str(weights)!r}", replace_head=replace_head, notes=notes
    )
    model.load_state_dict(fitted)
    kwargs = getattr(model, "model_kwargs", None)
    if (
        getattr(model, "model_name", None)
        and isinstance(kwargs, dict)
        and hasattr(model, "transform_input")
        and "transform_input" not in kwargs
    ):
        setattr(model, "transform_input", True)  # noqa: B010 (an attribute of some models only)
        kwargs["transform_input"] = True
    return model
