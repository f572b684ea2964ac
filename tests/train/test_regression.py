"""Regression: fit with the squared error, its records and checkpoints, evaluate and the CLI.

Expected numbers come from the data's own formula or from hand arithmetic in the comments.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from convlens.build import build_model
from convlens.cli import main as cli
from convlens.data.tensors import TensorData
from convlens.errors import ConfigError
from convlens.train import TrainConfig, evaluate, fit, load_checkpoint
from convlens.train.config import as_flags
from convlens.train.run import Best

# y = 2 x0 - x1 + 0.5 x2 + 3, without noise
WEIGHTS, BIAS = (2.0, -1.0, 0.5), 3.0
ADAM = dict(
    task="regression", optimizer="adam", lr=0.05, weight_decay=0.0, schedule="constant",
    warmup=0.0, batch_size=32, device="cpu", precision="float32", verbose=0,
)  # fmt: skip


def _linear(n: int, seed: int, split: str, columns: int = 1) -> TensorData:
    """x ~ N(0, 1) in R^3 and the linear targets; mean 0 and std 1, so x is used as it is."""
    x = torch.randn(n, 3, generator=torch.Generator().manual_seed(seed))
    y = x @ torch.tensor(WEIGHTS) + BIAS
    if columns == 2:
        y = torch.stack([y, -y], dim=1)
    return TensorData("linear", split, x, y, (), (0.0,) * 3, (1.0,) * 3)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    torch.manual_seed(0)
    model = build_model("fc1", (3,))
    out = tmp_path_factory.mktemp("regression") / "run"
    train, test = _linear(256, 0, "train"), _linear(64, 1, "test")
    history = fit(model, train, TrainConfig(epochs=20, **ADAM), val=test, test=test, run_dir=out)
    return model, history, out


def test_a_linear_model_finds_the_weights_of_a_linear_target(trained):
    model, history, _ = trained
    assert history.test["rmse"] < 0.05
    layer = model.fc1
    assert layer.weight.detach()[0].tolist() == pytest.approx(WEIGHTS, abs=0.01)
    assert float(layer.bias.detach()) == pytest.approx(BIAS, abs=0.01)


def test_regression_records_hold_the_squared_error_and_its_root(trained):
    _, history, _ = trained
    keys = {"epoch", "step", "loss", "rmse", "lr", "time", "images_per_s", "flops_per_s"}
    keys |= {"val_loss", "val_rmse"}
    for record in history.records:
        assert set(record) == keys
        assert record["rmse"] == pytest.approx(math.sqrt(record["loss"]))
        assert record["val_rmse"] == pytest.approx(math.sqrt(record["val_loss"]))
    assert set(history.test) == {"loss", "rmse", "n"} and history.test["n"] == 64
    assert history.history["val_rmse"][-1] == history.records[-1]["val_rmse"]


def test_the_best_checkpoint_has_the_lowest_validation_loss(trained):
    _, history, out = trained
    best = load_checkpoint(out / "best")
    lowest = min(r["val_loss"] for r in history.records)  # monitor val_acc means val_loss
    assert best.metrics["val_loss"] == lowest and history.best["val_loss"] == lowest
    assert best.task == "regression" and best.classes == ()
    assert best.meta["num_classes"] == 1  # the model's outputs: one target column
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert "val_rmse" in json.loads(lines[0]) and "acc" not in json.loads(lines[0])


def test_lower_rmse_is_better():
    best = Best()
    assert best.update("val_rmse", 1.0) and best.update("val_rmse", 0.5)
    assert not best.update("val_rmse", 0.7)


def test_evaluate_by_hand_on_three_points():
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 2.0]]))
        model.bias.fill_(0.5)
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    y = torch.tensor([1.0, 1.5, 1.5])
    data = TensorData("three", "test", x, y, (), (0.0, 0.0), (1.0, 1.0))
    # predictions 0.5, 1.5, 2.5; errors -0.5, 0, 1; squared 0.25 + 0 + 1 = 1.25 over 3 points
    scores = evaluate(model, data, TrainConfig(device="cpu", verbose=0))
    assert set(scores) == {"loss", "rmse", "n"} and scores["n"] == 3
    assert scores["loss"] == pytest.approx(1.25 / 3)
    assert scores["rmse"] == pytest.approx(math.sqrt(1.25 / 3))  # 0.6455


def test_evaluate_averages_over_every_target_value():
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight.copy_(torch.eye(2))
        model.bias.zero_()
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = torch.tensor([[1.0, 0.0], [3.0, 6.0]])
    data = TensorData("pairs", "test", x, y, (), (0.0, 0.0), (1.0, 1.0))
    # errors 0, 2, 0, -2: squared 0 + 4 + 0 + 4 = 8 over 4 values
    scores = evaluate(model, data, TrainConfig(device="cpu", verbose=0))
    assert scores["loss"] == pytest.approx(2.0) and scores["rmse"] == pytest.approx(math.sqrt(2))


def test_two_target_columns_train_a_model_with_two_outputs():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    train = _linear(64, 0, "train", columns=2)
    history = fit(model, train, TrainConfig(epochs=2, **ADAM), val=train)
    assert history.records[-1]["val_rmse"] >= 0
    with pytest.raises(ConfigError, match=r"2 column\(s\), so the model needs 2 output\(s\)"):
        fit(build_model("fc1", (3,)), train, TrainConfig(epochs=1, **ADAM))


def test_task_and_data_must_agree():
    labels = TensorData("kinds", "train", torch.randn(8, 3), torch.arange(8) % 2, ("a", "b"),
                        (0.0,) * 3, (1.0,) * 3)  # fmt: skip
    with pytest.raises(ConfigError, match="task='regression' needs float targets"):
        fit(build_model("fc2", (3,)), labels, TrainConfig(epochs=1, **ADAM))
    with pytest.raises(ConfigError, match="train it with task='regression'"):
        fit(build_model("fc1", (3,)), _linear(8, 0, "train"), TrainConfig(epochs=1, verbose=0))


def test_regression_refuses_label_smoothing_naming_the_setting():
    with pytest.raises(ConfigError) as caught:
        TrainConfig(task="regression", label_smoothing=0.1)
    assert "label_smoothing=0.1" in str(caught.value)
    assert "--label-smoothing 0.1" in as_flags(str(caught.value))
    with pytest.raises(ConfigError, match="task must be one of classification, regression"):
        TrainConfig(task="ranking")


# --- the command line -------------------------------------------------------------------------


FAST = ["--precision", "float32", "--device", "cpu", "--verbose", "0", "--no-report"]


def _write_table(path, n: int = 60, label: object = None) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(n, 3))
    y = x @ np.array(WEIGHTS) + BIAS
    rows = [",".join(f"{v:.6f}" for v in row) + f",{t:.6f}" for row, t in zip(x, y)]
    if label is not None:
        rows[1] = rows[1].rsplit(",", 1)[0] + f",{label}"
    path.write_text("a,b,c,target\n" + "\n".join(rows) + "\n")


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-regression")
    _write_table(folder / "table.csv")
    out = folder / "run"
    argv = ["train", "fc1", "--data", str(folder / "table.csv"), "--task", "regression"]
    argv += ["--optimizer", "adam", "--lr", "0.05", "--epochs", "5", "--batch-size", "16"]
    return [*argv, "--out", str(out), *FAST], out


def test_train_a_csv_from_the_command_line(cli_run, capsys):
    argv, out = cli_run
    assert cli(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("test RMSE ") and "(12 examples; float32" in printed  # 20% of 60
    shown = float(printed.split()[2])
    # the same number, computed here from the checkpoint and the test rows it was scored on
    ckpt = load_checkpoint(out / "last")
    from convlens.data import load_recorded

    test = load_recorded(ckpt.meta, "test")
    x = (test.x - torch.tensor(ckpt.mean)) / torch.tensor(ckpt.std)
    with torch.no_grad():
        error = ckpt.model(x)[:, 0] - test.y
    assert shown == pytest.approx(float(error.pow(2).mean().sqrt()), rel=1e-3)
    assert cli(["eval", str(out), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["rmse"] == pytest.approx(shown, rel=1e-3) and scores["n"] == 12
    assert cli(["eval", str(out)]) == 0 and "RMSE" in capsys.readouterr().out
    assert cli(["predict", str(out), "x.png"]) == 2
    assert "inputs, not images; give its examples as the rows of a .csv" in capsys.readouterr().err


def test_the_report_of_a_regression_run(cli_run):
    from convlens.report import write_report
    from convlens.viz.training import plot_history, read_metrics

    _, out = cli_run
    if not (out / "last.json").exists():
        assert cli(cli_run[0]) == 0
    page = write_report(out).read_text()
    assert "Test error" in page and "best validation RMSE" in page
    figure = plot_history(read_metrics(out))
    assert figure.axes[1].get_title() == "RMSE"


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("label", "extra", "message"),
    [
        ("cheap", [], "line 3, label column 'target': 'cheap' is not a number"),
        (None, ["--label-smoothing", "0.1"], "--label-smoothing 0.1 softens class targets"),
        (None, ["--data", "digits"], "--task regression needs your own data"),
    ],
)
def test_bad_regression_runs_are_one_sentence(tmp_path, capsys, label, extra, message):
    _write_table(tmp_path / "table.csv", label=label)
    argv = ["train", "fc1", "--data", str(tmp_path / "table.csv"), "--task", "regression"]
    assert cli([*argv, *extra, "--epochs", "1", "--out", str(tmp_path / "run"), *FAST]) == 2
    line = _last_line(capsys.readouterr().err)
    assert message in line and line.startswith("convlens train: error: ")


def test_two_target_columns_need_two_outputs_on_the_command_line(tmp_path, capsys):
    x = np.random.default_rng(3).normal(size=(30, 3))
    np.savez(tmp_path / "two.npz", x=x, y=np.stack([x[:, 0], x[:, 1]], axis=1))
    argv = ["train", "fc1", "--data", str(tmp_path / "two.npz"), "--task", "regression"]
    assert cli([*argv, "--epochs", "1", "--out", str(tmp_path / "run"), *FAST]) == 2
    assert "the model needs 2 output(s) per example, but it gives 1." in capsys.readouterr().err
