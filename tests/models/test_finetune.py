"""Fine-tuning: pretrained weights in, a new head for the data's classes, frozen layers fixed."""

from __future__ import annotations

import pytest
import torch

from convlens.cli import main
from convlens.data.tensors import TensorData
from convlens.errors import ConfigError
from convlens.models import create_model
from convlens.models.finetune import freeze, model_for_data, pretrained_statistics
from convlens.models.head import head_name, replace_head
from convlens.train import TrainConfig, fit, load_checkpoint, save_checkpoint
from convlens.train.optim import make_optimizer


def _data(n: int = 48, channels: int = 1, classes: int = 3, split: str = "train") -> TensorData:
    g = torch.Generator().manual_seed(0 if split == "train" else 1)
    y = torch.arange(n) % classes
    x = torch.randint(0, 256, (n, channels, 32, 32), generator=g, dtype=torch.uint8)
    x[:, :, : 8 * (1 + y).max()] //= 2  # something to learn
    return TensorData(
        name="toy",
        split=split,
        x=x,
        y=y,
        classes=tuple(f"c{i}" for i in range(classes)),
        mean=(0.5,) * channels,
        std=(0.25,) * channels,
    )


@pytest.fixture
def lenet_weights(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "lenet5.pth"
    torch.save(create_model("lenet5").state_dict(), path)  # 10 classes
    return path


def test_the_head_is_the_last_linear_layer_of_any_network():
    with torch.device("meta"):
        assert head_name(create_model("resnet18")) == "fc"
        assert head_name(create_model("googlenet", aux_logits=True)) == "fc"  # not aux2.fc2
        assert head_name(create_model("alexnet")) == "fc3"
        model = create_model("vgg11", small_input=True)
        assert replace_head(model, 4) == "fc1" and model.fc1.out_features == 4
        assert model.fc1.in_features == 512


def test_fine_tuning_loads_all_but_the_head_and_trains_only_what_is_not_frozen(lenet_weights):
    config = TrainConfig(model="lenet5", weights=str(lenet_weights), freeze="backbone",
                         epochs=2, batch_size=16, lr=0.1, verbose=0, device="cpu")  # fmt: skip
    model = model_for_data(config, (1, 32, 32), 3)
    pretrained = torch.load(lenet_weights, weights_only=True)
    head = head_name(model)
    for key, value in model.state_dict().items():
        if key.startswith(head + "."):
            assert value.shape[0] == 3  # a new head for the data's 3 classes
        else:
            assert torch.equal(value, pretrained[key])
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable == [f"{head}.weight", f"{head}.bias"]
    optimizer = make_optimizer(model, config)
    given = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert given == {id(model.get_parameter(n)) for n in trainable}

    before = {k: v.clone() for k, v in model.state_dict().items()}
    fit(model, _data(), config, val=_data(split="test"))
    after = model.state_dict()
    for name, _ in model.named_parameters():
        changed = not torch.equal(before[name], after[name])
        assert changed == name.startswith(head + "."), name


def test_the_new_head_and_the_frozen_share_are_said(lenet_weights):
    config = TrainConfig(model="lenet5", weights=str(lenet_weights), freeze="backbone")
    notes: list[str] = []
    model_for_data(config, (1, 32, 32), 3, notes)
    # LeNet-5: 61,706 parameters with 10 classes; its head fc2 (84 -> 10, 850) becomes 84 -> 3
    # (255), so 61,706 - 850 = 60,856 frozen of 60,856 + 255 = 61,111
    assert notes == [
        f"the head fc2 starts afresh with 3 outputs for the data's classes (weights "
        f"{str(lenet_weights)!r} has 10); every other layer starts from the file",
        "--freeze backbone: 60,856 of 61,111 parameters frozen (8 of 10 tensors); 255 train",
    ]
    same: list[str] = []  # a file for the data's own number of classes keeps its head
    model_for_data(TrainConfig(model="lenet5", weights=str(lenet_weights)), (1, 32, 32), 10, same)
    assert same == []


def test_freeze_takes_module_prefixes(lenet_weights):
    config = TrainConfig(model="lenet5", weights=str(lenet_weights), freeze="conv1, conv2")
    model = model_for_data(config, (1, 32, 32), 3)
    frozen = sorted(n for n, p in model.named_parameters() if not p.requires_grad)
    assert frozen == ["conv1.bias", "conv1.weight", "conv2.bias", "conv2.weight"]


def test_freeze_prefix_matches_whole_module_names():
    model = torch.nn.Sequential()
    model.add_module("layer1", torch.nn.Linear(2, 2))
    model.add_module("layer10", torch.nn.Linear(2, 2))
    assert freeze(model, "layer1") == ["layer1.weight", "layer1.bias"]


def test_bad_freeze_values_are_one_sentence():
    model = create_model("lenet5")
    with pytest.raises(ConfigError, match=r"--freeze 'layer9' names no parameters; .* conv1"):
        freeze(model, "layer9")
    with pytest.raises(ConfigError, match="freezes every parameter"):
        freeze(model, "conv1,conv2,conv3,fc1,fc2")


def test_a_fine_tuned_run_reloads_from_its_checkpoint(lenet_weights, tmp_path):
    config = TrainConfig(model="lenet5", weights=str(lenet_weights))
    model = model_for_data(config, (1, 32, 32), 3)
    save_checkpoint(tmp_path / "ck", model, config=config, data=_data())
    ckpt = load_checkpoint(tmp_path / "ck")
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        assert torch.equal(ckpt.model(x), model.eval()(x))


def test_colour_images_take_imagenet_statistics_with_pretrained_weights():
    rgb, grey = _data(channels=3), _data(channels=1)
    assert pretrained_statistics(rgb, "w.pth").mean == (0.485, 0.456, 0.406)
    assert pretrained_statistics(rgb, "w.pth").std == (0.229, 0.224, 0.225)
    assert pretrained_statistics(rgb, "") is rgb  # no weights: the data's own
    assert pretrained_statistics(grey, "w.pth") is grey


def test_pretrained_geometry_that_does_not_fit_the_data_is_refused(lenet_weights, capsys):
    # LeNet-5's pretrained 32x32 geometry cannot run on the 8x8 digits
    code = main(["train", "lenet5", "--weights", str(lenet_weights), "--data", "digits",
                 "--epochs", "1", "--no-report"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "model 'lenet5' cannot run on this data's 1x8x8 inputs" in err
    assert len(err.strip().splitlines()) == 1


def test_kwargs_for_a_zoo_model_in_training_are_refused():
    config = TrainConfig(model="lenet5", kwargs='{"num_classes": 3}')
    with pytest.raises(ConfigError, match=r"--kwargs is for a model given as FILE\.py:NAME"):
        model_for_data(config, (1, 32, 32), 3)
