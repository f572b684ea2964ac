"""Layers as objects: each keeps what its backward pass needs and its parameters by torch's names.

Every layer has ``forward(x, train)`` -> out and ``backward(dout)`` -> dx; a layer with weights
also fills ``grads`` (same keys as ``params``: "weight", "bias"). Parameters follow torch's
layouts (Linear weight (out_features, in_features), Conv weight (out_channels, in_channels/groups,
*kernel_size)) so a torch ``state_dict`` loads without reshaping. Initialisation is torch's
default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases (``kaiming_uniform_`` with
a = sqrt(5); see torch.nn.Linear.reset_parameters).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from convlens.scratch import functional as F
from convlens.scratch.conv import (
    as_image,
    conv2d_backward,
    conv2d_forward,
    conv2d_naive,
    conv2d_naive_backward,
)
from convlens.scratch.padding import NUMPY_MODES, pad_backward, pad_forward
from convlens.scratch.pool import (
    global_avg_pool_backward,
    global_avg_pool_forward,
    pool_backward,
    pool_forward,
)


class Layer:
    """Base: no parameters; subclasses override forward/backward."""

    def __init__(self) -> None:
        self.params: dict[str, NDArray] = {}
        self.grads: dict[str, NDArray] = {}
        self.buffers: dict[str, NDArray] = {}  # state that is not trained (batch norm)

    def forward(self, x: NDArray, train: bool = False) -> NDArray:
        raise NotImplementedError

    def backward(self, dout: NDArray) -> NDArray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _uniform(rng: np.random.Generator, fan_in: int, shape: tuple[int, ...], dtype) -> NDArray:
    bound = 1.0 / math.sqrt(fan_in)
    return rng.uniform(-bound, bound, size=shape).astype(dtype)


class Linear(Layer):
    """x (N, in_features) -> out (N, out_features) = x W^T + b."""

    def __init__(self, in_features, out_features, bias=True, *, rng=None, dtype=np.float64):
        super().__init__()
        rng = rng or np.random.default_rng()
        self.params["weight"] = _uniform(rng, in_features, (out_features, in_features), dtype)
        if bias:
            self.params["bias"] = _uniform(rng, in_features, (out_features,), dtype)

    def forward(self, x, train=False):
        self.x = x
        out = x @ self.params["weight"].T
        return out + self.params["bias"] if "bias" in self.params else out

    def backward(self, dout):
        # dout (N, out_features) -> dx (N, in_features), dw (out, in), db (out,)
        self.grads["weight"] = dout.T @ self.x
        if "bias" in self.params:
            self.grads["bias"] = dout.sum(axis=0)
        return dout @ self.params["weight"]

    def __repr__(self) -> str:
        out, inp = self.params["weight"].shape
        return f"Linear(in_features={inp}, out_features={out})"


class Conv(Layer):
    """1-D or 2-D cross-correlation (``flip=True``: true convolution), torch's argument names.

    x (N, C, L) or (N, C, H, W); weight (F, C / groups, *kernel_size); bias (F,);
    out (N, F, L_out) or (N, F, H_out, W_out) with H_out = floor((H + 2P - D(K - 1) - 1) / S) + 1.
    backward: dout (shape of out) -> dx (shape of x); grads "weight" and "bias" like the params.
    ``impl="im2col"`` runs the matrix-product form, ``impl="naive"`` the loops of the formula.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple[int, ...],
        stride: tuple[int, ...] | None = None,
        padding: tuple[int, ...] | None = None,
        dilation: tuple[int, ...] | None = None,
        groups: int = 1,
        bias: bool = True,
        *,
        impl: str = "im2col",
        flip: bool = False,
        padding_mode: str = "zeros",
        rng: np.random.Generator | None = None,
        dtype=np.float64,
    ):
        super().__init__()
        if impl not in ("im2col", "naive"):
            raise ValueError(f"impl must be 'im2col' or 'naive', not {impl!r}")
        rng = rng or np.random.default_rng()
        self.ndim = len(kernel_size)
        fan_in = in_channels // groups * math.prod(kernel_size)
        shape = (out_channels, in_channels // groups, *kernel_size)
        self.params["weight"] = _uniform(rng, fan_in, shape, dtype)
        if bias:
            self.params["bias"] = _uniform(rng, fan_in, (out_channels,), dtype)
        nd = self.ndim
        stride, padding, dilation = stride or (1,) * nd, padding or (0,) * nd, dilation or (1,) * nd
        # 1-D runs as a one-row image (N, C, 1, L): the row axis gets stride 1, padding 0.
        self.stride: tuple[int, int] = (1, stride[0]) if nd == 1 else (stride[0], stride[1])
        self.padding: tuple[int, int] = (0, padding[0]) if nd == 1 else (padding[0], padding[1])
        self.dilation: tuple[int, int] = (1, dilation[0]) if nd == 1 else (dilation[0], dilation[1])
        self.groups, self.impl, self.flip = groups, impl, flip
        if padding_mode != "zeros" and padding_mode not in NUMPY_MODES:
            raise ValueError(f"unknown padding mode {padding_mode!r}")
        # Other modes pad explicitly first and run the convolution unpadded, as torch does.
        self.padding_mode = padding_mode

    def _image_weight(self) -> NDArray:
        w = self.params["weight"]
        return as_image(w) if self.ndim == 1 else w

    def forward(self, x, train=False):
        x2 = as_image(x) if self.ndim == 1 else x
        padding = self.padding
        if self.padding_mode != "zeros":
            x2, self.pad_cache = pad_forward(x2, self.padding, self.padding_mode)
            padding = (0, 0)
        args = (self.stride, padding, self.dilation, self.groups, self.flip)
        bias = self.params.get("bias")
        if self.impl == "naive":
            self.x = x2
            out = conv2d_naive(x2, self._image_weight(), bias, *args)
        else:
            out, self.cache = conv2d_forward(x2, self._image_weight(), bias, *args)
        return out[:, :, 0, :] if self.ndim == 1 else out

    def backward(self, dout):
        d2 = as_image(dout) if self.ndim == 1 else dout
        explicit = self.padding_mode != "zeros"
        if self.impl == "naive":
            padding = (0, 0) if explicit else self.padding
            args = (self.stride, padding, self.dilation, self.groups, self.flip)
            dx, dw, db = conv2d_naive_backward(d2, self.x, self._image_weight(), *args)
        else:
            dx, dw, db = conv2d_backward(d2, self.cache)
        if explicit:
            dx = pad_backward(dx, self.pad_cache)
        self.grads["weight"] = dw[:, :, 0, :] if self.ndim == 1 else dw
        if "bias" in self.params:
            self.grads["bias"] = db
        return dx[:, :, 0, :] if self.ndim == 1 else dx

    def __repr__(self) -> str:
        f, c_g, *k = self.params["weight"].shape
        return (
            f"Conv{self.ndim}d(in_channels={c_g * self.groups}, out_channels={f}, "
            f"kernel_size={tuple(k)}, impl={self.impl!r})"
        )


class Pool(Layer):
    """Max or average pooling: x (N, C, L) or (N, C, H, W) -> (N, C, L_out) or (N, C, H_out, W_out),
    H_out = floor((H + 2P - K) / S) + 1; backward dout -> dx (shape of x). No parameters."""

    def __init__(self, kind: str, kernel_size: int, stride: int | None = None, padding: int = 0):
        super().__init__()
        self.kind, self.kernel_size, self.stride, self.padding = kind, kernel_size, stride, padding

    def forward(self, x, train=False):
        out, self.cache = pool_forward(x, self.kind, self.kernel_size, self.stride, self.padding)
        return out

    def backward(self, dout):
        return pool_backward(dout, self.cache)

    def __repr__(self) -> str:
        return f"Pool({self.kind!r}, kernel_size={self.kernel_size}, stride={self.stride})"


class GlobalAvgPool(Layer):
    def forward(self, x, train=False):
        self.x_shape = x.shape
        return global_avg_pool_forward(x)

    def backward(self, dout):
        return global_avg_pool_backward(dout, self.x_shape)


class Flatten(Layer):
    """(N, C, ...) -> (N, C*...), in C-order like torch.flatten(x, 1)."""

    def forward(self, x, train=False):
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.x_shape)


class Dropout(Layer):
    """Inverted dropout: in training keep each value with probability 1 - p and scale by
    1 / (1 - p), so evaluation is the identity (Srivastava et al. 2014; torch.nn.Dropout)."""

    def __init__(self, p: float = 0.5, *, rng: np.random.Generator | None = None):
        super().__init__()
        self.p = p
        self.rng = rng or np.random.default_rng()
        self.mask: NDArray | None = None

    def forward(self, x, train=False):
        if not train or self.p == 0.0:
            self.mask = None
            return x
        self.mask = (self.rng.random(x.shape) >= self.p).astype(x.dtype) / (1.0 - self.p)
        return x * self.mask

    def backward(self, dout):
        return dout if self.mask is None else dout * self.mask


class Activation(Layer):
    """An elementwise activation (relu, sigmoid, tanh, softplus, elu, gelu, lrelu) or softmax over axis 1."""

    def __init__(self, name: str, negative_slope: float = 0.01):
        super().__init__()
        if name not in (*F.ELEMENTWISE, "lrelu", "softmax"):
            raise ValueError(f"no scratch activation named {name!r}")
        self.name, self.negative_slope = name, negative_slope

    def forward(self, x, train=False):
        self.x = x
        if self.name == "softmax":
            self.y = F.softmax(x, axis=1)
        elif self.name == "lrelu":
            self.y = F.leaky_relu(x, self.negative_slope)
        else:
            self.y = F.ELEMENTWISE[self.name][0](x)
        return self.y

    def backward(self, dout):
        if self.name == "softmax":
            return F.softmax_backward(dout, self.y, axis=1)
        if self.name == "lrelu":
            return dout * F.leaky_relu_grad(self.x, self.y, self.negative_slope)
        return dout * F.ELEMENTWISE[self.name][1](self.x, self.y)

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"
