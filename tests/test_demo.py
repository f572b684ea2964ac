"""`convlens demo` runs offline, trains both networks, and ends by printing its report path."""

from __future__ import annotations

import json

from convlens.cli import main


def test_demo_quick_writes_its_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    report = out / "report.html"
    assert f"report: {report}" in text
    page = report.read_text(encoding="utf-8")
    # the two summaries, the comparison and the equivariance sections are in the page
    assert "mnist1d_cnn" in page and "mnist1d_mlp" in page
    assert 'id="fc-vs-cnn"' in page and 'id="equivariance"' in page
    assert (out / "fc-vs-cnn_accuracy.png").stat().st_size > 1000
    results = json.loads((out / "results.json").read_text())
    nets = results["fc-vs-cnn"]["data"]["nets"]
    # the CNN's summary count (5,210) and the MLP's (15,210) are Greydanus & Kobak's
    assert nets["CNN (Greydanus & Kobak)"]["params"] == 5_210
    assert nets["MLP (Greydanus & Kobak)"]["params"] == 15_210
    for v in nets.values():
        assert 0.1 < v["test_acc"] <= 1.0  # better than chance after two epochs


def test_demo_unknown_data_set_is_one_line_exit_2(capsys):
    assert main(["demo", "--data", "nope"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
