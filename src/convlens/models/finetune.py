"""Fine-tuning: start from pretrained weights, give the network a head for the new classes, and
train only the layers that are not frozen.

``convlens train resnet18 --weights resnet18.pth --data my_photos --freeze backbone`` builds
ResNet-18 at its own geometry (global or adaptive pooling lets it take the photos' size), loads
every tensor but the head's, puts a fresh head (``head.py``) for the folder's classes in place, and
sets ``requires_grad=False`` on the frozen parameters, which the optimiser then never receives
(``train/optim.py`` takes only trainable ones). This is the "ConvNet as fixed feature extractor"
and "fine-tuning the ConvNet" of the CS231n transfer-learning notes.

Batch norm's running statistics are buffers, not parameters: in training mode they follow the new
data even in frozen layers, as in torchvision's fine-tuning tutorial.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from convlens.errors import ConfigError
from convlens.models.head import head_name, num_outputs, replace_head


def freeze(model: nn.Module, what: str) -> list[str]:
    """Freeze ``backbone`` (everything but the head) or the parameters under comma-separated
    module-name prefixes (``conv1,layer1``); return the frozen parameter names."""
    prefixes = [p.strip() for p in what.split(",") if p.strip()]
    if not prefixes:
        return []
    names = [name for name, _ in model.named_parameters()]
    if prefixes == ["backbone"]:
        head = head_name(model)
        chosen = [n for n in names if not n.startswith(head + ".")]
    else:
        chosen = []
        for prefix in prefixes:
            hits = [n for n in names if n == prefix or n.startswith(prefix + ".")]
            if not hits:
                tops = ", ".join(dict.fromkeys(n.split(".")[0] for n in names))
                raise ConfigError(
                    f"--freeze {prefix!r} names no parameters; use 'backbone' or module names "
                    f"such as: {tops}."
                )
            chosen += [n for n in hits if n not in chosen]
    if len(chosen) == len(names):
        raise ConfigError(f"--freeze {what!r} freezes every parameter; nothing would train.")
    params = dict(model.named_parameters())
    for name in chosen:
        params[name].requires_grad_(False)
    return chosen


def model_for_data(
    config: Any, in_shape: tuple[int, ...], num_classes: int, notes: list[str] | None = None
) -> nn.Module:
    """The model a training run starts from: ``config.model`` (zoo name, spec or FILE.py:NAME with
    ``config.kwargs``) for data of ``in_shape`` and ``num_classes``, with ``config.weights``
    loaded and ``config.freeze`` applied; ``notes`` (when given) gets a sentence for a head that
    starts afresh and for the parameters frozen."""
    import torch

    from convlens.models.registry import create_model, list_models
    from convlens.models.user import is_reference, load_user_model, parse_kwargs
    from convlens.models.weights import load_pretrained
    from convlens.train.recipes import make_model

    kwargs = parse_kwargs(config.kwargs)
    if is_reference(config.model):
        torch.manual_seed(config.seed)
        model = load_user_model(config.model, kwargs)
        if num_outputs(model) not in (None, num_classes):
            replace_head(model, num_classes)  # sized for the data; a checkpoint replays this
        model.in_shape = tuple(in_shape)
    elif kwargs:
        raise ConfigError("--kwargs is for a model given as FILE.py:NAME or module:NAME.")
    elif config.weights and config.model in list_models():
        # pretrained weights fix the geometry: build at the model's own size (its adaptive or
        # global pooling takes the data's size) instead of resizing layers to the data
        torch.manual_seed(config.seed)
        model = create_model(config.model, num_classes=num_classes, in_channels=in_shape[0])
        model.in_shape = tuple(in_shape)
        _check_runs(model, in_shape, config.model)
    else:
        model = make_model(config.model, in_shape, num_classes, config.input, config.seed)
    if config.weights:
        load_pretrained(model, config.weights, replace_head=True, notes=notes)
    if config.freeze:
        frozen = set(freeze(model, config.freeze))
        if notes is not None:
            named = list(model.named_parameters())
            count = sum(p.numel() for n, p in named if n in frozen)
            total = sum(p.numel() for _, p in named)
            notes.append(
                f"--freeze {config.freeze}: {count:,} of {total:,} parameters frozen "
                f"({len(frozen)} of {len(named)} tensors); {total - count:,} train"
            )
    return model


def _check_runs(model: nn.Module, in_shape: tuple[int, ...], name: str) -> None:
    from convlens.analysis.summary import summarize

    summary = summarize(model, in_shape)
    if summary.error:
        have = "x".join(map(str, in_shape))
        raise ConfigError(
            f"model {name!r} cannot run on this data's {have} inputs ({summary.error})."
        )


def pretrained_statistics(data: Any, weights: str) -> Any:
    """Colour images normalised with ImageNet's mean and std when starting from ``weights``:
    pretrained filters expect the inputs they were trained on (torchvision's weights all take
    this normalisation); other data, or no weights, passes through unchanged."""
    import dataclasses

    from convlens.models.imagenet import IMAGENET_MEAN, IMAGENET_STD

    if data is None or not weights or len(data.in_shape) != 3 or data.in_shape[0] != 3:
        return data
    return dataclasses.replace(data, mean=IMAGENET_MEAN, std=IMAGENET_STD)
