import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convlens.build import build_model
from convlens.errors import ConfigError
from convlens.viz.attribution import (
    deconvnet,
    grad_cam,
    guided_backprop,
    guided_grad_cam,
    occlusion,
    saliency,
    smoothgrad,
)
from convlens.viz.overlays import plot_attributions


def linear_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(2 * 5 * 6, 4))


def test_saliency_of_a_linear_model_is_its_weights():
    model = linear_model()
    x = torch.randn(2, 5, 6)
    w = model[1].weight.detach()
    for c in range(4):
        torch.testing.assert_close(saliency(model, x, c), w[c].reshape(2, 5, 6))
    # SmoothGrad averages gradients, and a linear model's gradient never changes
    torch.testing.assert_close(smoothgrad(model, x, 2, samples=5), w[2].reshape(2, 5, 6))


def test_occlusion_of_a_linear_model_by_hand():
    # with a 1-pixel window, a zero baseline and the logit as score, removing pixel p lowers
    # logit c by sum over channels of w[c, :, p] * x[:, p]
    model = linear_model(1)
    x = torch.randn(2, 5, 6)
    w = model[1].weight.detach()[3].reshape(2, 5, 6)
    out = occlusion(model, x, 3, window=1, stride=1, score="logit")
    torch.testing.assert_close(out, (w * x).sum(0), rtol=1e-4, atol=1e-5)


class TwoLayer(nn.Module):
    """y = W2 relu(W1 x), with the ReLU called in one of several styles."""

    def __init__(self, style: str):
        super().__init__()
        torch.manual_seed(3)
        self.fc1 = nn.Linear(16, 12)
        self.fc2 = nn.Linear(12, 3)
        self.act = nn.ReLU(inplace=True)
        self.style = style

    def forward(self, x):
        h = self.fc1(x.flatten(1))
        if self.style == "module-inplace":
            h = self.act(h)
        elif self.style == "F.relu":
            h = F.relu(h)
        elif self.style == "torch.relu":
            h = torch.relu(h)
        elif self.style == "Tensor.relu_":
            h.relu_()
        return self.fc2(h)


STYLES = ["module-inplace", "F.relu", "torch.relu", "Tensor.relu_"]


@pytest.mark.parametrize("style", STYLES)
def test_relu_rules_by_hand_for_every_relu_style(style):
    model = TwoLayer(style)
    x = torch.randn(1, 4, 4)
    c = 1
    w1, w2 = model.fc1.weight.detach(), model.fc2.weight.detach()[c]
    on = (model.fc1(x.flatten(1))[0] > 0).float().detach()
    # Springenberg et al. 2015, figure 1: backprop masks by the forward input, the deconvnet by
    # the sign of the gradient, guided backprop by both
    expect_plain = (w2 * on) @ w1
    expect_deconv = w2.clamp(min=0) @ w1
    expect_guided = (w2 * on * (w2 > 0)) @ w1
    torch.testing.assert_close(saliency(model, x, c).flatten(), expect_plain)
    torch.testing.assert_close(deconvnet(model, x, c).flatten(), expect_deconv)
    torch.testing.assert_close(guided_backprop(model, x, c).flatten(), expect_guided)


def functional_cnn():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(5)
            self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
            self.conv2 = nn.Conv2d(6, 6, 3, padding=1)
            self.fc = nn.Linear(6 * 4 * 4, 3)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = torch.relu(self.conv2(x))
            return self.fc(x.flatten(1))

    return Net()


def test_guided_backprop_never_passes_a_negative_gradient_through_a_relu():
    model = functional_cnn()
    x = torch.randn(1, 8, 8)
    seen: dict[str, list[torch.Tensor]] = {"grads": []}

    def record(_m, _i, out):
        # the conv output is the ReLU's input; its gradient is what the ReLU passed back
        out.register_hook(lambda g: seen["grads"].append(g.detach().clone()))

    handles = [m.register_forward_hook(record) for m in (model.conv1, model.conv2)]
    try:
        guided_backprop(model, x, 0)
        guided = seen["grads"]
        seen["grads"] = []
        saliency(model, x, 0)
        plain = seen["grads"]
    finally:
        for h in handles:
            h.remove()
    assert len(guided) == 2 and len(plain) == 2
    assert all(bool((g >= 0).all()) for g in guided)
    assert all(float(g.abs().sum()) > 0 for g in guided)
    # the same hooks do see negative gradients in plain backprop, so the check can fail
    assert any(bool((g < 0).any()) for g in plain)


def test_guided_backprop_agrees_across_relu_styles_in_a_conv_net():
    ref = build_model("conv3x3x4p1-conv3x3x4p1-fc3", (1, 6, 6))
    x = torch.randn(1, 6, 6)
    expected = guided_backprop(ref, x, 2)
    inplace = build_model("conv3x3x4p1-conv3x3x4p1-fc3", (1, 6, 6))
    inplace.load_state_dict(ref.state_dict())
    inplace.relu1.inplace = True
    inplace.relu2.inplace = True
    torch.testing.assert_close(guided_backprop(inplace, x, 2), expected)
    assert not torch.allclose(expected, saliency(ref, x, 2))


def test_grad_cam_peaks_in_the_quadrant_that_holds_the_evidence(quadrant_task):
    model, x, y = quadrant_task
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean()
    assert acc > 0.9, f"the tiny model did not learn the task ({acc:.2f})"
    img = 0.3 * torch.randn(1, 16, 16, generator=torch.Generator().manual_seed(9))
    img[0, 2:5, 3:6] += 2.0  # evidence for class 1 in the top-left quadrant
    cam = grad_cam(model, img, 1)
    assert cam.shape == (16, 16)
    peak = divmod(int(cam.argmax()), 16)
    assert peak[0] < 8 and peak[1] < 8, f"Grad-CAM peaks at {peak}"
    assert float(cam[:8, :8].sum()) > 0.5 * float(cam.sum())
    gg = guided_grad_cam(model, img, 1)
    torch.testing.assert_close(gg, guided_backprop(model, img, 1) * cam)
    occ = occlusion(model, img, 1, window=4, stride=2)
    peak = divmod(int(occ.argmax()), 16)
    assert peak[0] < 8 and peak[1] < 8, f"occlusion peaks at {peak}"


def test_attribution_errors_and_plot():
    model = build_model("conv3x3x4-fc3", (1, 6, 6))
    x = torch.randn(1, 6, 6)
    with pytest.raises(ConfigError, match="out of range"):
        saliency(model, x, 7)
    with pytest.raises(ConfigError, match="conv1"):
        grad_cam(model, x, 0, layer="conv9")
    maps = {
        "saliency": saliency(model, x),
        "guided": guided_backprop(model, x),
        "grad-cam": grad_cam(model, x),
    }
    fig = plot_attributions(x[0].numpy(), maps)
    assert len(fig.axes) == 4


def test_attributions_of_a_1d_model():
    model = build_model("conv1d5x4p2-conv1d3x4p1-fc3", (1, 40))
    x = torch.randn(1, 40)
    for fn in (saliency, guided_backprop, deconvnet):
        assert fn(model, x, 1).shape == (1, 40)
    assert smoothgrad(model, x, samples=3).shape == (1, 40)
    assert grad_cam(model, x, 1).shape == (40,)
    # a batch of one is recognised because the model says it reads (C, L) inputs
    torch.testing.assert_close(saliency(model, x[None], 1), saliency(model, x, 1))


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((8, 8), "x has shape (8, 8), but the model takes 1x8x8 inputs; add the channel axis"),
        ((2, 1, 8, 8), "one input at a time: x holds a batch of 2 of the model's 1x8x8 inputs"),
        ((3, 8, 8), "x has shape (3, 8, 8), but the model takes 1x8x8 inputs"),
    ],
)
def test_an_input_of_another_shape_is_one_sentence(shape, message):
    model = build_model("conv3x3x4-pool2-fc3", (1, 8, 8))
    for explain in (saliency, grad_cam):
        with pytest.raises(ConfigError) as err:
            explain(model, torch.zeros(shape), 0)
        assert str(err.value).startswith(message), str(err.value)


def test_one_input_with_or_without_its_batch_axis_gives_the_same_map():
    torch.manual_seed(0)
    model = build_model("conv3x3x4-pool2-fc3", (1, 8, 8))
    x = torch.randn(1, 8, 8)
    assert torch.equal(saliency(model, x, 1), saliency(model, x[None], 1))


def test_a_table_row_and_a_signal_are_drawn_over_their_positions():
    import numpy as np

    from convlens.viz.overlays import plot_signal_attributions

    maps = {"saliency": torch.tensor([0.5, -1.0, 0.25])}
    for signal in (np.array([1.0, 2.0, 3.0]), np.array([[1.0, 2.0, 3.0]])):  # (F,) and (C, L)
        fig = plot_signal_attributions(signal, maps, "row")
        (line,) = fig.axes[0].get_lines()
        assert list(line.get_xdata()) == [0, 1, 2] and list(line.get_ydata()) == [1.0, 2.0, 3.0]
