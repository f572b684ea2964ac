"""eval_mode restores every submodule's own training flag."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convlens.torchutil import eval_mode


def _net() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.5),
        nn.Sequential(nn.Flatten(), nn.Linear(4 * 6 * 6, 3), nn.BatchNorm1d(3)),
    )  # fmt: skip


def _flags(model: nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


def test_a_batchnorm_left_in_train_mode_inside_an_eval_model_comes_back_so():
    model = _net().eval()
    model[1].train()  # one BatchNorm deliberately in training mode, the rest in eval
    before = _flags(model)
    assert before == [False, False, True, False, False, False, False, False, False]
    with eval_mode(model) as same:
        assert same is model
        assert not any(_flags(model))
    assert _flags(model) == before


def test_a_frozen_batchnorm_inside_a_training_model_stays_frozen():
    model = _net().train()
    model[4][2].eval()  # frozen statistics, as when fine-tuning
    before = _flags(model)
    with eval_mode(model):
        # in eval mode dropout is off: two passes agree
        x = torch.randn(2, 1, 8, 8)
        assert torch.equal(model(x), model(x))
    assert _flags(model) == before and model.training and not model[4][2].training


def test_flags_are_restored_when_the_block_raises():
    model = _net().train()
    model[1].eval()
    before = _flags(model)
    with pytest.raises(RuntimeError), eval_mode(model):
        raise RuntimeError("boom")
    assert _flags(model) == before
