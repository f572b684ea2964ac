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
import os
import tempfile
from pathlib import Path
from typing import Any

from convlens.experiments.result import ExperimentResult


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == 0:
            return "0"
        return f"{value:.3g}" if abs(value) < 1e-3 or abs(value) >= 1e6 else f"{value:,.4g}"
    return str(value)


def table_text(result: ExperimentResult, width: int = 140) -> str:
    """The table (rich), then findings and the published references, as plain text."""
    import io

    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(file=io.StringIO(), width=width, color_system=None, record=True)
    table = Table(title=result.title, box=box.SIMPLE_HEAD)
    for i, col in enumerate(result.columns):
        numeric = all(isinstance(row[i], (int, float)) or row[i] is None for row in result.rows)
        table.add_column(col, no_wrap=numeric, justify="right" if numeric else "left")
    for row in result.rows:
        table.add_row(*(_cell(v) for v in row))
    console.print(table)
    console.print(f"claim: {result.claim}", highlight=False, markup=False)
    for line in result.findings:
        console.print(f"- {line}", highlight=False, markup=False)
    if result.references:
        console.print("published:", highlight=False, markup=False)
        for ref in result.references:
            console.print(
                f"  {ref.what}: {ref.value} ({ref.source})", highlight=False, markup=False
            )
    if result.command:
        console.print(f"reproduce: {result.command}", highlight=False, markup=False)
    return console.export_text()


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


def write_atomic(path: Path, payload: bytes) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
    paths = {"json": write_atomic(out / "results.json", _json(result).encode())}
    paths["table"] = write_atomic(out / "table.txt", table_text(result).encode())
    for name, png in pngs.items():
        paths[name] = write_atomic(out / f"{name}.png", png)
    section = section_html(result, pngs)
    paths["section"] = write_atomic(out / "section.html", section.encode())
    page = render_page(result.title, [section], subtitle=f"convlens experiment {result.name}")
    paths["report"] = write_atomic(out / "report.html", page.encode())
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
