from __future__ import annotations

import json
import re

import pytest
import torch
from train_toydata import image_data, sequence_data

from convlens.build import build_model
from convlens.errors import ConfigError, TrainingError
from convlens.train import StepInfo, TrainConfig, evaluate, fit, load_checkpoint, predict

FLOAT32 = {"precision": "float32", "device": "cpu", "verbose": 0}


def test_overfits_a_tiny_batch_of_random_labels():
    # 32 images with random labels carry no signal: reaching 100% means the loop really
    # optimises (forward, backward, step, schedule) rather than learning a shortcut.
    data = image_data(n=32, classes=4)
    torch.manual_seed(0)
    model = build_model("conv3x3x16-bn-pool2-fc64-fc4", data.in_shape)
    config = TrainConfig(
        epochs=60, batch_size=32, optimizer="adam", lr=3e-3, weight_decay=0, **FLOAT32
    )
    history = fit(model, data, config)
    assert history.records[-1]["acc"] == 1.0
    assert evaluate(model, data, config)["acc"] == 1.0
    assert history.records[-1]["loss"] < history.records[0]["loss"] / 10


@pytest.mark.parametrize(
    ("spec", "gives"),
    [("conv3x3x4-pool2-fc2", "it gives 2 (a spec ends with fc3)"),
     ("conv3x3x4-pool2", "it gives outputs of shape (4, 5, 5) (a spec ends with fc3)")],
)  # fmt: skip
def test_a_model_with_another_number_of_outputs_is_refused_before_any_file(tmp_path, spec, gives):
    data = image_data(n=16, classes=3)  # 1x12x12: conv3x3 -> 10x10, pool2 -> 5x5
    model = build_model(spec, data.in_shape)
    with pytest.raises(ConfigError) as err:
        fit(model, data, TrainConfig(epochs=1, **FLOAT32), run_dir=tmp_path / "run")
    assert (
        str(err.value)
        == f"'noise' has 3 classes, so the model needs 3 outputs per example, but {gives}."
    )
    assert not (tmp_path / "run").exists()


def test_a_softmax_before_the_cross_entropy_is_pointed_out(capsys):
    data = image_data(n=16, classes=3)
    for spec, said in (("conv3x3x4-pool2-fc3-softmax", True), ("conv3x3x4-pool2-fc3", False)):
        model = build_model(spec, data.in_shape)
        fit(model, data, TrainConfig(epochs=1, **{**FLOAT32, "verbose": 2}))
        err = capsys.readouterr().err
        assert ("note: the model's outputs are already probabilities" in err) == said, spec
    # more outputs than classes trains (the extra ones are never a target), and is said
    fit(build_model("conv3x3x4-pool2-fc5", data.in_shape), data,
        TrainConfig(epochs=1, **{**FLOAT32, "verbose": 2}))  # fmt: skip
    assert (
        "note: the model has 5 outputs and 'noise' 3 classes: outputs 3 to 4 never get a target"
        in capsys.readouterr().err
    )


def test_an_x_y_pair_trains_as_given_and_the_model_then_takes_the_same_x():
    torch.manual_seed(0)
    x = torch.randn(256, 4)
    y = (x[:, 0] > 0).long()  # one feature decides: a linear layer learns it
    model = build_model("fc2", (4,))
    history = fit(model, (x, y), TrainConfig(epochs=30, batch_size=32, **FLOAT32), val=(x, y))
    assert history["val_acc"][-1] > 0.9
    scored = evaluate(model, (x.numpy(), y.numpy()), TrainConfig(**FLOAT32))["acc"]
    with torch.no_grad():  # no normalisation was added: the raw x gives the same answers
        direct = (model(x).argmax(1) == y).float().mean().item()
    assert scored == pytest.approx(direct)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((torch.zeros(4, 2),), "a TensorData (load_dataset, from_arrays) or an (x, y) pair"),
        ((torch.zeros(4, 2), torch.zeros(3)), "got x (4, 2) and y (3,)"),
        ((torch.zeros(4, 2), torch.tensor([0.5, 1, 0, 1])), "y holds fractions"),
        ((torch.zeros(4, 2), torch.tensor([0, -1, 0, 1])), "one class index (0, 1, 2, ...)"),
    ],
)
def test_a_bad_pair_is_one_sentence(data, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        fit(build_model("fc2", (2,)), data, TrainConfig(epochs=1, **FLOAT32))


def test_a_data_set_name_is_loaded():
    model = build_model("conv3x3x4-pool2-fc10", (1, 8, 8))
    history = fit(model, "digits", TrainConfig(epochs=1, **FLOAT32), val="digits")
    assert history.records[0]["step"] == 1442 // 128  # the train split: 1,442 examples
    assert evaluate(model, "digits", TrainConfig(**FLOAT32))["n"] == 355  # the test split


def test_history_has_one_record_per_epoch_and_a_val_score():
    data = sequence_data()
    model = build_model("conv1d5x8-pool2-fc2", data.in_shape)
    history = fit(model, data, TrainConfig(epochs=3, batch_size=32, **FLOAT32), val=data, test=data)
    assert history["epoch"] == [1, 2, 3]
    assert len(history["val_acc"]) == 3
    assert history.test is not None and history.test["n"] == len(data)
    assert history.test["acc"] == history["val_acc"][-1]  # the same data and the same weights
    # 256 examples, batch 32: 8 steps an epoch
    assert history["step"] == [8, 16, 24]
    assert history.best is not None


def test_run_directory_holds_the_files_other_parts_read(tmp_path):
    data = sequence_data()
    model = build_model("conv1d5x8-pool2-fc2", data.in_shape)
    fit(model, data, TrainConfig(epochs=2, batch_size=64, **FLOAT32), val=data, run_dir=tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    for stem in ("last", "best", "state"):
        assert {f"{stem}.json", f"{stem}.safetensors"} <= names
    assert {"config.json", "config.toml", "metrics.jsonl", "metrics.csv"} <= names
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]
    csv = (tmp_path / "metrics.csv").read_text().splitlines()
    assert csv[0].startswith("epoch,step,loss,acc") and len(csv) == 3
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # the saved weights are the model's
    ckpt = load_checkpoint(tmp_path / "last")
    for key, value in model.state_dict().items():
        assert torch.equal(ckpt.model.state_dict()[key], value)


def test_a_nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    data = sequence_data()
    model = build_model("conv1d5x8-pool2-fc2", data.in_shape)

    def poison(info: StepInfo) -> None:
        if info.step == 10:  # in the second epoch (8 steps an epoch)
            with torch.no_grad():
                model.fc1.weight.fill_(float("nan"))

    config = TrainConfig(epochs=3, batch_size=32, **FLOAT32)
    with pytest.raises(TrainingError, match=r"loss became nan at step 11 .*last good checkpoint"):
        fit(model, data, config, run_dir=tmp_path, on_step=poison)
    last = load_checkpoint(tmp_path / "last")
    assert last.meta["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in last.model.state_dict().values())


def test_a_step_with_a_non_finite_loss_changes_no_weight():
    data = sequence_data()
    model = build_model("conv1d5x8-pool2-fc2", data.in_shape)
    poisoned, kept = {"on": False}, {}

    def nan_output(module, inputs, output):  # a forward that overflows, weights still finite
        return output * float("nan") if poisoned["on"] else output

    model.fc1.register_forward_hook(nan_output)

    def poison(info: StepInfo) -> None:
        if info.step == 10:
            kept.update({k: v.clone() for k, v in model.state_dict().items()})
            poisoned["on"] = True

    config = TrainConfig(epochs=3, batch_size=32, **FLOAT32)
    with pytest.raises(TrainingError, match=r"loss became nan at step 11"):
        fit(model, data, config, on_step=poison)
    for key, value in model.state_dict().items():
        assert torch.equal(value, kept[key]), key  # step 11 was not applied, not even in part


def test_early_stopping_stops_when_the_monitor_stalls():
    data = sequence_data()
    model = build_model("conv1d5x8-pool2-fc2", data.in_shape)
    # lr so small that val_acc cannot move from one epoch to the next
    config = TrainConfig(
        epochs=20, batch_size=64, lr=1e-9, schedule="constant", warmup=0, patience=2, **FLOAT32
    )
    history = fit(model, data, config, val=data)
    assert history.outcome == "early_stopping" and not history.stopped
    assert len(history.records) == 3


def test_keyboard_interrupt_saves_and_returns(tmp_path):
    data = sequence_data()
    model = build_model("conv1d5x8-pool2-fc2", data.in_shape)

    def interrupt(info: StepInfo) -> None:
        if info.step == 5:
            raise KeyboardInterrupt

    history = fit(
        model,
        data,
        TrainConfig(epochs=2, batch_size=32, **FLOAT32),
        run_dir=tmp_path,
        on_step=interrupt,
    )
    assert history.outcome == "interrupted" and history.stopped
    assert json.loads((tmp_path / "state.json").read_text())["step"] == 5


def test_predict_returns_probabilities(seq):
    model = build_model("conv1d5x8-pool2-fc2", seq.in_shape)
    probs = predict(model, seq, TrainConfig(**FLOAT32))
    assert probs.shape == (len(seq), 2)
    assert torch.allclose(probs.sum(1), torch.ones(len(seq)))


def test_resume_needs_a_run_directory(seq):
    model = build_model("conv1d5x8-pool2-fc2", seq.in_shape)
    with pytest.raises(ConfigError, match="run directory"):
        fit(model, seq, TrainConfig(**FLOAT32), resume=True)


def test_training_flops_are_six_times_the_forward_macs_and_change_nothing():
    from convlens.train.loop import training_flops

    torch.manual_seed(0)
    model = build_model("conv3x3x4-bn-pool2-fc3", (1, 8, 8)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    # conv: 6 x 6 outputs x 4 channels x 9 taps = 1,296 MACs; fc: 3 x 3 x 4 = 36 inputs x 3 = 108
    assert training_flops(model, (1, 8, 8)) == 6 * (1296 + 108)
    assert model.training and torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert training_flops(model, (1, 5, 5)) is None  # a 5x5 input does not reach the fc layer
