"""Plain-text tables that never lose a number, at any width.

Every table convlens prints goes through ``render_table``. A column is either *fixed* (numbers,
shapes: never wrapped, never cut, never abbreviated) or *text* (names, notes: wrapped between
words when the table is too wide). When even the narrowest wrapping does not fit the width, the
table switches to a stacked layout, one record per row with ``header value`` pairs, so a narrow
terminal, a pipe or a file always shows every number in full.

    >>> print(render_table([Column("layer", wrap=True), Column("params", fixed=True)],
    ...                    [["conv1", "156"], ["fc1", "10,164"]]))
    layer  params
    -----  ------
    conv1     156
    fc1    10,164
"""

from __future__ import annotations

import math
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass

GAP = "  "  # between columns
# a text column is never squeezed below this many characters (or its longest word, if longer)
MIN_TEXT_WIDTH = 8


@dataclass(frozen=True)
class Column:
    """One column: its header, whether it holds numbers (right-aligned) and whether it may wrap."""

    header: str
    fixed: bool = False  # a number: right-aligned, never wrapped
    wrap: bool = False  # text that may be wrapped between words (and after dots in names)
    left: bool = False  # a fixed column aligned left (shapes read better that way)


def terminal_width() -> int | None:
    """The width to render for: the terminal's, else ``$COLUMNS``, else none (a pipe or file)."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size().columns
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else None


def render_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    width: int | None = None,
    title: str = "",
) -> str:
    """The rows under their headers, fitted to ``width`` characters (``None``: no limit).

    A column with no cell filled in (a "note" column without notes) is left out.
    """
    keep = [k for k in range(len(columns)) if any(r[k] for r in rows)] if rows else []
    columns = [columns[k] for k in keep] or list(columns)
    rows = [[r[k] for k in keep] for r in rows] if keep else list(rows)
    natural = [max([len(c.header), *(len(r[k]) for r in rows)]) for k, c in enumerate(columns)]
    widths = _fit(columns, rows, natural, width)
    head = [*wrap_text(title, width)] if title else []
    if widths is None:
        return "\n".join(head + _stacked(columns, rows, width or 0))
    lines = _row_lines(columns, [c.header for c in columns], widths)
    lines.append(GAP.join("-" * w for w in widths))
    for row in rows:
        lines.extend(_row_lines(columns, row, widths))
    return "\n".join(head + lines)


def decimal_text(x: float) -> str:
    """Two decimals, or three significant digits below 1, so a small size never reads 0.00."""
    if x == 0 or abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.{2 - math.floor(math.log10(abs(x)))}f}"


def wrap_text(text: str, width: int | None, indent: str = "") -> list[str]:
    """Wrap a line between words only, so no number is ever split; ``None``: one line."""
    if width is None or len(text) <= width:
        return [text]
    body = text.lstrip(" ")
    lines: list[str] = []
    current = text[: len(text) - len(body)]  # keep the line's own indentation
    for word in body.split(" "):
        candidate = f"{current} {word}" if current.strip() else current + word
        if current.strip() and len(candidate) > width:
            lines.append(current)
            candidate = indent + word
        current = candidate
    lines.append(current)
    return lines


# -- fitting -------------------------------------------------------------------------------------


def _fit(
    columns: Sequence[Column], rows: Sequence[Sequence[str]], natural: list[int], width: int | None
) -> list[int] | None:
    """Column widths that fit ``width`` by narrowing text columns, or None (stack instead)."""
    widths = list(natural)
    if width is None:
        return widths

    def total() -> int:
        return sum(widths) + len(GAP) * (len(widths) - 1)

    floors = [
        max(min(natural[k], MIN_TEXT_WIDTH), _longest_piece(c, rows, k)) if c.wrap else natural[k]
        for k, c in enumerate(columns)
    ]
    while total() > width:
        shrinkable = [k for k in range(len(widths)) if widths[k] > floors[k]]
        if not shrinkable:
            return None
        widest = max(shrinkable, key=lambda k: widths[k])
        widths[widest] -= 1
    return widths


def _longest_piece(column: Column, rows: Sequence[Sequence[str]], k: int) -> int:
    cells = [column.header, *(r[k] for r in rows)]
    return max(len(piece.strip()) for cell in cells for piece in _pieces(cell) or [""])


def _pieces(text: str) -> list[str]:
    """Split a cell where it may wrap: after spaces, and after a dot, underscore or slash that
    does not sit between two digits (``layer2.0.conv1`` breaks as "layer2.0." "conv1", but
    ``112.50`` stays whole)."""
    pieces, start = [], 0
    for i, ch in enumerate(text):
        after = text[i + 1 : i + 2]
        if ch == " " and after != " ":
            pieces.append(text[start : i + 1])
            start = i + 1
        elif ch in "._/" and after and after != " ":
            before = text[i - 1 : i]
            if not (before.isdigit() and after.isdigit()):
                pieces.append(text[start : i + 1])
                start = i + 1
    pieces.append(text[start:])
    return [p for p in pieces if p]


def _wrap_cell(text: str, width: int) -> list[str]:
    if len(text) <= width:
        return [text]
    lines: list[str] = []
    current = ""
    for piece in _pieces(text):
        if current and len((current + piece).rstrip()) > width:
            lines.append(current.rstrip())
            current = ""
        current += piece
    lines.append(current.rstrip())
    return lines


def _row_lines(columns: Sequence[Column], cells: Sequence[str], widths: list[int]) -> list[str]:
    wrapped = [
        _wrap_cell(cell, w) if c.wrap else [cell] for c, cell, w in zip(columns, cells, widths)
    ]
    height = max(len(w) for w in wrapped)
    lines = []
    for i in range(height):
        parts = []
        for c, lines_k, w in zip(columns, wrapped, widths):
            cell = lines_k[i] if i < len(lines_k) else ""
            parts.append(cell.rjust(w) if c.fixed and not c.left else cell.ljust(w))
        lines.append(GAP.join(parts).rstrip())
    return lines


def _stacked(columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """One record per row: the first cell, then "header value" pairs filling lines of ``width``
    (a line breaks between pairs, never inside a number)."""
    lines: list[str] = []
    for row in rows:
        lines.append(row[0])
        current = ""
        for c, cell in zip(columns[1:], row[1:]):
            if not cell:
                continue
            pair = f"{c.header} {cell}"
            candidate = f"{current};  {pair}" if current else f"  {pair}"
            if current and len(candidate) > width:
                lines.extend(wrap_text(current, width, indent="    "))
                candidate = f"  {pair}"
            current = candidate
        if current:
            lines.extend(wrap_text(current, width, indent="    "))
    return lines
