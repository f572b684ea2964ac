"""Evaluation and prediction: batched forward passes without gradients.

``evaluate`` returns plain numbers (loss, accuracy, per-class accuracy, confusion matrix) so that
the CLI, the report and a notebook can each render them their own way. For regression data (float
targets) they are the mean squared error as ``loss`` and its square root, ``rmse``, over all
target values.

A model has one test accuracy: training's final test, ``convlens eval``, ``predict`` and the
report all score a run the way training did, with the precision, memory layout and test-time
augmentation it recorded (``scoring_config``), and say which (``describe_scoring``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convlens.data.tensors import as_data
from convlens.errors import ConfigError
from convlens.torchutil import eval_mode
from convlens.train.config import TrainConfig
from convlens.train.device import Hardware, choose_hardware, resolve_device


def _batches(x: torch.Tensor, batch_size: int) -> Iterator[torch.Tensor]:
    for start in range(0, x.shape[0], batch_size):
        yield x[start : start + batch_size]


@torch.inference_mode()
def logits_of(
    model: nn.Module, x: torch.Tensor, hw: Hardware, batch_size: int = 1024, tta: bool = False
) -> torch.Tensor:
    """Float32 logits (N, classes) for normalised inputs x; with ``tta``, averaged with the
    horizontally flipped images (test-time augmentation, as in airbench's evaluation)."""
    out = []
    with eval_mode(model):
        for xb in _batches(x, batch_size):
            xb = xb.to(hw.device, non_blocking=True)
            if hw.channels_last and xb.dim() == 4:
                xb = xb.contiguous(memory_format=torch.channels_last)
            with hw.autocast():
                logits = model(xb).float()
                if tta and xb.dim() == 4:
                    logits = 0.5 * (logits + model(xb.flip(-1)).float())
            out.append(logits)
    return torch.cat(out) if out else torch.empty(0)


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    """counts[i, j] = examples of class i predicted as class j."""
    index = y_true.long() * num_classes + y_pred.long()
    return torch.bincount(index.cpu(), minlength=num_classes**2).view(num_classes, num_classes)


def outputs_for_targets(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The model outputs (N, k) in the shape of the regression targets: ``out[:, 0]`` for targets
    of shape (N,); a model with the wrong number of outputs is refused in one sentence."""
    k = int(y.shape[1]) if y.dim() == 2 else 1
    if out.dim() != 2 or out.shape[1] != k:
        have = f"{out.shape[1]}" if out.dim() == 2 else f"outputs of shape {tuple(out.shape[1:])}"
        raise ConfigError(
            f"the regression targets have {k} column(s), so the model needs {k} output(s) per "
            f"example, but it gives {have}."
        )
    return out[:, 0] if y.dim() == 1 else out


def regression_metrics(out: torch.Tensor, y: torch.Tensor) -> dict[str, Any]:
    """Mean squared error (``loss``) and its root (``rmse``) over every target value."""
    y = y.to(out.device)
    if not len(y):
        return {"loss": float("nan"), "rmse": float("nan"), "n": 0}
    mse = F.mse_loss(outputs_for_targets(out.float(), y), y.float()).item()
    return {"loss": mse, "rmse": mse**0.5, "n": len(y)}


def metrics_from_logits(
    logits: torch.Tensor, y: torch.Tensor, num_classes: int, *, full: bool = True
) -> dict[str, Any]:
    """Loss and accuracy (with ``full``, per class and the confusion matrix) for class labels;
    loss and RMSE for float regression targets."""
    if y.is_floating_point():
        return regression_metrics(logits, y)
    y = y.to(logits.device)
    loss = F.cross_entropy(logits, y).item() if len(y) else float("nan")
    pred = logits.argmax(1)
    acc = (pred == y).float().mean().item() if len(y) else float("nan")
    result: dict[str, Any] = {"loss": loss, "acc": acc, "n": len(y)}
    if full:
        cm = confusion_matrix(y, pred, num_classes)
        totals = cm.sum(1).clamp(min=1)
        result["per_class_acc"] = (cm.diag().float() / totals).tolist()
        result["confusion"] = cm.tolist()
    return result


def evaluate(
    model: nn.Module,
    data: Any,
    config: TrainConfig | None = None,
    *,
    full: bool = True,
    hardware: Hardware | None = None,
) -> dict[str, Any]:
    """Loss and accuracy of ``model`` on a TensorData (or an ``(x, y)`` pair); with ``full``, per-class accuracy and the
    confusion matrix too. For regression data: ``{"loss", "rmse", "n"}``, the loss being the mean
    squared error. The model moves to the device that ``config`` picks."""
    config = config or TrainConfig(verbose=0)
    data = as_data(data, config.task, "test")
    logits = scored_logits(model, data.float_x(), config, hardware=hardware)
    return metrics_from_logits(logits, data.y, data.num_classes, full=full)


def scored_logits(
    model: nn.Module, x: torch.Tensor, config: TrainConfig, *, hardware: Hardware | None = None
) -> torch.Tensor:
    """Float32 outputs for normalised inputs ``x`` (N, C, ...), computed on the device, in the
    precision and layout that ``config`` picks, with its test-time augmentation: the one way
    convlens scores data."""
    hw = hardware or choose_hardware(config, x.dim() - 2)
    model.to(hw.device)
    if hw.channels_last and x.dim() == 4:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    net = model
    if config.winograd:
        # the layers that training computed by Winograd's algorithm, computed so here too: the
        # same rounding gives the same predictions, and in half the time
        from convlens.train.winograd import winograd_runs_on, winograd_view

        if winograd_runs_on(hw):
            net, _ = winograd_view(model, (config.eval_batch_size, *x.shape[1:]))
    return logits_of(net, x.to(hw.device), hw, config.eval_batch_size, config.tta)


def scoring_record(
    config: TrainConfig, hw: Hardware, winograd: Sequence[str] = ()
) -> dict[str, Any]:
    """What a checkpoint records of how its run scored data: resolved precision and layout,
    test-time augmentation, the evaluation batch size and the convolutions computed by
    Winograd's algorithm (``winograd``, the names)."""
    return {
        "precision": hw.precision,
        "channels_last": hw.channels_last,
        "tta": config.tta,
        "batch_size": config.eval_batch_size,
        "device": hw.device.type,
        "winograd": list(winograd),
    }


def scoring_config(
    meta: dict[str, Any],
    trained: TrainConfig | None,
    *,
    device: str = "auto",
    tta: bool | None = None,
) -> TrainConfig:
    """A config that scores a checkpoint exactly as its run did: the precision, layout, test-time
    augmentation and batch size recorded in ``meta["scoring"]`` (checkpoints written before it
    resolve the trained config's settings on this machine), and Winograd's algorithm where the
    run computed convolutions by it. ``tta`` overrides the recorded one. float16 (a CUDA run)
    falls back to float32 on a device without it."""
    trained = trained or TrainConfig(verbose=0)
    recorded = meta.get("scoring") or {}
    precision = str(recorded.get("precision") or trained.precision)
    if precision == "float16" and resolve_device(device).type != "cuda":
        precision = "float32"
    layout = recorded.get("channels_last")
    use_tta = bool(recorded.get("tta", trained.tta)) if tta is None else tta
    return TrainConfig(
        device=device,
        precision=precision,
        channels_last=trained.channels_last if layout is None else ("on" if layout else "off"),
        tta=use_tta,
        flip=use_tta,
        eval_batch_size=int(recorded.get("batch_size") or trained.eval_batch_size),
        winograd=bool(recorded.get("winograd")),
        verbose=0,
    )


def describe_scoring(config: TrainConfig, ndim: int = 2) -> str:
    """How ``config`` scores data, in words: "bfloat16 autocast, channels-last, flip TTA"."""
    hw = choose_hardware(dataclasses.replace(config, threads=0), ndim)  # threads: leave them be
    words = [hw.precision if hw.precision == "float32" else f"{hw.precision} autocast"]
    if hw.channels_last:
        words.append("channels-last")
    words.append("flip TTA" if config.tta else "no TTA")
    return ", ".join(words)


def predict(
    model: nn.Module, x: Any, config: TrainConfig | None = None, *, hardware: Hardware | None = None
) -> torch.Tensor:
    """Class probabilities (N, classes) on the CPU for a TensorData or a normalised float tensor;
    for regression data (a TensorData with float targets), the model's outputs as they are."""
    config = config or TrainConfig(verbose=0)
    inputs = x.float_x() if hasattr(x, "float_x") else torch.as_tensor(x, dtype=torch.float32)
    logits = scored_logits(model, inputs, config, hardware=hardware)
    if getattr(x, "task", "classification") == "regression":
        return logits.cpu()
    return logits.float().softmax(1).cpu()  # in float32, whatever precision scored the logits
