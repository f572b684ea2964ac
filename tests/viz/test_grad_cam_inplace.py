"""Grad-CAM against an independent computation, whichever way the ReLU after the layer is called.

An in-place ReLU right after the target conv overwrites the conv's output in place; a Grad-CAM
that keeps a live reference to that output would compute its map from the post-ReLU values and
the post-ReLU gradient. The reference here splits the forward pass at the layer by hand instead
of using hooks: A = head(x), score = tail(A), dA = autograd.grad(score, A), α = mean of dA over
the map, cam = ReLU(Σ_k α_k A_k), upsampled (Selvaraju et al. 2017, equations 1-2).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convlens.viz.attribution import grad_cam, guided_grad_cam

FORMS = ("module", "module-inplace", "functional", "functional-inplace")
LAYERS = ("conv1", "conv2", "conv3")


class _Guided(torch.autograd.Function):
    """Guided backprop's ReLU (Springenberg et al. 2015): only positive gradients, only where
    the input was positive. Written here, apart from convlens's relu_rules, as the reference."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, dout):
        (x,) = ctx.saved_tensors
        return dout * (x > 0) * (dout > 0)


class Net(nn.Module):
    """conv-relu-conv-relu-pool-conv-relu-fc, with the ReLU called in the given form."""

    def __init__(self, form: str) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.conv3 = nn.Conv2d(6, 8, 3)
        self.fc = nn.Linear(8 * 2 * 2, 5)
        self.relu = nn.ReLU(inplace=form == "module-inplace")
        self.form = form

    def act(self, x: torch.Tensor) -> torch.Tensor:
        if self.form.startswith("module"):
            return self.relu(x)
        if self.form == "functional":
            return F.relu(x)
        if self.form == "functional-inplace":
            return F.relu(x, inplace=True)
        return _Guided.apply(x)  # "guided": the reference for guided backprop

    def stages(self) -> list:
        return [
            self.conv1, self.act, self.conv2, self.act, lambda t: F.max_pool2d(t, 2),
            self.conv3, self.act, lambda t: self.fc(t.flatten(1)),
        ]  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for stage in self.stages():
            x = stage(x)
        return x


def _run(stages: list, x: torch.Tensor) -> torch.Tensor:
    for stage in stages:
        x = stage(x)
    return x


def reference_grad_cam(net: Net, x: torch.Tensor, layer: str, target: int) -> torch.Tensor:
    stages = net.stages()
    cut = stages.index(getattr(net, layer)) + 1
    with torch.no_grad():
        a = _run(stages[:cut], x[None])  # (1, K, h, w): the conv's own output
    a.requires_grad_(True)
    score = _run(stages[cut:], a.clone())[0, target]  # a clone: the tail may ReLU in place
    (da,) = torch.autograd.grad(score, a)
    alpha = da.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((alpha * a).sum(dim=1, keepdim=True)).detach()
    return F.interpolate(cam, size=x.shape[1:], mode="bilinear", align_corners=False)[0, 0]


def reference_guided_backprop(x: torch.Tensor, target: int) -> torch.Tensor:
    xb = x[None].clone().requires_grad_(True)
    (g,) = torch.autograd.grad(Net("guided")(xb)[0, target], xb)
    return g[0]


@pytest.fixture
def x() -> torch.Tensor:
    return torch.randn(2, 8, 8, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("layer", LAYERS)
def test_grad_cam_matches_a_forward_split_at_the_layer(form, layer, x):
    net = Net(form).eval()
    target = int(Net("module")(x[None]).argmax())
    want = reference_grad_cam(Net("module"), x, layer, target)
    assert want.abs().max() > 0  # a map that is all zero would compare equal to anything blank
    torch.testing.assert_close(grad_cam(net, x, target, layer), want, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad_cam(net, x, None, layer), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("layer", LAYERS)
def test_guided_grad_cam_is_guided_backprop_times_the_reference_map(form, layer, x):
    target = 2
    want = reference_guided_backprop(x, target) * reference_grad_cam(
        Net("module"), x, layer, target
    ).unsqueeze(0)
    assert want.abs().max() > 0
    got = guided_grad_cam(Net(form).eval(), x, target, layer)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_grad_cam_leaves_the_in_place_model_computing_what_it_did(x):
    net = Net("functional-inplace").eval()
    before = net(x[None]).detach()
    grad_cam(net, x, 1, "conv2")
    torch.testing.assert_close(net(x[None]), before)
