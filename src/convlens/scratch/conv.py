"""Convolution layers' arithmetic, forward and backward, in two forms that must agree.

Shapes (the paper's letters; G groups, C_g = C / G input channels per filter):

    x      (N, C, H, W)          input
    weight (F, C_g, KH, KW)      F filters; each spans the full depth of its group
    bias   (F,)
    out    (N, F, H_out, W_out)  H_out = floor((H + 2P - D(KH - 1) - 1) / S) + 1

Cross-correlation, what every framework calls convolution (lectures, section 3):

    out[n, f, i, j] = b[f] + sum_{c, m, k} x_pad[n, c, i*S + m*D, j*S + k*D] * w[f, c, m, k]

True convolution flips the kernel, s(i, j) = sum_{m, n} I(m, n) K(i - m, j - n); over the valid
positions that is the same sum with w[f, c, KH-1-m, KW-1-k]. ``flip=True`` selects it.

``conv2d_naive`` / ``conv2d_naive_backward`` loop over output positions and kernel offsets and
read like the sum above. ``conv2d_forward`` / ``conv2d_backward`` do the same with im2col and one
matrix product; the tests hold the two together and both against torch. 1-D versions treat a
signal (N, C, L) as a one-row image (N, C, 1, L).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from convlens.scratch.im2col import Pair, col2im, im2col, output_shape, pad2d

# ---------------------------------------------------------------------------------------------
# Naive loops: the formula, one output position and one kernel offset at a time
# ---------------------------------------------------------------------------------------------


def conv2d_naive(
    x: NDArray,
    weight: NDArray,
    bias: NDArray | None = None,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    groups: int = 1,
    flip: bool = False,
) -> NDArray:
    """(N, C, H, W) * (F, C_g, KH, KW) -> (N, F, H_out, W_out) by the loops of the formula."""
    n, _, h, w = x.shape
    f, c_g, kh, kw = weight.shape
    h_out, w_out = output_shape(h, w, (kh, kw), stride, padding, dilation)
    xp = pad2d(x, padding)
    out = np.zeros((n, f, h_out, w_out), dtype=np.result_type(x, weight))
    f_g = f // groups
    for g in range(groups):
        fs, cs = slice(g * f_g, (g + 1) * f_g), slice(g * c_g, (g + 1) * c_g)
        for i in range(h_out):
            for j in range(w_out):
                for m in range(kh):
                    for k in range(kw):
                        km, kk = (kh - 1 - m, kw - 1 - k) if flip else (m, k)
                        pixel = xp[
                            :, cs, i * stride[0] + m * dilation[0], j * stride[1] + k * dilation[1]
                        ]
                        out[:, fs, i, j] += pixel @ weight[fs, :, km, kk].T  # (N, C_g) @ (C_g, F_g)
    if bias is not None:
        out += bias[None, :, None, None]
    return out


def conv2d_naive_backward(
    dout: NDArray,
    x: NDArray,
    weight: NDArray,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    groups: int = 1,
    flip: bool = False,
) -> tuple[NDArray, NDArray, NDArray]:
    """dout (N, F, H_out, W_out) -> dx (N, C, H, W), dw (F, C_g, KH, KW), db (F,).

    Every term x_pad[..] * w[..] of the forward sum sends dout[n, f, i, j] times the other factor
    back to each of its two factors.
    """
    _, _, h, w = x.shape
    f, c_g, kh, kw = weight.shape
    _, _, h_out, w_out = dout.shape
    xp = pad2d(x, padding)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(weight)
    f_g = f // groups
    for g in range(groups):
        fs, cs = slice(g * f_g, (g + 1) * f_g), slice(g * c_g, (g + 1) * c_g)
        for i in range(h_out):
            for j in range(w_out):
                for m in range(kh):
                    for k in range(kw):
                        km, kk = (kh - 1 - m, kw - 1 - k) if flip else (m, k)
                        r, s = i * stride[0] + m * dilation[0], j * stride[1] + k * dilation[1]
                        d = dout[:, fs, i, j]  # (N, F_g)
                        dxp[:, cs, r, s] += d @ weight[fs, :, km, kk]
                        dw[fs, :, km, kk] += d.T @ xp[:, cs, r, s]
    ph, pw = padding
    dx = dxp[:, :, ph : ph + h, pw : pw + w]
    return dx, dw, dout.sum(axis=(0, 2, 3))


# ---------------------------------------------------------------------------------------------
# im2col: one matrix product per group
# ---------------------------------------------------------------------------------------------


@dataclass
class ConvCache:
    """What the backward pass needs from the forward pass; good for one backward pass."""

    x_shape: tuple[int, int, int, int]
    cols: NDArray  # (G, C_g*KH*KW, N*H_out*W_out)
    weight: NDArray  # (F, C_g, KH, KW), already flipped for a true convolution
    stride: Pair
    padding: Pair
    dilation: Pair
    groups: int
    flip: bool
    spent: bool = False  # the backward pass reuses cols' memory, so it can run only once


def conv2d_forward(
    x: NDArray,
    weight: NDArray,
    bias: NDArray | None = None,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    groups: int = 1,
    flip: bool = False,
) -> tuple[NDArray, ConvCache]:
    """(N, C, H, W) * (F, C_g, KH, KW) -> (N, F, H_out, W_out), by im2col and a matrix product."""
    n, c, h, w = x.shape
    f, c_g, kh, kw = weight.shape
    h_out, w_out = output_shape(h, w, (kh, kw), stride, padding, dilation)
    wk = weight[:, :, ::-1, ::-1] if flip else weight
    cols = im2col(x, (kh, kw), stride, padding, dilation).reshape(groups, c_g * kh * kw, -1)
    out = np.matmul(wk.reshape(groups, f // groups, -1), cols)  # (G, F_g, N*H_out*W_out)
    out = out.reshape(f, n, h_out, w_out).transpose(1, 0, 2, 3)
    if bias is not None:
        out = out + bias[None, :, None, None]
    cache = ConvCache((n, c, h, w), cols, wk, stride, padding, dilation, groups, flip)
    return np.ascontiguousarray(out), cache


def conv2d_backward(dout: NDArray, cache: ConvCache) -> tuple[NDArray, NDArray, NDArray]:
    """dout (N, F, H_out, W_out) -> dx (N, C, H, W), dw (F, C_g, KH, KW), db (F,).

    dcols has the shape of cols and is written over it once dw is known: a fresh array of that
    size each step cost up to half the time of a small layer in ``benchmarks/scratch_conv.py``.
    """
    if cache.spent:
        raise RuntimeError("this forward pass was already back-propagated; run forward again")
    f, c_g, kh, kw = cache.weight.shape
    g = cache.groups
    d = dout.transpose(1, 0, 2, 3).reshape(g, f // g, -1)  # (G, F_g, N*H_out*W_out)
    dw = np.matmul(d, cache.cols.transpose(0, 2, 1)).reshape(f, c_g, kh, kw)
    weight_t = cache.weight.reshape(g, f // g, -1).transpose(0, 2, 1)
    reuse = np.result_type(weight_t, d) == cache.cols.dtype  # integer inputs get a new array
    dcols = np.matmul(weight_t, d, out=cache.cols if reuse else None)  # (G, C_g*KH*KW, N*L_out)
    cache.spent = True
    dx = col2im(
        dcols.reshape(g * c_g * kh * kw, -1),
        cache.x_shape,
        (kh, kw),
        cache.stride,
        cache.padding,
        cache.dilation,
    )
    if cache.flip:
        dw = dw[:, :, ::-1, ::-1]
    return dx, np.ascontiguousarray(dw), dout.sum(axis=(0, 2, 3))


# ---------------------------------------------------------------------------------------------
# 1-D: a signal (N, C, L) is a one-row image (N, C, 1, L)
# ---------------------------------------------------------------------------------------------


def as_image(x: NDArray) -> NDArray:
    """(N, C, L) -> (N, C, 1, L), also for weights (F, C_g, K) -> (F, C_g, 1, K)."""
    return x[:, :, None, :]


def conv1d_naive(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, flip=False):
    """(N, C, L) * (F, C_g, K) -> (N, F, L_out)."""
    out = conv2d_naive(
        as_image(x), as_image(weight), bias, (1, stride), (0, padding), (1, dilation), groups, flip
    )
    return out[:, :, 0, :]


def conv1d_naive_backward(dout, x, weight, stride=1, padding=0, dilation=1, groups=1, flip=False):
    dx, dw, db = conv2d_naive_backward(
        as_image(dout), as_image(x), as_image(weight), (1, stride), (0, padding), (1, dilation),
        groups, flip,
    )  # fmt: skip
    return dx[:, :, 0, :], dw[:, :, 0, :], db


def conv1d_forward(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, flip=False):
    """(N, C, L) * (F, C_g, K) -> (N, F, L_out) and the cache for ``conv1d_backward``."""
    out, cache = conv2d_forward(
        as_image(x), as_image(weight), bias, (1, stride), (0, padding), (1, dilation), groups, flip
    )
    return out[:, :, 0, :], cache


def conv1d_backward(dout: NDArray, cache: ConvCache) -> tuple[NDArray, NDArray, NDArray]:
    dx, dw, db = conv2d_backward(as_image(dout), cache)
    return dx[:, :, 0, :], dw[:, :, 0, :], db


# ---------------------------------------------------------------------------------------------
# One channel, one kernel: the lectures' worked example
# ---------------------------------------------------------------------------------------------


def correlate2d(image: NDArray, kernel: NDArray) -> NDArray:
    """Valid cross-correlation of one 2-D image with one 2-D kernel (no flip)."""
    out, _ = conv2d_forward(image[None, None], kernel[None, None])
    return out[0, 0]


def convolve2d(image: NDArray, kernel: NDArray) -> NDArray:
    """Valid true convolution: the same sum with the kernel flipped in both axes."""
    out, _ = conv2d_forward(image[None, None], kernel[None, None], flip=True)
    return out[0, 0]
