"""Normalisation layers: batch normalisation and local response normalisation, forward and backward.

Both work per channel on x of shape (N, C) or (N, C, *spatial) and return the same shape.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from convlens.scratch.layers import Layer


class BatchNorm(Layer):
    """Batch normalisation (Ioffe & Szegedy 2015) over N and the spatial axes, per channel.

    Training normalises with the batch's mean and biased variance and updates the running
    estimates with the unbiased variance, as torch does; evaluation uses the running estimates.
    x is (N, C) or (N, C, *spatial); weight and bias are (C,).
    """

    def __init__(
        self, num_features: int, eps: float = 1e-5, momentum: float = 0.1, dtype=np.float64
    ):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.params["weight"] = np.ones(num_features, dtype=dtype)
        self.params["bias"] = np.zeros(num_features, dtype=dtype)
        self.buffers["running_mean"] = np.zeros(num_features, dtype=dtype)
        self.buffers["running_var"] = np.ones(num_features, dtype=dtype)

    def _axes_and_shape(self, x):
        axes = (0, *range(2, x.ndim))
        return axes, (1, x.shape[1]) + (1,) * (x.ndim - 2)

    def forward(self, x, train=False):
        axes, shape = self._axes_and_shape(x)
        if train:
            mean, var = x.mean(axis=axes), x.var(axis=axes)
            count = x.size // x.shape[1]
            m = self.momentum
            unbiased = var * count / max(count - 1, 1)
            self.buffers["running_mean"] = (1 - m) * self.buffers["running_mean"] + m * mean
            self.buffers["running_var"] = (1 - m) * self.buffers["running_var"] + m * unbiased
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        self.train_mode = train
        self.inv_std = 1.0 / np.sqrt(var + self.eps)
        self.xhat = (x - mean.reshape(shape)) * self.inv_std.reshape(shape)
        return self.xhat * self.params["weight"].reshape(shape) + self.params["bias"].reshape(shape)

    def backward(self, dout):
        axes, shape = self._axes_and_shape(dout)
        self.grads["weight"] = (dout * self.xhat).sum(axis=axes)
        self.grads["bias"] = dout.sum(axis=axes)
        dxhat = dout * self.params["weight"].reshape(shape)
        inv_std = self.inv_std.reshape(shape)
        if not self.train_mode:  # the statistics are constants
            return dxhat * inv_std
        # Through the batch mean and variance as well (cs231n's compact form):
        # dx = inv_std / M * (M dxhat - sum dxhat - xhat * sum(dxhat * xhat))
        count = dout.size // dout.shape[1]
        s1 = dxhat.sum(axis=axes, keepdims=True)
        s2 = (dxhat * self.xhat).sum(axis=axes, keepdims=True)
        return inv_std / count * (count * dxhat - s1 - self.xhat * s2)


def _channel_window_sum(v: NDArray, before: int, after: int) -> NDArray:
    """s[:, c] = sum of v[:, c - before .. c + after] along axis 1, zeros outside the channels."""
    pad = [(0, 0)] * v.ndim
    pad[1] = (before + 1, after)  # one extra zero in front so that a difference of cumsums works
    c = np.cumsum(np.pad(v, pad), axis=1)
    width = before + after + 1
    return c[:, width:] - c[:, :-width]


class LocalResponseNorm(Layer):
    """Local response normalisation across channels (Krizhevsky et al. 2012, section 3.3):

        d_c = k + alpha / size * sum_{c' = c - size//2 .. c + (size-1)//2} x_{c'}^2
        out_c = x_c * d_c^(-beta)

    with the window and the division by ``size`` as in torch.nn.LocalResponseNorm. Backward:

        dx_j = dout_j d_j^(-beta) - (2 alpha beta / size) x_j sum_{c: j in window(c)} dout_c x_c d_c^(-beta-1)
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, x, train=False):
        self.x = x
        before, after = self.size // 2, (self.size - 1) // 2
        self.d = self.k + self.alpha / self.size * _channel_window_sum(x * x, before, after)
        return x * self.d**-self.beta

    def backward(self, dout):
        x, d = self.x, self.d
        g = dout * x * d ** (-self.beta - 1)
        # channel c's window reaches j when c runs over j - (size-1)//2 .. j + size//2
        back = _channel_window_sum(g, (self.size - 1) // 2, self.size // 2)
        return dout * d**-self.beta - 2 * self.alpha * self.beta / self.size * x * back

    def __repr__(self) -> str:
        return (
            f"LocalResponseNorm(size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k})"
        )
