"""Resume state: everything a run needs to continue exactly where it stopped.

``state.safetensors`` holds the tensors (weights, optimiser buffers, random generator states, the
current epoch's data order) and ``state.json`` the rest (step, epoch, optimiser hyper-parameters,
grad-scaler scale, history so far). A run resumed from it takes the same steps, on the same
batches, with the same augmentation draws and dropout masks, as a run that never stopped.

The run directory as a whole: ``run_files`` finds the files ``fit`` writes there (a folder with
any of them holds a run, which ``convlens train`` does not overwrite unasked), ``remove_run``
deletes them, and ``saved_progress`` reads how far the run got without loading a tensor.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convlens.errors import CheckpointError
from convlens.train.checkpoint import FORMAT, load_weights, read_pair, versions, write_pair
from convlens.train.config import TrainConfig, from_dict
from convlens.train.optim import Optimizer

# what ``fit`` writes into a run directory (loop.py's docstring says what each file is for)
RUN_FILES = (
    "config.json", "config.toml", "metrics.jsonl", "metrics.csv",
    "best.safetensors", "best.json", "last.safetensors", "last.json",
    "state.safetensors", "state.json",
)  # fmt: skip


@dataclass
class RunState:
    """The moving parts of a run, restored in place by ``load_state``."""

    model: nn.Module
    optimizer: Optimizer
    generator: torch.Generator  # data order and augmentation
    scaler: torch.amp.GradScaler | None = None
    step: int = 0  # optimiser steps taken in the whole run
    epoch: int = 0  # 0-based epoch that ``step`` is in
    order: torch.Tensor | None = None  # the current epoch's permutation of the training set


def save_state(path: Path, state: RunState, extra: dict[str, Any]) -> None:
    tensors: dict[str, torch.Tensor] = {
        f"model.{k}": v
        for k, v in getattr(state.model, "_orig_mod", state.model).state_dict().items()
    }
    opt = state.optimizer.state_dict()
    scalars: dict[str, dict[str, Any]] = {}
    for index, buffers in opt["state"].items():
        for key, value in buffers.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{index}.{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    tensors["rng.cpu"] = torch.get_rng_state()
    tensors["rng.generator"] = state.generator.get_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = s
    if state.order is not None:
        tensors["order"] = state.order
    meta = {
        "format": FORMAT,
        "step": state.step,
        "epoch": state.epoch,
        "optimizer": {"param_groups": opt["param_groups"], "scalars": scalars},
        "scaler": state.scaler.state_dict() if state.scaler is not None else None,
        "versions": versions(),
        **extra,
    }
    write_pair(path, tensors, meta)


def load_state(path: Path, state: RunState) -> dict[str, Any]:
    """Restore ``state`` in place from ``path`` (a stem); return the JSON's other entries."""
    if not path.with_suffix(".json").is_file():
        raise CheckpointError(
            f"there is no resume state at {str(path)!r}; start the run afresh, without resuming."
        )
    tensors, meta = read_pair(path)
    model = getattr(state.model, "_orig_mod", state.model)
    weights = {k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")}
    load_weights(model, weights, f"resume state {str(path)!r}")
    buffers: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            buffers.setdefault(int(index), {})[name] = value
    for index, values in meta["optimizer"]["scalars"].items():
        buffers.setdefault(int(index), {}).update(values)
    try:
        state.optimizer.load_state_dict(
            {"state": buffers, "param_groups": meta["optimizer"]["param_groups"]}
        )
    except (ValueError, KeyError) as err:
        raise CheckpointError(
            f"resume state {str(path)!r} does not fit this optimiser: {err}."
        ) from None
    torch.set_rng_state(tensors["rng.cpu"])
    state.generator.set_state(tensors["rng.generator"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("rng.cuda.")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    if state.scaler is not None and meta.get("scaler"):
        state.scaler.load_state_dict(meta["scaler"])
    state.step, state.epoch = int(meta["step"]), int(meta["epoch"])
    state.order = tensors.get("order")
    return meta


# --- the run directory ----------------------------------------------------------------------


def run_files(run_dir: Path) -> list[Path]:
    """The files of a training run in ``run_dir``: none for a new, empty or unrelated folder."""
    return [run_dir / name for name in RUN_FILES if (run_dir / name).is_file()]


def remove_run(run_dir: Path) -> None:
    """Delete a run's files, its report and its TensorBoard log; anything else stays."""
    for path in run_files(run_dir):
        path.unlink()
    (run_dir / "report.html").unlink(missing_ok=True)
    shutil.rmtree(run_dir / "tensorboard", ignore_errors=True)


@dataclass(frozen=True)
class SavedProgress:
    """How far a saved run got, read from ``state.json`` alone."""

    step: int  # optimiser steps taken
    config: TrainConfig  # the settings it was trained with, its schedule's length among them
    lr_scale: float = 1.0  # TrainControl.set_lr's change to the schedule's height


def saved_progress(run_dir: Path) -> SavedProgress:
    """The step, config and learning-rate scale of the resume state in ``run_dir``."""
    path = run_dir / "state.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
        config = from_dict(meta["config"], source=str(path))
        return SavedProgress(int(meta["step"]), config, float(meta.get("lr_scale", 1.0)))
    except FileNotFoundError:
        raise CheckpointError(
            f"there is no resume state at {str(path)!r}; start the run afresh, without resuming."
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"resume state {str(path)!r} cannot be read: {err}.") from None
