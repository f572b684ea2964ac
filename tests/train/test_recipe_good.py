"""`--recipe good`: Fashion-MNIST's wider network for more epochs; other data sets say where it exists."""

from __future__ import annotations

import json

import torch

from convlens.build import build_model
from convlens.cli import main as cli
from convlens.train.config import from_dict
from convlens.train.recipes import get_recipe, list_recipes


def _conv_channels(model: torch.nn.Module) -> list[int]:
    return [m.out_channels for m in model.modules() if isinstance(m, torch.nn.Conv2d)]


def test_good_is_fast_one_and_a_half_times_as_wide_and_longer():
    fast, good = get_recipe("fashion-mnist", "fast"), get_recipe("fashion-mnist", "good")
    assert "good" in list_recipes()
    narrow = build_model(fast.model, (1, 28, 28))
    wide = build_model(good.model, (1, 28, 28))
    assert _conv_channels(narrow) == [32, 64, 128]
    assert _conv_channels(wide) == [48, 96, 192]  # multiples of 16, as oneDNN's blocks like
    with torch.no_grad():
        assert wide(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # the weights of 3x3 convolutions grow with in x out channels: 2.25x, except the first layer
    conv_weights = [m.weight.numel() for m in wide.modules() if isinstance(m, torch.nn.Conv2d)]
    assert conv_weights == [9 * 1 * 48, 9 * 48 * 96, 9 * 96 * 192]
    assert good.settings["epochs"] > fast.settings["epochs"]
    from_dict({"model": good.model, **good.settings})  # valid settings


def test_good_on_a_data_set_without_it_names_where_it_exists(capsys):
    code = cli(["train", "--recipe", "good", "--data", "digits", "--out", "unused"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().endswith(
        "error: recipe 'good' has no entry for 'digits'; it exists for fashion-mnist."
    )
    assert len(err.strip().splitlines()) == 1


def test_train_recipe_good_records_the_wide_model(tmp_path, fashion_mnist):
    out = tmp_path / "good"
    argv = ["train", "--recipe", "good", "--data", "fashion-mnist", "--epochs", "0.005"]
    argv += ["--out", str(out), "--verbose", "0", "--no-report"]
    assert cli(argv) == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["recipe"] == "good" and saved["model"].startswith("conv3x3x48p1-pool2")
    assert saved["epochs"] == 0.005 and saved["tta"] is True  # the flag wins; the rest is good's
