"""Optimisers and learning-rate schedules.

A schedule is a pure function of the step number, so resuming a run needs only the step: there is
no scheduler object whose state could drift from the optimiser's.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from convlens.train.config import TrainConfig

# Warm-up and one-cycle start at lr / 25 and the one-cycle peak is reached after the warm-up
# fraction: the defaults of Smith & Topin, "Super-Convergence" (2017), as in torch's OneCycleLR.
WARMUP_START = 1 / 25


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    # Weight decay on weights only, not on biases or norm scales: decaying a BatchNorm scale only
    # fights the normalisation (Goyal et al., "Accurate, Large Minibatch SGD", 2017, section 5.1).
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            groups,
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov and config.momentum > 0,
            foreach=True,
        )
    betas = (config.momentum, 0.999)
    if config.optimizer == "adam":
        return torch.optim.Adam(groups, lr=config.lr, betas=betas, foreach=True)
    return torch.optim.AdamW(groups, lr=config.lr, betas=betas, foreach=True)


def lr_factor(config: TrainConfig, step: int, total_steps: int, steps_per_epoch: int) -> float:
    """The learning rate at ``step`` (0-based) as a fraction of ``config.lr``."""
    total = max(total_steps, 1)
    warm = int(config.warmup * total)
    if step < warm:
        return WARMUP_START + (1 - WARMUP_START) * step / warm
    if config.schedule == "constant":
        return 1.0
    if config.schedule == "step":
        every = config.step_every or config.epochs / 3
        epoch = step / max(steps_per_epoch, 1)
        return float(config.gamma ** math.floor(epoch / every + 1e-9))
    progress = min((step - warm) / max(total - warm, 1), 1.0)
    end = config.final_lr
    if config.schedule == "cosine":
        return end + (1 - end) * 0.5 * (1 + math.cos(math.pi * progress))
    return 1 + (end - 1) * progress  # onecycle: a straight line down after the peak


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
