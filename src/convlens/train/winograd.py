"""A 3x3 convolution followed by a 2x2 max-pool, computed with Winograd's minimal filtering.

Winograd's F(m x m, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", CVPR
2016) makes an m x m block of a 3x3 convolution's outputs from an (m + 2) x (m + 2) tile of its
input with (m + 2)^2 multiplications per pair of channels, where the direct sum needs 9 m^2: the
input tile and the filter are carried into an (m + 2)^2-point domain by fixed matrices (B and G),
multiplied there point by point, summed over input channels (one matrix product per point) and
brought back by a third (A). F(2x2, 3x3) needs 16 products for 4 outputs (2.25x fewer than the
direct 36), F(6x6, 3x3) 64 for 36 (5.1x fewer than 324).

With m even, every 2x2 window of the max-pool that follows lies inside one block, so the pool takes
the largest of each window's four outputs straight from the blocks and the convolution's output
map is never stored; outputs that the floor pool drops (the 7th row and column of a 7x7 map) are
not computed when the blocks fit the pooled part exactly (a 7x7 map: one 6x6 block).

Forward and backward are written out (a ``torch.autograd.Function``): the input and output
transforms are small matrices applied along each side of every tile (two matrix products over the
whole batch), the pool's choice is kept as one byte per window, and the large products are the
three batched ones (forward; gradients of the input and of the filters). Results equal
``F.conv2d`` then ``F.max_pool2d`` to float32 rounding (tests/train/test_winograd.py).
"""

from __future__ import annotations

import functools
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import torch
from torch import nn
from torch.profiler import record_function

from convlens.analysis.trace import trace_rows

if TYPE_CHECKING:
    from convlens.train.device import Hardware

# interpolation points of F(m, 3), the point at infinity added: small integers and halves keep the
# transforms' entries few and exact in binary, so float32 results stay close to the direct sum
_POINTS = {
    2: (0.0, 1.0, -1.0),
    4: (0.0, 1.0, -1.0, 2.0, -2.0),
    6: (0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5),
}


RANGE = "convlens.winograd"


@functools.cache
def transforms(m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A^T (m x n), G (n x 3) and B^T (n x n) of F(m, 3), n = m + 2, in float64.

    A^T evaluates the outputs' polynomial at the points, G the filter's (scaled by the Lagrange
    denominators); B^T is the unique matrix that makes A^T [(G g) * (B^T d)] equal the correlation
    sum_k d[i + k] g[k] for every d and g: those linear conditions are solved exactly.
    """
    points = _POINTS[m]
    n, r = m + 2, 3
    at = np.zeros((m, n))
    g = np.zeros((n, r))
    for j, a in enumerate(points):
        at[:, j] = [a**i for i in range(m)]
        denominator = math.prod(a - b for b in points if b != a)
        g[j] = [a**k / denominator for k in range(r)]
    at[m - 1, n - 1] = 1.0  # the point at infinity: the leading coefficients
    g[n - 1, r - 1] = 1.0
    # sum_j at[i, j] g[j, k] bt[j, t] = [t == i + k]: m * r * n equations in the n * n entries
    rows = np.zeros((m, r, n, n, n))
    for t in range(n):
        rows[:, :, t, :, t] = at[:, None, :] * g.T[None, :, :]
    target = np.zeros((m, r, n))
    for i in range(m):
        for k in range(r):
            target[i, k, i + k] = 1.0
    solution, *_ = np.linalg.lstsq(rows.reshape(-1, n * n), target.ravel(), rcond=None)
    bt = np.round(solution.reshape(n, n) * 1024) / 1024  # its entries are multiples of 1/4
    assert np.abs(rows.reshape(-1, n * n) @ bt.ravel() - target.ravel()).max() < 1e-12
    return at, g, bt


@functools.cache
def _torch_transforms(m: int, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    """The transforms as torch matrices: A^T (m x n) with its rows in the order even outputs
    first, then odd ones (so that the four candidates of every 2x2 pooling window sit at the same
    place of four quarters of the result), G over a tile's points (n^2 x 9, row-major), and
    B^T (n x n). A^T and B^T are applied along each side of a tile (``_both_sides``: 2n products
    per point where a matrix over the n^2 points needs n^2)."""
    at, g, bt = transforms(m)
    by_parity = at[list(range(0, m, 2)) + list(range(1, m, 2))]
    return tuple(
        torch.tensor(t, dtype=dtype, device=device) for t in (by_parity, np.kron(g, g), bt)
    )


def _both_sides(matrix: torch.Tensor, tiles: torch.Tensor) -> torch.Tensor:
    """``matrix`` applied along both axes of every tile: tiles (k, l, X) -> (a, b, X) with
    out[a, b] = sum over k, l of matrix[a, k] matrix[b, l] tiles[k, l], as (a * b, X)."""
    k = tiles.shape[0]
    along_l = torch.matmul(matrix, tiles)  # batched over k: (k, b, X)
    return (matrix @ along_l.view(k, -1)).view(matrix.shape[0] * along_l.shape[1], -1)


class _ConvPool(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, m: int
    ) -> torch.Tensor:
        with record_function(RANGE):  # one kind in `convlens bench --profile`
            return _forward(ctx, x, weight, bias, m)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        with record_function(RANGE):
            return _backward(ctx, grad)


def _forward(
    ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, m: int
) -> torch.Tensor:
    b, c, h, w = x.shape
    o, n, half = weight.shape[0], m + 2, m // 2
    th, tw = h // 2, w // 2  # the pooled map
    rows, cols = -(-2 * th // m), -(-2 * tw // m)  # blocks covering its 2th x 2tw outputs
    hp, wp = rows * m + 2, cols * m + 2
    at, g2, bt = _torch_transforms(m, x.device, x.dtype)
    xp = x.new_zeros((b, hp, wp, c))  # NHWC, zero padded
    hi, wi = min(h, hp - 1), min(w, wp - 1)
    xp[:, 1 : hi + 1, 1 : wi + 1] = x.permute(0, 2, 3, 1)[:, :hi, :wi]
    tiles = xp.unfold(1, n, m).unfold(2, n, m)  # (B, rows, cols, C, n, n)
    d = tiles.permute(4, 5, 0, 1, 2, 3).reshape(n * n, -1)
    count = b * rows * cols
    u = _both_sides(bt, d.view(n, n, -1)).view(n * n, count, c)
    v = (g2 @ weight.reshape(o, c, 9).permute(2, 1, 0).reshape(9, c * o)).view(n * n, c, o)
    y = _both_sides(at, torch.bmm(u, v).view(n, n, -1)).view(2, half, 2, half, count * o)
    y00, y01, y10, y11 = y[0, :, 0], y[0, :, 1], y[1, :, 0], y[1, :, 1]  # (half, half, count * O)
    # the max-pool: the largest of each window's four outputs, the first of equals (in
    # row-major order), as max_pool2d picks it
    right, lower_right = y01 > y00, y11 > y10
    top, bottom = torch.maximum(y00, y01), torch.maximum(y10, y11)
    lower = bottom > top
    pooled = torch.maximum(top, bottom)
    index = torch.where(lower, lower_right, right).to(torch.uint8) + 2 * lower.to(torch.uint8)
    pooled = pooled.reshape(half, half, b, rows, cols, o).permute(2, 3, 0, 4, 1, 5)
    out = pooled.reshape(b, rows * half, cols * half, o)[:, :th, :tw]
    out = out + bias if bias is not None else out.contiguous()
    ctx.save_for_backward(u, v, index)
    ctx.geometry = (b, c, h, w, o, m, rows, cols, bias is not None)
    return out.permute(0, 3, 1, 2)


def _backward(ctx: Any, grad: torch.Tensor) -> tuple[Any, ...]:
    u, v, index = ctx.saved_tensors
    b, c, h, w, o, m, rows, cols, has_bias = ctx.geometry
    n, half = m + 2, m // 2
    th, tw = h // 2, w // 2
    at, g2, bt = _torch_transforms(m, grad.device, grad.dtype)
    gl = grad.permute(0, 2, 3, 1)  # (B, th, tw, O)
    if rows * half == th and cols * half == tw:
        full = gl
    else:
        full = gl.new_zeros((b, rows * half, cols * half, o))
        full[:, :th, :tw] = gl
    gq = full.reshape(b, rows, half, cols, half, o).permute(2, 4, 0, 1, 3, 5)
    gq = gq.reshape(half * half * b * rows * cols, o)
    count = b * rows * cols
    gy = gl.new_zeros((2, 2, half, half, count * o))  # to the output the pool took
    gy.view(4, -1).scatter_(0, index.long().reshape(1, -1), gq.reshape(1, -1))
    by_side = gy.permute(0, 2, 1, 3, 4).reshape(m, m, -1)  # (output row, output column, ...)
    dm = _both_sides(at.t().contiguous(), by_side).view(n * n, count, o)
    grad_x = grad_w = grad_b = None
    if ctx.needs_input_grad[0]:
        du = torch.bmm(dm, v.transpose(1, 2))  # (n^2, count, C)
        dtiles = _both_sides(bt.t().contiguous(), du.view(n, n, -1))
        dtiles = dtiles.view(n, n, b, rows, cols, c)
        hp, wp = rows * m + 2, cols * m + 2
        if rows == cols == 1:  # one tile: nothing overlaps
            dxp = dtiles.view(n, n, b, c).permute(2, 0, 1, 3)
        else:
            dxp = gl.new_zeros((b, hp, wp, c))
            for i in range(n):  # overlapping tiles add up
                for j in range(n):
                    dxp[:, i : i + m * rows : m, j : j + m * cols : m] += dtiles[i, j]
        hi, wi = min(h, hp - 1), min(w, wp - 1)
        if hi == h and wi == w:
            grad_x = dxp[:, 1 : h + 1, 1 : w + 1].permute(0, 3, 1, 2)
        else:
            dx = gl.new_zeros((b, h, w, c))
            dx[:, :hi, :wi] = dxp[:, 1 : hi + 1, 1 : wi + 1]
            grad_x = dx.permute(0, 3, 1, 2)
    if ctx.needs_input_grad[1]:
        dv = torch.bmm(u.transpose(1, 2), dm)  # (n^2, C, O)
        grad_w = (g2.t() @ dv.view(n * n, c * o)).view(3, 3, c, o).permute(3, 2, 0, 1)
    if has_bias and ctx.needs_input_grad[2]:
        grad_b = gl.sum((0, 1, 2))
    return grad_x, grad_w, grad_b, None


def conv3x3_maxpool2(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, m: int = 2
) -> torch.Tensor:
    """``F.max_pool2d(F.conv2d(x, weight, bias, padding=1), 2)`` by Winograd's F(m x m, 3x3)."""
    return _ConvPool.apply(x, weight, bias, m)


class WinogradConvPool(nn.Module):
    """Runs ``conv`` (3x3, stride 1, padding 1) and the 2x2 max-pool after it as one Winograd
    step; the convolution's parameters are shared, not copied."""

    def __init__(self, conv: nn.Conv2d, m: int = 2) -> None:
        super().__init__()
        self.conv, self.m = conv, m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return conv3x3_maxpool2(x, self.conv.weight, self.conv.bias, self.m)


# Where F(6x6, 3x3) was measured faster than oneDNN's direct convolution and max-pool (forward and
# backward, float32 channels-last, AVX2-only EPYC, 2026-12-07 03:10 UTC,
# benchmarks/winograd_speed.py): maps of 6x6 or 7x7, so that one 6x6 block holds every output the
# pool reads, with at least 32 input channels. At batch 256: 64->128 at 7x7 1.88-2.27x, 96->192
# 2.32-2.80x, 32->64 1.24-1.70x (batch 64: 64->128 1.81x); every larger map slower (14x14: 16->64
# 0.32-0.39x, 32->64 0.45-0.56x), where the blocks overlap and the tiles outgrow the caches. A whole
# training step of the Fashion-MNIST `fast` network (conv3 64->128 at 7x7 fused) took 1.35x less
# time at batch 256, 1.18-1.29x at 128, 1.03-1.25x at 64 and 0.82x at 32: small steps lose the
# layer's gain to the extra operations around it.
MIN_CHANNELS = 32
MIN_BATCH = 64
BLOCK = 6


def fusable(conv: nn.Module, pool: nn.Module, batch_shape: tuple[int, ...]) -> bool:
    """Whether ``conv`` then ``pool`` on batches of ``batch_shape`` (N, C, H, W) is a pair that
    ``WinogradConvPool`` computes faster than the two layers."""
    if not (isinstance(conv, nn.Conv2d) and isinstance(pool, nn.MaxPool2d)):
        return False
    plain_conv = (
        conv.kernel_size == (3, 3)
        and conv.stride == (1, 1)
        and conv.padding == (1, 1)
        and conv.dilation == (1, 1)
        and conv.groups == 1
        and conv.padding_mode == "zeros"
    )
    plain_pool = (
        pool.kernel_size in (2, (2, 2))
        and pool.stride in (2, (2, 2))
        and pool.padding in (0, (0, 0))
        and pool.dilation in (1, (1, 1))
        and not pool.ceil_mode
        and not pool.return_indices
    )
    n, c, h, w = batch_shape
    return (
        plain_conv
        and plain_pool
        and n >= MIN_BATCH
        and c >= MIN_CHANNELS
        and 2 * (h // 2) == BLOCK
        and 2 * (w // 2) == BLOCK
    )


def winograd_runs_on(hw: Hardware) -> bool:
    """Whether fused layers replace the direct ones on this hardware: float32 on the CPU (bf16
    and CUDA have kernels of their own)."""
    return hw.device.type == "cpu" and hw.precision == "float32"


def winograd_note(fused: Sequence[str]) -> str:
    """What a run's hardware line adds when convolutions ran by Winograd's algorithm."""
    return f"{_NOTE}{', '.join(fused)}" if fused else ""


_NOTE = ", Winograd F(6x6, 3x3) for "


def winograd_view(model: nn.Module, batch_shape: tuple[int, ...]) -> tuple[nn.Module, list[str]]:
    """A network that computes what ``model`` does on batches of ``batch_shape`` (N, C, H, W),
    with every fusable convolution and max-pool pair of a sequential model (a ReLU between them
    allowed) run as one ``WinogradConvPool``, and the names of those convolutions. The view holds
    ``model``'s own modules (training it trains ``model``; hooks on the fused layers, or on
    ``model`` itself, do not run); a model that is not an ``nn.Sequential``, or has no such pair,
    comes back as it is. Each layer's input shape comes from the summary's trace."""
    if not isinstance(model, nn.Sequential) or len(batch_shape) != 4:
        return model, []
    named = list(model.named_children())
    # one real forward pass of a zero example: milliseconds, where the meta device's first use
    # imports torch's meta kernels (over a second of a run's start-up)
    rows, _ = trace_rows(model, batch_shape[1:], meta=False, flop_counter=False)
    seen = {row.name: row.in_shape for row in rows}
    parts: list[tuple[str, nn.Module]] = []
    fused: list[str] = []
    i = 0
    while i < len(named):
        name, layer = named[i]
        after = [module for _, module in named[i + 1 : i + 3]]
        # a ReLU between the two moves after the pool: max(relu(a), relu(b)) = relu(max(a, b))
        relu = bool(after) and type(after[0]) is nn.ReLU
        pool = after[1] if relu and len(after) > 1 else (after[0] if after else None)
        shape = (batch_shape[0], *seen.get(name, ()))
        if pool is not None and len(shape) == 4 and fusable(layer, pool, shape):
            parts.append((name, WinogradConvPool(cast(nn.Conv2d, layer), BLOCK)))
            if relu:
                parts.append(named[i + 1])
            fused.append(name)
            i += 3 if relu else 2
        else:
            parts.append((name, layer))
            i += 1
    if not fused:
        return model, []
    return nn.Sequential(OrderedDict(parts)), fused
