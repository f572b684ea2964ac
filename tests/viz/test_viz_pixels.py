"""`convlens viz pixels`: an image as the slides print it, matrices of 0-255 values."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from convlens.cli import main
from convlens.errors import ConfigError
from convlens.viz.pixels import parse_size, pixel_matrices


@pytest.fixture
def image(tmp_path):
    # 4x6 RGB: left half pure red (255, 0, 0), right half (0, 100, 200)
    a = np.zeros((4, 6, 3), dtype=np.uint8)
    a[:, :3] = (255, 0, 0)
    a[:, 3:] = (0, 100, 200)
    path = tmp_path / "two.png"
    Image.fromarray(a).save(path)
    return path


def test_rgb_planes_at_full_size(image):
    m = pixel_matrices(image, (4, 6), colour=True)
    assert m.names == ("R", "G", "B") and m.size == (4, 6) and m.original_size == (4, 6)
    assert m.planes[0].tolist() == [[255, 255, 255, 0, 0, 0]] * 4
    assert m.planes[2].tolist() == [[0, 0, 0, 200, 200, 200]] * 4


def test_grey_is_luminance_and_resizing_keeps_the_aspect(image):
    m = pixel_matrices(image, 3)  # the longer side (6) becomes 3: 2x3
    assert m.size == (2, 3) and m.names == ("grey",)
    # ITU-R 601-2: 0.299*255 = 76.2 -> 76; 0.587*100 + 0.114*200 = 81.5; columns 2 and 3 of the
    # source fall into the middle box, which averages one red and one blue-ish column
    left, right = m.planes[0][0][0], m.planes[0][0][2]
    assert left == 76 and right in (81, 82)


def test_cli_prints_the_matrices(image, capsys):
    assert main(["viz", "pixels", str(image), "--size", "4x6", "--rgb"]) == 0
    out = capsys.readouterr().out
    assert "R: I(:,:,1)" in out and "B: I(:,:,3)" in out
    assert "255 255 255   0   0   0" in out and "  0   0   0 200 200 200" in out
    assert main(["viz", "pixels", str(image), "--size", "2x3", "--scaled"]) == 0
    assert "/ 255" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["viz", "pixels", "missing.png"], "does not exist"),
    (["viz", "pixels"], "needs an image file"),
    (["viz", "pixels", "{image}", "--size", "100"], "at most 64"),
    (["viz", "pixels", "{image}", "--size", "ax3"], "--size takes N or HxW"),
])  # fmt: skip
def test_bad_input_exit_2(image, capsys, argv, message):
    assert main([a.replace("{image}", str(image)) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_parse_size():
    assert parse_size("12") == 12 and parse_size("12x16") == (12, 16)
    with pytest.raises(ConfigError):
        parse_size("0")
