"""A NumPy network built from the same spec text as ``convlens.build_model``.

The geometry pass (``convlens.analysis.geometry.analyze``) gives every layer its name and input
shape, exactly as for the torch network, so the layers are called conv1, relu1, pool1, flatten1,
fc1 ... in both worlds and the parameter keys match torch's ``state_dict`` ("conv1.weight",
"fc1.bias"). Loading the torch twin's weights (converted with ``.numpy()``) gives the same
function; the tests check forward and backward against torch.

    net = build_scratch("conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10", (1, 28, 28))
    logits = net.forward(x, train=True)          # x (N, 1, 28, 28)
    loss, dlogits = softmax_cross_entropy(logits, y)
    net.backward(dlogits)                        # fills net.grads()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from convlens import spec as S
from convlens.analysis.geometry import LayerInfo, analyze
from convlens.errors import CheckpointError, SpecError
from convlens.scratch import connections as C
from convlens.scratch import layers as L
from convlens.scratch import norm


class ScratchNet:
    """An ordered list of named scratch layers; forward runs them in order, backward in reverse."""

    def __init__(self, named_layers: Sequence[tuple[str, L.Layer]], in_shape: tuple[int, ...] = ()):
        self.layers: dict[str, L.Layer] = dict(named_layers)
        self.in_shape = in_shape

    def forward(self, x: NDArray, train: bool = False) -> NDArray:
        for layer in self.layers.values():
            x = layer.forward(x, train)
        return x

    __call__ = forward

    def backward(self, dout: NDArray) -> NDArray:
        """dout: gradient of the loss with respect to the output; returns dx, fills grads."""
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        return dout

    def params(self) -> dict[str, NDArray]:
        """Trainable arrays by torch's key names; the arrays are the layers' own (no copies)."""
        return {f"{n}.{k}": v for n, layer in self.layers.items() for k, v in layer.params.items()}

    def grads(self) -> dict[str, NDArray]:
        return {f"{n}.{k}": v for n, layer in self.layers.items() for k, v in layer.grads.items()}

    def state_dict(self) -> dict[str, NDArray]:
        state = self.params()
        for n, layer in self.layers.items():
            state.update({f"{n}.{k}": v for k, v in layer.buffers.items()})
        return {k: v.copy() for k, v in state.items()}

    def load_state_dict(self, state: Mapping[str, NDArray], strict: bool = True) -> None:
        """Copy arrays in by torch's key names (e.g. a torch state_dict converted with .numpy()).

        Arrays keep this network's dtype. torch's ``num_batches_tracked`` counters are ignored.
        """
        own = {}
        for n, layer in self.layers.items():
            own.update({f"{n}.{k}": (layer.params, k) for k in layer.params})
            own.update({f"{n}.{k}": (layer.buffers, k) for k in layer.buffers})
        given = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
        missing, unexpected = sorted(set(own) - set(given)), sorted(set(given) - set(own))
        if strict and (missing or unexpected):
            raise CheckpointError(
                f"the weights do not match this network (missing: {', '.join(missing) or 'none'}; "
                f"unexpected: {', '.join(unexpected) or 'none'}); build it from the same spec"
            )
        for key, value in given.items():
            if key not in own:
                continue
            table, name = own[key]
            value = np.asarray(value)
            if value.shape != table[name].shape:
                raise CheckpointError(
                    f"{key} has shape {value.shape} but this network needs {table[name].shape}"
                )
            table[name] = value.astype(table[name].dtype, copy=True)

    def predict(self, x: NDArray, batch_size: int = 500) -> NDArray:
        """Class indices, computed in batches in evaluation mode."""
        return np.concatenate(
            [
                self.forward(x[i : i + batch_size]).argmax(axis=1)
                for i in range(0, len(x), batch_size)
            ]
        )

    def __repr__(self) -> str:
        rows = "\n".join(f"  ({n}): {layer!r}" for n, layer in self.layers.items())
        return f"ScratchNet(\n{rows}\n)"


def build_scratch(
    spec: str | S.Spec,
    in_shape: Sequence[int] | str,
    *,
    activation: str | None = "relu",
    seed: int | None = 0,
    dtype=np.float64,
    conv_impl: str = "im2col",
) -> ScratchNet:
    """Build the NumPy network that a spec describes for inputs of ``in_shape`` (no batch dim).

    Same expansion and names as ``convlens.build_model``; ``conv_impl`` picks "im2col" or the
    "naive" loops.
    """
    rows = analyze(spec, in_shape, activation=activation)
    expanded = S.expand_spec(S.parse_spec(spec), len(rows[0].in_shape), activation)
    rng = np.random.default_rng(seed)
    named = [
        (row.name, _layer(layer, row, rng, dtype, conv_impl)) for layer, row in zip(expanded, rows)
    ]
    return ScratchNet(named, tuple(rows[0].in_shape))


def _layer(layer: S.Layer, row: LayerInfo, rng, dtype, conv_impl: str) -> L.Layer:
    make = SCRATCH.get(type(layer))
    if make is None:
        raise SpecError(f"{row.name}: the scratch engine has no {type(layer).__name__} layer")
    return make(layer, row, rng, dtype, conv_impl)


def _conv(layer: S.Conv, row: LayerInfo, rng, dtype, conv_impl: str) -> L.Layer:
    return L.Conv(
        row.in_shape[0],
        layer.out_channels,
        layer.kernel_size,
        row.stride,
        row.padding,
        row.dilation,
        layer.groups,
        layer.bias,
        impl=conv_impl,
        padding_mode=layer.padding_mode,
        rng=rng,
        dtype=dtype,
    )


def _local(layer: S.LocalConv, row: LayerInfo, rng, dtype, conv_impl: str) -> L.Layer:
    in_size = (row.in_shape[1], row.in_shape[2])
    return C.LocalConv(
        row.in_shape[0], layer.out_channels, layer.kernel_size, in_size, layer.tiles,
        layer.stride, layer.padding, rng=rng, dtype=dtype,
    )  # fmt: skip


# the NumPy implementation of every spec layer class: (layer, row, rng, dtype, conv_impl) -> Layer
SCRATCH: dict[type, Callable[..., L.Layer]] = {
    S.Conv: _conv,
    S.Pool: lambda layer, row, *_: L.Pool(
        "avg" if layer.kind == "avg" else "max", layer.kernel_size, layer.step, layer.padding
    ),
    S.WeightedPool: lambda layer, row, *_: C.WeightedPool(
        layer.kernel_size, layer.step, layer.padding
    ),
    S.LocalConv: _local,
    S.RecurrentConv: lambda layer, row, rng, dtype, _: C.RecurrentConv(
        row.in_shape[0], layer.out_channels, layer.kernel_size, layer.steps, rng=rng, dtype=dtype
    ),
    S.Maxout: lambda layer, row, *_: C.Maxout(layer.pool_size),
    S.Linear: lambda layer, row, rng, dtype, _: L.Linear(
        row.in_shape[0], layer.out_features, layer.bias, rng=rng, dtype=dtype
    ),
    S.Activation: lambda layer, row, *_: L.Activation(layer.name, layer.negative_slope),
    S.BatchNorm: lambda layer, row, rng, dtype, _: norm.BatchNorm(
        row.in_shape[0], layer.eps, layer.momentum, dtype=dtype
    ),
    S.LocalResponseNorm: lambda layer, row, *_: norm.LocalResponseNorm(
        layer.size, layer.alpha, layer.beta, layer.k
    ),
    S.Dropout: lambda layer, row, rng, *_: L.Dropout(
        layer.p, rng=np.random.default_rng(rng.integers(2**32))
    ),
    S.Flatten: lambda layer, row, *_: L.Flatten(),
    S.GlobalAvgPool: lambda layer, row, *_: L.GlobalAvgPool(),
}
