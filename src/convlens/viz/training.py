"""Pictures of a training run: loss and accuracy (for regression: RMSE) curves, the confusion
matrix, the test examples the model gets wrong with the most confidence, and a regression's
predictions against its targets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from convlens.errors import DataError
from convlens.torchutil import eval_mode
from convlens.viz.figures import new_figure, show_image


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The per-epoch records of a run: ``RUN_DIR/metrics.jsonl`` (or that file itself)."""
    path = Path(path)
    file = path / "metrics.jsonl" if path.is_dir() else path
    if not file.is_file():
        raise DataError(
            f"there is no metrics file {str(file)!r}; give a run directory that training wrote"
        )
    records = []
    for number, line in enumerate(file.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise DataError(
                f"{str(file)!r} line {number} is not JSON; the metrics file is damaged"
            ) from None
    return records


def _records(history: Any) -> list[dict[str, Any]]:
    if isinstance(history, (str, Path)):
        return read_metrics(history)
    if hasattr(history, "records"):
        return list(history.records)
    return list(history)


def plot_history(history: Any):
    """Loss (left) and accuracy (right; RMSE for a regression run) by epoch, train and validation,
    from a History, a list of records or a run directory."""
    records = _records(history)
    fig, axes = new_figure(1, 2, panel=3.2)
    epochs = [r.get("epoch", k + 1) for k, r in enumerate(records)]
    second = ("rmse", "RMSE") if any("rmse" in r for r in records) else ("acc", "accuracy")
    for ax, metric, label in ((axes[0, 0], "loss", "loss"), (axes[0, 1], *second)):
        for key, style in ((metric, "-o"), (f"val_{metric}", "-s")):
            pts = [(e, r[key]) for e, r in zip(epochs, records) if r.get(key) is not None]
            if pts:
                ax.plot(*zip(*pts), style, ms=3, label="train" if key == metric else "validation")
        ax.set_xlabel("epoch")
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    return fig


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    """counts[i, j] = examples of true class i predicted as class j."""
    t = np.asarray(torch.as_tensor(y_true).cpu(), dtype=np.int64)
    p = np.asarray(torch.as_tensor(y_pred).cpu(), dtype=np.int64)
    return np.bincount(t * num_classes + p, minlength=num_classes**2).reshape(
        num_classes, num_classes
    )


def plot_confusion(counts: np.ndarray, classes: Sequence[str] = ()):
    """The confusion matrix with counts in the cells; rows are true classes."""
    n = len(counts)
    names = list(classes) if len(classes) == n else [str(k) for k in range(n)]
    fig, axes = new_figure(1, 1, panel=min(7.0, 1.2 + 0.45 * n))
    ax = axes[0, 0]
    ax.imshow(counts, cmap="Blues")
    big = counts.max() if counts.size else 0
    for i in range(n):
        for j in range(n):
            if n <= 20:
                colour = "white" if counts[i, j] > big / 2 else "black"
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(n), names, rotation=90 if n > 5 else 0, fontsize=7)
    ax.set_yticks(range(n), names, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"accuracy {acc:.2%} on {counts.sum():,} examples", fontsize=9)
    return fig


def plot_predicted(predicted: Any, target: Any, rmse: float):
    """A regression's predictions against its targets (every column together), with the line
    where they are equal."""
    p = np.asarray(torch.as_tensor(predicted).cpu(), dtype=np.float64).reshape(-1)
    t = np.asarray(torch.as_tensor(target).cpu(), dtype=np.float64).reshape(-1)
    fig, axes = new_figure(1, 1, panel=3.6)
    ax = axes[0, 0]
    ax.scatter(t, p, s=6, alpha=0.6)
    if t.size:
        low, high = min(t.min(), p.min()), max(t.max(), p.max())
        ax.plot([low, high], [low, high], color="grey", linewidth=1)
    ax.set_xlabel("target")
    ax.set_ylabel("predicted")
    ax.set_title(f"RMSE {rmse:.4g} on {t.size:,} values", fontsize=9)
    ax.grid(alpha=0.3)
    return fig


@dataclass(frozen=True)
class Mistake:
    index: int  # position in the data
    true: int
    predicted: int
    confidence: float  # softmax probability of the wrong prediction


def predictions(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Softmax probabilities for every input, ``(N, classes)``, in eval mode."""
    with eval_mode(model), torch.no_grad():
        return torch.cat(
            [model(x[i : i + batch_size]).softmax(-1) for i in range(0, len(x), batch_size)]
        )


def most_confident_wrong(probs: torch.Tensor, y: torch.Tensor, k: int = 8) -> list[Mistake]:
    """The ``k`` misclassified examples whose wrong prediction had the highest probability."""
    conf, pred = probs.max(dim=-1)
    wrong = torch.nonzero(pred != y).flatten()
    order = wrong[torch.argsort(conf[wrong], descending=True)][:k]
    return [Mistake(int(i), int(y[i]), int(pred[i]), float(conf[i])) for i in order]


def plot_mistakes(
    pictures: Sequence[np.ndarray], mistakes: Sequence[Mistake], classes: Sequence[str] = ()
):
    """Each wrong example with "true → predicted (probability)"."""

    def name(c: int) -> str:
        return classes[c] if c < len(classes) else str(c)

    n = max(1, len(mistakes))
    ncols = min(n, 8)
    fig, axes = new_figure(-(-n // ncols), ncols, panel=1.6)
    for ax, pic, m in zip(axes.flat, pictures, mistakes):
        title = f"{name(m.true)} → {name(m.predicted)}\n{m.confidence:.0%}"
        if np.ndim(pic) == 1:  # a 1-D signal
            ax.plot(pic, lw=0.8)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(title, fontsize=8)
        else:
            show_image(ax, pic, title)
    for ax in list(axes.flat)[len(mistakes) :]:
        ax.axis("off")
    return fig
