"""Optimisers: gradient descent exactly as the lectures write it, and mini-batch SGD with momentum.

Gradient descent (lectures, section 1): initialise t = 0, a step size eta and w^0; repeat

    w^{t+1} = w^t - eta * grad f(w^t)    while |f(w^t) - f(w^{t+1})| > epsilon

SGD with momentum uses torch.optim.SGD's form (dampening 0, no Nesterov), so the same weights,
batches and hyper-parameters give the same trajectory in both worlds:

    g = grad + weight_decay * w;   v = momentum * v + g;   w = w - lr * v
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class DescentResult:
    w: NDArray  # the last iterate
    losses: tuple[float, ...]  # f(w^0), f(w^1), ...
    steps: int
    converged: bool  # the change in loss fell to epsilon or below within max_steps


def gradient_descent(
    f: Callable[[NDArray], float],
    grad: Callable[[NDArray], NDArray],
    w0: NDArray,
    lr: float = 0.1,
    epsilon: float = 1e-8,
    max_steps: int = 10_000,
) -> DescentResult:
    """Minimise f from w0 by full-batch steps until the loss changes by at most ``epsilon``."""
    w = np.array(w0, dtype=np.float64)
    losses = [float(f(w))]
    for t in range(1, max_steps + 1):
        w = w - lr * grad(w)
        losses.append(float(f(w)))
        if abs(losses[-2] - losses[-1]) <= epsilon:
            return DescentResult(w, tuple(losses), t, True)
    return DescentResult(w, tuple(losses), max_steps, False)


class SGD:
    """Mini-batch SGD with momentum over a dict of named arrays, updated in place."""

    def __init__(
        self,
        params: Mapping[str, NDArray],
        lr: float = 0.01,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        self.params, self.lr, self.momentum, self.weight_decay = params, lr, momentum, weight_decay
        self.velocity: dict[str, NDArray] = {}

    def step(self, grads: Mapping[str, NDArray]) -> None:
        for name, w in self.params.items():
            g = grads[name]
            if self.weight_decay:
                g = g + self.weight_decay * w
            if self.momentum:
                # torch starts the buffer at the first gradient itself (not at zero)
                v = self.velocity.get(name)
                v = g.copy() if v is None else self.momentum * v + g
                self.velocity[name] = v
                g = v
            w -= self.lr * g  # in place: the layer holds the same array


def batch_order(
    n: int, batch_size: int, seed: int | None = 0, shuffle: bool = True
) -> Iterator[NDArray]:
    """Index arrays of one epoch's mini-batches (the last one may be smaller)."""
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    for i in range(0, n, batch_size):
        yield order[i : i + batch_size]
