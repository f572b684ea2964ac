"""Every script in examples/ runs to the end (with the tiny budget of CONVLENS_EXAMPLE_QUICK=1)
and prints the lecture numbers it is about. A script that fails raises, and so fails its test."""

from __future__ import annotations

import runpy
import tempfile
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("[0-9][0-9]_*.py"))

# a line each script must print, checked by hand against the lectures (LECTURES.md)
EXPECTED = {
    "01_neuron.py": "1  1 |      1              1",  # AND and OR of (1, 1)
    "02_perceptron.py": "XOR: not learned",
    "03_mlp.py": "relative error",
    "04_convolution_by_hand.py": "[[12, 12, 17], [10, 17, 19], [9, 6, 14]]",
    "05_lenet.py": "conv3:   120x1x1  48,120 parameters",
    "06_training.py": "MNIST-1D: 4000 training",
    "07_looking_inside.py": "receptive field of conv2",
}


def test_the_examples_walk_through_the_lectures_in_order():
    assert [p.name for p in EXAMPLES] == list(EXPECTED)


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path, monkeypatch, capsys):
    # in this process (runpy), so that torch is imported once for all of them
    monkeypatch.setenv("CONVLENS_EXAMPLE_QUICK", "1")
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    runpy.run_path(str(script), run_name="__main__")
    assert EXPECTED[script.name] in capsys.readouterr().out
    left = [p.name for p in temp.iterdir() if "convlens" in p.name]  # libraries' caches aside
    assert not left, f"an example left output in the temporary folder: {left}"
    written = sorted(p.relative_to(work).parts[:2] for p in work.rglob("*") if p.is_file())
    assert all(parts == ("convlens-runs", "examples") for parts in written), written
