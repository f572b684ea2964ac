"""`convlens neurons boolean --table` reads the number of inputs from the table's length."""

import pytest

from convlens.cli import main


def test_eight_entries_mean_three_inputs(capsys):
    assert main(["neurons", "boolean", "--table", "01101001"]) == 0
    out = capsys.readouterr().out
    assert "of 3 inputs" in out and "8 hidden units" in out
    outputs = [line.rsplit("y = ", 1)[1] for line in out.splitlines() if "y = " in line]
    assert outputs == list("01101001")  # the parity of three inputs, pattern by pattern


@pytest.mark.parametrize(
    ("table", "extra", "message"),
    [("011010", [], "has 6"), ("1", [], "has 1"), ("0110", ["--inputs", "3"], "has 4")],
)
def test_a_length_that_is_not_two_to_the_n_is_one_sentence(capsys, table, extra, message):
    assert main(["neurons", "boolean", "--table", table, *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
