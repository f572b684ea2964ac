"""`convlens neurons` and `convlens scratch` from the command line."""

import pytest

from convlens.cli import main


def _run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_neurons_tour(capsys):
    code, out, _ = _run(capsys, "neurons")
    assert code == 0
    assert "converged after" in out  # AND and Iris
    assert "did not converge within 100 epochs" in out  # XOR
    assert "4 hidden units" in out


def test_neurons_mcculloch_pitts_truth_table(capsys):
    code, out, _ = _run(capsys, "neurons", "mp", "--threshold", "3", "--inputs", "3")
    assert code == 0
    fired = [line for line in out.splitlines() if line.endswith("y = 1")]
    assert fired == ["  x = 1 1 1   g(x) = 3   y = 1"]  # AND of three inputs


def test_neurons_boolean_truth_table(capsys):
    code, out, _ = _run(capsys, "neurons", "boolean", "--table", "1001", "--inputs", "2")
    assert code == 0
    outputs = [line.rsplit("y = ", 1)[1] for line in out.splitlines() if "y = " in line]
    assert outputs == ["1", "0", "0", "1"]


@pytest.mark.parametrize(
    "argv",
    [("neurons", "boolean", "--table", "012"), ("neurons", "boolean", "--table", "011"),
     ("neurons", "mp", "--inputs", "0")],
)  # fmt: skip
def test_neurons_bad_input_is_one_line_and_exit_2(capsys, argv):
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and "error:" in err


def test_scratch_gradcheck_passes(capsys):
    code, out, _ = _run(capsys, "scratch", "gradcheck")
    assert code == 0
    assert "conv2d (im2col)" in out and "FAIL" not in out
    assert "0 above 1e-06" in out


def test_scratch_train_on_digits(capsys):
    code, out, _ = _run(capsys, "scratch", "train", "conv3x3x8p1-pool2-fc10", "--data", "digits",
                        "--epochs", "2", "--limit", "400", "--lr", "0.02")  # fmt: skip
    assert code == 0
    assert "epoch   2/2" in out
    accuracy = float(out.rsplit("final test accuracy ", 1)[1].strip().rstrip("%"))
    assert accuracy > 50  # ten classes: chance is 10 %


@pytest.mark.parametrize(
    ("argv", "message"),
    [(("scratch",), "choose an action"),
     (("scratch", "train", "conv3x3x8-fc5", "--data", "digits"), "end the spec with fc10"),
     (("scratch", "train", "conv9x9x8-fc10", "--data", "digits"), "does not fit"),
     (("scratch", "train", "fc10", "--data", "nosuchset"), "nosuchset"),
     (("scratch", "train", "fc10", "--lr", "-1"), "learning rate")],
)  # fmt: skip
def test_scratch_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, _, err = _run(capsys, *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1


def test_scratch_examples_show_the_lecture_results(capsys):
    code, out, _ = _run(capsys, "scratch", "examples")
    assert code == 0
    flat = " ".join(out.split())
    assert "[[12, 12, 17], [10, 17, 19], [ 9, 6, 14]]" in flat  # the lectures' correlation
    assert "[[6., 8.], [3., 4.]]" in flat  # the lectures' max pool
    assert "flipped kernel equals the true convolution" in flat
