"""Single neurons, as the lectures build them up: McCulloch-Pitts, the perceptron and its learning
rule, a network of perceptrons for any Boolean function, and the sigmoid neuron.

* McCulloch-Pitts (1943): Boolean inputs, g(x) = sum x_i, output 1 iff g(x) >= theta. The
  threshold is set by hand and every input counts the same.
* Perceptron (Rosenblatt 1958): y = 1 iff sum_{i=0..n} w_i x_i >= 0 with the threshold folded into
  w_0 = -theta, x_0 = 1. The learning rule adds a missed positive to w and subtracts a wrongly
  accepted negative; on linearly separable data it stops after finitely many mistakes (Novikoff
  1962), on XOR it never does.
* Any Boolean function of n inputs in {-1, 1} is one hidden layer of 2^n perceptrons, one per
  input pattern, and one output perceptron (the lectures' theorem, made constructive below).
* Sigmoid neuron: y = 1 / (1 + e^-(w.x + b)), smooth, so gradient descent can train it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from convlens.errors import ConfigError
from convlens.scratch.functional import sigmoid
from convlens.scratch.optim import DescentResult, gradient_descent

# ---------------------------------------------------------------------------------------------
# McCulloch-Pitts neuron
# ---------------------------------------------------------------------------------------------


def _boolean(x: ArrayLike, values=(0, 1)) -> NDArray:
    x = np.asarray(x)
    if not np.isin(x, values).all():
        raise ConfigError(f"this neuron takes inputs in {set(values)} only, got {np.unique(x)}")
    return x.astype(np.int64)


@dataclass(frozen=True)
class McCullochPitts:
    """Output 1 iff the number of active Boolean inputs reaches the threshold theta."""

    threshold: int  # theta: n gives AND of n inputs, 1 gives OR

    def __call__(self, x: ArrayLike) -> NDArray:
        """x (..., n) of 0/1 -> (...) of 0/1."""
        return (_boolean(x).sum(axis=-1) >= self.threshold).astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Perceptron and its learning algorithm
# ---------------------------------------------------------------------------------------------


def with_bias_input(x: ArrayLike) -> NDArray:
    """Prepend x_0 = 1 so that the threshold becomes the weight w_0 = -theta."""
    x = np.asarray(x, dtype=np.float64)
    return np.concatenate([np.ones((*x.shape[:-1], 1)), x], axis=-1)


@dataclass(frozen=True)
class Perceptron:
    weights: NDArray  # (n + 1,): w_0 = -theta, then one weight per input

    def __call__(self, x: ArrayLike) -> NDArray:
        """x (..., n) -> (...) of 0/1: 1 iff sum_{i=0..n} w_i x_i >= 0."""
        return (with_bias_input(x) @ self.weights >= 0).astype(np.int64)


@dataclass(frozen=True)
class PerceptronResult:
    perceptron: Perceptron
    converged: bool  # an epoch passed without a mistake within the budget
    epochs: int  # epochs run
    mistakes: tuple[int, ...]  # mistakes (updates) in each epoch


def train_perceptron(
    x: ArrayLike, y: ArrayLike, max_epochs: int = 100, seed: int | None = 0
) -> PerceptronResult:
    """The perceptron learning algorithm on inputs x (N, n) and labels y in {0, 1}.

    Each epoch visits the points in a shuffled order: a positive with w.x < 0 is added to w, a
    negative with w.x >= 0 is subtracted. Stops after the first epoch without a mistake.
    """
    xb = with_bias_input(x)
    labels = _boolean(y)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(size=(xb.shape[1],))
    mistakes: list[int] = []
    for _ in range(max_epochs):
        count = 0
        for i in rng.permutation(len(xb)):
            fires = xb[i] @ w >= 0
            if labels[i] == 1 and not fires:
                w = w + xb[i]
                count += 1
            elif labels[i] == 0 and fires:
                w = w - xb[i]
                count += 1
        mistakes.append(count)
        if count == 0:
            return PerceptronResult(Perceptron(w), True, len(mistakes), tuple(mistakes))
    return PerceptronResult(Perceptron(w), False, max_epochs, tuple(mistakes))


# ---------------------------------------------------------------------------------------------
# A network of perceptrons for any Boolean function
# ---------------------------------------------------------------------------------------------

BOOLEAN_FUNCTIONS: dict[str, Callable[[tuple[bool, ...]], bool]] = {
    "and": all,
    "or": any,
    "nand": lambda p: not all(p),
    "nor": lambda p: not any(p),
    "xor": lambda p: sum(p) % 2 == 1,  # parity: true when an odd number of inputs are true
    "xnor": lambda p: sum(p) % 2 == 0,
    "majority": lambda p: 2 * sum(p) > len(p),
}


def patterns(n: int) -> NDArray:
    """All 2^n inputs in {-1, 1}^n, in the order of a truth table (-1 is false, 1 is true)."""
    return np.array(list(itertools.product((-1, 1), repeat=n)), dtype=np.int64)


@dataclass(frozen=True)
class BooleanNetwork:
    """One hidden layer of 2^n perceptrons and one output perceptron."""

    hidden_weights: NDArray  # (2^n, n): row k is the k-th input pattern itself
    hidden_bias: NDArray  # (2^n,): -n, so unit k fires only on pattern k
    output_weights: NDArray  # (2^n,): 1 where the function is true on pattern k, else 0
    output_bias: float  # -1: the output fires when any unit with weight 1 fires

    def hidden(self, x: ArrayLike) -> NDArray:
        """x (..., n) in {-1, 1} -> (..., 2^n) of 0/1, exactly one 1 per input."""
        x = _boolean(x, (-1, 1))
        return (x @ self.hidden_weights.T + self.hidden_bias >= 0).astype(np.int64)

    def __call__(self, x: ArrayLike) -> NDArray:
        return (self.hidden(x) @ self.output_weights + self.output_bias >= 0).astype(np.int64)


def boolean_network(function: str | Sequence[int], n: int = 2) -> BooleanNetwork:
    """Build the network for a named function (and, or, xor, ...) or a truth table.

    A truth table lists the outputs for ``patterns(n)`` in order, e.g. XOR of 2 inputs is
    [0, 1, 1, 0]. Hidden unit k has weights p_k and bias -n: w.x = n exactly on x = p_k and at
    most n - 2 elsewhere, so it fires on its own pattern only.
    """
    if n < 1:
        raise ConfigError(f"a Boolean function needs at least one input, not {n}")
    table = patterns(n)
    if isinstance(function, str):
        if function not in BOOLEAN_FUNCTIONS:
            raise ConfigError(
                f"unknown Boolean function {function!r}; choose one of {', '.join(BOOLEAN_FUNCTIONS)} "
                "or give a truth table such as 0110"
            )
        truth = np.array([BOOLEAN_FUNCTIONS[function](tuple(p > 0)) for p in table], dtype=np.int64)
    else:
        truth = _boolean(function)
        if truth.shape != (2**n,):
            raise ConfigError(f"a truth table of {n} inputs has {2**n} entries, not {truth.size}")
    return BooleanNetwork(table.copy(), np.full(2**n, -n), truth, -1.0)


# ---------------------------------------------------------------------------------------------
# Sigmoid neuron
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SigmoidNeuron:
    weights: NDArray  # (n,)
    bias: float

    def __call__(self, x: ArrayLike) -> NDArray:
        """x (..., n) -> (...) in (0, 1)."""
        return sigmoid(np.asarray(x, dtype=np.float64) @ self.weights + self.bias)


def train_sigmoid_neuron(
    x: ArrayLike,
    y: ArrayLike,
    loss: str = "cross-entropy",
    lr: float = 0.5,
    epsilon: float = 1e-7,
    max_steps: int = 20_000,
) -> tuple[SigmoidNeuron, DescentResult]:
    """Fit one sigmoid neuron to labels y in [0, 1] by the lectures' gradient descent.

    The parameters are theta = (b, w); the mean loss over the data is ``cross-entropy``
    -y log s - (1 - y) log(1 - s), whose gradient is X^T (s - y) / N, or ``squared``
    1/2 (s - y)^2 with gradient X^T ((s - y) s (1 - s)) / N (chain rule through the sigmoid).
    """
    xb = with_bias_input(x)
    t = np.asarray(y, dtype=np.float64)
    if loss not in ("cross-entropy", "squared"):
        raise ConfigError(f"loss must be 'cross-entropy' or 'squared', not {loss!r}")

    def f(theta):
        s = np.clip(sigmoid(xb @ theta), 1e-12, 1 - 1e-12)
        if loss == "squared":
            return float(0.5 * np.mean((s - t) ** 2))
        return float(-np.mean(t * np.log(s) + (1 - t) * np.log(1 - s)))

    def grad(theta):
        s = sigmoid(xb @ theta)
        delta = s - t if loss == "cross-entropy" else (s - t) * s * (1 - s)
        return xb.T @ delta / len(t)

    result = gradient_descent(f, grad, np.zeros(xb.shape[1]), lr, epsilon, max_steps)
    return SigmoidNeuron(result.w[1:], float(result.w[0])), result
