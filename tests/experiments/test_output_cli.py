"""Saved results and the `convlens experiment` command: files, JSON round trip, exit codes."""

from __future__ import annotations

import json

from convlens.cli import main
from convlens.experiments import list_experiments, run_experiment, save_result
from convlens.experiments.output import load_result_dict


def test_every_listed_experiment_is_known():
    assert set(list_experiments()) == {
        "fc-vs-cnn", "shuffled", "equivariance", "parameter-sharing", "receptive-field",
        "learned-invariance", "traditional", "universal-approximator", "gradient-descent",
    }  # fmt: skip


def test_save_result_writes_all_files_and_json_round_trips(tmp_path):
    result = run_experiment("parameter-sharing", counts_only=True)
    paths = save_result(result, tmp_path)
    for key in ("json", "table", "section", "report"):
        assert paths[key].exists()
    again = load_result_dict(paths["json"])
    assert again["rows"] == json.loads(json.dumps(result.to_dict()))["rows"]
    assert "14,400,000,000" in paths["table"].read_text()
    assert "14.4 billion weights" in paths["report"].read_text()


def test_cli_runs_an_experiment_and_prints_report_path(tmp_path, capsys):
    out = tmp_path / "rf"
    assert main(["experiment", "receptive-field", "--quick", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"report:  {out / 'report.html'}" in text
    assert (out / "receptive_field.png").exists()
    data = json.loads((out / "results.json").read_text())
    assert data["name"] == "receptive-field"


def test_cli_errors_are_one_line_exit_2(capsys):
    assert main(["experiment", "no-such-thing"]) == 2
    assert "unknown experiment" in capsys.readouterr().err
    assert main(["experiment", "equivariance", "--data", "mnist1d"]) == 2
    assert "takes no --data" in capsys.readouterr().err
    assert main(["experiment", "fc-vs-cnn", "--data", "cifar10", "--quick"]) == 2
    assert main(["experiment", "equivariance", "--seeds", "0"]) == 2
    assert main(["experiment", "shuffled", "--seeds", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 3 and "Traceback" not in err


def test_unknown_python_option_is_a_config_error():
    import pytest

    from convlens.errors import ConfigError

    with pytest.raises(ConfigError, match="no option 'sedes'"):
        run_experiment("equivariance", sedes=2)


def test_the_reproduce_line_is_built_by_the_cli_from_the_flags_given(tmp_path):
    assert run_experiment("parameter-sharing", counts_only=True).command == ""  # library: data
    out = tmp_path / "share"
    assert main(["experiment", "parameter-sharing", "--counts-only", "--out", str(out)]) == 0
    data = json.loads((out / "results.json").read_text())
    assert data["command"] == "convlens experiment parameter-sharing --counts-only"
    assert (
        "convlens experiment parameter-sharing --counts-only" in (out / "report.html").read_text()
    )


def test_the_same_experiment_on_two_data_sets_keeps_both_results():
    """`experiment fc-vs-cnn` and `experiment fc-vs-cnn --data fashion-mnist` (both in the
    README) once wrote the same folder, the second replacing the first."""
    from convlens.commands.experiment import default_out

    plain = default_out("fc-vs-cnn", None)
    assert plain == "convlens-runs/experiments/fc-vs-cnn"
    assert (
        default_out("fc-vs-cnn", "fashion-mnist")
        == "convlens-runs/experiments/fc-vs-cnn-fashion-mnist"
    )
    assert (
        default_out("fc-vs-cnn", "photos/my_photos/")
        == "convlens-runs/experiments/fc-vs-cnn-my_photos"
    )
    assert (
        default_out("fc-vs-cnn", "data/signals.npz")
        == "convlens-runs/experiments/fc-vs-cnn-signals"
    )
