"""`convlens data export-image`: one example of a data set as a PNG, pixel for pixel."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convlens.cli import main as cli
from convlens.data import load_dataset


def test_writes_the_example_pixel_for_pixel(tmp_path, capsys):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, size=(9, 1, 6, 5), dtype=np.uint8)
    y = np.arange(9) % 3
    np.savez(tmp_path / "g.npz", x_train=x, y_train=y, x_test=x, y_test=y)
    out = tmp_path / "seven.png"
    assert (
        cli(["data", "export-image", str(tmp_path / "g.npz"), "--index", "7", "--out", str(out)])
        == 0
    )
    written = np.asarray(Image.open(out))
    assert written.shape == (6, 5)  # grey, at the data's own size
    assert np.array_equal(written, x[7, 0])
    assert "class '1'" in capsys.readouterr().out  # 7 % 3


def test_pixels_in_zero_to_one_are_scaled_by_255(tmp_path):
    """digits holds x/16 as floats: 0.625 (10/16) is written as round(0.625 * 255) = 159."""
    out = tmp_path / "d.png"
    assert cli(["data", "export-image", "digits", "--index", "7", "--out", str(out)]) == 0
    data = load_dataset("digits", "test")
    written = np.asarray(Image.open(out)).astype(int)
    sixteenths = np.round(data.x[7, 0].numpy() * 16).astype(int)
    assert np.array_equal(written, np.round(sixteenths * 255 / 16).astype(int))
    assert 159 in written[sixteenths == 10]


def test_the_default_name_is_made_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli(["data", "export-image", "digits", "--index", "3", "--split", "train"]) == 0
    assert (tmp_path / "digits-train-3.png").is_file()


def test_colour_arrays_become_rgb(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(6, 3, 5, 4), dtype=np.uint8)
    np.savez(
        tmp_path / "c.npz", x_train=x, y_train=np.arange(6) % 2, x_test=x, y_test=np.arange(6) % 2
    )
    out = tmp_path / "c.png"
    assert (
        cli(["data", "export-image", str(tmp_path / "c.npz"), "--index", "2", "--out", str(out)])
        == 0
    )
    assert np.array_equal(np.asarray(Image.open(out)), np.moveaxis(x[2], 0, -1))


@pytest.mark.parametrize(
    "argv, words",
    [
        (["data", "export-image", "mnist1d"], "not grey or colour images"),
        (["data", "export-image", "digits", "--index", "100000"], "outside the test split"),
        (["data", "export-image", "digits", "--out", "x.jpg"], "must end in .png"),
    ],
)
def test_bad_requests_get_one_sentence(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli(argv) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing half-written
