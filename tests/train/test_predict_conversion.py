"""`convlens predict` says, one line per file, when it turned a picture grey or resized it to fit
the model; a picture that already fits passes without a word."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from convlens.build import build_model
from convlens.cli import main as cli
from convlens.train.checkpoint import save_checkpoint


@pytest.fixture(scope="module")
def grey_model(tmp_path_factory):
    """A checkpoint of a grey 1x32x32 model (random weights: only the input matters here)."""
    folder = tmp_path_factory.mktemp("grey")
    model = build_model("conv3x3x4-pool2-fc10", (1, 32, 32))
    return save_checkpoint(folder / "grey", model)


def _err_lines(capsys) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


def test_a_colour_picture_of_another_size_is_converted_and_said(grey_model, tmp_path, capsys):
    photo = tmp_path / "my.png"
    Image.new("RGB", (48, 64), color=(200, 30, 30)).save(photo)  # PIL sizes are (width, height)
    assert cli(["predict", str(grey_model), str(photo), "--json"]) == 0
    assert _err_lines(capsys) == [
        f"{photo} is 3x64x48 RGB; converted to grey and resized to 1x32x32 for the model"
    ]


def test_a_grey_picture_of_another_size_is_only_resized(grey_model, tmp_path, capsys):
    scan = tmp_path / "scan.png"
    Image.new("L", (28, 28), color=0).save(scan)
    assert cli(["predict", str(grey_model), str(scan)]) == 0
    assert _err_lines(capsys) == [f"{scan} is 1x28x28 grey; resized to 1x32x32 for the model"]


def test_a_picture_that_fits_is_read_silently(grey_model, tmp_path, capsys):
    fits = tmp_path / "fits.png"
    Image.new("L", (32, 32), color=0).save(fits)
    assert cli(["predict", str(grey_model), str(fits), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["file"] == str(fits)
