"""Zoo models trained on data of another size: sized to fit where they can, refused where not."""

from __future__ import annotations

import pytest
import torch

from convlens.errors import ConfigError
from convlens.train.checkpoint import load_checkpoint, save_checkpoint
from convlens.train.recipes import make_model


def test_an_image_mlp_takes_the_datas_image_size_and_rebuilds_from_its_checkpoint(tmp_path):
    model = make_model("mlp", (1, 8, 8), num_classes=10)
    # 8*8 inputs -> 100 hidden -> 10 classes: 64*100 + 100 + 100*10 + 10 = 7,510 parameters
    assert sum(p.numel() for p in model.parameters()) == 7_510
    x = torch.rand(2, 1, 8, 8)
    stem = save_checkpoint(tmp_path / "mlp", model)
    again = load_checkpoint(stem).model
    assert torch.equal(again(x), model(x))


def test_a_model_that_cannot_take_the_data_is_refused_in_one_sentence():
    with pytest.raises(
        ConfigError, match=r"'mnist1d_cnn' takes 1x40 inputs and cannot run on this data's 1x8x8"
    ):
        make_model("mnist1d_cnn", (1, 8, 8), num_classes=10)
