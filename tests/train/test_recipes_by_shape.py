"""`--recipe fast` for any data: the recipe follows the data's shape and number of classes."""

from __future__ import annotations

import pytest
import torch

from convlens.build import build_model
from convlens.errors import ConfigError
from convlens.train.config import from_dict
from convlens.train.recipes import RECIPES, get_recipe, recipe_for_shape


@pytest.mark.parametrize(
    "in_shape, classes, n_train, head",
    [
        ((1, 28, 28), 7, 60_000, "bn-relu-fc7"),  # three blocks leave 3x3: a plain fc head
        ((3, 64, 64), 5, 1_000, "gap-fc5"),  # 64 / 8 = 8 px left: global average pooling
        ((3, 224, 224), 2, 500, "gap-fc2"),  # five blocks for photos
        ((1, 8, 8), 10, 1_400, "fc64-fc10"),  # below 16 px: the digits network
        ((1, 40), 4, 4_000, "gap-fc4"),  # 1-D signals: the MNIST-1D network
        ((4,), 3, 120, "fc64-fc64-fc3"),  # rows of a table: an MLP
    ],
)
def test_fast_recipe_by_shape_builds_a_model_with_one_output_per_class(
    in_shape, classes, n_train, head
):
    recipe = recipe_for_shape(in_shape, classes, n_train)
    assert recipe.model.endswith(head)
    model = build_model(recipe.model, in_shape).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, *in_shape)).shape == (2, classes)
    from_dict({"model": recipe.model, **recipe.settings})  # valid settings


def test_length_follows_the_number_of_examples():
    # about 225,000 examples seen, as the measured Fashion-MNIST recipe: 60,000 -> 3.75 passes,
    # clipped to at least 4; 20,000 -> 11.25; tiny sets stop at 20
    assert recipe_for_shape((1, 28, 28), 10, 60_000).settings["epochs"] == 4
    assert recipe_for_shape((1, 28, 28), 10, 20_000).settings["epochs"] == 11.25
    assert recipe_for_shape((1, 28, 28), 10, 100).settings["epochs"] == 20


def test_table_entries_win_and_unknown_data_without_a_shape_is_refused():
    calls = []
    named = get_recipe("mnist1d", "fast", lambda: calls.append(1) or ((1, 40), 10, 4000))
    assert named is RECIPES[("mnist1d", "fast")] and not calls  # the data is not even loaded
    assert get_recipe("/data/photos", "fast", lambda: ((3, 32, 32), 4, 800)).model.endswith("fc4")
    with pytest.raises(ConfigError, match="no entry for '/data/photos'"):
        get_recipe("/data/photos", "fast")
