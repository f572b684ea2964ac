"""What a user sees while a model trains (the only output of ``fit``).

verbose=1: a progress bar per epoch (loss, accuracy, images/s, time left) and a line per epoch;
verbose=2: only the line per epoch, for logs; verbose=0: nothing. Everything goes to stderr, so a
script's stdout stays its own. A regression run shows its RMSE where a classifier shows accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


def format_metrics(record: Mapping[str, Any]) -> str:
    parts = []
    for key, value in record.items():
        if key in ("epoch", "step"):
            continue
        if isinstance(value, float):
            if key == "lr":
                parts.append(f"{key} {value:.3g}")
            elif key.endswith("acc"):
                parts.append(f"{key} {100 * value:.2f}%")
            elif key == "images_per_s":
                parts.append(f"{value:,.0f} img/s")
            elif key == "flops_per_s":
                parts.append(f"{value / 1e9:,.2f} GFLOP/s")
            elif key == "time":
                parts.append(f"{value:.1f}s")
            else:
                parts.append(f"{key} {value:.4f}")
    return "  ".join(parts)


class ProgressDisplay:
    def __init__(self, verbose: int, epochs: int, console: Console | None = None) -> None:
        self.verbose = verbose
        self.epochs = epochs
        self.console = console or Console(stderr=True)
        self._bar: Progress | None = None
        self._task: Any = None

    def message(self, text: str) -> None:
        if self.verbose:
            self.console.print(text, highlight=False, soft_wrap=True)

    def start_epoch(self, epoch: int, steps: int, done: int = 0) -> None:
        if self.verbose != 1:
            return
        self._bar = Progress(
            TextColumn(f"epoch {epoch + 1}/{self.epochs}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self._bar.start()
        self._task = self._bar.add_task("train", total=steps, completed=done, stats="")

    def update(self, done: int, loss: float, acc: float | None, images_per_s: float) -> None:
        """The bar's numbers; ``acc`` None is a regression run, whose RMSE is shown instead."""
        if self._bar is not None:
            second = f"rmse {loss**0.5:.4f}" if acc is None else f"acc {100 * acc:.2f}%"
            stats = f"loss {loss:.4f}  {second}  {images_per_s:,.0f} img/s"
            self._bar.update(self._task, completed=done, stats=stats)

    def end_epoch(self, record: Mapping[str, Any]) -> None:
        self.close()
        if self.verbose:
            self.console.print(
                f"epoch {record['epoch']}/{self.epochs}  {format_metrics(record)}",
                highlight=False,
                soft_wrap=True,
            )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
