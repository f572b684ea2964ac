"""The registry: names, errors, defaults, and the attributes every created model carries."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from convlens.errors import ConfigError
from convlens.models import create_model, list_models, model_info
from convlens.models.registry import families

FAMILIES = ["lenet", "alexnet", "vgg", "googlenet", "resnet", "mlp", "mnist1d", "small", "rcnn"]


def test_every_family_is_present_and_the_names_are_unique():
    names = list_models()
    assert len(names) == len(set(names))
    assert families() == FAMILIES
    assert list_models("vgg") == [
        "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    ]  # fmt: skip
    assert sum(len(list_models(f)) for f in FAMILIES) == len(names)


def test_unknown_family_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown model family 'vggs'; families: lenet"):
        list_models("vggs")


def test_unknown_name_suggests_close_matches():
    with pytest.raises(ConfigError, match=r"unknown model .resnet51.; did you mean .*resnet50"):
        create_model("resnet51")
    with pytest.raises(ConfigError, match=r"see `convlens zoo`"):
        model_info("transformer")


def test_names_are_forgiving_about_case_and_dashes():
    assert model_info("VGG16-BN").name == "vgg16_bn"


def test_model_info_is_a_frozen_record_of_the_defaults():
    info = model_info("resnet50")
    assert (info.family, info.in_shape, info.num_classes) == ("resnet", (3, 224, 224), 1000)
    assert info.options == ("small_input", "stride_in_1x1")
    assert "He et al. 2016" in info.source
    assert "small_input" in info.notes  # the docstring says how the model adapts
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.params = 0  # type: ignore[misc]


@pytest.mark.parametrize("name", list_models())
def test_every_model_is_documented(name):
    info = model_info(name)
    assert info.description and info.source and info.notes
    assert len(info.description) <= 100
    assert info.params > 0


def test_created_models_carry_their_name_and_input_shape():
    with torch.device("meta"):
        model = create_model("alexnet")
        gray = create_model("vgg16", in_channels=1, small_input=True)
        signal = create_model("mnist1d_cnn", in_channels=2)
        resnet = create_model("resnet18", small_input=True)
    assert (model.model_name, model.in_shape) == ("alexnet", (3, 224, 224))
    assert (gray.model_name, gray.in_shape) == ("vgg16", (1, 32, 32))
    assert signal.in_shape == (2, 40)
    assert resnet.in_shape == (3, 32, 32)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_classes": 0}, "num_classes must be a positive whole number, not 0"),
        ({"in_channels": 2.5}, "in_channels must be a positive whole number, not 2.5"),
        ({"num_classes": True}, "num_classes must be a positive whole number"),
        ({"small_inputs": True}, "vgg11 has no option 'small_inputs'; its options: small_input"),
    ],
)
def test_bad_arguments_are_one_sentence_config_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        create_model("vgg11", **kwargs)


def test_model_without_options_says_so():
    with pytest.raises(ConfigError, match="its options: none"):
        create_model("resnet20", small_input=True)
