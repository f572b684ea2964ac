"""Checkpoints: safetensors weights beside a JSON file that says how to rebuild the model.

``NAME.safetensors`` holds tensors only and ``NAME.json`` everything else: the model's name or spec,
its keyword arguments, input shape, task (classification or regression), class names, number of
outputs (``num_classes``: classes, or a regression's target columns), normalisation, the training
config, epoch, metrics and library versions. Nothing is pickled, so opening a checkpoint cannot
run code.

Every file is written atomically (``convlens.fileio``): a run killed at any moment leaves either
the old pair or the new one. The step number is written into both files, so a pair whose halves come
from different moments (a kill between the two renames) is detected instead of loaded.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from convlens.errors import CheckpointError
from convlens.fileio import atomic_write, atomic_write_text
from convlens.train.config import TrainConfig, from_dict

FORMAT = "convlens-checkpoint-1"
_PAIR = (".safetensors", ".json")  # the two files of one checkpoint


# --- the file pair --------------------------------------------------------------------------


def write_pair(stem: Path, tensors: Mapping[str, torch.Tensor], meta: Mapping[str, Any]) -> None:
    """Write ``stem.safetensors`` then ``stem.json``, both tagged with the same step."""
    tag = str(meta.get("step", 0))
    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    atomic_write(stem.with_suffix(".safetensors"), lambda tmp: save_file(flat, tmp, {"step": tag}))
    atomic_write_text(stem.with_suffix(".json"), json.dumps(meta, indent=2, default=str) + "\n")


def read_pair(stem: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    weights, meta_path = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    for p in (weights, meta_path):
        if not p.is_file():
            raise CheckpointError(f"checkpoint file {str(p)!r} does not exist.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise CheckpointError(
            f"checkpoint metadata {str(meta_path)!r} is not valid JSON: {err}."
        ) from None
    try:
        tensors = load_file(str(weights))
        from safetensors import safe_open

        with safe_open(str(weights), framework="pt") as fh:
            tag = (fh.metadata() or {}).get("step")
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(
            f"checkpoint weights {str(weights)!r} cannot be read: {err}."
        ) from None
    if tag is not None and tag != str(meta.get("step", 0)):
        raise CheckpointError(
            f"{str(weights)!r} (step {tag}) and its JSON (step {meta.get('step')}) were written at "
            "different moments; use the other checkpoint of the run."
        )
    return tensors, meta


def checkpoint_stem(path: str | Path) -> Path:
    """Accept a run directory (best, else last), ``NAME``, ``NAME.json`` or ``NAME.safetensors``."""
    path = Path(path)
    if path.is_dir():
        for name in ("best", "last"):
            if (path / f"{name}.json").is_file():
                return path / name
        raise CheckpointError(
            f"directory {str(path)!r} holds no best.json or last.json checkpoint."
        )
    if path.suffix in (".json", ".safetensors"):
        return path.with_suffix("")
    return path


# --- model identity -------------------------------------------------------------------------


def versions() -> dict[str, str]:
    import numpy
    import safetensors

    from convlens import __version__

    return {
        "convlens": __version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "safetensors": safetensors.__version__,
        "python": platform.python_version(),
    }


def model_identity(model: nn.Module, model_name: str = "") -> dict[str, Any]:
    """How to rebuild ``model``: its spec (built by build_model) or its zoo name and kwargs."""
    model = getattr(model, "_orig_mod", model)  # a torch.compile wrapper
    in_shape = getattr(model, "in_shape", None)
    shape = {"in_shape": list(in_shape)} if in_shape else {}
    if getattr(model, "model_ref", None):  # the user's own module (convlens.models.user)
        kwargs = dict(getattr(model, "model_kwargs", None) or {})
        return {"kind": "user", "model": model.model_ref, "model_kwargs": kwargs, **shape}
    name = getattr(model, "model_name", None) or model_name
    spec = getattr(model, "spec", None)
    if getattr(model, "model_name", None) or (name and spec is None):
        # a zoo model: create_model stamps model_name; extra options travel in model_kwargs
        kwargs = dict(getattr(model, "model_kwargs", None) or {})
        return {"kind": "zoo", "model": name, "model_kwargs": kwargs, **shape}
    if spec is not None and in_shape:
        from convlens.spec import format_spec

        # the stored spec is already expanded, so no default activations are added again
        return {
            "kind": "spec",
            "model": format_spec(spec),
            "model_kwargs": {"activation": None},
            **shape,
        }
    return {"kind": "unknown", "model": None, "model_kwargs": {}, **shape}


def rebuild_model(meta: Mapping[str, Any]) -> nn.Module:
    kind, name = meta.get("kind"), str(meta.get("model"))
    kwargs = dict(meta.get("model_kwargs") or {})
    if kind == "spec":
        from convlens.build import build_model

        return build_model(name, tuple(meta["in_shape"]), **kwargs)
    if kind == "zoo":
        from convlens.models.registry import create_model

        kwargs.setdefault("num_classes", meta.get("num_classes"))
        in_shape = meta.get("in_shape")
        if in_shape:
            kwargs.setdefault("in_channels", in_shape[0])
        return create_model(name, **kwargs)
    if kind == "user":
        from convlens.models.user import rebuild_user_model

        return rebuild_user_model(meta)
    raise CheckpointError(
        "this checkpoint's model was built in Python from a class it cannot name, so it cannot "
        "rebuild it: pass a model of that class, load_checkpoint(path, model) or "
        "write_report(run, model=model), or train it as FILE.py:NAME, which the command line "
        "rebuilds."
    )


# --- checkpoints ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    model: nn.Module
    meta: dict[str, Any]
    config: TrainConfig | None = None
    classes: tuple[str, ...] = ()
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    in_shape: tuple[int, ...] = ()
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def task(self) -> str:
        """classification or regression (checkpoints written before regression are classifiers)."""
        return str(self.meta.get("task") or "classification")


def checkpoint_meta(
    model: nn.Module,
    *,
    config: TrainConfig | None = None,
    data: Any = None,
    epoch: int | None = None,
    step: int = 0,
    metrics: Mapping[str, Any] | None = None,
    scoring: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON beside a checkpoint's weights: the model's identity, the data's classes and
    normalisation, the config, and how the run scored data (``scoring``, see
    ``evaluation.scoring_record``)."""
    meta: dict[str, Any] = {"format": FORMAT}
    meta.update(model_identity(model, config.model if config else ""))
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if linears:  # a classifier ends in its class scores; data, when given, says it for sure
        meta["num_classes"] = linears[-1].out_features
    task = config.task if config else "classification"
    if data is not None:
        task = getattr(data, "task", task)
        meta.setdefault("in_shape", list(data.in_shape))
        meta.update(
            num_classes=getattr(data, "num_outputs", data.num_classes),
            data=data.name,
            classes=list(data.classes),
            mean=list(data.mean),
            std=list(data.std),
        )
        if getattr(data, "options", ()):  # how the user's own data was read (size=, label=, ...)
            meta["data_options"] = dict(data.options)
    meta.update(
        task=task,
        config=config.to_dict() if config else None,
        epoch=epoch,
        step=step,
        metrics=dict(metrics or {}),
        versions=versions(),
    )
    if scoring:
        meta["scoring"] = dict(scoring)
    return meta


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    *,
    config: TrainConfig | None = None,
    data: Any = None,
    epoch: int | None = None,
    step: int = 0,
    metrics: Mapping[str, Any] | None = None,
    scoring: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``path.safetensors`` and ``path.json``; return the stem. ``data`` is a TensorData."""
    stem = checkpoint_stem(path) if not Path(path).is_dir() else Path(path) / "last"
    model = getattr(model, "_orig_mod", model)
    meta = checkpoint_meta(
        model, config=config, data=data, epoch=epoch, step=step, metrics=metrics, scoring=scoring
    )
    write_pair(stem, model.state_dict(), meta)
    return stem


def check_tensors(
    own: Mapping[str, torch.Tensor],
    tensors: Mapping[str, torch.Tensor],
    where: str,
    *,
    holder: str = "the checkpoint",
    named: Callable[[str], str] = repr,
) -> None:
    """Refuse, in one sentence, the first name or shape in which ``tensors`` differ from ``own``."""
    missing = [k for k in own if k not in tensors]
    extra = [k for k in tensors if k not in own]
    if missing or extra:
        what = f"lacks {named(missing[0])}" if missing else f"has unexpected {extra[0]!r}"
        raise CheckpointError(f"{where} does not match the model: {holder} {what}.")
    for key, value in own.items():
        if tuple(tensors[key].shape) != tuple(value.shape):
            raise CheckpointError(
                f"{where} does not match the model: {named(key)} is {tuple(tensors[key].shape)} "
                f"in {holder} but {tuple(value.shape)} in the model."
            )


def load_weights(model: nn.Module, tensors: Mapping[str, torch.Tensor], where: str) -> None:
    """Copy ``tensors`` into ``model``, refusing any difference in names or shapes."""
    check_tensors(model.state_dict(), tensors, where)
    model.load_state_dict(dict(tensors))


def load_checkpoint(
    path: str | Path, model: nn.Module | None = None, *, device: str | torch.device = "cpu"
) -> Checkpoint:
    """Load a checkpoint; rebuild its model from the metadata unless ``model`` is given."""
    stem = checkpoint_stem(path)
    if not Path(path).exists() and not any(stem.with_suffix(s).exists() for s in _PAIR):
        # named as typed: "runs/nope", not a runs/nope.safetensors the user never wrote
        raise CheckpointError(
            f"no run directory or checkpoint at {str(path)!r}; give the folder that "
            "`convlens train` wrote, or a checkpoint's NAME.json."
        )
    tensors, meta = read_pair(stem)
    if meta.get("format") != FORMAT:
        raise CheckpointError(
            f"{str(stem)!r} is not a convlens checkpoint (format {meta.get('format')!r})."
        )
    if model is None:
        model = rebuild_model(meta)
    load_weights(model, tensors, f"checkpoint {str(stem)!r}")
    model.to(device).eval()
    config = from_dict(meta["config"], source=str(stem)) if meta.get("config") else None
    return Checkpoint(
        model=model,
        meta=meta,
        config=config,
        classes=tuple(meta.get("classes") or ()),
        mean=tuple(meta.get("mean") or ()),
        std=tuple(meta.get("std") or ()),
        in_shape=tuple(meta.get("in_shape") or ()),
        metrics=dict(meta.get("metrics") or {}),
    )
