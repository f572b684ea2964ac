"""Every zoo model runs forward and backward, adapts to num_classes and in_channels, and its
output has the right shape. Small inputs where a model allows them; the full-size ImageNet
networks run on the meta device here (shapes and autograd graph only) and for real under
``-m slow``."""

from __future__ import annotations

import pytest
import torch

from convlens.models import create_model, list_models

CLASSES = 7  # not any model's default, so the head must adapt
CHANNELS = 2  # neither gray nor RGB, so the first layer must adapt

# small real inputs: (create_model options, input shape without the batch)
SMALL: dict[str, tuple[dict, tuple[int, ...]]] = {
    "alexnet": ({"image_size": 63}, (CHANNELS, 63, 63)),  # the smallest size AlexNet's pools allow
    "googlenet": ({}, (CHANNELS, 32, 32)),  # global average pooling: any size from 32 up
    "googlenet_5x5": ({}, (CHANNELS, 32, 32)),
    "googlenet_naive": ({}, (CHANNELS, 32, 32)),
    "lenet5": ({"image_size": 28}, (CHANNELS, 28, 28)),
    **{n: ({"small_input": True}, (CHANNELS, 32, 32)) for n in list_models("vgg")},
    **{
        n: ({"small_input": True}, (CHANNELS, 32, 32))
        for n in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
    },
}
# only full size makes sense (fixed geometry) and it is heavy: real run under -m slow
FULL_SIZE_ONLY = {"alexnet_lecture"}
HEAVY_SMALL = {"googlenet_naive", "vgg19_bn", "vgg19"}  # meta here, real under -m slow
# the same code as resnet50 with more blocks; even on the meta device they take seconds
SLOW_ONLY = {"resnet34", "resnet101", "resnet152"}


def _run(model: torch.nn.Module, shape: tuple[int, ...], device: str = "cpu") -> torch.Tensor:
    x = torch.randn(2, *shape, device=device)
    out = model(x)
    assert out.shape == (2, CLASSES)
    out.square().mean().backward()
    return out


@pytest.mark.parametrize("name", list_models())
def test_forward_backward_small(name):
    if name in FULL_SIZE_ONLY:
        pytest.skip("fixed 227x227 geometry: see test_forward_backward_full_size")
    if name in HEAVY_SMALL | SLOW_ONLY:
        pytest.skip("runs under -m slow (test_forward_backward_full_size)")
    torch.manual_seed(0)
    options, shape = SMALL.get(name, ({}, None))
    model = create_model(name, num_classes=CLASSES, in_channels=CHANNELS, **options)
    shape = shape or tuple(model.in_shape)
    assert shape[0] == CHANNELS and model.in_shape[0] == CHANNELS
    out = _run(model.train(), shape)
    assert torch.isfinite(out).all()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, f"parameters without a gradient: {missing[:5]}"
    assert any(p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("name", sorted(FULL_SIZE_ONLY | HEAVY_SMALL))
def test_forward_backward_meta_at_default_size(name):
    with torch.device("meta"):
        model = create_model(name, num_classes=CLASSES, in_channels=CHANNELS)
        _run(model, tuple(model.in_shape), device="meta")


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", [*sorted(FULL_SIZE_ONLY | HEAVY_SMALL | SLOW_ONLY), "vgg16", "resnet50", "googlenet"]
)
def test_forward_backward_full_size(name):
    torch.manual_seed(0)
    model = create_model(name, num_classes=CLASSES, in_channels=CHANNELS)
    out = _run(model.train(), tuple(model.in_shape))
    assert torch.isfinite(out).all()
    assert all(p.grad is not None for p in model.parameters())


def test_googlenet_auxiliary_classifiers_run_in_training_only():
    torch.manual_seed(0)
    model = create_model("googlenet", num_classes=CLASSES, aux_logits=True)
    x = torch.randn(2, 3, 64, 64)
    out = model.train()(x)
    assert [a.shape for a in model.aux_outputs] == [(2, CLASSES), (2, CLASSES)]
    (out.sum() + 0.3 * sum(a.sum() for a in model.aux_outputs)).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()(x)
    assert model.aux_outputs == []


def test_lenet5_1998_uses_the_scaled_tanh_and_trainable_subsampling():
    model = create_model("lenet5_1998")
    a = torch.tensor([0.0, 1.0, -3.0])
    assert torch.allclose(model.squash(a), 1.7159 * torch.tanh(2 * a / 3))
    # S2 on a constant map: sum of the 2x2 window (4 * value) times the coefficient plus the bias
    with torch.no_grad():
        model.s2.weight.fill_(0.5)
        model.s2.bias.fill_(0.25)
    y = model.s2(torch.full((1, 6, 4, 4), 3.0))
    assert y.shape == (1, 6, 2, 2) and torch.allclose(y, torch.full_like(y, 4 * 3.0 * 0.5 + 0.25))


def test_lenet5_1998_c3_map_sees_only_its_table_inputs():
    model = create_model("lenet5_1998")
    x = torch.zeros(1, 6, 14, 14, requires_grad=True)
    model.c3(x)[0, 0].sum().backward()  # C3 map 0 is connected to S2 maps 0, 1, 2 (Table I)
    touched = [c for c in range(6) if x.grad[0, c].abs().sum() > 0]
    assert touched == [0, 1, 2]


def test_cifar_resnet_option_a_shortcut_is_parameter_free_and_pads_channels():
    model = create_model("resnet20")
    shortcut = model.layer2[0].downsample
    assert sum(p.numel() for p in shortcut.parameters()) == 0
    x = torch.arange(16 * 4 * 4, dtype=torch.float32).reshape(1, 16, 4, 4)
    y = shortcut(x)
    assert y.shape == (1, 32, 2, 2)
    assert torch.equal(y[:, 8:24], x[:, :, ::2, ::2])  # the old maps, sub-sampled, in the middle
    assert y[:, :8].abs().sum() == 0 and y[:, 24:].abs().sum() == 0


def test_bottleneck_stride_placement():
    with torch.device("meta"):
        tv = create_model("resnet50").layer2[0]
        v1 = create_model("resnet50", stride_in_1x1=True).layer2[0]
    assert (tv.conv1.stride, tv.conv2.stride) == ((1, 1), (2, 2))
    assert (v1.conv1.stride, v1.conv2.stride) == ((2, 2), (1, 1))
