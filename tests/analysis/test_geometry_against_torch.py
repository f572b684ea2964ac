"""The arithmetic against real torch forward and backward passes."""

import pytest
import torch
from field_check import assert_field_matches_gradients
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

from convlens.analysis.geometry import analyze
from convlens.analysis.summary import summarize
from convlens.build import build_model
from convlens.errors import LayerFitError
from convlens.spec import Conv, Pool, Spec

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _random_layers(draw, nd: int, count: int):
    layers = []
    for _ in range(count):
        if draw(st.booleans()):
            k = tuple(draw(st.integers(1, 5)) for _ in range(nd))
            s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
            p = tuple(draw(st.integers(0, 2)) for _ in range(nd))
            d = tuple(draw(st.integers(1, 3)) for _ in range(nd))
            layers.append(Conv(draw(st.integers(1, 4)), k, s, p, d))
        else:
            k = draw(st.integers(1, 3))
            pad = draw(st.integers(0, k // 2))
            layers.append(Pool("avg", k, draw(st.integers(1, 3)), pad))
    return Spec(tuple(layers))


@st.composite
def networks(draw):
    nd = draw(st.sampled_from([1, 2]))
    spec = _random_layers(draw, nd, draw(st.integers(1, 4)))
    size = tuple(draw(st.integers(8, 64 if nd == 1 else 40)) for _ in range(nd))
    return spec, (draw(st.integers(1, 3)), *size)


@SETTINGS
@given(networks())
def test_output_shapes_equal_a_real_forward_pass(net):
    spec, in_shape = net
    try:
        rows = analyze(spec, in_shape, activation=None)
    except LayerFitError:
        # the arithmetic refuses: torch must fail on the same network too
        with pytest.raises(RuntimeError):
            model = nn.Sequential(*_torch_layers(spec, in_shape))
            model(torch.zeros(1, *in_shape))
        return
    model = build_model(spec, in_shape, activation=None)
    x = torch.zeros(1, *in_shape)
    for row, module in zip(rows, model):
        x = module(x)
        assert tuple(x.shape[1:]) == row.out_shape


def _torch_layers(spec, in_shape):
    """Torch modules written independently of build.py, channels tracked by hand."""
    channels, nd = in_shape[0], len(in_shape) - 1
    for layer in spec:
        if isinstance(layer, Conv):
            cls = nn.Conv1d if nd == 1 else nn.Conv2d
            yield cls(
                channels,
                layer.out_channels,
                layer.kernel_size,
                layer.stride,
                layer.padding,
                layer.dilation,
            )
            channels = layer.out_channels
        else:
            cls = nn.AvgPool1d if nd == 1 else nn.AvgPool2d
            yield cls(layer.kernel_size, layer.step, layer.padding)


@SETTINGS
@given(networks())
def test_receptive_field_equals_the_one_measured_by_gradients(net):
    assert_field_matches_gradients(*net, _positive_convs)


def _positive_convs(model: nn.Module) -> None:
    """Weights of 1 and biases of 0: every path from the field to the unit carries gradient."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d)):
                m.weight.fill_(1.0)
                m.bias.zero_()


@SETTINGS
@given(networks())
def test_spec_arithmetic_and_module_hooks_give_identical_rows(net):
    spec, in_shape = net
    try:
        expected = summarize(spec, in_shape, strict=False)
    except LayerFitError:
        assume(False)
    assume(not expected.error)
    model = build_model(spec, in_shape)
    assert summarize(model, in_shape).rows == expected.rows


def test_identical_rows_on_a_network_with_every_layer_kind():
    spec = "conv3x3x8p1-bn-relu-pool2-conv3x3x8psame-lrn3-lrelu-avgpool2-drop0.2-sub1-conv1x1x4-tanh-flatten-fc16-sigmoid-fc10"
    model = build_model(spec, (3, 32, 32))
    a, b = summarize(spec, (3, 32, 32)), summarize(model)
    assert a.rows == b.rows
    assert a.total_params == b.total_params == sum(p.numel() for p in model.parameters())


def test_lecture_cross_correlation_and_max_pool_through_torch():
    image = torch.tensor(
        [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]],
        dtype=torch.float32,
    )
    kernel = torch.tensor([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=torch.float32)
    conv = build_model("conv3x3x1nobias", (1, 5, 5), activation=None)
    with torch.no_grad():
        conv.conv1.weight.copy_(kernel.view(1, 1, 3, 3))
        out = conv(image.view(1, 1, 5, 5))[0, 0]
        flipped = conv.conv1.weight.flip(-1, -2).clone()
        conv.conv1.weight.copy_(flipped)
        true_conv = conv(image.view(1, 1, 5, 5))[0, 0]
    assert out.tolist() == [[12, 12, 17], [10, 17, 19], [9, 6, 14]]
    # true convolution flips the kernel; by hand, its top-left value is
    # 3*2 + 3*1 + 2*0 + 0*0 + 0*2 + 1*2 + 3*2 + 1*1 + 2*0 = 18
    assert true_conv[0, 0].item() == 18
    assert not torch.equal(out, true_conv)
    pool = build_model("pool2", (1, 4, 4))
    x = torch.tensor([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=torch.float32)
    assert pool(x.view(1, 1, 4, 4))[0, 0].tolist() == [[6, 8], [3, 4]]


class Residual(nn.Module):
    """A residual block written with functional relu and an addition: no module sees the add."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.a = nn.Conv2d(4, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = x + self.b(torch.relu(self.a(x)))
        return self.head(x.mean((2, 3)))


def test_receptive_field_through_a_residual_addition():
    s = summarize(Residual(), (1, 16, 16))
    # the longest path is three 3x3 convs: 1 + 2 + 2 + 2 = 7; the global mean then sees all
    assert s.row("b").rf == (7, 7)
    assert s.row("head").rf == (16 + 7 - 1, 16 + 7 - 1)
    assert s.total_params == (9 + 1) * 4 + 2 * (36 + 1) * 4 + 4 * 2 + 2


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(100, 10)  # wrong: 8 * 15 * 15 = 1800 features arrive

    def forward(self, x):
        return self.fc(self.pool(self.conv(x)).flatten(1))


def test_a_failing_forward_keeps_the_rows_before_it():
    s = summarize(Broken(), (3, 32, 32))
    assert [r.name for r in s.rows] == ["conv", "pool"]
    assert "after pool" in s.error
    assert "error:" in str(s)


def test_big_model_summarises_on_the_meta_device_without_activations():
    # 4096x4096 fc layers: a real forward pass is cheap here, but the parameters must never be
    # touched: tracing a model whose parameters live on the meta device proves it
    with torch.device("meta"):
        model = build_model("conv3x3x64p1-pool2-fc4096-fc4096-fc1000", (3, 64, 64))
    s = summarize(model)
    assert s.total_params == (27 + 1) * 64 + (64 * 32 * 32 + 1) * 4096 + 4097 * 4096 + 4097 * 1000
