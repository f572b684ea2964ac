"""/api/inspect, the cell view, class images, dreams and exports of a small spec model."""

from __future__ import annotations

import numpy as np
import pytest
from studio_api_client import client

SPEC = {"spec": "conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10", "input": "1x28x28"}


def _blob() -> list[list[float]]:
    canvas = np.zeros((40, 40))
    canvas[5:15, 2:8] = 1.0  # off-centre, in the top-left corner
    return canvas.tolist()


def test_inspect_a_drawing(tmp_path):
    with client(tmp_path) as c:
        result = c.post("/api/inspect", json={**SPEC, "pixels": _blob()}).json()
    x = np.array(result["input"])
    assert x.shape == (28, 28)
    rows, cols = np.indices(x.shape)
    # centred as MNIST was: the centre of mass within half a pixel of the field's centre 13.5
    assert abs((rows * x).sum() / x.sum() - 13.5) <= 0.5
    assert abs((cols * x).sum() / x.sum() - 13.5) <= 0.5
    assert sum(p["p"] for p in result["probs"]) == pytest.approx(1.0, abs=1e-5)
    assert [p["p"] for p in result["probs"]] == sorted(
        (p["p"] for p in result["probs"]), reverse=True
    )
    shapes = {layer["name"]: layer["shape"] for layer in result["layers"]}
    assert shapes["conv1"] == [6, 24, 24] and shapes["pool2"] == [16, 4, 4]
    assert len(result["layers"][0]["maps"]) == 6
    for key in ("saliency", "guided", "gradcam", "occlusion"):
        assert np.array(result[key]).shape == (28, 28), key
    assert result["target"] == result["probs"][0]["index"]


def test_inspect_with_a_chosen_target_and_an_upload(tmp_path):
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray((np.eye(50) * 255).astype(np.uint8)).save(buf, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    with client(tmp_path) as c:
        result = c.post("/api/inspect", json={**SPEC, "image": uri, "target": 3}).json()
        bad = c.post("/api/inspect", json={**SPEC, "image": "data:image/png;base64,AAAA"})
    assert result["target"] == 3 and np.array(result["input"]).shape == (28, 28)
    assert bad.status_code == 400 and "picture" in bad.json()["error"]


def test_cell_sum_equals_the_layer_output(tmp_path):
    body = {**SPEC, "pixels": _blob(), "layer": "conv2", "channel": 5, "y": 3, "x": 4}
    with client(tmp_path) as c:
        cell = c.post("/api/inspect/cell", json=body).json()
    window, kernel = np.array(cell["window"]), np.array(cell["kernel"])
    assert window.shape == kernel.shape == (6, 5, 5)
    assert cell["products_sum"] == pytest.approx(float((window * kernel).sum()), abs=1e-4)
    assert cell["output"] == pytest.approx(cell["products_sum"] + cell["bias"], abs=1e-4)
    # conv2 sees 14x14 input pixels with jump 2: cell (3, 4) covers rows 6..19, columns 8..21
    assert cell["box"] == [6, 8, 19, 21]


@pytest.mark.slow  # gradient ascent: several seconds on two busy cores
def test_class_image_and_dream_show_their_settings(tmp_path):
    with client(tmp_path) as c:
        image = c.post("/api/class_image", json={**SPEC, "class": 2, "steps": 5}).json()
        dream = c.post("/api/dream", json={**SPEC, "layer": "conv2", "pixels": _blob(),
                                           "steps": 2, "octaves": 1}).json()  # fmt: skip
        too_many = c.post("/api/class_image", json={**SPEC, "class": 2, "steps": 10**6})
    assert np.array(image["image"]).shape == (28, 28) and image["settings"]["steps"] == 5
    assert np.array(dream["image"]).shape == (28, 28) and dream["settings"]["octaves"] == 1
    assert too_many.status_code == 400


def test_export_pytorch_code_runs_and_matches_the_weights(tmp_path):
    import torch
    from safetensors.torch import load

    with client(tmp_path) as c:
        code = c.post("/api/export", json={**SPEC, "format": "pytorch"})
        weights = c.post("/api/export", json={**SPEC, "format": "safetensors"})
        numpy = c.post("/api/export", json={**SPEC, "format": "numpy"})
        report = c.post("/api/export", json={**SPEC, "format": "report"})
    assert code.headers["content-disposition"].startswith("attachment")
    scope: dict = {"__name__": "exported"}
    exec(code.text, scope)
    model = scope["model"]
    model.load_state_dict(load(weights.content))
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
    assert "build_scratch" in numpy.text
    assert report.status_code == 400  # a report needs a trained run


def test_a_zoo_run_exports_its_weights_and_says_why_there_is_no_code(tmp_path):
    from convlens.models import create_model
    from convlens.train import save_checkpoint

    run = tmp_path / "zoo-run"
    run.mkdir()
    (run / "config.json").write_text('{"model": "lenet5"}')
    save_checkpoint(run / "last", create_model("lenet5"))
    (run / "metrics.jsonl").write_text("")
    with client(tmp_path) as c:
        code = c.post("/api/export", json={"run": "zoo-run", "format": "pytorch"})
        weights = c.post("/api/export", json={"run": "zoo-run", "format": "safetensors"})
    assert code.status_code == 400
    assert code.json()["error"].startswith(
        "this run's model is a zoo model or a module of your own"
    )
    assert weights.status_code == 200 and len(weights.content) > 4 * 61_706  # LeNet-5's floats


def test_a_regression_run_shows_its_output_values_not_probabilities(tmp_path):
    import torch

    from convlens.build import build_model
    from convlens.data import load_dataset
    from convlens.train import save_checkpoint

    # a table of two inputs and a float target, read as the run read it (task="regression")
    table = tmp_path / "sums.csv"
    table.write_text("a,b,y\n" + "".join(f"{i},{2 * i},{3 * i}\n" for i in range(10)))
    data = load_dataset(table, "test", task="regression")
    model = build_model("fc1", (2,))
    with torch.no_grad():  # output = a + b, by hand
        model.fc1.weight.copy_(torch.tensor([[1.0, 1.0]]))
        model.fc1.bias.zero_()
    run = tmp_path / "reg-run"
    run.mkdir()
    (run / "config.json").write_text('{"model": "fc1"}')
    (run / "metrics.jsonl").write_text("")
    save_checkpoint(run / "last", model, data=data)
    with client(tmp_path) as c:
        answer = c.post("/api/inspect", json={"run": "reg-run", "example": 0}).json()
    assert answer["regression"] is True and answer["target"] == 0
    # the model sees (x - mean) / std; its one output is that input's a + b
    x = data.float_x()[0]
    assert answer["probs"] == [
        {"class": "0", "index": 0, "p": pytest.approx(float(x.sum()), abs=1e-5)}
    ]
