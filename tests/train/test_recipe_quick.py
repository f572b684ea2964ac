"""`--recipe quick`: fast's network for half a pass, and the bench that times it to 90%."""

from __future__ import annotations

import re

import pytest
import torch
from train_toydata import image_data

from convlens.build import build_model
from convlens.cli import main as cli
from convlens.commands.bench import format_comparison
from convlens.train import TrainConfig
from convlens.train.bench import compare
from convlens.train.config import from_dict
from convlens.train.recipes import get_recipe, list_recipes


def test_quick_trains_fast_s_network_for_half_a_pass_in_small_steps():
    fast, quick = get_recipe("fashion-mnist", "fast"), get_recipe("fashion-mnist", "quick")
    assert "quick" in list_recipes()
    # one network, so the bench's peers (which train the network, not the recipe) serve both
    assert quick.model == fast.model
    settings = quick.settings
    assert settings["epochs"] == 0.5 and settings["whiten"]
    # within one pass every image is seen once: no flips to learn from, none to average at test
    assert settings["flip"] is False and settings["tta"] is False
    # more, smaller steps at a higher rate than fast's
    assert settings["batch_size"] == 64 < fast.settings["batch_size"]
    assert settings["lr"] == 0.02 > fast.settings["lr"]
    from_dict({"model": quick.model, **settings})  # valid settings


def test_quick_on_a_data_set_without_it_names_where_it_exists(capsys):
    assert cli(["train", "--recipe", "quick", "--data", "mnist1d", "--out", "unused"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        "error: recipe 'quick' has no entry for 'mnist1d'; it exists for fashion-mnist."
    )
    assert len(err.splitlines()) == 1


def test_a_comparison_can_borrow_the_peers_of_an_earlier_one():
    data = image_data(n=64)

    def make():
        torch.manual_seed(0)
        return build_model("conv3x3x4-pool2-fc3", data.in_shape)

    config = TrainConfig(epochs=1, batch_size=16, precision="float32", device="cpu", verbose=0)
    first = compare(make, data, data, config, target=0.5, tutorial_epochs=1)
    assert first.tutorial is not None and first.adam is not None
    other = TrainConfig(
        epochs=0.5, batch_size=8, lr=1e-2, precision="float32", device="cpu", verbose=0
    )
    second = compare(make, data, data, other, target=0.5, tutorial_epochs=0, peers=first)
    # the peers are the earlier runs themselves, not trained again
    assert second.tutorial is first.tutorial and second.adam is first.adam
    # the recipe's own loops are new: half a pass of 64 examples in batches of 8 is 4 steps
    assert second.convlens is not first.convlens and second.same_recipe.epochs == 0.5
    table = format_comparison(second, 0.5)
    assert "vs Adam loop" in table and "vs tutorial" in table


def test_bench_refuses_an_unknown_budget_recipe_before_training(capsys):
    argv = ["bench", "--budget-seeds", "1", "--budget-recipe", "fastest", "--data", "mnist1d"]
    assert cli(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown recipe 'fastest'" in err and len(err.splitlines()) == 1


def test_bench_trains_quick_for_its_own_half_pass_by_default(capsys, fashion_mnist):
    argv = ["bench", "--recipe", "quick", "--limit", "256", "--tutorial-epochs", "0"]
    assert cli([*argv, "--rounds", "0"]) == 0
    out = capsys.readouterr().out
    assert "256 training examples, 0.5 epochs" in out
    # both loops trained half a pass: 2 of the 4 batches of 64
    assert re.search(r"^epochs\s+0\.5\s+0\.5$", out, re.M)


@pytest.mark.slow
def test_quick_reaches_ninety_percent_on_fashion_mnist(tmp_path, fashion_mnist, capsys):
    out = tmp_path / "quick"
    argv = ["train", "--recipe", "quick", "--data", "fashion-mnist", "--out", str(out)]
    assert cli([*argv, "--verbose", "0", "--no-report"]) == 0
    printed = re.search(r"test accuracy ([0-9.]+)%", capsys.readouterr().out)
    assert printed and float(printed.group(1)) >= 90.0  # README: about 90.5%
