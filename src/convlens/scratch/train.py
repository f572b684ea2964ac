"""Training a scratch network: mini-batch SGD on softmax cross-entropy, one epoch at a time.

The recipe is a typed value (``ScratchTrainConfig``); epoch e shuffles with seed + e through
``batch_order``, so a torch loop that asks ``batch_order`` for the same batches follows the same
trajectory (the twin test does exactly that).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from convlens.errors import ConfigError, TrainingError
from convlens.scratch.functional import softmax_cross_entropy
from convlens.scratch.net import ScratchNet
from convlens.scratch.optim import SGD, batch_order


@dataclass(frozen=True)
class ScratchTrainConfig:
    """The training recipe; ``convlens scratch train`` derives its flags from these fields."""

    epochs: int = field(default=5, metadata={"help": "passes over the training set"})
    lr: float = field(default=0.05, metadata={"help": "SGD step size"})
    batch_size: int = field(default=32, metadata={"help": "samples per step"})
    momentum: float = field(default=0.9, metadata={"help": "SGD momentum, torch's form (0: plain)"})
    weight_decay: float = field(default=0.0, metadata={"help": "L2 penalty added to the gradient"})
    seed: int = field(default=0, metadata={"help": "shuffling seed: epoch e uses seed + e"})

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError("epochs and batch size must be at least 1")
        if self.lr <= 0:
            raise ConfigError(f"the learning rate must be positive, not {self.lr}")
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"momentum must be in [0, 1), not {self.momentum}")


@dataclass
class ScratchHistory:
    train_loss: list[float] = field(default_factory=list)  # mean loss per epoch
    train_acc: list[float] = field(default_factory=list)  # accuracy on the batches seen
    test_acc: list[float] = field(default_factory=list)  # per epoch, when test data is given


def accuracy(net: ScratchNet, x: NDArray, y: NDArray, batch_size: int = 500) -> float:
    return float((net.predict(x, batch_size) == y).mean())


def fit_scratch(
    net: ScratchNet,
    x: NDArray,
    y: NDArray,
    config: ScratchTrainConfig | None = None,
    x_test: NDArray | None = None,
    y_test: NDArray | None = None,
    on_epoch: Callable[[int, ScratchHistory], None] | None = None,
) -> ScratchHistory:
    """Train ``net`` in place on (x, y) with integer labels; returns the per-epoch history.

    ``on_epoch(epoch, history)`` runs after each epoch (a progress display, for example).
    """
    if len(x) != len(y) or len(x) == 0:
        raise ConfigError(
            f"need as many labels as samples, got {len(x)} samples and {len(y)} labels"
        )
    config = config or ScratchTrainConfig()
    opt = SGD(net.params(), config.lr, config.momentum, config.weight_decay)
    history = ScratchHistory()
    for epoch in range(config.epochs):
        total, correct = 0.0, 0
        for idx in batch_order(len(x), config.batch_size, config.seed + epoch):
            # overflow shows up as a non-finite loss, reported below in one sentence
            with np.errstate(over="ignore", invalid="ignore"):
                logits = net.forward(x[idx], train=True)
                loss, dlogits = softmax_cross_entropy(logits, y[idx])
            if not np.isfinite(loss):
                raise TrainingError(
                    f"the loss became {loss} in epoch {epoch + 1}; lower the learning rate"
                )
            net.backward(dlogits)
            opt.step(net.grads())
            total += loss * len(idx)
            correct += int((logits.argmax(axis=1) == y[idx]).sum())
        history.train_loss.append(total / len(x))
        history.train_acc.append(correct / len(x))
        if x_test is not None and y_test is not None:
            history.test_acc.append(accuracy(net, x_test, y_test))
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history
