"""Named recipes: `--recipe good` (Fashion-MNIST's wider network) and what any recipe records."""

from __future__ import annotations

import json

import pytest
import torch

from convlens.build import build_model
from convlens.cli import main as cli
from convlens.train.config import from_dict
from convlens.train.recipes import get_recipe, list_recipes


def _conv_channels(model: torch.nn.Module) -> list[int]:
    return [m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d)]


def test_good_is_one_and_a_half_times_as_wide_after_a_whitened_first_layer():
    fast, good = get_recipe("fashion-mnist", "fast"), get_recipe("fashion-mnist", "good")
    assert "good" in list_recipes()
    narrow = build_model(fast.model, (1, 28, 28))
    wide = build_model(good.model, (1, 28, 28))
    # fast: the 8 directions of largest variance of a 3x3 one-channel patch, +w and -w
    assert _conv_channels(narrow) == [16, 64, 128]
    # good's first layer holds all 9 directions
    assert _conv_channels(wide) == [18, 96, 192]
    assert fast.settings["whiten"] and good.settings["whiten"]
    with torch.no_grad():
        assert wide(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # 3x3 weights grow with in x out channels: 2.25x in the third block
    conv_weights = [m.weight.numel() for m in wide.modules() if isinstance(m, torch.nn.Conv2d)]
    assert conv_weights == [9 * 1 * 18, 9 * 18 * 96, 9 * 96 * 192]
    assert good.settings["epochs"] >= fast.settings["epochs"]
    from_dict({"model": good.model, **good.settings})  # valid settings


@pytest.mark.parametrize(("recipe", "directions"), [("fast", 8), ("good", 9)])
def test_the_first_layer_holds_whitening_filters_only(recipe, directions):
    from convlens.train.whiten import whiten_first_conv

    model = build_model(get_recipe("fashion-mnist", recipe).model, (1, 28, 28))
    g = torch.Generator().manual_seed(0)
    images = torch.nn.functional.avg_pool2d(torch.randn(64, 1, 30, 30, generator=g), 3, 1)
    conv = whiten_first_conv(model, images)
    w = conv.weight.detach().reshape(2 * directions, 9).double()
    assert torch.equal(w[directions:], -w[:directions])
    # the filters are orthogonal directions (eigenvectors, each scaled): no random one left
    gram = w[:directions] @ w[:directions].T
    off = gram - torch.diag(torch.diag(gram))
    assert off.abs().max() < 1e-6 * torch.diag(gram).max()


def test_good_on_a_data_set_without_it_names_where_it_exists(capsys):
    code = cli(["train", "--recipe", "good", "--data", "digits", "--out", "unused"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().endswith(
        "error: recipe 'good' has no entry for 'digits'; it exists for fashion-mnist."
    )
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("recipe", "expected"),
    [
        ("good", {"tta": True, "whiten": True, "batch_size": 256}),
        ("quick", {"tta": False, "flip": False, "batch_size": 64, "lr": 0.02}),
    ],
)
def test_train_with_a_named_recipe_records_its_model_and_settings(
    tmp_path, fashion_mnist, recipe, expected
):
    out = tmp_path / recipe
    argv = ["train", "--recipe", recipe, "--data", "fashion-mnist", "--epochs", "0.005"]
    argv += ["--out", str(out), "--verbose", "0", "--no-report"]
    assert cli(argv) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["recipe"] == recipe
    assert saved["model"] == get_recipe("fashion-mnist", recipe).model
    assert saved["epochs"] == 0.005  # the flag wins; the rest is the recipe's
    assert {key: saved[key] for key in expected} == expected
