"""A ``.csv`` table of numeric features and one label column, such as the lectures' Iris table.

The header row is optional: the first row is a header when it has a non-numeric cell above a
numeric one, or when it holds the ``label`` column's name. The label is the last column unless
``label`` names another (by header name, or by 0-based column number; -1 is the last). Labels
may be numbers or strings; each distinct value is a class (``encode_labels``). For regression
(``task="regression"``) the label column holds the numeric target instead. Every other column
must hold numbers, and a cell that does not is named by line and column.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from convlens.data.arrays import Raw, check_task, encode_labels
from convlens.errors import DataError


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _has_header(rows: list[list[str]], label: str | int | None) -> bool:
    first = rows[0]
    if label is not None and str(label) in first and not _is_number(str(label)):
        return True
    second = rows[1] if len(rows) > 1 else []
    return any(not _is_number(a) and _is_number(b) for a, b in zip(first, second)) or (
        len(rows) == 1 and not all(_is_number(c) for c in first)
    )


def _label_column(label: str | int | None, header: list[str] | None, width: int, path: Path) -> int:
    if label is None:
        return width - 1
    text = str(label)
    if header is not None and text in header:
        return header.index(text)
    try:
        index = int(text)
    except ValueError:
        index = None
    if index is not None and -width <= index < width:
        return index % width
    columns = ", ".join(header) if header else f"0 to {width - 1} (the file has no header row)"
    raise DataError(f"label column {text!r} is not in {path}; its columns are {columns}")


def _numbered_rows(path: Path) -> list[tuple[int, list[str]]]:
    """The file's non-empty rows with their line numbers, each cell stripped."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            numbered = [
                (n, [c.strip() for c in row])
                for n, row in enumerate(csv.reader(handle), 1)
                if any(c.strip() for c in row)
            ]
    except FileNotFoundError:
        raise DataError(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a UTF-8 text file; save the table as CSV text") from None
    except csv.Error as err:
        raise DataError(f"{path} is not valid CSV ({err})") from None
    if not numbered:
        raise DataError(f"{path} is empty")
    return numbered


def read_inputs(
    path: str | Path, in_shape: tuple[int, ...], label: str | int | None = None
) -> tuple[np.ndarray, list[str] | None, list[int]]:
    """The rows of a table to predict from: each row's numbers, one example of ``in_shape``, as
    float32 (N, *in_shape), the label column's cells where the table has one more column (the
    column ``label`` names, else the last; None without it), and each row's line number."""
    path = Path(path)
    size = int(np.prod(in_shape))
    numbered = _numbered_rows(path)
    rows = [row for _, row in numbered]
    width = len(rows[0])
    if width not in (size, size + 1):
        shape = "" if len(in_shape) == 1 else f" (one {'x'.join(map(str, in_shape))} example)"
        raise DataError(
            f"{path} has {width} columns; the model takes {size:,} numbers a row{shape}, and the "
            "table may add one label column"
        )
    header = rows[0] if _has_header(rows, label) else None
    column = _label_column(label, header, width, path) if width == size + 1 else None
    body = numbered[1:] if header else numbered
    if not body:
        raise DataError(f"{path} has a header but no rows")
    values = np.empty((len(body), size), dtype=np.float32)
    labels: list[str] = []
    for i, (line, cells) in enumerate(body):
        if len(cells) != width:
            raise DataError(f"{path} line {line} has {len(cells)} cells, the first row {width}")
        if column is not None:
            labels.append(cells[column])
            cells = cells[:column] + cells[column + 1 :]
        for j, cell in enumerate(cells):
            try:
                values[i, j] = float(cell)
            except ValueError:
                raise DataError(
                    f"{path} line {line}, cell {j + 1}: {cell!r} is not a number"
                ) from None
    lines = [line for line, _ in body]
    return values.reshape(len(body), *in_shape), (labels if column is not None else None), lines


def read_csv(path: str | Path, label: str | int | None = None, task: str = "classification") -> Raw:
    """The table's features as float32 (N, F) and its labels as classes (or, for regression,
    float32 targets); no test split."""
    check_task(task)
    path = Path(path)
    numbered = _numbered_rows(path)
    rows = [row for _, row in numbered]
    width = len(rows[0])
    if width < 2:
        raise DataError(f"{path} has one column; it needs feature columns and a label column")
    header = rows[0] if _has_header(rows, label) else None
    column = _label_column(label, header, width, path)
    body = numbered[1:] if header else numbered
    if not body:
        raise DataError(f"{path} has a header but no rows")
    features = np.empty((len(body), width - 1), dtype=np.float32)
    labels: list[str] = []
    for i, (line, cells) in enumerate(body):
        if len(cells) != width:
            raise DataError(f"{path} line {line} has {len(cells)} cells, the first row {width}")
        values = cells[:column] + cells[column + 1 :]
        for j, cell in enumerate(values):
            try:
                features[i, j] = float(cell)
            except ValueError:
                name = (
                    (header[:column] + header[column + 1 :])[j]
                    if header
                    else f"column {j if j < column else j + 1}"
                )
                raise DataError(
                    f"{path} line {line}, {name}: {cell!r} is not a number (only the label column may hold text)"
                ) from None
        labels.append(cells[column])
    if task == "regression":
        name = header[column] if header else f"column {column}"
        return Raw((features, _targets(labels, body, path, name)), None, (), task=task)
    y = np.array(labels)
    if all(_is_number(v) for v in labels):
        y = np.array([float(v) for v in labels])
    (encoded,), classes = encode_labels([y], str(path))
    return Raw((features, encoded), None, classes)


def _targets(
    labels: list[str], body: list[tuple[int, list[str]]], path: Path, name: str
) -> np.ndarray:
    """The label column as float32 regression targets; a cell that is no number is named."""
    targets = np.empty(len(labels), dtype=np.float32)
    for i, (cell, (line, _)) in enumerate(zip(labels, body)):
        try:
            targets[i] = float(cell)
        except ValueError:
            raise DataError(
                f"{path} line {line}, label column {name!r}: {cell!r} is not a number, and "
                "regression targets must be numbers"
            ) from None
    if not np.all(np.isfinite(targets)):
        raise DataError(f"{path}, label column {name!r}: regression targets must be finite numbers")
    return targets
