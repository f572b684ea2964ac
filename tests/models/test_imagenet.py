"""ImageNet class names, torchvision's preprocessing, classes by name, and `predict` / `viz` on a
zoo model with weights from a file."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from convlens.cli import main
from convlens.errors import ConfigError
from convlens.models import create_model
from convlens.models.imagenet import center_crop_box, imagenet_classes, imagenet_image
from convlens.models.source import class_index, open_model


def test_the_thousand_imagenet_classes_in_index_order():
    names = imagenet_classes()
    assert len(names) == 1000 and len(set(names)) == 1000
    assert (names[0], names[1], names[99], names[251], names[968]) == (
        "tench", "goldfish", "goose", "dalmatian", "cup",
    )  # fmt: skip


def test_resize_shorter_side_then_centre_crop(tmp_path):
    # a 400 x 300 (width x height) photo: the shorter side becomes 256, the longer
    # int(256 * 400 / 300) = 341; the crop starts at round((341 - 224) / 2) = round(58.5) = 58
    # (Python rounds half to even, as torchvision's center_crop does) and (256 - 224) / 2 = 16
    assert center_crop_box(341, 256) == (58, 16, 282, 240)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "p.png")
    x = imagenet_image(tmp_path / "p.png")
    by_hand = Image.fromarray(pixels).resize((341, 256), Image.Resampling.BILINEAR)
    by_hand = np.asarray(by_hand.crop((58, 16, 282, 240)), dtype=np.float32) / 255
    assert x.shape == (3, 224, 224)
    assert torch.equal(x, torch.from_numpy(by_hand).permute(2, 0, 1))


def test_classes_by_index_or_name():
    names = imagenet_classes()
    assert class_index("dalmatian", names, 1000) == 251
    assert class_index("Dalmatian", names, 1000) == 251
    assert class_index("968", names, 1000) == 968
    assert class_index(3, (), 10) == 3
    with pytest.raises(ConfigError, match="no class named 'dalmation'; did you mean dalmatian"):
        class_index("dalmation", names, 1000)
    with pytest.raises(ConfigError, match="class 1000 is out of range; the model has 1000"):
        class_index("1000", names, 1000)
    with pytest.raises(ConfigError, match="no class names, so give the class as a number"):
        class_index("cat", (), 10)


@pytest.fixture(scope="module")
def dalmatian_weights(tmp_path_factory):
    """GoogLeNet weights in torchvision's names whose head always says class 251: zero weights,
    bias 10 for dalmatian and 0 for the other 999 classes."""
    torch.manual_seed(0)
    model = create_model("googlenet")
    with torch.no_grad():
        model.fc.weight.zero_()
        model.fc.bias.zero_()
        model.fc.bias[251] = 10.0
    path = tmp_path_factory.mktemp("w") / "googlenet.pth"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture
def photo(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "photo.jpg"
    Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)).save(path)
    return path


def test_predict_with_imagenet_weights_prints_class_names(dalmatian_weights, photo, capsys):
    code = main(["predict", "googlenet", str(photo), "--weights", str(dalmatian_weights)])
    out = capsys.readouterr().out
    # softmax of the bias: e^10 / (e^10 + 999) = 22026.47 / 23025.47 = 0.9566
    expected = math.exp(10) / (math.exp(10) + 999)
    assert round(100 * expected, 1) == 95.7
    assert code == 0 and f"{photo}: dalmatian 95.7%" in out


def test_a_zoo_model_with_imagenet_weights_opens_as_an_imagenet_checkpoint(dalmatian_weights):
    ckpt = open_model("googlenet", weights=str(dalmatian_weights))
    assert ckpt.classes[251] == "dalmatian" and ckpt.in_shape == (3, 224, 224)
    assert ckpt.mean == (0.485, 0.456, 0.406) and ckpt.std == (0.229, 0.224, 0.225)
    assert ckpt.meta["preprocess"] == "imagenet" and ckpt.model.transform_input
    assert not ckpt.model.training


def _viz_class(weights, out, name):
    return ["viz", "class", "googlenet", "--weights", str(weights), "--steps", "1",
            "--out", str(out), "--class", name]  # fmt: skip


@pytest.mark.slow  # optimises a 224x224 GoogLeNet input
def test_viz_class_takes_a_class_name(dalmatian_weights, tmp_path):
    assert main(_viz_class(dalmatian_weights, tmp_path, "dalmatian")) == 0
    assert (tmp_path / "class.png").is_file()


def test_viz_class_refuses_an_unknown_class_name(dalmatian_weights, tmp_path, capsys):
    assert main(_viz_class(dalmatian_weights, tmp_path, "dalmation")) == 2
    assert "did you mean dalmatian" in capsys.readouterr().err
    assert not (tmp_path / "class.png").exists()


def test_viz_filters_of_a_zoo_model_with_weights(dalmatian_weights, tmp_path):
    out = tmp_path / "viz"
    argv = ["viz", "filters", "googlenet", "--weights", str(dalmatian_weights), "--out", str(out)]
    assert main(argv) == 0 and (out / "filters.png").is_file()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["predict", "googlenet", "x.jpg", "--weights", "missing.pth"], "does not exist"),
        (["predict", "googlenett", "x.jpg"], "did you mean googlenet"),
        (["export", "resnet18", "--onnx", "o.onnx", "--kwargs", "{}x"], "--kwargs must be"),
    ],
)
def test_bad_model_arguments_are_one_sentence(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_weights_are_refused_for_a_checkpoint(tmp_path, capsys):
    from convlens.train import save_checkpoint

    save_checkpoint(tmp_path / "ck", create_model("lenet5"))
    code = main(["predict", str(tmp_path / "ck.json"), "x.png", "--weights", "w.pth"])
    assert code == 2 and "holds its own weights" in capsys.readouterr().err
