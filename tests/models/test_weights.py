"""torchvision-format weights load into the zoo models and give the same outputs.

The torchvision layouts below are written out from torchvision's module structure
(torchvision/models/alexnet.py and vgg.py): ``features`` is an nn.Sequential that numbers every
layer, ReLU and pooling included, ``classifier`` likewise (the flatten happens in ``forward``).
AlexNet: convs at features 0, 3, 6, 8, 10; linears at classifier 1, 4, 6. VGG-16: convs at
features 0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28; linears at classifier 0, 3, 6. VGG with
batch norm: conv, bn, relu per layer, so VGG-11-BN's convs sit at 0, 4, 8, 11, 15, 18, 22, 25 and
each bn one after its conv. The renaming here is written from those lists, independently of
``convlens.models.weights``. ResNets and GoogLeNet use torchvision's names already. No file is
downloaded: each state dict is a convlens model's random weights under torchvision's names.
"""

from __future__ import annotations

import pickle

import pytest
import torch
from safetensors.torch import save_file

from convlens.errors import CheckpointError
from convlens.models import create_model
from convlens.models.imagenet import IMAGENET_MEAN, IMAGENET_STD, to_half_range
from convlens.models.weights import read_state_dict

ALEXNET = {"conv": [0, 3, 6, 8, 10], "bn": [], "fc": [1, 4, 6]}
VGG16 = {"conv": [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28], "bn": [], "fc": [0, 3, 6]}
VGG11_BN = {"conv": [0, 4, 8, 11, 15, 18, 22, 25], "bn": [1, 5, 9, 12, 16, 19, 23, 26], "fc": [0]}


def torchvision_layout(model: torch.nn.Module, layout: dict) -> dict[str, torch.Tensor]:
    """The model's state dict under torchvision's names: convN -> features.<layout conv N>, ..."""
    renames = {}
    for kind, part, prefix in (("conv", "features", "conv"), ("bn", "features", "bn"),
                               ("fc", "classifier", "fc")):  # fmt: skip
        for n, index in enumerate(layout[kind], start=1):
            renames[f"{prefix}{n}."] = f"{part}.{index}."
    state = {}
    for key, value in model.state_dict().items():
        head, _, rest = key.partition(".")
        state[renames[head + "."] + rest] = value.clone()
    return state


def _random_bn_statistics(model: torch.nn.Module) -> None:
    # eval-mode outputs then depend on every running mean and variance: a missed buffer shows
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)


def _same_outputs(a: torch.nn.Module, b: torch.nn.Module, shape: tuple[int, ...]) -> None:
    x = torch.randn(2, *shape)
    with torch.no_grad():
        assert torch.equal(a.eval()(x), b.eval()(x))


CASES = [
    # (zoo name, options, torchvision layout, input)
    ("alexnet", {"image_size": 63, "num_classes": 7}, ALEXNET, (3, 63, 63)),
    ("vgg11_bn", {"small_input": True, "num_classes": 7}, VGG11_BN, (3, 32, 32)),
]


@pytest.mark.parametrize("name, options, layout, shape", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_torchvision_names_load_into_alexnet_and_vgg(
    tmp_path, name, options, layout, shape, suffix
):
    torch.manual_seed(0)
    source = create_model(name, **options)
    _random_bn_statistics(source)
    state = torchvision_layout(source, layout)
    path = tmp_path / f"w{suffix}"
    if suffix == ".pth":
        torch.save(state, path)
    else:
        save_file(state, str(path))
    torch.manual_seed(1)  # other random weights, overwritten by the file
    loaded = create_model(name, weights=path, **options)
    _same_outputs(source, loaded, shape)


@pytest.mark.slow
@pytest.mark.parametrize("name, layout", [("vgg16", VGG16), ("alexnet", ALEXNET)])
def test_full_size_torchvision_layouts(tmp_path, name, layout):
    torch.manual_seed(0)
    source = create_model(name)
    path = tmp_path / "w.pth"
    torch.save(torchvision_layout(source, layout), path)
    _same_outputs(source, create_model(name, weights=path), (3, 224, 224))


def test_convlens_names_load_too(tmp_path):
    torch.manual_seed(0)
    source = create_model("vgg11", small_input=True, num_classes=3)
    torch.save(source.state_dict(), tmp_path / "own.pt")
    _same_outputs(source, create_model("vgg11", small_input=True, num_classes=3,
                                       weights=tmp_path / "own.pt"), (3, 32, 32))  # fmt: skip


def test_resnet_file_without_num_batches_tracked_loads(tmp_path):
    # torchvision's original ResNet files predate batch norm's num_batches_tracked counter
    torch.manual_seed(0)
    source = create_model("resnet18", small_input=True, num_classes=5)
    _random_bn_statistics(source)
    state = {k: v for k, v in source.state_dict().items() if "num_batches_tracked" not in k}
    assert len(state) < len(source.state_dict())
    torch.save(state, tmp_path / "r18.pth")
    loaded = create_model("resnet18", small_input=True, num_classes=5, weights=tmp_path / "r18.pth")
    _same_outputs(source, loaded, (3, 32, 32))


def test_googlenet_file_with_auxiliary_classifiers_loads_and_turns_transform_input_on(tmp_path):
    torch.manual_seed(0)
    source = create_model("googlenet", aux_logits=True, num_classes=6)  # as torchvision saves it
    _random_bn_statistics(source)
    torch.save(source.state_dict(), tmp_path / "g.pth")
    loaded = create_model("googlenet", num_classes=6, weights=tmp_path / "g.pth")
    assert loaded.transform_input and loaded.model_kwargs == {"transform_input": True}
    assert not any(k.startswith("aux") for k in loaded.state_dict())
    # the same network fed the transformed input by hand
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(loaded.eval()(x), source.eval()(to_half_range(x)))
    plain = create_model(
        "googlenet", num_classes=6, weights=tmp_path / "g.pth", transform_input=False
    )
    assert not plain.transform_input


def test_transform_input_is_pixels_scaled_to_minus_one_one():
    # a pixel p normalised with ImageNet's mean and std becomes (p - 0.5) / 0.5
    p = torch.rand(4, 3, 5, 5, dtype=torch.float64)
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float64).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, dtype=torch.float64).view(1, 3, 1, 1)
    assert torch.allclose(to_half_range((p - mean) / std), (p - 0.5) / 0.5)


def test_adaptive_pooling_lets_alexnet_and_vgg_take_larger_inputs():
    with torch.device("meta"):
        for name in ("alexnet", "vgg16_bn"):
            model = create_model(name)
            assert model(torch.empty(1, 3, 300, 257)).shape == (1, 1000)
    # 64x64 through VGG-11's five poolings leaves 2x2 maps; pooled to the 1x1 of its 32x32
    # design, which is their mean
    torch.manual_seed(0)
    vgg = create_model("vgg11", small_input=True, num_classes=4).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        maps = vgg.forward_features(x)
        assert maps.shape == (2, 512, 2, 2)
        assert torch.allclose(vgg(x), vgg.fc1(maps.mean(dim=(2, 3))), atol=1e-6)


# --- weights that do not fit ------------------------------------------------------------------


def _small_resnet(**options):
    return create_model("resnet18", small_input=True, **options)


def test_a_shape_mismatch_names_the_tensor_and_both_shapes(tmp_path):
    torch.save(_small_resnet(num_classes=5).state_dict(), tmp_path / "five.pth")
    with pytest.raises(CheckpointError) as err:
        _small_resnet(num_classes=7, weights=tmp_path / "five.pth")
    assert "'fc.weight' is (5, 512) in the file but (7, 512) in the model" in str(err.value)


def test_a_missing_key_is_named_in_both_namings(tmp_path):
    source = create_model("vgg11", small_input=True)
    plain = {"conv": [0, 3, 6, 8, 11, 13, 16, 18], "bn": [], "fc": [0]}  # VGG-11 without BN
    torch.save(torchvision_layout(source, plain), tmp_path / "vgg11.pth")
    with pytest.raises(CheckpointError) as err:
        create_model("vgg11_bn", small_input=True, weights=tmp_path / "vgg11.pth")
    assert "lacks 'bn1.weight' ('features.1.weight' in torchvision's names)" in str(err.value)


def test_an_unexpected_key_is_named(tmp_path):
    state = _small_resnet(num_classes=3).state_dict()
    state["extra.weight"] = torch.zeros(2)
    torch.save(state, tmp_path / "extra.pth")
    with pytest.raises(CheckpointError, match=r"unexpected 'extra\.weight'"):
        _small_resnet(num_classes=3, weights=tmp_path / "extra.pth")


class _Thing:  # a pickled object that weights_only loading must refuse
    pass


@pytest.mark.parametrize(
    "name, write, words",
    [
        ("w.pth", lambda p: p.write_bytes(b"not a zip file"), "cannot be read as a state dict"),
        ("w.safetensors", lambda p: p.write_bytes(b"\x00" * 16), "cannot be read as a state dict"),
        ("w.pth", lambda p: torch.save({"a": _Thing()}, p), "cannot be read as a state dict"),
        ("w.pth", lambda p: torch.save(torch.zeros(3), p), "holds no state dict"),
        ("w.pth", lambda p: torch.save({"a": [1, 2]}, p), "holds no state dict"),
        ("w.npz", lambda p: p.write_bytes(b""), "should be a .pth, .pt or .safetensors"),
    ],
)
def test_unreadable_files_are_one_sentence(tmp_path, name, write, words):
    path = tmp_path / name
    write(path)
    with pytest.raises(CheckpointError, match=words):
        read_state_dict(path)


def test_pickled_code_is_never_run(tmp_path):
    ran = tmp_path / "ran"

    class Boom:
        def __reduce__(self):
            return (ran.touch, ())

    with open(tmp_path / "evil.pth", "wb") as fh:
        pickle.dump({"w": Boom()}, fh, protocol=2)  # the protocol torch.save writes
    with pytest.raises(CheckpointError):
        read_state_dict(tmp_path / "evil.pth")
    assert not ran.exists()


def test_a_missing_file_is_one_sentence(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        read_state_dict(tmp_path / "nothere.pth")


def test_a_wrapped_state_dict_is_unwrapped(tmp_path):
    state = _small_resnet(num_classes=2).state_dict()
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "wrapped.pth")
    assert set(read_state_dict(tmp_path / "wrapped.pth")) == set(state)
