"""`whiten`: the first convolution starts as fixed patch-whitening filters from the training data."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from convlens.build import build_model
from convlens.cli import main as cli
from convlens.errors import ConfigError
from convlens.train.config import TrainConfig
from convlens.train.loop import fit
from convlens.train.whiten import first_conv, patch_covariance, whiten_first_conv


def _correlated_images(n: int = 400, seed: int = 0) -> torch.Tensor:
    """Smooth random images (neighbouring pixels correlated), one channel, 10x10."""
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, 1, 12, 12, generator=g)
    return nn.functional.avg_pool2d(noise, 3, stride=1)  # 10x10, strongly correlated patches


def test_patch_covariance_matches_numpy_on_the_unfolded_patches():
    import numpy as np

    x = _correlated_images(30)
    conv = nn.Conv2d(1, 4, 3)
    mean, cov = patch_covariance(x, conv)
    # the 3x3 patches by hand: every top-left corner of the 10x10 image, row by row
    patches = np.array(
        [
            img[0, i : i + 3, j : j + 3].reshape(-1)
            for img in x.numpy()
            for i in range(8)
            for j in range(8)
        ]
    )
    np.testing.assert_allclose(mean.numpy(), patches.mean(0), atol=1e-6)
    np.testing.assert_allclose(cov.numpy(), np.cov(patches.T, bias=True), atol=1e-6)


def test_the_filters_whiten_the_patches_and_come_in_signed_pairs():
    x = _correlated_images()
    model = build_model("conv3x3x20-relu-gap-fc3", (1, 10, 10))
    random_tail = first_conv(model).weight[18:].clone()
    conv = whiten_first_conv(model, x)
    assert conv is model.conv1
    w = conv.weight.detach()
    assert torch.equal(w[9:18], -w[:9])  # +w and -w: a ReLU keeps both signs of each direction
    assert torch.equal(w[18:], random_tail)  # beyond 2 x 9 filters, the random start stays
    assert torch.all(conv.bias[:18] == 0)
    # the whitened outputs of the 9 filters have (nearly) the identity covariance
    _, cov = patch_covariance(x, conv)
    filters = w[:9].reshape(9, 9).double()
    out_cov = filters @ cov @ filters.T
    eps = 1e-2 * torch.linalg.eigvalsh(cov).mean()
    values = torch.linalg.eigvalsh(cov)
    expected = torch.diag(values / (values + eps))  # 1 up to the eps added to each eigenvalue
    assert torch.allclose(
        torch.sort(torch.diagonal(out_cov)).values, torch.diagonal(expected), atol=1e-6
    )
    assert torch.allclose(
        out_cov - torch.diag(torch.diagonal(out_cov)),
        torch.zeros(9, 9, dtype=torch.float64),
        atol=1e-6,
    )
    assert not any(p.requires_grad for p in conv.parameters())


def test_fewer_filters_than_directions_keep_those_of_largest_variance():
    x = _correlated_images()
    model = build_model("conv3x3x4-gap-fc3", (1, 10, 10))
    conv = whiten_first_conv(model, x)
    _, cov = patch_covariance(x, conv)
    top = torch.linalg.eigh(cov).eigenvectors[:, -2:]  # the two largest of nine
    w = conv.weight.detach().reshape(4, 9).double()
    # each kept filter is a multiple of one of the two leading eigenvectors
    for f in w[:2]:
        cos = (top.T @ f).abs() / f.norm()
        assert torch.isclose(cos.max(), torch.tensor(1.0, dtype=torch.float64), atol=1e-6)


def test_fit_keeps_the_whitened_layer_fixed_and_trains_the_rest(images):
    train = images
    model = build_model("conv3x3x8p1-pool2-bn-relu-fc3", train.in_shape)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = TrainConfig(epochs=2, batch_size=16, lr=0.01, whiten=True, verbose=0, device="cpu")
    fit(model, train, config)
    after = model.state_dict()
    assert not torch.equal(before["conv1.weight"], after["conv1.weight"])  # whitened at the start
    x = train.float_x()
    expected = build_model("conv3x3x8p1-pool2-bn-relu-fc3", train.in_shape)
    expected.load_state_dict(before)
    whiten_first_conv(expected, x)
    assert torch.equal(after["conv1.weight"], expected.conv1.weight)  # and never trained after
    assert not torch.equal(before["fc1.weight"], after["fc1.weight"])  # the head trains


def test_whiten_is_refused_with_one_sentence_where_it_cannot_apply(images):
    with pytest.raises(ConfigError, match="has none"):
        whiten_first_conv(build_model("fc3", (1, 10, 10)), _correlated_images())
    with pytest.raises(ConfigError, match="takes 3 channels"):
        whiten_first_conv(build_model("conv3x3x8-gap-fc3", (3, 10, 10)), _correlated_images())


def test_resume_keeps_the_whitened_layer_frozen(tmp_path, images):
    spec = "conv3x3x8p1-pool2-bn-relu-fc3"
    out = tmp_path / "run"
    config = TrainConfig(epochs=2, batch_size=16, lr=0.01, whiten=True, verbose=0, device="cpu")
    model = build_model(spec, images.in_shape)
    first = config.replace(epochs=1)
    fit(model, images, first, run_dir=out)
    whitened = model.conv1.weight.detach().clone()
    again = build_model(spec, images.in_shape)  # fresh random weights, restored by resume
    fit(again, images, config.replace(epochs=2), run_dir=out, resume=True)
    assert torch.equal(again.conv1.weight, whitened)
    assert not again.conv1.weight.requires_grad


def test_the_cli_flag_and_the_saved_config(tmp_path):
    out = tmp_path / "w"
    argv = ["train", "conv3x3x8p1-pool2-bn-relu-fc10", "--data", "digits", "--whiten"]
    argv += ["--epochs", "1", "--out", str(out), "--verbose", "0", "--no-report"]
    assert cli(argv) == 0
    assert json.loads((out / "config.json").read_text())["whiten"] is True
