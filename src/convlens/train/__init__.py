"""Training: fit, evaluate, predict, checkpoints and resumable runs.

Names load on first use, so ``convlens train --help`` (which reads ``train.config``) does not
import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "StepInfo": "convlens.train.callbacks",
    "TrainControl": "convlens.train.callbacks",
    "Checkpoint": "convlens.train.checkpoint",
    "load_checkpoint": "convlens.train.checkpoint",
    "save_checkpoint": "convlens.train.checkpoint",
    "TrainConfig": "convlens.train.config",
    "evaluate": "convlens.train.evaluation",
    "predict": "convlens.train.evaluation",
    "History": "convlens.train.run",
    "fit": "convlens.train.loop",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'convlens.train' has no attribute {name!r}")
