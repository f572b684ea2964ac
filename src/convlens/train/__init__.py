"""Training: fit, evaluate, predict, checkpoints and resumable runs."""

from convlens.train.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from convlens.train.config import TrainConfig
from convlens.train.evaluation import evaluate, predict
from convlens.train.loop import History, fit

__all__ = [
    "Checkpoint",
    "History",
    "TrainConfig",
    "evaluate",
    "fit",
    "load_checkpoint",
    "predict",
    "save_checkpoint",
]
