"""Activations with their derivatives, and the losses (divergences) of the lectures, in NumPy.

Each activation is a pair: ``f(z)`` and ``f_grad(z, y)`` = df/dz, written the way the lectures
write it, in terms of the output y = f(z) where that is the natural form:

    sigmoid   f = 1 / (1 + e^-z)        f' = f (1 - f)
    tanh      f = tanh z                f' = 1 - f^2
    relu      f = max(0, z)             f' = 1 for z >= 0 else 0  (the lectures' convention at 0)
    softplus  f = log(1 + e^z)          f' = sigmoid(z)

Softmax maps a vector to a distribution; its Jacobian-vector product is
dz = y * (dy - sum(dy * y)). Losses return ``(loss, dy)``, the mean over the batch and its
gradient with respect to the prediction, so a network's backward pass starts from ``dy``.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.floating]


# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------


def sigmoid(z: Array) -> Array:
    # Split by sign so that exp never overflows: for z < 0 use e^z / (1 + e^z).
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid_grad(z: Array, y: Array) -> Array:
    return y * (1.0 - y)


def tanh(z: Array) -> Array:
    return np.tanh(z)


def tanh_grad(z: Array, y: Array) -> Array:
    return 1.0 - y * y


def relu(z: Array) -> Array:
    return np.maximum(z, 0.0)


def relu_grad(z: Array, y: Array) -> Array:
    # The lectures set f'(0) = 1; torch uses 0 at exactly 0. Only z == 0 differs, which a
    # random input never hits; the gradient test against torch relies on that.
    return (z >= 0).astype(z.dtype)


def softplus(z: Array) -> Array:
    # log(1 + e^z) = max(z, 0) + log(1 + e^-|z|), stable for large |z|.
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def softplus_grad(z: Array, y: Array) -> Array:
    return sigmoid(z)


def leaky_relu(z: Array, negative_slope: float = 0.01) -> Array:
    return np.where(z >= 0, z, negative_slope * z)


def leaky_relu_grad(z: Array, y: Array, negative_slope: float = 0.01) -> Array:
    return np.where(z >= 0, 1.0, negative_slope).astype(z.dtype)


def elu(z: Array) -> Array:
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))


def elu_grad(z: Array, y: Array) -> Array:
    return np.where(z > 0, 1.0, y + 1.0).astype(z.dtype)


_erf = np.vectorize(math.erf, otypes=[np.float64])  # NumPy has no erf; math.erf is exact


def gelu(z: Array) -> Array:
    """z * Phi(z) with Phi the standard normal CDF (Hendrycks & Gimpel 2016; torch's exact GELU)."""
    return (z * 0.5 * (1.0 + _erf(z / math.sqrt(2.0)))).astype(z.dtype)


def gelu_grad(z: Array, y: Array) -> Array:
    # d/dz z Phi(z) = Phi(z) + z phi(z)
    phi = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return (0.5 * (1.0 + _erf(z / math.sqrt(2.0))) + z * phi).astype(z.dtype)


def softmax(z: Array, axis: int = -1) -> Array:
    shifted = z - z.max(axis=axis, keepdims=True)  # same result, no overflow
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(dy: Array, y: Array, axis: int = -1) -> Array:
    """dz from dy through y = softmax(z): J^T dy = y * (dy - <dy, y>)."""
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


# name -> (f, f'(z, y)); softmax is not elementwise and lives apart.
ELEMENTWISE = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "softplus": (softplus, softplus_grad),
    "elu": (elu, elu_grad),
    "gelu": (gelu, gelu_grad),
}


# ---------------------------------------------------------------------------------------------
# Losses: (mean loss over the batch, gradient with respect to the prediction)
# ---------------------------------------------------------------------------------------------


def squared_error(y: Array, target: Array) -> tuple[float, Array]:
    """DIV = 1/2 (y - t)^2 summed over outputs, averaged over the batch (first axis)."""
    n = y.shape[0]
    diff = y - target
    return float(0.5 * np.sum(diff * diff) / n), diff / n


def binary_cross_entropy(y: Array, target: Array, eps: float = 1e-12) -> tuple[float, Array]:
    """DIV = -t log y - (1 - t) log(1 - y) for y in (0, 1), averaged over all entries."""
    y = np.clip(y, eps, 1.0 - eps)
    loss = -(target * np.log(y) + (1.0 - target) * np.log(1.0 - y))
    dy = (y - target) / (y * (1.0 - y)) / y.size
    return float(loss.mean()), dy


def cross_entropy(probs: Array, onehot: Array, eps: float = 1e-12) -> tuple[float, Array]:
    """Multi-class form DIV = -sum_k t_k log y_k on probabilities, averaged over the batch."""
    n = probs.shape[0]
    p = np.clip(probs, eps, None)
    return float(-np.sum(onehot * np.log(p)) / n), -onehot / p / n


def softmax_cross_entropy(logits: Array, labels: NDArray[np.integer]) -> tuple[float, Array]:
    """Softmax then cross-entropy on integer labels, fused (torch's ``CrossEntropyLoss``).

    The fused gradient is (softmax(z) - onehot) / N, which avoids dividing by tiny probabilities.
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n


def one_hot(labels: NDArray[np.integer], num_classes: int, dtype=np.float64) -> Array:
    out = np.zeros((len(labels), num_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1.0
    return out
