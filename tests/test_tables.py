"""Text tables keep every number whole at any width: wrap text, then stack."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convlens.tables import Column, decimal_text, render_table, wrap_text

COLUMNS = [Column("layer", wrap=True), Column("kind", wrap=True), Column("params", fixed=True),
           Column("MACs", fixed=True), Column("note", wrap=True)]  # fmt: skip
ROWS = [
    ["layer2.0.downsample.0", "conv2d", "8,192", "6,422,528", "28.50 floored to 28; skips 1x1 px"],
    ["fc", "linear", "513,000", "512,000", ""],
]


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d[\d,.]*\d|\d", text))


def test_natural_width_is_one_line_per_row():
    text = render_table(COLUMNS, ROWS)
    lines = text.splitlines()
    assert len(lines) == 4 and lines[0].split() == ["layer", "kind", "params", "MACs", "note"]
    assert lines[2].startswith("layer2.0.downsample.0  conv2d    8,192  6,422,528  28.50")


@pytest.mark.parametrize("width", [30, 40, 60, 80, 100])
def test_every_number_survives_any_width(width):
    text = render_table(COLUMNS, ROWS, width=width, title="a title that is rather long")
    assert max(len(line) for line in text.splitlines()) <= width
    for number in ("8,192", "6,422,528", "513,000", "512,000", "28.50", "28", "1x1"):
        assert re.search(rf"(?<![\d,.]){re.escape(number)}(?![\d,.])", text), (number, text)


def test_narrow_tables_wrap_text_before_stacking():
    text = render_table(COLUMNS, ROWS, width=60)
    assert text.splitlines()[1].startswith("-")  # still a table with a header rule
    stacked = render_table(COLUMNS, ROWS, width=30)
    assert stacked.splitlines()[0] == "layer2.0.downsample.0"
    assert "  params 8,192" in stacked


def test_empty_columns_are_left_out():
    text = render_table(COLUMNS, [["fc", "linear", "10", "0", ""]])
    assert "note" not in text


@given(st.lists(st.integers(0, 10**13), min_size=1, max_size=12), st.integers(20, 120))
def test_wrapped_text_never_splits_a_number(values, width):
    line = "totals: " + "; ".join(f"{v:,} MACs" for v in values)
    wrapped = wrap_text(line, width)
    assert " ".join(wrapped).split() == line.split()
    assert _numbers(" ".join(wrapped)) == _numbers(line)


def test_small_sizes_keep_their_digits():
    assert decimal_text(0.000248) == "0.000248"  # 62 params * 4 bytes / 10^6
    assert decimal_text(0.246824) == "0.247"
    assert decimal_text(553.43) == "553.43"
    assert decimal_text(0) == "0.00"
