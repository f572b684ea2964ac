"""`convlens train`, `eval` and `predict` end to end on the bundled digits (8x8, no download)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from convlens.cli import main as cli

SPEC = "conv3x3x8p1-bn-pool2-fc10"
FAST = [
    "--epochs",
    "2",
    "--batch-size",
    "64",
    "--precision",
    "float32",
    "--verbose",
    "0",
    "--no-report",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert cli(["train", SPEC, "--data", "digits", "--out", str(out), *FAST]) == 0
    return out


def test_train_writes_a_run_directory(run_dir, capsys):
    assert {
        "config.toml",
        "config.json",
        "best.json",
        "last.json",
        "state.json",
        "metrics.csv",
    } <= {p.name for p in run_dir.iterdir()}
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["model"] == SPEC and saved["data"] == "digits" and saved["epochs"] == 2.0


def test_a_run_directory_given_as_the_model_says_how_to_continue_or_reuse_it(run_dir, capsys):
    assert cli(["train", str(run_dir), "--data", "digits", *FAST]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is a run directory, not a model" in err
    assert f"`convlens train --resume --out {run_dir}`" in err
    # the suggested command names the run's own spec and a weights file that exists
    suggested = err.split("with `convlens train ")[-1].rstrip("`.")
    spec, flag, weights = suggested.split()
    assert spec == SPEC and flag == "--weights" and Path(weights).is_file()
    out = run_dir.parent / "from-weights"
    assert (
        cli(["train", spec, "--weights", weights, "--data", "digits", "--out", str(out), *FAST])
        == 0
    )


def test_eval_prints_accuracy_per_class_and_confusion(run_dir, capsys):
    assert cli(["eval", str(run_dir), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["data"] == "digits" and len(metrics["per_class_acc"]) == 10
    # the confusion matrix counts every test example once, and its diagonal is the accuracy
    total = sum(map(sum, metrics["confusion"]))
    assert total == metrics["n"]
    diagonal = sum(metrics["confusion"][i][i] for i in range(10))
    assert diagonal / total == pytest.approx(metrics["acc"])
    assert cli(["eval", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "per-class accuracy" in out and "confusion matrix" in out


def test_predict_classifies_image_files(run_dir, tmp_path, capsys):
    picture = tmp_path / "seven.png"
    Image.new("L", (32, 32), color=0).save(picture)
    assert cli(["predict", str(run_dir), str(picture), "--top-k", "2", "--json"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["file"] == str(picture) and len(line["top"]) == 2
    assert line["top"][0]["probability"] >= line["top"][1]["probability"]


def test_predict_refuses_a_file_that_is_not_an_image(run_dir, tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("hello")
    assert cli(["predict", str(run_dir), str(bad)]) == 2
    err = capsys.readouterr().err
    assert "is not an image" in err and len(err.strip().splitlines()) == 1


def test_a_saved_config_replays_the_run(run_dir, tmp_path):
    replay = tmp_path / "replay"
    assert (
        cli(
            ["train", "--config", str(run_dir / "config.toml"), "--out", str(replay), "--no-report"]
        )
        == 0
    )
    first = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    again = json.loads((replay / "metrics.jsonl").read_text().splitlines()[-1])
    assert json.loads((replay / "config.json").read_text()) == json.loads(
        (run_dir / "config.json").read_text()
    )
    # same seed, same settings, float32 on the CPU: the same losses
    assert again["loss"] == first["loss"] and again["val_acc"] == first["val_acc"]


def test_eval_refuses_a_checkpoint_that_is_not_there(tmp_path, capsys):
    assert cli(["eval", str(tmp_path / "missing.json")]) == 2
    assert f"no run directory or checkpoint at {str(tmp_path / 'missing.json')!r}" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--optimizer", "rmsprop"], "invalid choice: 'rmsprop'"),
        (["--lr", "-1"], "lr must be positive"),
        (["--lr", "fast"], "invalid float value: 'fast'"),
        (["--data", "nosuchdata"], "nosuchdata"),
        (["--config", "/nonexistent/run.toml"], "cannot read config file"),
        (["--recipe", "slowest"], "unknown recipe 'slowest'"),
        (["--input", "1x9x9"], "does not match the data's shape 1x8x8"),
        (["--resume"], "there is no run to resume"),
        (["--tta"], "tta averages with mirrored inputs; use it with --flip, or set --no-tta."),
        (["--alternate-flip"], "says how --flip mirrors images; set --flip as well."),
    ],
)
def test_bad_train_flags_exit_2_with_one_sentence(capsys, argv, message, tmp_path):
    base = ["train", SPEC, "--data", "digits", "--out", str(tmp_path / "run"), "--no-report"]
    assert cli([*base, *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_a_recipe_supplies_the_model_and_flags_override_it(tmp_path):
    out = tmp_path / "recipe"
    argv = ["train", "--recipe", "fast", "--data", "digits", "--epochs", "1", "--out", str(out)]
    assert cli([*argv, "--precision", "float32", "--verbose", "0", "--no-report"]) == 0
    saved = json.loads((out / "config.json").read_text())
    from convlens.train.recipes import get_recipe

    recipe = get_recipe("digits", "fast")
    assert saved["model"] == recipe.model and saved["recipe"] == "fast"
    assert saved["epochs"] == 1.0  # the flag, not the recipe's
    assert saved["lr"] == recipe.settings["lr"]  # the recipe, not TrainConfig's default


def test_bench_prints_the_three_loops_side_by_side_on_digits(capsys):
    argv = [
        "bench",
        "--data",
        "digits",
        "--limit",
        "256",
        "--epochs",
        "1",
        "--tutorial-epochs",
        "1",
    ]
    assert cli(argv) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if line.lstrip().startswith("tutorial"))
    assert header.split("  ")[-1].strip() == "vs tutorial, same recipe"
    assert "images/s" in out and "to 90% test" in out


@pytest.mark.parametrize(
    "argv", [["--tutorial-epochs", "-1"], ["--epochs", "0"], ["--limit", "-5"], ["--rounds", "-2"]]
)
def test_bad_bench_flags_exit_2_with_one_sentence(capsys, argv):
    assert cli(["bench", "--data", "digits", *argv]) == 2
    err = capsys.readouterr().err
    assert "zero or positive" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("rank", "printed"), [("0", True), ("1", False)])
def test_under_torchrun_only_rank_0_prints_the_error_and_every_rank_exits_2(
    monkeypatch, capsys, tmp_path, rank, printed
):
    monkeypatch.setenv("RANK", rank)  # as torchrun sets it; no WORLD_SIZE, so no group is joined
    argv = ["train", SPEC, "--data", "digits", "--lr", "-1", "--out", str(tmp_path / "run")]
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert ("lr must be positive" in err) is printed
    assert err == "" or len(err.strip().splitlines()) == 1


def test_a_data_set_alone_trains_its_fast_recipe(tmp_path, capsys):
    from convlens.train.recipes import get_recipe

    out = tmp_path / "run"
    assert cli(["train", "--data", "digits", "--out", str(out), *FAST]) == 0
    assert "no model named: training the `fast` recipe" in capsys.readouterr().err
    saved = json.loads((out / "config.json").read_text())
    assert saved["model"] == get_recipe("digits", "fast").model
    assert saved["epochs"] == 2.0  # the flags given still win over the recipe's
