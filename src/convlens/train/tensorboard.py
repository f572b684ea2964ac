"""TensorBoard event files beside a run's metrics.jsonl and metrics.csv (optional).

With ``TrainConfig(tensorboard=True)`` (``convlens train --tensorboard``) each epoch's record is
also written as scalars to ``RUN_DIR/tensorboard/``, at the record's optimiser step, so that
``tensorboard --logdir runs`` draws every run's curves side by side. JSONL and CSV stay the
files convlens itself reads; the event files are only for TensorBoard. A resumed run appends a
new event file holding only the epochs it trains.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from convlens.errors import ConfigError

# record keys that are positions, not curves
_NOT_SCALARS = ("epoch", "step")
# "val_acc" is drawn under "acc/val", beside "acc/train", so one chart compares the two
_SPLITS = ("val", "test")


def scalar_tag(key: str) -> str:
    """TensorBoard tag for a record key: ``val_loss`` -> ``loss/val``, ``loss`` -> ``loss/train``."""
    split, _, metric = key.partition("_")
    if split in _SPLITS and metric:
        return f"{metric}/{split}"
    if key in ("loss", "acc", "rmse"):
        return f"{key}/train"
    return f"run/{key}"


def _summary_writer_class() -> Any:
    try:
        import tensorboard  # noqa: F401 - torch's writer needs it, and says so less clearly
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError(
            "TensorBoard logging needs the tensorboard package; "
            "install it with `pip install convlens[tensorboard]` or set tensorboard=False."
        ) from None
    return SummaryWriter


class TensorBoardLog:
    """Writes one scalar per metric per epoch; ``close()`` flushes the file."""

    def __init__(self, run_dir: str | Path) -> None:
        self.log_dir = Path(run_dir) / "tensorboard"
        self._writer = _summary_writer_class()(log_dir=str(self.log_dir))

    def log(self, record: Mapping[str, Any]) -> None:
        step = int(record.get("step", record.get("epoch", 0)))
        for key, value in record.items():
            if key in _NOT_SCALARS or isinstance(value, bool):
                continue
            if isinstance(value, (int, float)):
                self._writer.add_scalar(scalar_tag(key), float(value), global_step=step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> TensorBoardLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
