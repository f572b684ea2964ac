"""`convlens train --out DIR` with a run already there: refused, replaced with --overwrite, or
continued with --resume, and each of them says what it does in one line.

The learning rates below are worked out by hand for the bundled digits (1,442 training examples):
batches of 64 give 1442 // 64 = 22 steps per epoch. The default one-cycle schedule (lr 0.05,
warm-up 0.2, final_lr 0) over 2 epochs (44 steps) warms up for int(0.2 * 44) = 8 steps, and its
last step (43) runs at 0.05 * (1 - 35/36) = 0.00139. Stretched to 3 epochs (66 steps, 13 warm-up
steps), step 44 runs at 0.05 * (1 - 31/53) = 0.0208.
"""

from __future__ import annotations

import json
import shutil

import pytest

from convlens.cli import main as cli

SPEC = "conv3x3x8p1-bn-pool2-fc10"
FAST = ["--batch-size", "64", "--precision", "float32", "--verbose", "0", "--no-report"]


def _train(out, *extra: str) -> int:
    return cli(["train", SPEC, "--data", "digits", "--out", str(out), *FAST, *extra])


def _records(run) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 2-epoch run; tests work on copies of it."""
    out = tmp_path_factory.mktemp("finished") / "run"
    assert _train(out, "--epochs", "2") == 0
    return out


@pytest.fixture
def run(finished, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished, copy)
    return copy


def _one_error(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err.strip()


# --- an existing run is refused unless --resume or --overwrite says what to do with it --------


def test_train_refuses_to_write_over_an_existing_run(run, capsys):
    before = (run / "metrics.jsonl").read_text()
    capsys.readouterr()
    assert _train(run, "--epochs", "1") == 2
    err = _one_error(capsys)
    assert err == (
        f"convlens train: error: {run} already holds a run of {SPEC}; continue it with --resume, "
        "or replace it with --overwrite."
    )
    assert (run / "metrics.jsonl").read_text() == before  # nothing was touched


def test_a_file_given_as_the_run_folder_is_refused(tmp_path, capsys):
    taken = tmp_path / "notes.txt"
    taken.write_text("mine")
    assert _train(taken, "--epochs", "1") == 2
    assert _one_error(capsys) == (
        f"convlens train: error: --out {str(taken)!r} is a file; --out names the run's folder."
    )
    assert taken.read_text() == "mine"


def test_overwrite_replaces_the_old_run_entirely(run, capsys):
    (run / "report.html").write_text("the old run's page")
    assert _train(run, "--epochs", "1", "--overwrite") == 0
    assert [r["epoch"] for r in _records(run)] == [1]  # the old run's two epochs are gone
    assert json.loads((run / "best.json").read_text())["epoch"] == 1
    assert json.loads((run / "config.json").read_text())["epochs"] == 1.0
    assert not (run / "report.html").exists()  # --no-report: no page of the old run is left


def test_resume_and_overwrite_together_are_refused(run, capsys):
    assert _train(run, "--resume", "--overwrite") == 2
    assert "give one of them" in _one_error(capsys)


def test_a_folder_without_a_run_is_trained_into(tmp_path, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "README.txt").write_text("my notes")
    assert _train(out, "--epochs", "0.5") == 0
    assert (out / "README.txt").read_text() == "my notes" and (out / "last.json").exists()


def test_without_out_an_existing_default_folder_gets_a_fresh_name(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("convlens.commands.train.time.strftime", lambda fmt: "20250101-120000")
    taken = tmp_path / "runs" / "digits-spec-20250101-120000"  # the spec is over 24 characters
    taken.mkdir(parents=True)
    (taken / "config.json").write_text(json.dumps({"model": "lenet5"}))
    argv = ["train", SPEC, "--data", "digits", "--epochs", "0.5", *FAST]
    assert cli(argv) == 0
    assert "run directory runs/digits-spec-20250101-120000-2" in capsys.readouterr().out
    assert sorted(p.name for p in taken.iterdir()) == ["config.json"]
    assert (tmp_path / "runs" / "digits-spec-20250101-120000-2" / "last.json").exists()


# --- --resume says what it will do --------------------------------------------------------------


def test_resume_without_out_asks_for_the_run_directory(capsys):
    assert cli(["train", "--resume"]) == 2
    assert _one_error(capsys) == (
        "convlens train: error: --resume needs the run's directory: give it with --out DIR."
    )
    assert cli(["train", SPEC, "--data", "digits", "--resume"]) == 2
    assert "--resume needs the run's directory" in _one_error(capsys)


def test_resuming_a_finished_run_says_it_only_evaluates_again(run, capsys):
    capsys.readouterr()
    assert cli(["train", "--resume", "--out", str(run), "--no-report"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if str(run) in line]
    assert notes == [
        f"run {run} has already finished its 2-epoch schedule; --resume only evaluates its final "
        "weights on the test data again (give a larger --epochs to train it further)"
    ]
    assert len(_records(run)) == 2


def test_resuming_with_more_epochs_says_how_the_schedule_changes(run, capsys):
    capsys.readouterr()
    assert cli(["train", "--resume", "--out", str(run), "--epochs", "3", "--no-report"]) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if str(run) in line]
    assert notes == [
        f"run {run} finished its 2-epoch schedule; extending it to 3 epochs continues as if it "
        "had been started with --epochs 3, so the learning rate goes from 0.00139 (its last "
        "step) to 0.0208 (step 45 of 66)"
    ]
    assert [r["epoch"] for r in _records(run)] == [1, 2, 3]


def test_resuming_with_fewer_epochs_than_trained_is_refused(run, capsys):
    capsys.readouterr()
    assert cli(["train", "--resume", "--out", str(run), "--epochs", "1"]) == 2
    assert _one_error(capsys) == (
        f"convlens train: error: run {run} has already trained 2 epochs, more than --epochs 1; "
        "give --epochs 2 or more to continue it, or start a new run."
    )


def test_a_stopped_run_given_more_epochs_says_where_its_learning_rate_goes(tmp_path):
    """128 examples in batches of 32: 4 steps per epoch. Stopped after step 3 of a 2-epoch run
    (8 steps, int(0.2 * 8) = 1 warm-up step), its last step (2) ran at 0.05 * (1 - 1/7) = 0.0429;
    over 4 epochs (16 steps, 3 warm-up steps) step 3 is the one-cycle peak, 0.05."""
    from train_toydata import image_data

    from convlens.build import build_model
    from convlens.commands.train import _resume_note
    from convlens.train import TrainConfig, TrainControl, fit

    control = TrainControl()
    config = TrainConfig(epochs=2, batch_size=32, verbose=0, precision="float32")

    def stop_after_3(info) -> None:
        if info.step == 3:
            control.stop()

    model = build_model("conv3x3x4-pool2-fc3", (1, 12, 12))
    history = fit(model, image_data(), config, run_dir=tmp_path, on_step=stop_after_3,
                  control=control)  # fmt: skip
    assert history.stopped
    assert _resume_note(tmp_path, config.replace(epochs=4), 128) == (
        f"run {tmp_path} stopped at step 3 of its 2-epoch schedule; extending it to 4 epochs "
        "continues as if it had been started with --epochs 4, so the learning rate goes from "
        "0.0429 (its last step) to 0.05 (step 4 of 16)"
    )
    assert _resume_note(tmp_path, config, 128) == ""  # the same schedule: it simply goes on
