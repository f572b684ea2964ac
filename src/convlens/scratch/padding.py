"""Padding modes other than zeros (circular, reflect, replicate), forward and backward.

Each mode copies input pixels into the border. Along one axis of length n that is a 0/1 matrix
P of shape (n + 2p, n) with P[i, src(i)] = 1, where src comes from padding the index vector
0..n-1 with NumPy's matching mode (``np.pad(np.arange(n), p, mode)``). On (N, C, H, W):

    padded = P_h @ x @ P_w^T           (N, C, H + 2 PH, W + 2 PW)
    dx     = P_h^T @ dpadded @ P_w     the adjoint: a border pixel's gradient returns to its source

so a pixel copied into the border several times collects every copy's gradient. torch pads the
same way before a convolution whose ``padding_mode`` is not "zeros".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from convlens.errors import LayerFitError

NUMPY_MODES = {"circular": "wrap", "reflect": "reflect", "replicate": "edge"}


def copy_matrix(n: int, pad: int, mode: str, dtype=np.float64) -> NDArray:
    """P (n + 2 pad, n): row i is one-hot at the input index that padded position i copies."""
    if mode == "reflect" and pad >= n:
        raise LayerFitError(f"reflect padding {pad} needs more than {pad} pixels, not {n}")
    if mode == "circular" and pad > n:
        raise LayerFitError(f"circular padding {pad} wraps around a length of only {n}")
    source = np.pad(np.arange(n), pad, mode=NUMPY_MODES[mode])  # type: ignore[call-overload]
    matrix = np.zeros((n + 2 * pad, n), dtype=dtype)
    matrix[np.arange(len(source)), source] = 1.0
    return matrix


def pad_forward(x: NDArray, padding: tuple[int, int], mode: str) -> tuple[NDArray, tuple]:
    """(N, C, H, W) -> (N, C, H + 2 PH, W + 2 PW) and the matrices the backward pass needs."""
    ph_matrix = copy_matrix(x.shape[2], padding[0], mode, x.dtype)
    pw_matrix = copy_matrix(x.shape[3], padding[1], mode, x.dtype)
    return ph_matrix @ x @ pw_matrix.T, (ph_matrix, pw_matrix)


def pad_backward(dpadded: NDArray, cache: tuple) -> NDArray:
    ph_matrix, pw_matrix = cache
    return ph_matrix.T @ dpadded @ pw_matrix
