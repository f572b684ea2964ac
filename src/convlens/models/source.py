"""Any model a command is pointed at, opened the same way: ``predict``, ``viz`` and ``export`` take
a checkpoint (a run directory, NAME.json or NAME.safetensors), a zoo name or the user's
``FILE.py:NAME``, the last two with ``--weights FILE`` (``weights.py``) and ``--kwargs JSON``.

The result is a ``Checkpoint`` in every case, so the commands need no branches of their own. A
model with 1,000 outputs and weights from a file is taken to carry ImageNet weights (torchvision's
all do): it gets the ImageNet class names, mean and std, and photos are cut as torchvision cuts
them (``imagenet.py``); ``imagenet=True`` or ``False`` says so explicitly instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from convlens.errors import ConfigError

IMAGENET_CLASSES = 1000
IMAGENET_SHAPE = (3, 224, 224)


def is_checkpoint(ref: str) -> bool:
    """A run directory, NAME.json / NAME.safetensors, NAME with its .json beside it, or any path
    with a folder in it (then the checkpoint loader says what is missing)."""
    path = Path(ref)
    return (
        path.is_dir()
        or path.suffix in (".json", ".safetensors")
        or path.with_suffix(".json").is_file()
        or len(path.parts) > 1
    )


def open_model(
    ref: str,
    *,
    weights: str | Path | None = None,
    kwargs: str | Mapping[str, Any] | None = None,
    imagenet: bool | None = None,
) -> Any:
    """The ``Checkpoint`` (model in eval mode, classes, mean, std, input shape) that ``ref`` names."""
    from convlens.data.folder import IMAGE_SUFFIXES
    from convlens.models.head import num_outputs
    from convlens.models.imagenet import IMAGENET_MEAN, IMAGENET_STD, imagenet_classes
    from convlens.models.user import is_reference, parse_kwargs
    from convlens.train.checkpoint import Checkpoint, load_checkpoint

    if str(ref).lower().endswith(IMAGE_SUFFIXES):
        raise ConfigError(
            f"{ref!r} is an image, not a model; the model comes first: a run directory, "
            "NAME.json, a zoo model or FILE.py:NAME."
        )
    options = parse_kwargs(kwargs)
    if is_checkpoint(ref) and not is_reference(ref):
        for flag, given in (("--weights", weights), ("--kwargs", options)):
            if given:
                raise ConfigError(
                    f"{flag} is for a zoo model or FILE.py:NAME; {ref!r} is a checkpoint, which "
                    "holds its own weights and settings."
                )
        return load_checkpoint(ref)
    model, kind = _build(ref, weights, options)
    model.eval()
    outputs = num_outputs(model)
    if imagenet is None:
        imagenet = weights is not None and outputs == IMAGENET_CLASSES
    in_shape = tuple(getattr(model, "in_shape", None) or (IMAGENET_SHAPE if imagenet else ()))
    if imagenet and (outputs != IMAGENET_CLASSES or in_shape[:1] != (3,)):
        raise ConfigError(
            f"{ref!r} has {outputs} outputs and {in_shape[:1] or 'unknown'} input channels; "
            "ImageNet models have 1,000 outputs and 3 channels."
        )
    meta = {
        "kind": kind,
        "model": ref,
        "model_kwargs": options,
        "num_classes": outputs,
        "weights": str(weights) if weights is not None else None,
        "preprocess": "imagenet" if imagenet else None,
    }
    return Checkpoint(
        model=model,
        meta=meta,
        classes=imagenet_classes() if imagenet else (),
        mean=IMAGENET_MEAN if imagenet else (),
        std=IMAGENET_STD if imagenet else (),
        in_shape=in_shape,
    )


def _build(ref: str, weights: str | Path | None, options: dict[str, Any]) -> tuple[Any, str]:
    """The model of a zoo name or FILE.py:NAME reference, with ``weights`` loaded, and its kind."""
    from convlens.models.registry import create_model, list_models
    from convlens.models.user import is_reference, load_user_model
    from convlens.models.weights import load_pretrained

    if is_reference(ref):
        model = load_user_model(ref, options)
        if weights is not None:
            load_pretrained(model, weights)
        return model, "user"
    if ref in list_models() or ref.strip().lower().replace("-", "_") in list_models():
        return create_model(ref, weights=weights, **options), "zoo"
    close = difflib.get_close_matches(ref, list_models(), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(close)}?)" if close else ""
    raise ConfigError(
        f"{ref!r} is neither a checkpoint (a run directory or NAME.json), a zoo model{hint} "
        "nor FILE.py:NAME."
    )


def class_index(target: str | int, classes: Sequence[str], num_classes: int) -> int:
    """A class given by index (``251``) or by name (``dalmatian``, any case) as its index."""
    text = str(target).strip()
    if text.lstrip("-").isdigit():
        index = int(text)
        if not 0 <= index < num_classes:
            raise ConfigError(
                f"class {index} is out of range; the model has {num_classes} classes (0 to "
                f"{num_classes - 1})."
            )
        return index
    folded = [c.lower() for c in classes]
    if text.lower() in folded:
        return folded.index(text.lower())
    if not classes:
        raise ConfigError(
            f"the model has no class names, so give the class as a number, not {text!r}."
        )
    close = difflib.get_close_matches(text.lower(), folded, n=3, cutoff=0.6)
    hint = (
        f"; did you mean {' or '.join(classes[folded.index(c)] for c in close)}?" if close else ""
    )
    raise ConfigError(f"the model has no class named {text!r}{hint}")
