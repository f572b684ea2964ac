"""find_spec_problem: the characters an editor underlines."""

from __future__ import annotations

from convlens.spec_span import find_spec_problem, token_spans


def test_token_spans_skip_spaces():
    assert token_spans("conv3x3x4 - pool2") == [(0, 9), (12, 17)]


def test_parse_error_and_fit_error_positions():
    text = "conv3x3x4-bogus-fc10"
    problem = find_spec_problem(text, (1, 8, 8))
    assert problem.token == 1 and text[problem.start : problem.end] == "bogus"
    text = "conv3x3x4-conv7x7x4-fc10"  # 8 -> 6; a 7x7 kernel does not fit 6x6
    problem = find_spec_problem(text, (1, 8, 8))
    assert text[problem.start : problem.end] == "conv7x7x4"
    assert find_spec_problem("conv3x3x4-fc10", (1, 8, 8)) is None
