"""The model zoo's registry: every built-in network under one name.

A family module (``lenet.py``, ``vgg.py``, ...) registers a builder with ``register_model``; the
builder takes ``num_classes`` and ``in_channels`` (and its own keyword options) and returns an
``nn.Module``. ``create_model`` fills in the defaults, checks the options and stamps every module
with ``model_name`` and ``in_shape`` (the default input shape adapted to ``in_channels``), so
``summarize(model)``, training and the pictures all know what the network expects.

    >>> model = create_model("resnet18", num_classes=10, small_input=True)
    >>> model.in_shape
    (3, 32, 32)

Sequential networks are written as spec text and built with ``convlens.build.build_model``;
branched ones (inception blocks, residual blocks, LeNet-5's partial connections) are small
``nn.Module`` classes.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convlens.errors import ConfigError

Builder = Callable[..., Any]  # (num_classes, in_channels, **options) -> nn.Module

# family modules, imported the first time the registry is used (keeps `import convlens` light)
_FAMILY_MODULES = (
    "lenet", "alexnet", "vgg", "googlenet", "resnet", "mlp", "mnist1d", "small", "rcnn"
)  # fmt: skip


@dataclass(frozen=True)
class ModelInfo:
    """What the zoo knows about one model before building it."""

    name: str
    family: str  # lenet, alexnet, vgg, googlenet, resnet, mlp, mnist1d, small
    in_shape: tuple[int, ...]  # default input without the batch: (C, H, W), (C, L) or (F,)
    num_classes: int  # default number of outputs
    description: str  # one line
    source: str  # the paper or implementation the architecture (and its count) comes from
    params: int  # parameter count at the defaults, as the source states or hand arithmetic gives
    options: tuple[str, ...] = ()  # keyword options of the builder besides the two above
    notes: str = ""  # how the model adapts to other inputs (from the builder's docstring)

    @property
    def input_text(self) -> str:
        return "x".join(str(v) for v in self.in_shape)


_MODELS: dict[str, tuple[ModelInfo, Builder]] = {}
_loaded = False


def register_model(
    name: str,
    *,
    family: str,
    in_shape: Sequence[int],
    num_classes: int,
    description: str,
    source: str,
    params: int,
) -> Callable[[Builder], Builder]:
    """Decorator that adds a builder to the zoo under ``name``."""

    def decorate(builder: Builder) -> Builder:
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        signature = inspect.signature(builder)
        for required in ("num_classes", "in_channels"):
            if required not in signature.parameters:
                raise TypeError(f"builder of {name!r} must take {required}")
        options = tuple(p for p in signature.parameters if p not in ("num_classes", "in_channels"))
        info = ModelInfo(
            name=name,
            family=family,
            in_shape=tuple(int(v) for v in in_shape),
            num_classes=num_classes,
            description=description,
            source=source,
            params=params,
            options=options,
            notes=inspect.cleandoc(builder.__doc__ or ""),
        )
        _MODELS[name] = (info, builder)
        return builder

    return decorate


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _FAMILY_MODULES:
            importlib.import_module(f"convlens.models.{module}")


def list_models(family: str | None = None) -> list[str]:
    """Names of the built-in models, in registration order, optionally of one family."""
    _load()
    if family is not None and family not in families():
        raise ConfigError(f"unknown model family {family!r}; families: {', '.join(families())}")
    return [name for name, (info, _) in _MODELS.items() if family is None or info.family == family]


def families() -> list[str]:
    _load()
    return list(dict.fromkeys(info.family for info, _ in _MODELS.values()))


def model_info(name: str) -> ModelInfo:
    """The registry entry of one model (raises ``ConfigError`` for an unknown name)."""
    return _lookup(name)[0]


def closest_model(text: str, cutoff: float = 0.75) -> str | None:
    """The zoo name that ``text`` most likely means, or None: "lenet" -> lenet5, "ResNet-18" ->
    resnet18. Case, dashes, underscores and spaces are ignored; the whole text is tried, then its
    part before the first dash (a spec's first token); ties go to the name registered first."""
    _load()

    def fold(name: str) -> str:
        return "".join(c for c in name.lower() if c not in "-_ ")

    for candidate in dict.fromkeys((text, text.split("-")[0])):
        key = fold(candidate)
        score, _, name = max(
            (difflib.SequenceMatcher(None, key, fold(n)).ratio(), -i, n)
            for i, n in enumerate(_MODELS)
        )
        if key and score >= cutoff:
            return name
    return None


def _lookup(name: str) -> tuple[ModelInfo, Builder]:
    _load()
    key = name.strip().lower().replace("-", "_")
    if key not in _MODELS:
        close = difflib.get_close_matches(key, list(_MODELS), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}?" if close else "see `convlens zoo`"
        raise ConfigError(f"unknown model {name!r}; {hint}")
    return _MODELS[key]


def create_model(
    name: str,
    num_classes: int | None = None,
    in_channels: int | None = None,
    *,
    weights: str | Path | None = None,
    **kwargs: Any,
) -> Any:
    """Build a zoo model: ``create_model("vgg16", num_classes=10, small_input=True)``.

    ``num_classes`` and ``in_channels`` default to the model's own (``model_info(name)``); other
    keyword options are listed in ``model_info(name).options``. Works under
    ``with torch.device("meta"):`` to build even VGG-19 without allocating its weights.

    ``weights``: a state dict file (``.pth``, ``.pt`` or ``.safetensors``) in convlens's or
    torchvision's names, e.g. torchvision's ImageNet weights: ``create_model("vgg16",
    weights="vgg16-397923af.pth")``. See ``convlens.models.weights``.
    """
    info, builder = _lookup(name)
    num_classes = info.num_classes if num_classes is None else num_classes
    in_channels = info.in_shape[0] if in_channels is None else in_channels
    for what, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{what} must be a positive whole number, not {value!r}")
    if len(info.in_shape) == 1 and in_channels != info.in_shape[0]:
        raise ConfigError(
            f"{info.name} takes a vector of {info.in_shape[0]} features; in_channels cannot change it"
        )
    unknown = sorted(set(kwargs) - set(info.options))
    if unknown:
        known = ", ".join(info.options) or "none"
        raise ConfigError(f"{info.name} has no option {unknown[0]!r}; its options: {known}")
    model = builder(num_classes=num_classes, in_channels=in_channels, **kwargs)
    if getattr(model, "in_shape", None) is None:
        model.in_shape = (in_channels, *info.in_shape[1:])
    model.model_name = info.name
    model.model_kwargs = dict(kwargs)  # what a checkpoint needs to build the same model again
    if weights is not None:
        from convlens.models.weights import load_pretrained

        load_pretrained(model, weights)
    return model
