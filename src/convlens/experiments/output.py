"""Render an ExperimentResult: a text table, PNG plots, an HTML section and page, and JSON.

``save_result(result, out_dir)`` writes, each file atomically (temporary file, then rename):

    results.json        every number, the options and the command (``ExperimentResult.to_dict``)
    table.txt           the table, findings and references as text (what the CLI prints)
    <figure>.png        one picture per ``FigureData``
    section.html        the HTML section, for a bigger report to include
    report.html         a self-contained page with just this section
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from convlens.experiments.result import ExperimentResult
from convlens.fileio import atomic_write_bytes, atomic_write_text


def _cell(value: Any) -> str:
    """A value as table text: counts in full with thousands separators, never "4e+04"."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == 0:
            return "0"
        if value.is_integer():
            return f"{int(value):,}"
        if abs(value) >= 100:
            return f"{value:,.1f}"
        # below 100: four significant digits; only values under 0.001 use an exponent
        return f"{value:.4g}" if abs(value) >= 1e-3 else f"{value:.3g}"
    return str(value)


def table_text(result: ExperimentResult, width: int | None = None) -> str:
    """The table, then findings and the published references, as plain text.

    ``width`` (characters; ``None``: as wide as the table needs, as in ``table.txt``) wraps the
    text columns or stacks the rows; numbers are never cut.
    """
    from convlens.tables import Column, render_table, wrap_text

    columns = []
    for i, col in enumerate(result.columns):
        numeric = all(isinstance(row[i], (int, float)) or row[i] is None for row in result.rows)
        columns.append(Column(col, fixed=numeric, wrap=not numeric))
    cells = [[_cell(v) for v in row] for row in result.rows]
    table = render_table(columns, cells, width=width, title=result.title)
    lines = [f"claim: {result.claim}"]
    lines += [f"- {line}" for line in result.findings]
    if result.references:
        lines.append("published:")
        lines += [f"  {ref.what}: {ref.value} ({ref.source})" for ref in result.references]
    if result.command:
        lines.append(f"reproduce: {result.command}")
    footer = [part for line in lines for part in wrap_text(line, width, "    ")]
    return table + "\n\n" + "\n".join(footer) + "\n"


def section_html(result: ExperimentResult, pngs: dict[str, bytes]) -> str:
    """One report section: claim, table, findings, references next to them, pictures."""
    from convlens.report.html import html_section, image, table, text

    parts: list[Any] = [f"<p><b>Claim.</b> {text(result.claim)}</p>"]
    parts.append(table(result.columns, [[_cell(v) for v in row] for row in result.rows]))
    if result.findings:
        parts.append("<ul>" + "".join(f"<li>{text(f)}</li>" for f in result.findings) + "</ul>")
    if result.references:
        parts.append("<h3>Published reference points</h3>")
        parts.append(table(("what", "published", "source"),
                           [(r.what, r.value, r.source) for r in result.references]))  # fmt: skip
    for fig in result.figures:
        if fig.name in pngs:
            parts.append(image(pngs[fig.name], caption=fig.title))
    if result.command:
        parts.append(f"<pre>{text(result.command)}</pre>")
    return html_section(result.title, parts, anchor=result.name)


def figure_pngs(result: ExperimentResult, dpi: int = 100) -> dict[str, bytes]:
    from convlens.experiments.plots import plot_figure
    from convlens.viz.figures import png_bytes

    return {fig.name: png_bytes(plot_figure(fig), dpi=dpi) for fig in result.figures}


def save_result(result: ExperimentResult, out_dir: str | Path) -> dict[str, Path]:
    """Write the result's files into ``out_dir`` (created if needed); returns name -> path."""
    from convlens.report.html import render_page

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pngs = figure_pngs(result)
    paths = {"json": atomic_write_text(out / "results.json", _json(result))}
    paths["table"] = atomic_write_text(out / "table.txt", table_text(result))
    for name, png in pngs.items():
        paths[name] = atomic_write_bytes(out / f"{name}.png", png)
    section = section_html(result, pngs)
    paths["section"] = atomic_write_text(out / "section.html", section)
    page = render_page(result.title, [section], subtitle=f"convlens experiment {result.name}")
    paths["report"] = atomic_write_text(out / "report.html", page)
    return paths


def _json(result: ExperimentResult) -> str:
    return json.dumps(result.to_dict(), indent=2, default=_jsonable) + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-able")


def load_result_dict(path: str | Path) -> dict[str, Any]:
    """A saved ``results.json`` as a dict (for comparing runs)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
