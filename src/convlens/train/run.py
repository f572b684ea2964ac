"""The state one training run carries from step to step, and the History it returns.

``fit`` (in ``loop.py``) prepares a ``Run`` once; its named steps (train an epoch, validate, close
the epoch, end early) all read and update that one value instead of sharing a dozen locals.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from convlens.train import distributed
from convlens.train.callbacks import StepInfo, TrainControl
from convlens.train.config import TrainConfig
from convlens.train.device import Hardware
from convlens.train.optim import lr_factor
from convlens.train.progress import ProgressDisplay
from convlens.train.state import RunState
from convlens.train.stem import StemTable


@dataclass
class History(Mapping[str, list[Any]]):
    """Per-epoch metrics, like Keras's ``History``: ``history["val_acc"]`` is a list by epoch
    (``history["val_rmse"]`` for a regression run; ``loop.py`` lists the record keys).

    It is a read-only mapping from those keys to their lists, so ``"acc" in history``,
    ``history.keys()``, ``.items()``, ``.get("val_acc")`` and ``len(history)`` work as on the
    dict that ``history.history`` returns.
    """

    records: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None  # the record with the best monitored metric
    test: dict[str, Any] | None = None  # metrics on the test data after training
    outcome: str = "completed"  # completed | early_stopping | interrupted (Ctrl-C) | stopped
    stopped: bool = False  # ended before its last step by Ctrl-C or TrainControl.stop(): resumable
    hardware: str = ""  # device, precision, layout and threads that were used
    winograd: tuple[str, ...] = ()  # the convolutions computed by Winograd's F(6x6, 3x3)
    stem: tuple[str, ...] = ()  # the frozen first layers computed once per image (stem.py)
    run_dir: Path | None = None

    @property
    def history(self) -> dict[str, list[Any]]:
        return {k: [r.get(k) for r in self.records] for k in self._keys()}

    def _keys(self) -> dict[str, None]:
        return dict.fromkeys(k for r in self.records for k in r)

    def __getitem__(self, key: str) -> list[Any]:
        if key not in self._keys():
            raise KeyError(key)
        return [r.get(key) for r in self.records]

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __repr__(self) -> str:  # one line, not every record's every number
        from convlens.notebook import history_text

        return history_text(self)

    def _repr_html_(self) -> str:  # Jupyter: the epoch table and the curves
        from convlens.notebook import history_html

        return history_html(self)


# --- the schedule ---------------------------------------------------------------------------


def schedule_steps(config: TrainConfig, examples: int) -> tuple[int, int]:
    """(steps per epoch, total steps) of a run on ``examples`` training examples, counted as
    ``fit`` counts them: the ragged last batch of an epoch is dropped (tiny batches upset
    BatchNorm), and a fractional number of epochs is rounded to whole steps."""
    batch_size = min(config.batch_size, examples)
    per_epoch = examples // max(batch_size, 1)
    return per_epoch, max(1, round(config.epochs * per_epoch))


def scheduled_lr(
    config: TrainConfig, step: int, total_steps: int, steps_per_epoch: int, scale: float = 1.0
) -> float:
    """The learning rate of optimiser step ``step`` (0-based); ``scale`` is TrainControl.set_lr's
    change to the schedule's height."""
    return config.lr * scale * lr_factor(config, step, total_steps, steps_per_epoch)


# --- the parts of a run ---------------------------------------------------------------------


@dataclass
class Best:
    """The best value of the monitored metric so far and the epochs since (for patience)."""

    value: float | None = None
    since: int = 0

    def update(self, name: str, value: float | None) -> bool:
        """Count one more epoch; return True when ``value`` is the best yet."""
        if value is not None and _monitor_better(name, value, self.value):
            self.value, self.since = value, 0
            return True
        self.since += 1
        return False


def _monitor_better(name: str, value: float, best: float | None) -> bool:
    if best is None or math.isnan(best):
        return not math.isnan(value)
    return value < best if name.endswith(("loss", "rmse")) else value > best


@dataclass
class Totals:
    """The current epoch's running sums (saved mid-epoch, so a resumed epoch reports the same)."""

    loss: float = 0.0
    correct: float = 0.0
    seen: int = 0


@dataclass
class Hooks:
    """What the caller watches and steers the run with (see ``convlens.train.callbacks``)."""

    on_step: Callable[[StepInfo], None] | None = None
    on_epoch: Callable[[dict[str, Any]], None] | None = None
    control: TrainControl | None = None
    on_note: Callable[[str], None] | None = None  # each remark made as training starts


class Stopped(Exception):
    """TrainControl.stop() was asked for: end the run as Ctrl-C does."""


@dataclass
class Run:
    """Everything ``fit`` prepares once and the steps below share."""

    config: TrainConfig
    model: nn.Module  # the caller's model: checkpoints and resume state hold its weights
    net: nn.Module  # what runs forward: the model, wrapped in DDP and compiled when asked
    hw: Hardware
    world: distributed.World
    data: Any
    val: Any
    test: Any
    x: torch.Tensor  # (N, C, H, W) or (N, C, L), normalised, on the device
    y: torch.Tensor
    val_x: torch.Tensor | None
    batch_size: int
    steps_per_epoch: int
    total_steps: int
    state: RunState
    history: History
    hooks: Hooks
    run_path: Path | None = None
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None
    flips: torch.Tensor | None = None  # alternate_flip: the examples mirrored in even epochs
    flops_per_example: float | None = None
    stem: StemTable | None = None  # the frozen first layers' outputs per training image
    totals: Totals = field(default_factory=Totals)
    best: Best = field(default_factory=Best)
    lr_scale: float = 1.0  # TrainControl.set_lr's change to the schedule's height
    lr: float = 0.0  # the learning rate of the latest step
    final_val_logits: torch.Tensor | None = None
    display: ProgressDisplay | None = None
    board: Any = None  # TensorBoardLog, written by rank 0 only
    notes: list[str] = field(default_factory=list)  # said once as training starts

    @property
    def num_epochs(self) -> int:
        return math.ceil(self.total_steps / self.steps_per_epoch)

    def lr_at(self, step: int) -> float:
        return scheduled_lr(
            self.config, step, self.total_steps, self.steps_per_epoch, self.lr_scale
        )


@dataclass(frozen=True)
class EpochClock:
    """Where the epoch being trained starts and ends, in steps, and when it (re)started."""

    first: int  # its first step in the whole run
    last: int  # one past its last step
    start_step: int  # the step it started from in this process (later than first on resume)
    start_time: float

    def images_per_s(self, step: int, batch_size: int) -> float:
        seconds = max(time.perf_counter() - self.start_time, 1e-9)
        return (step - self.start_step) * batch_size / seconds
