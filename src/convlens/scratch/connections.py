"""The other kinds of connection the lectures name, forward and backward in NumPy.

After Goodfellow et al., Deep Learning, ch. 9: weighted-average pooling around the central pixel,
locally connected (unshared) and tiled convolution, cross-channel (maxout) pooling, and the
recurrent convolutional layer of Liang & Hu (CVPR 2015). Each layer keeps torch's parameter
names and layouts (``convlens.modules``), so a torch ``state_dict`` loads unchanged, and reuses the
tested pieces of this engine: im2col / col2im for the windows, ``conv2d_forward`` /
``conv2d_backward`` for the convolutions.
"""

from __future__ import annotations

import math

import numpy as np

from convlens.scratch.conv import as_image, conv2d_backward, conv2d_forward
from convlens.scratch.im2col import col2im, im2col, output_shape
from convlens.scratch.layers import Layer, _uniform
from convlens.spec import binomial_weights


class WeightedPool(Layer):
    """Binomial weighted average of each window, every channel alike.

    x (N, C, H, W) or (N, C, L) -> (N, C, H_out, W_out) or (N, C, L_out). The channels run as
    N * C one-channel images through a convolution with one fixed kernel, so the backward pass is
    that convolution's dx: each window pixel gets dout times its weight.
    """

    def __init__(self, kernel_size: int, stride: int, padding: int = 0) -> None:
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.row = np.array(binomial_weights(kernel_size))

    def forward(self, x, train=False):
        self.x_shape = x.shape
        n, c, *spatial = x.shape
        one_d = len(spatial) == 1
        images = x.reshape(n * c, 1, *spatial)
        images = as_image(images) if one_d else images  # (N*C, 1, H, W)
        kernel = self.row[None, :] if one_d else np.outer(self.row, self.row)
        s, p = self.stride, self.padding
        stride, padding = ((1, s), (0, p)) if one_d else ((s, s), (p, p))
        out, self.cache = conv2d_forward(
            images, kernel[None, None].astype(x.dtype), None, stride, padding
        )
        return out.reshape(n, c, *(out.shape[3:] if one_d else out.shape[2:]))

    def backward(self, dout):
        n, c = self.x_shape[:2]
        d = dout.reshape(n * c, 1, *dout.shape[2:])
        dx, _, _ = conv2d_backward(as_image(d) if d.ndim == 3 else d, self.cache)
        return dx.reshape(self.x_shape)

    def __repr__(self) -> str:
        return f"WeightedPool(kernel_size={self.kernel_size}, stride={self.stride})"


class LocalConv(Layer):
    """A 2-D convolution's windows with a filter bank per output position (``tiles = 0``) or per
    position modulo ``tiles`` (tiled convolution).

    x (N, C_in, H, W) -> out (N, C_out, H_out, W_out); weight (banks, C_out, C_in*KH*KW) in
    im2col's row order, bias (banks, C_out). With cols = im2col(x) as (F, N, L):

        out[n, o, l] = sum_f cols[f, n, l] * weight[bank[l], o, f] + bias[bank[l], o]

    backward: dweight[b] sums the per-position gradients of the positions using bank b.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: tuple[int, int],
        in_size: tuple[int, int], tiles: int = 0, stride: int = 1, padding: int = 0,
        *, rng: np.random.Generator | None = None, dtype=np.float64,
    ) -> None:  # fmt: skip
        super().__init__()
        rng = rng or np.random.default_rng()
        self.kernel_size, self.stride, self.padding = kernel_size, (stride,) * 2, (padding,) * 2
        self.out_size = output_shape(*in_size, kernel_size, self.stride, self.padding, (1, 1))
        h_out, w_out = self.out_size
        banks = h_out * w_out if tiles == 0 else tiles * tiles
        fan_in = in_channels * math.prod(kernel_size)
        self.params["weight"] = _uniform(rng, fan_in, (banks, out_channels, fan_in), dtype)
        self.params["bias"] = _uniform(rng, fan_in, (banks, out_channels), dtype)
        i, j = np.meshgrid(np.arange(h_out), np.arange(w_out), indexing="ij")
        self.bank = ((i % tiles) * tiles + j % tiles if tiles else i * w_out + j).ravel()

    def forward(self, x, train=False):
        n = x.shape[0]
        self.x_shape = x.shape
        cols = im2col(x, self.kernel_size, self.stride, self.padding)
        self.cols = cols.reshape(cols.shape[0], n, -1)  # (F, N, L)
        weight = self.params["weight"][self.bank]  # (L, C_out, F)
        out = np.einsum("fnl,lof->nol", self.cols, weight) + self.params["bias"][self.bank].T
        return out.reshape(n, -1, *self.out_size)

    def backward(self, dout):
        n, c_out = dout.shape[:2]
        d = dout.reshape(n, c_out, -1)  # (N, C_out, L)
        dweight = np.zeros_like(self.params["weight"])
        dbias = np.zeros_like(self.params["bias"])
        np.add.at(dweight, self.bank, np.einsum("nol,fnl->lof", d, self.cols))
        np.add.at(dbias, self.bank, d.sum(axis=0).T)
        self.grads["weight"], self.grads["bias"] = dweight, dbias
        dcols = np.einsum("nol,lof->fnl", d, self.params["weight"][self.bank])
        return col2im(
            dcols.reshape(dcols.shape[0], -1), self.x_shape, self.kernel_size, self.stride,
            self.padding,
        )  # fmt: skip

    def __repr__(self) -> str:
        banks, out, fan_in = self.params["weight"].shape
        return f"LocalConv(out_channels={out}, fan_in={fan_in}, banks={banks})"


class RecurrentConv(Layer):
    """Recurrent convolutional layer (Liang & Hu 2015), unrolled for ``steps`` steps:

        x(0) = relu(w_f * u + b),   x(t) = relu(w_f * u + w_r * x(t - 1) + b)

    u (N, C_in, H, W) -> x(T) (N, C, H, W); weight w_f (C, C_in, K, K), recurrent_weight w_r
    (C, C, K, K), bias (C,); 'same' padding. backward runs back through time: the gradient
    reaching x(t) flows through its ReLU into w_r * x(t - 1) and into the shared w_f * u + b.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, steps: int,
        *, rng: np.random.Generator | None = None, dtype=np.float64,
    ) -> None:  # fmt: skip
        super().__init__()
        rng = rng or np.random.default_rng()
        k, c = kernel_size, out_channels
        self.steps, self.padding = steps, ((k - 1) // 2,) * 2
        fan_f, fan_r = in_channels * k * k, c * k * k
        self.params["weight"] = _uniform(rng, fan_f, (c, in_channels, k, k), dtype)
        self.params["recurrent_weight"] = _uniform(rng, fan_r, (c, c, k, k), dtype)
        self.params["bias"] = _uniform(rng, fan_f, (c,), dtype)

    def forward(self, x, train=False):
        p = self.padding
        self.feed, self.feed_cache = conv2d_forward(
            x, self.params["weight"], self.params["bias"], (1, 1), p
        )
        state = np.maximum(self.feed, 0)
        self.steps_cache = []  # per step: the recurrent conv's cache and the pre-activation
        for _ in range(self.steps):
            r, cache = conv2d_forward(state, self.params["recurrent_weight"], None, (1, 1), p)
            z = self.feed + r
            self.steps_cache.append((cache, z))
            state = np.maximum(z, 0)
        return state

    def backward(self, dout):
        dfeed = np.zeros_like(self.feed)
        dw_r = np.zeros_like(self.params["recurrent_weight"])
        d_state = dout
        for cache, z in reversed(self.steps_cache):
            dz = d_state * (z > 0)
            dfeed += dz
            d_state, dw, _ = conv2d_backward(dz, cache)
            dw_r += dw
        dfeed += d_state * (self.feed > 0)  # step 0: x(0) = relu(feed)
        dx, dw_f, db = conv2d_backward(dfeed, self.feed_cache)
        self.grads.update(weight=dw_f, recurrent_weight=dw_r, bias=db)
        return dx

    def __repr__(self) -> str:
        c, c_in, k, _ = self.params["weight"].shape
        return f"RecurrentConv({c_in}, {c}, kernel_size={k}, steps={self.steps})"


class Maxout(Layer):
    """The max over each group of ``pool_size`` consecutive channels: (N, C, ...) ->
    (N, C / pool_size, ...); backward sends dout to the input that won each max."""

    def __init__(self, pool_size: int) -> None:
        super().__init__()
        self.pool_size = pool_size

    def forward(self, x, train=False):
        n, c, *rest = x.shape
        self.x_shape = x.shape
        groups = x.reshape(n, c // self.pool_size, self.pool_size, *rest)
        self.winner = groups.argmax(axis=2)[:, :, None]
        return np.take_along_axis(groups, self.winner, axis=2)[:, :, 0]

    def backward(self, dout):
        n, c, *rest = self.x_shape
        dgroups = np.zeros((n, c // self.pool_size, self.pool_size, *rest), dtype=dout.dtype)
        np.put_along_axis(dgroups, self.winner, dout[:, :, None], axis=2)
        return dgroups.reshape(self.x_shape)

    def __repr__(self) -> str:
        return f"Maxout({self.pool_size})"
