"""A run directory that is not there is named as the user typed it, by every command that opens
one, and not as a NAME.safetensors file the user never typed."""

from __future__ import annotations

import pytest

from convlens.cli import main as cli
from convlens.errors import CheckpointError
from convlens.train import load_checkpoint

MISSING = (
    "no run directory or checkpoint at 'runs/nope'; give the folder that `convlens train` "
    "wrote, or a checkpoint's NAME.json."
)


@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "runs/nope"],
        ["predict", "runs/nope", "img.png"],
        ["export", "runs/nope", "--onnx", "nope.onnx"],
        ["viz", "maps", "runs/nope"],
    ],
)
def test_a_missing_run_directory_is_named_as_typed(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.chdir(tmp_path)
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert err == f"convlens {argv[0]}: error: {MISSING}\n"


def test_load_checkpoint_names_the_missing_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint("runs/nope")
    assert str(caught.value) == MISSING


def test_half_a_checkpoint_still_names_the_missing_half(tmp_path):
    (tmp_path / "best.json").write_text("{}")
    with pytest.raises(CheckpointError, match=r"best\.safetensors' does not exist"):
        load_checkpoint(tmp_path / "best.json")
