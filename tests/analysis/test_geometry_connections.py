"""Arithmetic of the lectures' other connection kinds: hand counts, and the torch twin's trace.

Each expected number is worked out in a comment; the receptive fields are also measured by
gradients on random networks (hypothesis), as for the conv and pool layers.
"""

import pytest
import torch
from field_check import assert_field_matches_gradients
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from convlens.analysis.geometry import analyze
from convlens.analysis.summary import summarize
from convlens.build import build_model
from convlens.errors import LayerFitError
from convlens.modules import LocalConv2d, RecurrentConv2d
from convlens.spec import Conv, LocalConv, Maxout, RecurrentConv, Spec, WeightedPool


def _row(spec, in_shape):
    return analyze(spec, in_shape, activation=None)[-1]


def test_weighted_pool_by_hand():
    # 8 x 16 x 16, 3x3 window, stride 2, padding 1: (16 + 2 - 3) // 2 + 1 = 8
    r = _row("wavgpool3s2p1", (8, 16, 16))
    assert r.out_shape == (8, 8, 8)
    assert r.params == 0
    # one multiply-accumulate per window pixel: 8 * 8 * 8 outputs * 9 = 4,608
    assert r.macs == 8 * 8 * 8 * 9
    assert (r.rf, r.jump) == ((3, 3), (2, 2))


def test_locally_connected_by_hand():
    # 3 x 10 x 10, 3x3 windows, 8 filters: 8 x 8 positions
    r = _row("local3x3x8", (3, 10, 10))
    assert r.out_shape == (8, 8, 8)
    # weights: 64 positions * 8 filters * (3 * 3 * 3) = 13,824; biases 64 * 8 = 512
    assert (r.weights, r.biases) == (64 * 8 * 27, 64 * 8)
    # MACs as for a convolution: 8 * 8 * 8 outputs * 27 = 13,824 (each weight used once)
    assert r.macs == 8 * 8 * 8 * 27
    assert r.rf == (3, 3)


def test_tiled_by_hand():
    # 3 x 10 x 10, 3x3, 8 filters, 2 x 2 tiles: 4 banks of a conv's 8 * 27 weights
    r = _row("tiled3x3x8t2", (3, 10, 10))
    assert (r.weights, r.biases) == (4 * 8 * 27, 4 * 8)
    assert r.macs == 8 * 8 * 8 * 27
    # tiles = 1 is an ordinary convolution
    conv = _row("conv3x3x8", (3, 10, 10))
    one = _row("tiled3x3x8t1", (3, 10, 10))
    assert (one.params, one.macs, one.out_shape, one.rf) == (
        conv.params, conv.macs, conv.out_shape, conv.rf,
    )  # fmt: skip


def test_maxout_by_hand():
    r = _row("maxout4", (12, 5, 5))
    assert (r.out_shape, r.params, r.macs, r.rf) == ((3, 5, 5), 0, 0, (1, 1))
    with pytest.raises(LayerFitError, match="groups of 5, but receives 12"):
        analyze("maxout5", (12, 5, 5))


def test_recurrent_conv_by_hand():
    # Liang & Hu's RCNN-96 layer: 96 -> 96 channels, 3x3, T = 3, on 15 x 15 maps
    r = _row("rcl3x3x96t3", (96, 15, 15))
    assert r.out_shape == (96, 15, 15)
    # w_f 96 * 96 * 9 = 82,944, w_r the same, one bias of 96: 165,984
    assert (r.weights, r.biases) == (2 * 82_944, 96)
    # w_f * u once and w_r * x three times: 225 positions * 96 * (864 + 3 * 864) = 74,649,600
    assert r.macs == 225 * 96 * 4 * 864
    # four 3x3 convolutions on the longest path: 1 + 4 * 2 = 9
    assert r.rf == (9, 9)


def test_rcl_field_grows_with_the_steps():
    # after a 2-stride stem the jump is 2: each step adds (3 - 1) * 2 = 4
    fields = [_row(f"conv2x2x4s2-rcl3x3x4t{t}", (1, 32, 32)).rf[0] for t in (1, 2, 3, 4)]
    assert fields == [2 + 4 * 2, 2 + 4 * 3, 2 + 4 * 4, 2 + 4 * 5]


def test_trace_of_the_torch_twins_gives_the_same_rows():
    spec = "conv3x3x8p1-wavgpool3s2p1-local3x3x8-tiled3x3x8t2-maxout2-rcl3x3x4t3-gap-fc10"
    expected = summarize(spec, (3, 32, 32))
    model = build_model(spec, (3, 32, 32))
    traced = summarize(model)
    assert traced.rows == expected.rows
    assert (
        traced.total_params == expected.total_params == sum(p.numel() for p in model.parameters())
    )


# ---------------------------------------------------------------------------------------------
# Receptive fields measured by gradients
# ---------------------------------------------------------------------------------------------


@st.composite
def networks(draw):
    """Random 2-D networks of conv, weighted pooling, local/tiled conv, maxout and rcl layers."""
    channels = draw(st.integers(1, 3))
    layers = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "wavg", "local", "maxout", "rcl"]))
        k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        if kind == "conv":
            channels = draw(st.integers(1, 4))
            layers.append(Conv(channels, (k, k), s, draw(st.integers(0, 1))))
        elif kind == "wavg":
            k = 2 * draw(st.integers(0, 2)) + 1
            layers.append(WeightedPool(k, s, draw(st.integers(0, k // 2))))
        elif kind == "local":
            channels = draw(st.integers(1, 3))
            layers.append(LocalConv(channels, (k, k), draw(st.integers(0, 2)), s))
        elif kind == "maxout":
            size = draw(st.sampled_from([d for d in range(1, channels + 1) if channels % d == 0]))
            layers.append(Maxout(size))
            channels //= size
        else:
            channels = draw(st.integers(1, 3))
            layers.append(
                RecurrentConv(channels, 2 * draw(st.integers(0, 1)) + 1, draw(st.integers(1, 3)))
            )
    size = draw(st.integers(12, 36))
    return Spec(tuple(layers)), (draw(st.integers(1, 2)), size, size)


def _open_every_path(model: nn.Module) -> None:
    """Positive weights and biases: every ReLU inside an rcl stays open, every path counts."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv2d, LocalConv2d, RecurrentConv2d)):
                for p in m.parameters():
                    p.fill_(1.0)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_receptive_field_equals_the_one_measured_by_gradients(net):
    assert_field_matches_gradients(*net, _open_every_path)


# ---------------------------------------------------------------------------------------------
# One table per world
# ---------------------------------------------------------------------------------------------


def test_every_spec_layer_has_arithmetic_a_torch_module_and_a_numpy_twin():
    from convlens import build
    from convlens.analysis import geometry
    from convlens.scratch import net
    from convlens.spec import LAYER_TYPES

    assert set(geometry.RULES) == set(build.TORCH) == set(net.SCRATCH) == set(LAYER_TYPES)


def test_torch_and_numpy_builders_refuse_an_unknown_layer_with_the_same_error():
    from convlens import build
    from convlens.analysis.geometry import LayerInfo
    from convlens.errors import SpecError
    from convlens.scratch import net

    row = LayerInfo("odd1", "odd", (1, 4, 4), (1, 4, 4))
    with pytest.raises(SpecError, match="odd1: there is no torch module for object"):
        build._module(object(), row)  # type: ignore[arg-type]
    with pytest.raises(SpecError, match="odd1: the scratch engine has no object layer"):
        net._layer(object(), row, None, None, "im2col")  # type: ignore[arg-type]
