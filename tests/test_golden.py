"""Golden files: every table and help text convlens prints, compared exactly with tests/golden/.

`pytest --update-golden` rewrites the files (review the diff before committing it); otherwise any
difference fails with the first differing line. Terminal width is fixed (COLUMNS, or the width
argument) so the files do not depend on the machine.

The LeNet rows were checked by hand against LECTURES.md section 3 when the files were written:
params (5*5*1+1)*6 = 156, (5*5*6+1)*16 = 2,416, (5*5*16+1)*120 = 48,120, 120*84+84 = 10,164,
84*10+10 = 850; MACs 28*28*6*25 = 117,600, 10*10*16*150 = 240,000, 120*400 = 48,000.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from convlens.analysis.summary import summarize
from convlens.cli import COMMANDS, main

GOLDEN = Path(__file__).parent / "golden"
LENET = "conv5x5x6-avgpool2-conv5x5x16-avgpool2-conv5x5x120-fc84-fc10"
FORMATS = {"txt": "table", "md": "md", "csv": "csv", "json": "json", "html": "html"}


@pytest.fixture
def golden(request):
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert path.exists(), f"no golden file {path}; run pytest --update-golden to write it"
        expected = path.read_text(encoding="utf-8")
        if text != expected:
            got, want = text.splitlines(), expected.splitlines()
            for i, (a, b) in enumerate(zip(got, want)):
                assert a == b, f"{name} line {i + 1} differs:\n got  {a!r}\n want {b!r}"
            assert len(got) == len(want), f"{name}: {len(got)} lines, expected {len(want)}"
            assert text == expected  # only trailing whitespace or newlines differ

    return check


class _BrokenNet(nn.Module):
    """A conv, then a linear layer sized for the wrong input: the trace stops after the conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(10, 2)  # the conv gives 4*6*6 = 144 features, not 10

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).flatten(1))


def _zoo(name: str):
    from convlens.models import create_model

    with torch.device("meta"):
        return create_model(name)


MODELS = {
    "lenet_spec": lambda: summarize(LENET, (1, 32, 32), activation=None),
    "resnet18": lambda: summarize(_zoo("resnet18")),
    "mnist1d_cnn": lambda: summarize(_zoo("mnist1d_cnn")),
    "broken": lambda: summarize(_BrokenNet(), (1, 8, 8)),
}


@pytest.mark.parametrize("model", MODELS)
def test_summary_in_every_format(golden, model):
    summary = MODELS[model]()
    for ext, fmt in FORMATS.items():
        golden(f"summary/{model}.{ext}", summary.render(fmt, width=140))


def test_lenet_rows_are_the_lecture_numbers():
    # the golden LeNet table's numbers, checked against hand arithmetic (LECTURES.md section 3)
    summary = MODELS["lenet_spec"]()
    params = {r.name: r.params for r in summary.rows if r.params}
    assert params == {"conv1": 156, "conv2": 2_416, "conv3": 48_120, "fc1": 10_164, "fc2": 850}
    text = summary.to_text(80)
    for number in ("156", "2,416", "48,120", "10,164", "850", "117,600", "240,000"):
        assert number in text


def test_broken_trace_keeps_the_rows_before_the_failure():
    summary = MODELS["broken"]()
    assert [r.name for r in summary.rows] == ["conv"]
    assert summary.error.startswith("the forward pass failed after conv")


@pytest.mark.parametrize("width", [80, 140])
@pytest.mark.parametrize("model", ["lenet_spec", "resnet18"])
def test_summary_text_at_fixed_widths(golden, model, width):
    text = MODELS[model]().to_text(width)
    assert max(len(line) for line in text.splitlines()) <= width
    golden(f"summary/{model}.w{width}.txt", text)


def _cli(*argv: str, columns: str | None = None) -> subprocess.CompletedProcess:
    """Run convlens in a child process whose stdout is a pipe (not a terminal)."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = columns
    return subprocess.run([sys.executable, "-m", "convlens.cli", *argv], capture_output=True,
                          text=True, env=env, check=False)  # fmt: skip


def test_summary_not_on_a_terminal_is_the_full_table(golden, capsys, monkeypatch):
    # capsys's stdout is not a tty: with no COLUMNS the table takes the width it needs
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["summary", LENET, "--input", "1x32x32", "--no-activation"]) == 0
    out = capsys.readouterr().out
    assert "conv1     conv2d   5x5" in out  # one line per layer, nothing stacked or wrapped
    golden("cli/summary_pipe.txt", out)


def test_summary_not_on_a_terminal_honours_columns(golden, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["summary", LENET, "--input", "32x32x1", "--no-activation", "--hwc"]) == 0
    out = capsys.readouterr()
    assert out.err == "read 32x32x1 as height x width x channels; convlens writes 1x32x32\n"
    assert max(len(line) for line in out.out.splitlines()) <= 80
    golden("cli/summary_pipe_80_hwc.txt", out.out)


@pytest.mark.slow
def test_summary_through_a_real_pipe(golden):
    done = _cli("summary", LENET, "--input", "1x32x32", "--no-activation")
    assert done.returncode == 0, done.stderr
    golden("cli/summary_pipe.txt", done.stdout)  # the same file as the in-process test


ARITH = {
    "slide_760": ["--input", "32x32x3", "-k", "5", "-n", "10", "-p", "2"],
    "alexnet_conv1": ["--input", "227x227x3", "-k", "11", "-s", "4", "-n", "96"],
    "same_p5_stride4": ["--input", "3x32x32", "-k", "11", "-s", "4", "-p", "5", "-n", "96"],
    "pool_7x7_stride3": ["--input", "7x7", "-k", "3", "-s", "3", "--pool", "max"],
    "dilated_1d": ["--input", "40", "-k", "3", "-d", "2", "-n", "4"],
}


@pytest.mark.parametrize("case", ARITH)
def test_arith_output(golden, capsys, case):
    assert main(["arith", *ARITH[case]]) == 0
    out = capsys.readouterr()
    golden(f"cli/arith_{case}.txt", out.out + (f"stderr: {out.err}" if out.err else ""))


def test_zoo_table_small_families(golden, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    for family in ("lenet", "mnist1d"):
        assert main(["zoo", "--family", family, "--no-cache"]) == 0
        golden(f"cli/zoo_{family}.txt", capsys.readouterr().out)


@pytest.mark.slow
def test_zoo_table_all_models(golden, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["zoo", "--no-cache"]) == 0
    golden("cli/zoo_all.txt", capsys.readouterr().out)


@pytest.mark.slow
def test_zoo_compare(golden, capsys):
    assert main(["zoo", "--compare", "--width", "140"]) == 0
    golden("cli/zoo_compare.txt", capsys.readouterr().out)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_at_fixed_width(golden, capsys, monkeypatch, command):
    monkeypatch.setenv("COLUMNS", "100")
    argv = ["--help"] if command is None else [command, "--help"]
    assert main(argv) == 0
    golden(f"help/{command or 'convlens'}.txt", capsys.readouterr().out)
