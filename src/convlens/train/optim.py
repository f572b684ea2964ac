"""Optimisers and learning-rate schedules.

A schedule is a pure function of the step number, so resuming a run needs only the step: there is
no scheduler object whose state could drift from the optimiser's.

The optimisers are convlens's own, on torch's ``_foreach`` kernels, with torch's update rules (the
``foreach`` forms of ``torch.optim.SGD``, ``Adam`` and ``AdamW``, so the weights after each step
agree with theirs; tests/train/test_optim.py holds them to it), torch's ``state_dict`` layout (a
resume state written with torch's optimisers still loads) and the ``param_groups`` that torch's
``GradScaler`` and ``clip_grad_norm_`` expect. Why not torch's own: constructing any
``torch.optim.Optimizer`` imports ``torch._dynamo`` (its ``add_param_group`` is wrapped by
``torch._disable_dynamo``), about 1.4 s of every ``convlens train`` on a 2-core CPU, more than a
tenth of a whole MNIST-1D run.

Adam and AdamW run PyTorch's fused kernel where it exists (CUDA; the CPU since PyTorch 2.4), as
``torch.optim.Adam(fused=True)`` does and with its results exactly: one pass over the parameters
instead of eight, 0.50 -> 0.22 ms of the `fast` Fashion-MNIST step on 2 cores of an AVX512-BF16
EPYC (2026-12-07, ten alternating rounds); elsewhere the ``foreach`` form.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from convlens.train.config import TrainConfig

# Warm-up and one-cycle start at lr / 25 and the one-cycle peak is reached after the warm-up
# fraction: the defaults of Smith & Topin, "Super-Convergence" (2017), as in torch's OneCycleLR.
WARMUP_START = 1 / 25


class Optimizer:
    """Parameter groups, per-parameter state and torch's ``state_dict`` layout; ``_update`` is the
    rule. Parameters without a gradient are skipped, as torch skips them."""

    def __init__(self, groups: Iterable[dict[str, Any]], **defaults: Any) -> None:
        self.param_groups = [{**defaults, **g, "params": list(g["params"])} for g in groups]
        self.state: dict[Tensor, dict[str, Any]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()

    @torch.no_grad()
    def step(self) -> None:
        # the name torch's optimisers give this range, so profiles classify both alike
        with torch.autograd.profiler.record_function(f"Optimizer.step#{type(self).__name__}.step"):
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self._update(group, params, [p.grad for p in params])

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """{"state": {index: buffers}, "param_groups": [settings with "params": indices]}: indices
        count the parameters through the groups in order, as torch numbers them."""
        index: dict[Tensor, int] = {}
        groups = []
        for group in self.param_groups:
            ids = [index.setdefault(p, len(index)) for p in group["params"]]
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {index[p]: dict(s) for p, s in self.state.items() if p in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        groups = saved["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"the saved state has {len(groups)} parameter groups, the optimiser "
                f"{len(self.param_groups)}"
            )
        pairs = list(zip(self.param_groups, groups, strict=True))
        by_index: dict[int, Tensor] = {}
        for mine, theirs in pairs:
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError(
                    f"a saved parameter group holds {len(theirs['params'])} parameters where "
                    f"the optimiser's holds {len(mine['params'])}"
                )
            by_index.update(zip(theirs["params"], mine["params"], strict=True))
        self.state = {}
        for key, buffers in saved["state"].items():
            p = by_index[int(key)]
            self.state[p] = {
                # copies, never shared with the state's owner; "step" stays a float32 counter on the
                # CPU, the moments follow their parameter
                k: (v.clone() if k == "step" else v.to(p.device, p.dtype, copy=True))
                if isinstance(v, Tensor)
                else v
                for k, v in buffers.items()
            }
        for mine, theirs in pairs:
            mine.update({k: v for k, v in theirs.items() if k != "params"})


class SGD(Optimizer):
    """Stochastic gradient descent with (Nesterov) momentum and L2 weight decay, dampening 0."""

    def __init__(
        self,
        groups: Iterable[dict[str, Any]],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(
            groups,
            lr=lr,
            momentum=momentum,
            dampening=0.0,
            weight_decay=weight_decay,
            nesterov=nesterov,
        )

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        if group["weight_decay"]:
            grads = list(torch._foreach_add(grads, params, alpha=group["weight_decay"]))
        momentum = group["momentum"]
        if momentum:
            old, new = [], []  # the buffers that exist and their gradients
            for p, g in zip(params, grads, strict=True):
                state = self.state.setdefault(p, {})
                if state.get("momentum_buffer") is None:
                    state["momentum_buffer"] = g.detach().clone()  # the first step: v = g
                else:
                    old.append(state["momentum_buffer"])
                    new.append(g)
            if old:  # v <- momentum v + g
                torch._foreach_mul_(old, momentum)
                torch._foreach_add_(old, new, alpha=1.0 - group["dampening"])
            bufs = [self.state[p]["momentum_buffer"] for p in params]
            if group["nesterov"]:
                grads = list(torch._foreach_add(grads, bufs, alpha=momentum))
            else:
                grads = bufs
        torch._foreach_add_(params, grads, alpha=-group["lr"])


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction; ``decoupled=True`` is AdamW (Loshchilov &
    Hutter, 2019): the weights shrink by lr x weight_decay instead of the decay joining the
    gradient."""

    def __init__(
        self,
        groups: Iterable[dict[str, Any]],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
    ) -> None:
        super().__init__(
            groups,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled,
        )

    def _update(self, group: dict[str, Any], params: list[Tensor], grads: list[Tensor]) -> None:
        lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
        for p in params:
            if p not in self.state:
                self.state[p] = {
                    "step": torch.tensor(0.0),
                    "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                    "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                }
        states = [self.state[p] for p in params]
        firsts = [s["exp_avg"] for s in states]
        seconds = [s["exp_avg_sq"] for s in states]
        if fused_runs(params):
            self._fused(group, params, grads, states, firsts, seconds)
            return
        steps = [s["step"] for s in states]
        torch._foreach_add_(steps, 1.0)
        if decay:
            if group["decoupled_weight_decay"]:
                torch._foreach_mul_(params, 1 - lr * decay)
            else:
                grads = list(torch._foreach_add(grads, params, alpha=decay))
        torch._foreach_lerp_(firsts, grads, 1 - beta1)  # m <- beta1 m + (1 - beta1) g
        torch._foreach_mul_(seconds, beta2)  # v <- beta2 v + (1 - beta2) g^2
        torch._foreach_addcmul_(seconds, grads, grads, 1 - beta2)
        counts = [s.item() for s in steps]
        step_sizes = [-lr / (1 - beta1**t) for t in counts]
        denominators = torch._foreach_sqrt(seconds)  # sqrt(v / (1 - beta2^t)) + eps
        torch._foreach_div_(denominators, [math.sqrt(1 - beta2**t) for t in counts])
        torch._foreach_add_(denominators, group["eps"])
        torch._foreach_addcdiv_(params, firsts, denominators, step_sizes)

    def _fused(
        self,
        group: dict[str, Any],
        params: list[Tensor],
        grads: list[Tensor],
        states: list[dict[str, Any]],
        firsts: list[Tensor],
        seconds: list[Tensor],
    ) -> None:
        """The same rule in one kernel, as ``torch.optim.Adam(fused=True)`` runs it: the step
        counters live beside the parameters (a resume state brings them to the CPU)."""
        device = params[0].device
        for s in states:
            if s["step"].device != device:
                s["step"] = s["step"].to(device)
        steps = [s["step"] for s in states]
        torch._foreach_add_(steps, 1.0)
        rule = torch._fused_adamw_ if group["decoupled_weight_decay"] else torch._fused_adam_
        (beta1, beta2) = group["betas"]
        rule(
            params, grads, firsts, seconds, [], steps, lr=group["lr"], beta1=beta1, beta2=beta2,
            weight_decay=group["weight_decay"], eps=group["eps"], amsgrad=False, maximize=False,
        )  # fmt: skip


# PyTorch's fused Adam kernels: CUDA's since 2.0, the CPU's since 2.4
FUSED_SINCE = {"cuda": (2, 0), "cpu": (2, 4)}
FUSED_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def fused_runs(params: list[Tensor]) -> bool:
    """Whether one fused kernel can update these parameters: all of one device and dtype (as
    the kernel takes them), on a device and PyTorch version that have it."""
    first = params[0]
    since = FUSED_SINCE.get(first.device.type)
    if since is None or _torch_version() < since or first.dtype not in FUSED_DTYPES:
        return False
    return all(p.device == first.device and p.dtype == first.dtype for p in params)


@functools.cache
def _torch_version() -> tuple[int, int]:
    major, minor = torch.__version__.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def make_optimizer(model: nn.Module, config: TrainConfig) -> Optimizer:
    # Weight decay on weights only, not on biases or norm scales: decaying a BatchNorm scale only
    # fights the normalisation (Goyal et al., "Accurate, Large Minibatch SGD", 2017, section 5.1).
    groups = _groups(model, config)
    if config.optimizer == "sgd":
        return SGD(
            groups,
            lr=config.lr,
            momentum=config.momentum,
            nesterov=config.nesterov and config.momentum > 0,
        )
    betas = (config.momentum, 0.999)
    return Adam(groups, lr=config.lr, betas=betas, decoupled=config.optimizer == "adamw")


def torch_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """``make_optimizer``'s optimiser from ``torch.optim``: what a plain PyTorch loop uses."""
    groups = _groups(model, config)
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


def _groups(model: nn.Module, config: TrainConfig) -> list[dict[str, Any]]:
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    return [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


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


def set_lr(optimizer: Optimizer | torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
