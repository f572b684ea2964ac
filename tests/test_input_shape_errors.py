"""A bad --input is one error line on stderr, exit code 2, and no table on stdout."""

from __future__ import annotations

import pytest

from convlens.cli import main as cli
from convlens.errors import ConfigError
from convlens.shapes import read_shape

SPEC = "conv3x3x8-fc10"
UNREADABLE = ["1x32x32x", "x28", "0x28x28", "abc", "28x28x1x", "3xx32", "1x28x28,"]


def _only_an_error(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""  # no table, not even an empty one
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


@pytest.mark.parametrize("text", UNREADABLE)
def test_summary_refuses_an_unreadable_input_in_one_line(capsys, text):
    assert cli(["summary", SPEC, "--input", text]) == 2
    assert _only_an_error(capsys) == (
        f"convlens summary: error: cannot read the input shape {text!r}; write channels x "
        "height x width such as 3x32x32 (images), 1x40 (signals) or 784 (vectors)"
    )


@pytest.mark.parametrize("text", ["1x32x32x", "x28", "28x28x1x"])
def test_a_stray_x_is_not_dropped_silently(text):
    with pytest.raises(ConfigError, match="cannot read the input shape"):
        read_shape(text)


@pytest.mark.parametrize("text", ["3x32x32", "3 x 32 x 32", "3,32,32", "3 32 32", "32X32X3"])
def test_the_ways_of_writing_a_shape_still_read(text):
    assert read_shape(text).shape == (3, 32, 32)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("784", "conv3x3x8 needs a C x H x W input, but receives 784"),
        ("1x2x2", "conv1 (conv3x3x8)"),  # a 3x3 window does not fit in 2x2
    ],
)
def test_an_input_the_first_layer_cannot_take_is_one_line_and_no_table(capsys, text, why):
    assert cli(["summary", SPEC, "--input", text]) == 2
    line = _only_an_error(capsys)
    assert line.startswith("convlens summary: error: ") and why in line


def test_an_input_a_later_layer_cannot_take_shows_the_layers_that_fit_and_one_error(capsys):
    # 1x4x4 -> conv3x3: 8x2x2, then a second 3x3 window does not fit
    assert cli(["summary", "conv3x3x8-conv3x3x8-fc10", "--input", "1x4x4"]) == 2
    captured = capsys.readouterr()
    assert "8x2x2" in captured.out and "error" not in captured.out
    assert len(captured.err.strip().splitlines()) == 1 and "conv2" in captured.err


@pytest.mark.parametrize("command", [["arith", "--kernel", "3"], ["export", "lenet5", "--onnx"]])
def test_other_commands_refuse_a_stray_x_too(capsys, tmp_path, command):
    if command[0] == "export":
        command = [*command, str(tmp_path / "lenet5.onnx")]
    assert cli([*command, "--input", "28x28x1x"]) == 2
    assert "cannot read the input shape '28x28x1x'" in _only_an_error(capsys)


def test_train_refuses_a_stray_x_in_its_input(capsys, tmp_path):
    argv = ["train", SPEC, "--data", "digits", "--input", "1x8x8x", "--out", str(tmp_path)]
    assert cli(argv) == 2
    assert "cannot read the input shape '1x8x8x'" in _only_an_error(capsys)
