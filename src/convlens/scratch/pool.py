"""Pooling forward and backward: max, average and global average, in 1-D and 2-D.

Pooling works on each channel separately and has no parameters. Shapes:

    x   (N, C, H, W)   ->   out (N, C, H_out, W_out),   H_out = floor((H + 2P - K) / S) + 1

Each channel is treated as its own one-channel image, so ``im2col`` lays every window out as a
column of K*K values; max or mean over a column is the pooled value. Max pooling pads with -inf
(as torch does, so padding never wins); average pooling pads with zeros and divides by K*K
(torch's default ``count_include_pad=True``). The backward pass sends dout to the arg-max of each
window (max) or spreads it evenly over the window (average); ``col2im`` adds the contributions of
overlapping windows. A 1-D signal (N, C, L) is the image (N, C, 1, L).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from convlens.scratch.im2col import Pair, col2im, im2col


@dataclass(frozen=True)
class PoolCache:
    x_shape: tuple[int, ...]  # the caller's shape, (N, C, L) or (N, C, H, W)
    kind: str  # "max" or "avg"
    kernel_size: Pair
    stride: Pair
    padding: Pair
    argmax: NDArray | None  # (N*C*H_out*W_out,) index into each window, max pooling only
    out_shape: tuple[int, ...]


def _as_channel_images(x: NDArray) -> NDArray:
    """(N, C, H, W) or (N, C, L) -> (N*C, 1, H, W) so that every channel pools alone."""
    if x.ndim == 3:
        x = x[:, :, None, :]
    n, c, h, w = x.shape
    return x.reshape(n * c, 1, h, w)


def _window(kernel_size: int, stride: int, padding: int, ndim: int) -> tuple[Pair, Pair, Pair]:
    if ndim == 3:  # 1-D: one row, window only along the length
        return (1, kernel_size), (1, stride), (0, padding)
    return (kernel_size, kernel_size), (stride, stride), (padding, padding)


def pool_forward(
    x: NDArray, kind: str, kernel_size: int, stride: int | None = None, padding: int = 0
) -> tuple[NDArray, PoolCache]:
    """Max ("max") or average ("avg") pooling of (N, C, H, W) or (N, C, L)."""
    k, s, p = _window(kernel_size, kernel_size if stride is None else stride, padding, x.ndim)
    images = _as_channel_images(x)
    pad_value = -np.inf if kind == "max" else 0.0
    cols = im2col(images, k, s, p, pad_value=pad_value)  # (K*K, N*C*H_out*W_out)
    n, c = x.shape[:2]
    h, w = images.shape[2:]
    h_out = (h + 2 * p[0] - k[0]) // s[0] + 1
    w_out = (w + 2 * p[1] - k[1]) // s[1] + 1
    out_shape = (n, c, w_out) if x.ndim == 3 else (n, c, h_out, w_out)
    if kind == "max":
        argmax = cols.argmax(axis=0)
        out = cols[argmax, np.arange(cols.shape[1])]
    elif kind == "avg":
        argmax = None
        out = cols.mean(axis=0)
    else:
        raise ValueError(f"pooling kind must be 'max' or 'avg', not {kind!r}")
    cache = PoolCache(x.shape, kind, k, s, p, argmax, out_shape)
    return out.reshape(out_shape), cache


def pool_backward(dout: NDArray, cache: PoolCache) -> NDArray:
    """dout (N, C, H_out, W_out) -> dx with the input's shape."""
    k = cache.kernel_size
    flat = dout.reshape(-1)
    if cache.kind == "max":
        assert cache.argmax is not None
        dcols = np.zeros((k[0] * k[1], flat.size), dtype=dout.dtype)
        dcols[cache.argmax, np.arange(flat.size)] = flat
    else:
        dcols = np.broadcast_to(flat / (k[0] * k[1]), (k[0] * k[1], flat.size))
    n, c = cache.x_shape[:2]
    h, w = (1, cache.x_shape[2]) if len(cache.x_shape) == 3 else cache.x_shape[2:]
    dx = col2im(dcols, (n * c, 1, h, w), k, cache.stride, cache.padding)
    return dx.reshape(cache.x_shape)


def global_avg_pool_forward(x: NDArray) -> NDArray:
    """(N, C, *spatial) -> (N, C): the mean of each map."""
    return x.mean(axis=tuple(range(2, x.ndim)))


def global_avg_pool_backward(dout: NDArray, x_shape: tuple[int, ...]) -> NDArray:
    """dout (N, C) -> dx (N, C, *spatial): each position gets dout / (number of positions)."""
    count = int(np.prod(x_shape[2:]))
    expand = (slice(None), slice(None)) + (None,) * (len(x_shape) - 2)
    return np.broadcast_to(dout[expand] / count, x_shape).copy()
