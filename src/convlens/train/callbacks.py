"""Watching and steering a run from outside: what ``fit`` reports per step, and how to control it.

``fit(..., on_step=f)`` calls ``f(StepInfo)`` after every optimiser step, ``on_epoch=g`` calls
``g(record)`` with each epoch's record once it is validated, and ``control=TrainControl()`` lets
another thread (a web page's request handler, a notebook widget) pause, resume, stop the run or
change its learning rate. ``fit`` looks at the control between steps, so a request takes effect
before the next step and never in the middle of one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from convlens.errors import ConfigError


@dataclass(frozen=True)
class StepInfo:
    """One optimiser step, as ``on_step`` sees it."""

    step: int  # optimiser steps taken in the whole run, this one included
    epoch: float  # fractional epoch: 1.5 is halfway through the second epoch
    loss: float  # this batch's mean loss
    accuracy: float  # this batch's fraction of correct predictions (NaN for regression)
    lr: float  # the learning rate this step used
    images_per_s: float  # running rate over the epoch so far


class TrainControl:
    """Thread-safe requests to a running ``fit``: pause, resume, stop, set the learning rate.

    ``stop()`` ends the run the way Ctrl-C does: the resume state and the checkpoints are kept and
    ``fit`` returns the History so far with ``stopped=True``. ``set_lr(lr)`` makes ``lr`` the
    learning rate of the next step; the schedule then continues from there, scaled by the same
    factor (a cosine run set to half its current rate keeps decaying, at half the height).
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._paused = False
        self._stopped = False
        self._lr: float | None = None

    @property
    def paused(self) -> bool:
        with self._changed:
            return self._paused

    @property
    def stopped(self) -> bool:
        with self._changed:
            return self._stopped

    def pause(self) -> None:
        with self._changed:
            self._paused = True
            self._changed.notify_all()

    def resume(self) -> None:
        with self._changed:
            self._paused = False
            self._changed.notify_all()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def set_lr(self, lr: float) -> None:
        if not (isinstance(lr, (int, float)) and lr > 0 and lr != float("inf")):
            raise ConfigError(f"the learning rate must be a positive number, not {lr!r}.")
        with self._changed:
            self._lr = float(lr)

    def wait_while_paused(self) -> bool:
        """Block (without spinning) while paused; return True when the run should stop."""
        with self._changed:
            self._changed.wait_for(lambda: not self._paused or self._stopped)
            return self._stopped

    def take_lr(self) -> float | None:
        """The learning rate asked for since the last call, or None."""
        with self._changed:
            lr, self._lr = self._lr, None
            return lr
