"""Numerical gradient checks: every backward pass against central differences, in float64.

For an op with output y and a random upstream gradient dout, the scalar L = sum(y * dout) has
dL/dv = (the op's backward of dout) for every input or parameter v. Central differences give

    dL/dv_i ~ (L(v + h e_i) - L(v - h e_i)) / 2h        (error O(h^2))

and the report is the relative error ||analytic - numeric|| / (||analytic|| + ||numeric||);
values near 1e-10 mean the backward pass is right, 1e-2 means it is wrong (cs231n's guidance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from convlens.scratch import connections as C
from convlens.scratch import functional as F
from convlens.scratch import layers as L
from convlens.scratch import norm


@dataclass(frozen=True)
class GradCheck:
    op: str  # e.g. "conv2d (im2col)"
    wrt: str  # "x", "weight", "bias", ...
    rel_error: float
    size: int  # number of entries checked


def rel_error(a: NDArray, b: NDArray) -> float:
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denom) if denom > 0 else 0.0


def numerical_gradient(f: Callable[[], float], v: NDArray, h: float = 1e-6) -> NDArray:
    """d f / d v by central differences; ``f`` reads ``v``, which is perturbed in place."""
    grad = np.zeros_like(v)
    for i in np.ndindex(v.shape):
        old = v[i]
        v[i] = old + h
        plus = f()
        v[i] = old - h
        minus = f()
        v[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def check(
    op: str,
    forward: Callable[[], NDArray],
    backward: Callable[[NDArray], dict[str, NDArray]],
    arrays: dict[str, NDArray],
    rng: np.random.Generator,
) -> list[GradCheck]:
    """Compare ``backward`` with central differences for every array in ``arrays``."""
    dout = rng.standard_normal(np.shape(forward()))
    analytic = backward(dout)  # right after a forward pass, as in training
    results = []
    for name, v in arrays.items():
        numeric = numerical_gradient(lambda: float(np.sum(forward() * dout)), v)
        results.append(GradCheck(op, name, rel_error(analytic[name], numeric), v.size))
    return results


def check_layer(op: str, layer: L.Layer, x: NDArray, rng, train: bool = True, before=None):
    """Check a layer's dx and its parameter gradients; ``before`` runs ahead of every forward."""
    arrays = {"x": x, **layer.params}

    def forward():
        if before is not None:
            before()
        return layer.forward(arrays["x"], train)

    def backward(dout):
        forward()
        return {"x": layer.backward(dout), **layer.grads}

    return check(op, forward, backward, arrays, rng)


def check_loss(op: str, loss, y: NDArray, target, rng) -> list[GradCheck]:
    arrays = {"prediction": y}
    return check(
        op,
        lambda: np.array(loss(arrays["prediction"], target)[0]),
        lambda dout: {"prediction": dout * loss(arrays["prediction"], target)[1]},
        arrays,
        rng,
    )


def gradcheck_all(seed: int = 0) -> list[GradCheck]:
    """Every scratch op on small random inputs with awkward settings (stride, padding, dilation,
    groups, rectangular kernels); returns one row per (op, input or parameter)."""
    rng = np.random.default_rng(seed)
    return _layers(rng) + _connections(rng) + _norms_and_activations(rng) + _losses(rng)


def _layers(rng: np.random.Generator) -> list[GradCheck]:
    randn = rng.standard_normal
    results = check_layer("linear", L.Linear(5, 3, rng=rng), randn((4, 5)), rng)
    for impl in ("im2col", "naive"):
        conv1 = L.Conv(4, 6, (3,), (2,), (1,), (2,), groups=2, impl=impl, rng=rng)
        results += check_layer(f"conv1d ({impl})", conv1, randn((2, 4, 11)), rng)
        conv2 = L.Conv(4, 6, (3, 2), (2, 1), (1, 2), (1, 2), groups=2, impl=impl, rng=rng)
        results += check_layer(f"conv2d ({impl})", conv2, randn((2, 4, 7, 6)), rng)
        true = L.Conv(3, 2, (2, 3), impl=impl, flip=True, rng=rng)
        results += check_layer(f"true convolution 2d ({impl})", true, randn((2, 3, 5, 5)), rng)
    for mode in ("circular", "reflect", "replicate"):
        conv = L.Conv(2, 3, (3, 2), (2, 1), (2, 1), padding_mode=mode, rng=rng)
        results += check_layer(f"conv2d, {mode} padding", conv, randn((2, 2, 5, 4)), rng)
    for kind in ("max", "avg"):
        pool = L.Pool(kind, 3, 2, 1)
        results += check_layer(f"{kind}pool1d k3 s2 p1", pool, randn((2, 3, 9)), rng)
        results += check_layer(f"{kind}pool2d k3 s2 p1", pool, randn((2, 3, 7, 6)), rng)
        results += check_layer(f"{kind}pool2d k2", L.Pool(kind, 2), randn((2, 2, 6, 6)), rng)
    results += check_layer("global average pool", L.GlobalAvgPool(), randn((2, 3, 4, 5)), rng)
    results += check_layer("flatten", L.Flatten(), randn((2, 3, 2, 2)), rng)
    drop = L.Dropout(0.3)
    results += check_layer(
        "dropout (fixed mask)",
        drop,
        randn((3, 8)),
        rng,
        before=lambda: setattr(drop, "rng", np.random.default_rng(1)),
    )
    return results


def _connections(rng: np.random.Generator) -> list[GradCheck]:
    randn = rng.standard_normal
    local = C.LocalConv(2, 3, (3, 2), (6, 5), stride=2, padding=1, rng=rng)
    tiled = C.LocalConv(2, 3, (2, 2), (5, 6), tiles=2, padding=1, rng=rng)
    rcl = C.RecurrentConv(2, 3, 3, steps=2, rng=rng)
    # an rcl's gradient jumps where a ReLU switches: a bias of 3 keeps the pre-activations of
    # this small random case away from 0, so central differences see a smooth function
    rcl.params["bias"] = np.full(3, 3.0)
    return (
        check_layer("weighted average pool 2d k3 s2 p1", C.WeightedPool(3, 2, 1),
                    randn((2, 3, 7, 6)), rng)
        + check_layer("weighted average pool 1d k5", C.WeightedPool(5, 1, 2), randn((2, 2, 9)), rng)
        + check_layer("locally connected 2d", local, randn((2, 2, 6, 5)), rng)
        + check_layer("tiled convolution 2d", tiled, randn((2, 2, 5, 6)), rng)
        + check_layer("recurrent conv layer (T = 2)", rcl, randn((2, 2, 4, 5)), rng)
        + check_layer("maxout 3", C.Maxout(3), randn((2, 6, 3, 2)), rng)
    )  # fmt: skip


def _norms_and_activations(rng: np.random.Generator) -> list[GradCheck]:
    randn = rng.standard_normal
    results = check_layer("batch norm 1d (train)", norm.BatchNorm(4), randn((6, 4)), rng)
    results += check_layer("batch norm 2d (train)", norm.BatchNorm(3), randn((4, 3, 3, 2)), rng)
    bn = norm.BatchNorm(3)
    bn.buffers["running_mean"], bn.buffers["running_var"] = randn(3), rng.uniform(0.5, 2, 3)
    results += check_layer("batch norm 2d (eval)", bn, randn((4, 3, 3, 2)), rng, train=False)
    lrn = norm.LocalResponseNorm(size=3, alpha=0.5, beta=0.75, k=1.0)  # large alpha: a real test
    results += check_layer("local response norm", lrn, randn((2, 5, 3, 2)), rng)
    results += check_layer(
        "local response norm (even size)", norm.LocalResponseNorm(4, 0.3), randn((2, 6, 3)), rng
    )
    for name in ("relu", "sigmoid", "tanh", "softplus", "elu", "gelu", "lrelu", "softmax"):
        results += check_layer(name, L.Activation(name), randn((4, 5)), rng)
    return results


def _losses(rng: np.random.Generator) -> list[GradCheck]:
    randn = rng.standard_normal
    labels = rng.integers(0, 5, 6)
    results = check_loss("squared error", F.squared_error, randn((6, 3)), randn((6, 3)), rng)
    results += check_loss(
        "binary cross-entropy", F.binary_cross_entropy, rng.uniform(0.05, 0.95, (6, 2)),
        rng.integers(0, 2, (6, 2)).astype(float), rng,
    )  # fmt: skip
    probs = F.softmax(randn((6, 5)))
    results += check_loss("cross-entropy", F.cross_entropy, probs, F.one_hot(labels, 5), rng)
    results += check_loss(
        "softmax cross-entropy", F.softmax_cross_entropy, randn((6, 5)), labels, rng
    )
    return results
