"""im2col and col2im: every window of the padded input as one column of a matrix, and back.

With the windows laid out as columns, a convolution is one matrix product (Chellapilla, Puri &
Simard, "High Performance Convolutional Neural Networks for Document Processing", 2006):

    x (N, C, H, W) --im2col--> cols (C*KH*KW, N*H_out*W_out)
    w (F, C, KH, KW) -> (F, C*KH*KW);   out = w @ cols -> (F, N*H_out*W_out)

Output size along each dimension (padding P, dilation D, stride S, kernel K):

    H_out = floor((H + 2P - D(K - 1) - 1) / S) + 1

The copy loops over the KH*KW kernel offsets rather than over the output positions: each offset
(i, j) sees a strided slice of the input, so the Python loop is short (9 steps for 3x3) and every
step is one vectorised copy. col2im is the adjoint: it adds each column back onto the position it
came from, so overlapping windows accumulate, which is exactly the gradient of im2col.

Only 2-D is written here; a 1-D signal (N, C, L) is the 2-D image (N, C, 1, L).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from convlens.analysis.geometry import conv_output_size

Pair = tuple[int, int]


def output_shape(
    h: int, w: int, kernel_size: Pair, stride: Pair, padding: Pair, dilation: Pair
) -> Pair:
    """(H_out, W_out), floor semantics as in PyTorch; raises LayerFitError if nothing fits."""
    return (
        conv_output_size(h, kernel_size[0], stride[0], padding[0], dilation[0]),
        conv_output_size(w, kernel_size[1], stride[1], padding[1], dilation[1]),
    )


def pad2d(x: NDArray, padding: Pair, value: float = 0.0) -> NDArray:
    """Pad the two spatial axes of (N, C, H, W) by (PH, PW) on both sides."""
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _offset_slices(i: int, j: int, out: Pair, stride: Pair, dilation: Pair):
    """The slice of the padded input that kernel offset (i, j) sees at every output position."""
    top, left = i * dilation[0], j * dilation[1]
    return (
        slice(top, top + stride[0] * (out[0] - 1) + 1, stride[0]),
        slice(left, left + stride[1] * (out[1] - 1) + 1, stride[1]),
    )


def im2col(
    x: NDArray,
    kernel_size: Pair,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
    pad_value: float = 0.0,
) -> NDArray:
    """(N, C, H, W) -> (C*KH*KW, N*H_out*W_out); rows ordered (c, i, j) like w.reshape(F, -1)."""
    n, c, h, w = x.shape
    kh, kw = kernel_size
    out = output_shape(h, w, kernel_size, stride, padding, dilation)
    # channels first once, so that each offset's copy below reads and writes in memory order
    xp = np.ascontiguousarray(pad2d(x, padding, pad_value).transpose(1, 0, 2, 3))  # (C, N, H, W)
    cols = np.empty((c, kh, kw, n, *out), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = _offset_slices(i, j, out, stride, dilation)
            cols[:, i, j] = xp[:, :, rows, columns]  # (C, N, H_out, W_out)
    return cols.reshape(c * kh * kw, n * out[0] * out[1])


def col2im(
    cols: NDArray,
    x_shape: tuple[int, int, int, int],
    kernel_size: Pair,
    stride: Pair = (1, 1),
    padding: Pair = (0, 0),
    dilation: Pair = (1, 1),
) -> NDArray:
    """The adjoint of ``im2col``: (C*KH*KW, N*H_out*W_out) -> (N, C, H, W), overlaps summed."""
    n, c, h, w = x_shape
    kh, kw = kernel_size
    out = output_shape(h, w, kernel_size, stride, padding, dilation)
    cols = cols.reshape(c, kh, kw, n, *out)
    ph, pw = padding
    dxp = np.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)  # channels first, as above
    for i in range(kh):
        for j in range(kw):
            rows, columns = _offset_slices(i, j, out, stride, dilation)
            dxp[:, :, rows, columns] += cols[:, i, j]
    return dxp[:, :, ph : ph + h, pw : pw + w].transpose(1, 0, 2, 3)
