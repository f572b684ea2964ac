"""Winograd's F(m x m, 3x3) convolution with the 2x2 max-pool after it, against the direct layers."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from train_toydata import image_data

from convlens.build import build_model
from convlens.train.config import TrainConfig
from convlens.train.loop import fit
from convlens.train.winograd import (
    WinogradConvPool,
    conv3x3_maxpool2,
    fusable,
    transforms,
    winograd_view,
)


def _direct(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    return F.max_pool2d(F.conv2d(x, w, b, padding=1), 2)


@pytest.mark.parametrize("m", [2, 4, 6])
def test_the_transforms_compute_a_1d_correlation_exactly(m):
    at, g, bt = transforms(m)
    assert at.shape == (m, m + 2) and g.shape == (m + 2, 3) and bt.shape == (m + 2, m + 2)
    rng = np.random.default_rng(m)
    for _ in range(5):
        d, k = rng.normal(size=m + 2), rng.normal(size=3)
        by_hand = [d[i] * k[0] + d[i + 1] * k[1] + d[i + 2] * k[2] for i in range(m)]
        np.testing.assert_allclose(at @ ((g @ k) * (bt @ d)), by_hand, rtol=0, atol=1e-12)


def test_f6_input_transform_is_the_published_one_up_to_the_sign_of_a_row():
    # B^T of F(6x6, 3x3) at the points 0, +-1, +-2, +-1/2 (Lavin & Gray, 2016; the matrix of the
    # wincnn generator that NNPACK and ncnn use)
    published = np.array(
        [
            [1, 0, -21 / 4, 0, 21 / 4, 0, -1, 0],
            [0, 1, 1, -17 / 4, -17 / 4, 1, 1, 0],
            [0, -1, 1, 17 / 4, -17 / 4, -1, 1, 0],
            [0, 1 / 2, 1 / 4, -5 / 2, -5 / 4, 2, 1, 0],
            [0, -1 / 2, 1 / 4, 5 / 2, -5 / 4, -2, 1, 0],
            [0, 2, 4, -5 / 2, -5, 1 / 2, 1, 0],
            [0, -2, 4, 5 / 2, -5, -1 / 2, 1, 0],
            [0, -1, 0, 21 / 4, 0, -21 / 4, 0, 1],
        ]
    )
    _, _, bt = transforms(6)
    for ours, theirs in zip(bt, published):
        assert np.array_equal(ours, theirs) or np.array_equal(ours, -theirs)


# (batch, in channels, out channels, height, width): square and oblong maps, even and odd sides
SHAPES = [(3, 4, 5, 7, 7), (2, 3, 6, 6, 6), (2, 5, 4, 14, 14), (2, 2, 3, 9, 8), (1, 3, 2, 13, 5)]


@pytest.mark.parametrize("m", [2, 4, 6])
@pytest.mark.parametrize("shape", SHAPES)
def test_values_and_gradients_equal_conv2d_then_max_pool2d(m, shape):
    b, c, o, h, w = shape
    g = torch.Generator().manual_seed(sum(shape) + m)
    x = torch.randn(b, c, h, w, dtype=torch.float64, generator=g, requires_grad=True)
    weight = torch.randn(o, c, 3, 3, dtype=torch.float64, generator=g, requires_grad=True)
    bias = torch.randn(o, dtype=torch.float64, generator=g, requires_grad=True)
    want, got = _direct(x, weight, bias), conv3x3_maxpool2(x, weight, bias, m)
    assert got.shape == want.shape == (b, o, h // 2, w // 2)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-10)
    up = torch.randn(want.shape, dtype=torch.float64, generator=g)
    grads_want = torch.autograd.grad(want, (x, weight, bias), up)
    grads_got = torch.autograd.grad(got, (x, weight, bias), up)
    for a, e in zip(grads_got, grads_want):
        torch.testing.assert_close(a, e, rtol=0, atol=1e-9)


def test_backward_agrees_with_finite_differences():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 2, 6, 7, dtype=torch.float64, generator=g, requires_grad=True)
    weight = torch.randn(3, 2, 3, 3, dtype=torch.float64, generator=g, requires_grad=True)
    bias = torch.randn(3, dtype=torch.float64, generator=g, requires_grad=True)
    for m in (2, 6):
        assert torch.autograd.gradcheck(
            lambda a, b, c, m=m: conv3x3_maxpool2(a, b, c, m), (x, weight, bias)
        )


def test_equal_outputs_send_the_gradient_to_the_first_as_max_pool2d_does():
    x = torch.zeros(1, 2, 6, 6, dtype=torch.float64, requires_grad=True)  # every output = bias
    weight = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    bias = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    up = torch.arange(27, dtype=torch.float64).view(1, 3, 3, 3)
    want = torch.autograd.grad(_direct(x, weight, bias), (x, weight), up)
    got = torch.autograd.grad(conv3x3_maxpool2(x, weight, bias, 6), (x, weight), up)
    for a, e in zip(got, want):
        torch.testing.assert_close(a, e, rtol=0, atol=1e-10)


def test_float32_channels_last_without_bias_stays_within_rounding():
    # F(6x6, 3x3) in float32 is accurate to about 1e-5 of the outputs' scale (its transforms'
    # entries reach 32 and 1/90); a wrong transform errs by the outputs' own size
    g = torch.Generator().manual_seed(2)
    x = torch.randn(8, 64, 7, 7, generator=g, dtype=torch.float64)
    weight = torch.randn(32, 64, 3, 3, generator=g, dtype=torch.float64) * 0.05
    exact = _direct(x, weight, None)
    x32 = x.float().contiguous(memory_format=torch.channels_last)
    got = conv3x3_maxpool2(x32, weight.float(), None, 6).double()
    assert (got - exact).abs().max() <= 5e-5 * exact.abs().max()


def test_only_a_plain_3x3_conv_then_2x2_max_pool_on_a_small_wide_map_is_fused():
    conv, pool = nn.Conv2d(64, 128, 3, padding=1), nn.MaxPool2d(2)
    assert fusable(conv, pool, (256, 64, 7, 7)) and fusable(conv, pool, (128, 64, 6, 6))
    assert not fusable(conv, pool, (256, 64, 14, 14))  # measured slower on larger maps,
    assert fusable(nn.Conv2d(32, 64, 3, padding=1), pool, (256, 32, 7, 7))
    assert not fusable(nn.Conv2d(16, 64, 3, padding=1), pool, (256, 16, 7, 7))  # few channels
    assert not fusable(conv, pool, (32, 64, 7, 7))  # and small batches
    assert not fusable(conv, nn.MaxPool2d(2, ceil_mode=True), (256, 64, 7, 7))
    assert not fusable(conv, nn.AvgPool2d(2), (256, 64, 7, 7))
    assert not fusable(nn.Conv2d(64, 128, 3, padding=1, stride=2), pool, (256, 64, 7, 7))
    assert not fusable(nn.Conv2d(64, 128, 3, padding=2, dilation=2), pool, (256, 64, 7, 7))
    assert not fusable(nn.Conv2d(64, 128, 5, padding=2), pool, (256, 64, 7, 7))


SPEC = "conv3x3x8p1-pool2-bn-relu-conv3x3x64p1-pool2-bn-relu-conv3x3x64p1-pool2-bn-relu-fc10"


def test_the_view_fuses_the_last_block_and_shares_the_models_parameters():
    model = build_model(SPEC, (1, 28, 28))
    view, fused = winograd_view(model, (128, 1, 28, 28))
    assert fused == ["conv3"]  # conv2 has 8 input channels; conv3 sees 64 x 7 x 7
    assert isinstance(view.conv3, WinogradConvPool) and view.conv3.conv is model.conv3
    assert "pool3" not in dict(view.named_children())
    assert {id(p) for p in view.parameters()} == {id(p) for p in model.parameters()}
    x = torch.randn(5, 1, 28, 28)
    model.eval()
    torch.testing.assert_close(view(x), model(x), rtol=0, atol=1e-5)
    assert model.training is False and all(not m.training for m in model.modules())


def test_a_relu_between_convolution_and_pool_moves_after_the_pool():
    model = build_model("conv3x3x64p1-relu-pool2-fc10", (64, 7, 7), activation=None)
    view, fused = winograd_view(model, (128, 64, 7, 7))
    assert fused == ["conv1"]
    assert [type(m).__name__ for m in view] == ["WinogradConvPool", "ReLU", "Flatten", "Linear"]
    x = torch.randn(4, 64, 7, 7)
    torch.testing.assert_close(view(x), model(x), rtol=0, atol=1e-5)


def test_models_without_a_pair_come_back_unchanged():
    model = build_model("conv3x3x8p1-pool2-fc10", (1, 28, 28))
    assert winograd_view(model, (128, 1, 28, 28)) == (model, [])
    one_d = build_model("conv1d3x8p1-pool2-fc4", (1, 40))
    assert winograd_view(one_d, (128, 1, 40)) == (one_d, [])
    wide = build_model(SPEC, (1, 28, 28))
    assert winograd_view(wide, (32, 1, 28, 28)) == (wide, [])


def _bigger_images(n: int = 256) -> object:
    """image_data's noise at 28x28, so that the third block sees a 7x7 map."""
    small = image_data(n=n)
    x = F.interpolate(small.x.float(), size=(28, 28)).to(torch.uint8)
    return type(small)(small.name, small.split, x, small.y, small.classes, small.mean, small.std)


def test_fit_trains_the_same_network_either_way(tmp_path):
    data = _bigger_images()
    trained = {}
    for winograd in (False, True):
        model = build_model(SPEC, (1, 28, 28))
        torch.manual_seed(0)
        for p in model.parameters():
            nn.init.normal_(p, std=0.05)
        config = TrainConfig(
            epochs=1, batch_size=128, lr=0.01, precision="float32", device="cpu", verbose=0,
            winograd=winograd, seed=0,
        )  # fmt: skip
        run_dir = tmp_path / str(winograd)
        history = fit(model, data, config, run_dir=run_dir)
        trained[winograd] = model.state_dict()
        note = "Winograd F(6x6, 3x3) for conv3"
        assert (note in history.hardware) is winograd
        assert history.winograd == (("conv3",) if winograd else ())
        assert json.loads((run_dir / "config.json").read_text())["winograd"] is winograd
    assert trained[True].keys() == trained[False].keys()  # checkpoints do not change
    for name, value in trained[True].items():
        torch.testing.assert_close(value, trained[False][name], rtol=1e-3, atol=1e-4)
    assert not torch.equal(trained[True]["conv3.weight"], _untrained_conv3())


def _untrained_conv3() -> torch.Tensor:
    model = build_model(SPEC, (1, 28, 28))
    torch.manual_seed(0)
    for p in model.parameters():
        nn.init.normal_(p, std=0.05)
    return model.conv3.weight.detach()


def test_the_command_line_says_which_convolutions_ran_by_winograd(tmp_path, capsys):
    from convlens.cli import main as cli

    # digits are 8x8: an unpadded convolution leaves 6x6 maps of 64 channels for conv2, whose
    # ReLU (the spec's default activation) comes before the pool
    spec = "conv3x3x64-conv3x3x64p1-pool2-fc10"
    base = ["train", spec, "--data", "digits", "--epochs", "1", "--batch-size", "128"]
    base += ["--precision", "float32", "--device", "cpu", "--verbose", "2", "--no-report"]
    for flag, shown in (("--winograd", True), ("--no-winograd", False)):
        assert cli([*base, flag, "--out", str(tmp_path / flag)]) == 0
        said = capsys.readouterr()
        out = said.out + said.err
        assert "training on cpu float32" in out
        assert ("Winograd F(6x6, 3x3) for conv2" in out) is shown


def test_a_checkpoint_is_scored_again_by_winograd_as_its_run_scored_it(tmp_path):
    """`convlens eval`, the report and `evaluate` compute the fused layers as training did, so the
    loss is the run's to the last bit; the direct layers round differently."""
    from convlens.data import load_dataset
    from convlens.train import evaluate, load_checkpoint
    from convlens.train.evaluation import scoring_config

    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    model = build_model("conv3x3x64-conv3x3x64p1-pool2-fc10", tuple(train.in_shape))
    config = TrainConfig(
        epochs=1, batch_size=128, precision="float32", device="cpu", verbose=0, winograd=True
    )
    history = fit(model, train, config, test=test, run_dir=tmp_path / "run")
    assert history.winograd == ("conv2",)
    ckpt = load_checkpoint(tmp_path / "run" / "last")
    assert ckpt.meta["scoring"]["winograd"] == ["conv2"]
    scoring = scoring_config(ckpt.meta, ckpt.config, device="cpu")
    assert scoring.winograd
    again = evaluate(ckpt.model, test, scoring)
    assert again["loss"] == history.test["loss"]
    assert again["confusion"] == history.test["confusion"]
    # the direct layers round differently: somewhere among the outputs (the mean loss can come
    # out the same to the last bit, as it does on a CPU with AVX-512)
    from convlens.train.evaluation import scored_logits

    x = test.float_x(normalize=True)
    direct = TrainConfig(precision="float32", device="cpu", verbose=0)
    assert not torch.equal(
        scored_logits(ckpt.model, x, direct), scored_logits(ckpt.model, x, scoring)
    )
