"""ExperimentResult: what an experiment found, as a value (rows, references, curves, findings).

An experiment returns data only; ``convlens.experiments.output`` renders it (text table, PNG
plots, an HTML section, JSON). Everything in a result is plain Python numbers and strings, so
``to_dict()`` is JSON as it stands and a saved result can be read back and compared.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reference:
    """A published number that an experiment's own number should be read against."""

    what: str  # e.g. "CNN test accuracy on MNIST-1D"
    value: str  # as published, e.g. "about 94%"
    source: str  # who and where, e.g. "Greydanus & Kobak 2020, Table 1"


@dataclass(frozen=True)
class Series:
    """One curve (or one group of bars): y against x, with an optional +/- band."""

    label: str
    x: tuple[float, ...]
    y: tuple[float, ...]
    spread: tuple[float, ...] = ()  # half-width of the band (std over seeds); () for none


@dataclass(frozen=True)
class FigureData:
    """A plot described as data; ``convlens.experiments.plots`` draws it."""

    name: str  # file stem of the PNG, e.g. "equivariance"
    title: str
    xlabel: str
    ylabel: str
    series: tuple[Series, ...]
    kind: str = "line"  # "line" or "bar" (bars: one group per x label in xticks)
    xticks: tuple[str, ...] = ()  # category names for bar plots
    logy: bool = False


@dataclass(frozen=True)
class ExperimentResult:
    name: str  # registry name, e.g. "fc-vs-cnn"
    title: str  # one line for headings
    claim: str  # the lectures' claim that the experiment tests
    columns: tuple[str, ...]  # table header
    rows: tuple[tuple[Any, ...], ...]  # table body: plain numbers and strings
    findings: tuple[str, ...] = ()  # sentences computed from the numbers
    references: tuple[Reference, ...] = ()
    figures: tuple[FigureData, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)  # every number, JSON-able
    options: dict[str, Any] = field(default_factory=dict)  # what was run, to replay it
    command: str = ""  # the CLI line that reproduces it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def row(self, first: Any) -> dict[str, Any]:
        """The table row whose first cell is ``first``, as a column -> value dict."""
        for r in self.rows:
            if r[0] == first:
                return dict(zip(self.columns, r))
        raise KeyError(f"no row {first!r}; rows: {', '.join(str(r[0]) for r in self.rows)}")

    def _repr_html_(self) -> str:  # Jupyter: claim, table, findings and plots
        from convlens.notebook import experiment_html

        return experiment_html(self)


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    vals = [float(v) for v in values]
    if not vals:
        return math.nan, math.nan
    return statistics.fmean(vals), statistics.stdev(vals) if len(vals) > 1 else 0.0


def pct(mean: float, std: float | None = None) -> str:
    """A fraction as a percentage, with its spread over seeds when there is one."""
    if std is None:
        return f"{100 * mean:.1f}%"
    return f"{100 * mean:.1f} ± {100 * std:.1f}%"
