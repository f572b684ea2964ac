"""How convlens values render in Jupyter (``_repr_html_``): tables with the numbers, plots inline."""

from __future__ import annotations

from pathlib import Path

import torch

from convlens.data import TensorData
from convlens.experiments.result import ExperimentResult, FigureData, Series
from convlens.notebook import Attributions, data_html, experiment_html, history_html
from convlens.train import History

PNG = '<img src="data:image/png;base64,'


def _data(x, classes=("a", "b")):
    n = x.shape[0]
    return TensorData("toy", "test", x, torch.arange(n) % 2, classes, (0.0,), (1.0,))


def test_history_shows_its_epochs_and_curves():
    history = History(records=[{"epoch": 1, "loss": 0.75, "acc": 0.5, "val_acc": 0.25},
                               {"epoch": 2, "loss": 0.5, "acc": 0.875, "val_acc": 0.5}],
                      test={"loss": 0.5, "acc": 0.625})  # fmt: skip
    html = history._repr_html_()
    assert html == history_html(history)
    assert "<th>val_acc</th>" in html and "<td>87.50%</td>" in html and "<td>0.7500</td>" in html
    assert "test: loss 0.5000, acc 62.50%" in html
    assert html.count(PNG) == 1


def test_at_a_python_prompt_a_history_is_one_line():
    best = {"epoch": 1, "loss": 0.75, "acc": 0.5, "val_acc": 0.625}
    history = History(records=[best, {"epoch": 2, "loss": 0.5, "acc": 0.875, "val_acc": 0.5}],
                      best=best, test={"loss": 0.5, "acc": 0.625}, run_dir=Path("runs/a"))  # fmt: skip
    assert repr(history) == (
        "History(2 epochs, completed; epoch 2: loss 0.5000, acc 87.50%, val_acc 50.00%; "
        "best epoch 1: loss 0.7500, acc 50.00%, val_acc 62.50%; test: loss 0.5000, acc 62.50%; "
        "run_dir 'runs/a')"
    )
    assert repr(History()) == "History(0 epochs, completed)"


def test_at_a_python_prompt_data_shows_its_sizes_not_its_values():
    images = _data(torch.zeros(1200, 1, 6, 6, dtype=torch.uint8), classes=tuple("abcdefgh"))
    assert repr(images) == (
        "TensorData('toy', split 'test': 1,200 examples of 1x6x6 uint8, "
        "8 classes (a, b, c, d, e, f, ...))"
    )
    rows = TensorData("pts", "train", torch.zeros(3, 4), torch.zeros(3, 2), (), (0.0,), (1.0,))
    assert (
        repr(rows)
        == "TensorData('pts', split 'train': 3 examples of 4 float32, regression, 2 target(s))"
    )


def test_a_long_history_shows_its_ends():
    history = History(records=[{"epoch": e, "loss": 1.0 / e} for e in range(1, 101)])
    html = history_html(history, max_rows=10)
    assert "<td>1</td>" in html and "<td>100</td>" in html and "<td>50</td>" not in html
    assert "…" in html


def test_data_shows_a_grid_of_images_or_rows():
    images = _data(torch.zeros(4, 1, 6, 6, dtype=torch.uint8))
    html = images._repr_html_()
    assert html == data_html(images)
    assert "4 examples of shape 1 x 6 x 6, 2 classes" in html and html.count(PNG) == 1
    rows = _data(torch.tensor([[5.1, 3.5], [4.9, 3.0], [7.0, 3.2]]))
    html = data_html(rows)
    assert "<td>5.1</td><td>3.5</td><td>a</td>" in html and PNG not in html
    assert PNG in data_html(_data(torch.rand(3, 1, 40)))  # 1-D signals as curves


def test_experiment_result_shows_claim_table_and_plots():
    result = ExperimentResult(
        name="toy", title="A toy", claim="two is more than one", columns=("x", "y"),
        rows=((1, 2.5), (2, 5.0)), findings=("y doubles",),
        figures=(FigureData("toy", "y against x", "x", "y", (Series("y", (1.0, 2.0), (2.5, 5.0)),)),),
    )  # fmt: skip
    html = result._repr_html_()
    assert html == experiment_html(result)
    assert "two is more than one" in html and "<td>2.5</td>" in html and "y doubles" in html
    assert html.count(PNG) == 1


def test_attributions_show_the_picture_beside_its_maps():
    maps = {"gradient": torch.rand(1, 8, 8), "grad-cam": torch.rand(8, 8)}
    html = Attributions(torch.rand(8, 8).numpy(), maps, title="digit 3")._repr_html_()
    assert html.count(PNG) == 1
