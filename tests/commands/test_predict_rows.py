"""`convlens predict` on the rows of a .csv and the examples of an .npz, for models that do not
read images. The model is one hand-set fc layer, so every probability is hand arithmetic:
logits (x0 - x1, x1 - x0), so P(a) = sigmoid(2 (x0 - x1)); inputs are exact in bfloat16."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from convlens.build import build_model
from convlens.cli import main
from convlens.data import TensorData
from convlens.train import save_checkpoint


def _checkpoint(tmp_path, task="classification", names=("a", "b")):
    model = build_model("fc2", (2,))
    with torch.no_grad():
        model.fc1.weight.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))
        model.fc1.bias.zero_()
    y = torch.zeros(4, 2) if task == "regression" else torch.tensor([0, 1, 0, 1])
    classes = () if task == "regression" else names
    data = TensorData("rows", "train", torch.zeros(4, 2), y, classes, (0.0, 0.0), (1.0, 1.0))
    return str(save_checkpoint(tmp_path / "ck", model, data=data)) + ".json"


def _run(capsys, *argv):
    code = main(["predict", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_each_row_of_a_table_is_predicted_beside_its_label(tmp_path, capsys):
    table = tmp_path / "rows.csv"
    table.write_text("x0,x1,label\n1,0,a\n0,0.5,a\n")
    code, out, err = _run(capsys, _checkpoint(tmp_path), str(table))
    assert code == 0, err
    # sigmoid(2) = 0.8808, sigmoid(1) = 0.7311
    assert out.splitlines() == [
        f"{table} line 2: a 88.1%, b 11.9%  (label a)",
        f"{table} line 3: b 73.1%, a 26.9%  (label a)",
        "accuracy on the 2 labelled examples: 50.00%",
    ]


def test_a_table_without_header_or_labels_and_json(tmp_path, capsys):
    table = tmp_path / "new.csv"
    table.write_text("1,0\n0,0.5\n")
    code, out, err = _run(capsys, _checkpoint(tmp_path), str(table), "--json", "--top-k", "1")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["file"] for line in lines] == [f"{table} line 1", f"{table} line 2"]
    assert [line["top"][0]["class"] for line in lines] == ["a", "b"]
    assert lines[0]["top"][0]["probability"] == pytest.approx(1 / (1 + np.exp(-2)), abs=1e-6)
    assert "label" not in lines[0]


def test_the_examples_of_an_npz_with_class_index_labels(tmp_path, capsys):
    arrays = tmp_path / "rows.npz"
    np.savez(arrays, x=np.array([[0.0, 1.0], [2.0, 0.0]], dtype=np.float32), y=np.array([1, 1]))
    code, out, err = _run(capsys, _checkpoint(tmp_path), str(arrays), "--top-k", "1")
    assert code == 0, err
    # sigmoid(2) and sigmoid(4) = 0.9820
    assert out.splitlines() == [
        f"{arrays} [0]: b 88.1%  (label b)",
        f"{arrays} [1]: a 98.2%  (label b)",
        "accuracy on the 2 labelled examples: 50.00%",
    ]


def test_a_regression_model_prints_its_outputs(tmp_path, capsys):
    table = tmp_path / "rows.csv"
    table.write_text("3,1\n")
    code, out, err = _run(capsys, _checkpoint(tmp_path, "regression"), str(table))
    assert code == 0, err
    assert out.splitlines() == [f"{table} line 1: 2, -2"]


def test_a_one_output_regression_shows_its_targets_and_their_rmse(tmp_path, capsys):
    model = build_model("fc1", (2,))
    with torch.no_grad():
        model.fc1.weight.copy_(torch.tensor([[1.0, -1.0]]))
        model.fc1.bias.zero_()
    data = TensorData(
        "rows", "train", torch.zeros(4, 2), torch.zeros(4), (), (0.0, 0.0), (1.0, 1.0)
    )
    ckpt = str(save_checkpoint(tmp_path / "ck", model, data=data)) + ".json"
    table = tmp_path / "rows.csv"
    table.write_text("x0,x1,y\n3,1,2.5\n0,1,-2\n")  # outputs 2 and -1: errors 0.5 and 1
    code, out, err = _run(capsys, ckpt, str(table))
    assert code == 0, err
    assert out.splitlines() == [
        f"{table} line 2: 2  (target 2.5)",
        f"{table} line 3: -1  (target -2)",
        f"RMSE on the 2 examples with a target: {((0.25 + 1) / 2) ** 0.5:.4g}",
    ]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            ["wide.csv"],
            "wide.csv has 4 columns; the model takes 2 numbers a row, and the table may",
        ),
        (["word.csv"], "word.csv line 2, cell 2: 'two' is not a number"),
        (["shape.npz"], "shape.npz x is 3x3; the model takes N x 2 examples"),
        (["keys.npz"], "keys.npz holds p, q; the examples to predict are its x (or x_test) array"),
        (["word.csv", "pic.png"], "give images or .csv / .npz files of examples, not both"),
        (["missing.csv"], "missing.csv does not exist"),
    ],
)
def test_bad_tables_are_one_sentence(tmp_path, capsys, files, message):
    (tmp_path / "wide.csv").write_text("1,2,3,4\n")
    (tmp_path / "word.csv").write_text("1,0\n1,two\n")
    np.savez(tmp_path / "shape.npz", x=np.zeros((3, 3), dtype=np.float32))
    np.savez(tmp_path / "keys.npz", p=np.zeros(3), q=np.zeros(3))
    Image.new("L", (4, 4)).save(tmp_path / "pic.png")
    ckpt = _checkpoint(tmp_path)
    code, out, err = _run(capsys, ckpt, *[str(tmp_path / f) for f in files])
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_a_zoo_model_without_weights_is_said_to_guess(tmp_path, capsys):
    picture = tmp_path / "digit.png"
    Image.new("L", (32, 32)).save(picture)
    code, out, err = _run(capsys, "lenet5", str(picture), "--top-k", "1")
    assert code == 0
    assert "note: lenet5 has its random initial weights (no --weights file)" in err
    assert out.startswith(f"{picture}: ")
    code, _, err = _run(capsys, _checkpoint(tmp_path), str(tmp_path / "none.csv"))
    assert "random initial weights" not in err  # a checkpoint holds trained weights


def test_numeric_labels_match_their_classes_however_they_are_written(tmp_path, capsys):
    table = tmp_path / "rows.csv"
    table.write_text("1,0,0.0\n0,0.5,1.000\n")  # as numpy.savetxt writes labels
    code, out, err = _run(
        capsys, _checkpoint(tmp_path, names=("0", "1")), str(table), "--top-k", "1"
    )
    assert code == 0, err
    assert out.splitlines() == [
        f"{table} line 1: 0 88.1%  (label 0)",
        f"{table} line 2: 1 73.1%  (label 1)",
        "accuracy on the 2 labelled examples: 100.00%",
    ]
