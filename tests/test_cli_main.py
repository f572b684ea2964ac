import json
import subprocess
import sys

import pytest

from convlens.cli import COMMANDS, main


def test_help_does_not_import_torch_or_matplotlib():
    code = (
        "import sys\nfrom convlens.cli import main\nmain(['--help'])\n"
        "print('heavy:', sorted(m for m in ('torch', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "heavy: []" in out
    for name in COMMANDS:
        assert name in out


@pytest.mark.parametrize(
    ("argv", "shown"),
    [
        (["data", "list"], "fashion-mnist"),
        (["neurons"], "setosa (0) vs versicolor"),
        # a spec's table is arithmetic: conv 3*3*1*4 + 4 = 40, fc 4*6*6*10 + 10 = 1,450
        (["summary", "conv3x3x4-fc10", "--input", "1x8x8"], "params: 1,490"),
        (["arith", "conv5x5x10p2", "--input", "32x32x3"], "= 760"),
    ],
)
def test_commands_without_a_network_do_not_import_torch(argv, shown):
    # listing the data sets, the NumPy neurons (Iris read as arrays), a spec's summary and the
    # one-layer calculator: torch costs 1.2 s
    code = (
        f"import sys\nfrom convlens.cli import main\nmain({argv!r})\nprint('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert shown in out
    assert out.strip().splitlines()[-1] == "False"


def test_the_program_freezes_its_objects_before_exit_and_main_does_not():
    # `convlens` (console script, `python -m convlens`) runs entry(): main's exit code, with the
    # objects moved out of the collector's reach so that exiting does not walk them all; main()
    # called from Python leaves the collector as it was
    code = (
        "import gc, sys\nfrom convlens.cli import entry, main\n"
        "sys.argv = ['convlens', 'frobnicate']\nassert main(['--version']) == 0\n"
        "print(gc.get_freeze_count())\nprint(entry())\nprint(gc.get_freeze_count() > 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split()[-3:] == ["0", "2", "True"]
    assert "unknown command 'frobnicate'" in run.stderr
    module = subprocess.run(
        [sys.executable, "-m", "convlens", "--version"], capture_output=True, text=True, check=True
    )
    assert module.stdout.startswith("convlens ")


def test_the_console_script_is_entry():
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="convlens")
    assert script.value == "convlens.cli:entry"


def test_every_command_has_help(capsys):
    for name in COMMANDS:
        assert main([name, "--help"]) == 0, name
        assert "usage: convlens " + name in capsys.readouterr().out


def _one_line_error(capsys, argv):
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err


def test_unknown_command(capsys):
    assert "unknown command" in _one_line_error(capsys, ["frobnicate"])


def test_summary_of_a_spec(capsys):
    assert (
        main(["summary", "conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10", "--input", "1x32x32"])
        == 0
    )
    out = capsys.readouterr().out
    assert "61,706" in out  # 156 + 2,416 + 48,120 + 10,164 + 850
    assert "fc3" in out


def test_summary_json(capsys):
    assert main(["summary", "conv3x3x4-fc2", "--input", "1x5x5", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    # conv: (9 + 1) * 4 = 40; fc: 4*3*3*2 + 2 = 74
    assert data["total_params"] == 114
    assert data["rows"][0]["out_shape"] == [4, 3, 3]
    # --json, as eval, predict and data info spell it, is the same output
    assert main(["summary", "conv3x3x4-fc2", "--input", "1x5x5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == data
    assert main(["zoo", "--json"]) == 0
    assert {"name": "lenet5", "params": 61706}.items() <= {
        **next(m for m in json.loads(capsys.readouterr().out) if m["name"] == "lenet5")
    }.items()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["summary", "conv3x3x4-wobble", "--input", "1x8x8"], "token 2 'wobble'"),
        (["summary", "conv3x3x4", "--input", "3xfoo"], "cannot read the input shape"),
        (["summary", "resnet5000"], "did you mean the zoo model resnet50?"),
        (["summary", "conv3x3x4"], "needs --input"),
        (["summary", "conv9x9x4", "--input", "1x5x5"], "does not fit"),
        (["summary", "conv3x3x4s3", "--input", "1x7x7", "--strict"], "(7 - 3)/3 + 1 = 2.33"),
        (["arith", "--input", "7x7", "--kernel", "3", "--stride", "3", "--strict"], "2.33"),
        (["arith", "--input", "7x7", "--kernel", "3", "--padding", "lots"], "--padding"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(capsys, argv, words):
    assert words in _one_line_error(capsys, argv)


def test_bad_flag_is_one_sentence_and_exit_2(capsys):
    assert main(["arith", "--input", "7x7", "--kernel", "three"]) == 2  # a code, not SystemExit
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "invalid int value" in err


def test_arith_prints_the_lecture_formula(capsys):
    assert (
        main(["arith", "--input", "3x32x32", "--kernel", "5", "--filters", "10", "--padding", "2"])
        == 0
    )
    out = capsys.readouterr().out
    assert "(32 + 2*2 - 5)/1 + 1 = 32" in out
    assert "(5*5*3 + 1) * 10 = 760" in out


def test_importing_the_main_module_runs_nothing():
    """pydoc and test collectors import convlens.__main__; only `python -m convlens` runs it."""
    import importlib
    import sys

    sys.modules.pop("convlens.__main__", None)
    module = importlib.import_module("convlens.__main__")
    assert callable(module.entry)
