"""`--data PATH` on the command line: a run trained on a folder works with every command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from user_files import image_folder, write_image

from convlens.cli import main

SPEC = "conv3x3x4p1-pool2-fc2"


def _striped_folder(root):
    """Two classes a tiny CNN tells apart at once: bright top half or bright bottom half."""
    rng = np.random.default_rng(0)
    for name, rows in (("bottom", slice(4, 8)), ("top", slice(0, 4))):
        for i in range(12):
            image = rng.integers(0, 40, (8, 8), dtype=np.uint8)
            image[rows] += 200
            write_image(root / name / f"{i}.png", image)
    return root


@pytest.mark.slow
def test_a_run_trained_on_a_folder_works_with_eval_predict_viz_and_report(tmp_path, capsys):
    data = _striped_folder(tmp_path / "photos")
    run = tmp_path / "run"
    args = ["train", SPEC, "--data", str(data), "--epochs", "1", "--out", str(run), "--no-report"]
    assert main([*args, "--verbose", "0", "--test-size", "0.25", "--lr", "0.01"]) == 0
    meta = json.loads((run / "best.json").read_text())
    assert meta["data"] == str(data.resolve()) and meta["classes"] == ["bottom", "top"]
    assert meta["data_options"] == {"test_size": 0.25}
    capsys.readouterr()
    assert main(["eval", str(run), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["n"] == 6  # 25% of 12 per class, as recorded in training
    assert main(["predict", str(run), str(data / "top" / "0.png"), "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["top"]
    assert {t["class"] for t in top} == {"bottom", "top"}
    assert main(["viz", "maps", str(run), "--index", "1", "--out", str(tmp_path / "viz")]) == 0
    assert (tmp_path / "viz" / "maps.png").stat().st_size > 0
    assert main(["report", str(run), "--examples", "1"]) == 0
    page = (run / "report.html").read_text()
    assert "bottom" in page and "no test data" not in page


def test_data_info_on_a_folder_and_its_errors_exit_2(tmp_path, capsys):
    image_folder(tmp_path / "f", {"a": 5, "b": 5})
    assert main(["data", "info", str(tmp_path / "f"), "--json", "--test-size", "0.4"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["sizes"] == {"train": 6, "test": 4} and info["classes"] == ["a", "b"]
    image_folder(tmp_path / "f", {"c": 1}, shape=(3, 3))
    assert main(["data", "info", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert "different sizes" in err and "Traceback" not in err and err.count("\n") == 1
    assert main(["data", "info", str(tmp_path / "f"), "--label", "y"]) == 2
    assert "--label does not apply to" in capsys.readouterr().err
    assert main(["data", "info", "mnist1d", "--channels", "1"]) == 2
    assert "--channels is for your own data" in capsys.readouterr().err


def test_train_refuses_a_missing_path_in_one_line(tmp_path, capsys):
    assert main(["train", SPEC, "--data", str(tmp_path / "nope"), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and err.count("\n") == 1
