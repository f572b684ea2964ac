"""Building blocks of a self-contained HTML page: sections, tables and embedded figures.

Everything a page needs is inside the one file: CSS inline, pictures as ``data:image/png;base64``
URIs, no scripts, fonts or links to fetch, so a report opens the same offline, attached to an
e-mail or years later. Strings passed as parts are HTML; ``text()`` escapes plain text.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from convlens.fileio import atomic_write_text

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330;
       background: #f4f5f7; }
header { background: #1f3a5f; color: #fff; padding: 18px 32px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header p { margin: 0; opacity: 0.85; font-size: 13px; }
main { max-width: 1180px; margin: 0 auto; padding: 12px 24px 40px; }
section { background: #fff; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.12);
          margin: 18px 0; padding: 8px 20px 16px; }
h2 { font-size: 17px; border-bottom: 2px solid #e1e5eb; padding-bottom: 6px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0; }
th, td { border: 1px solid #d5dae1; padding: 3px 8px; text-align: right; }
th { background: #eef1f5; }
td:first-child, th:first-child { text-align: left; }
figure { display: inline-block; margin: 6px 10px 6px 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #e1e5eb; }
figcaption { font-size: 12px; color: #555; }
.note { color: #7a5a00; background: #fff7e0; padding: 6px 10px; border-radius: 4px; font-size: 13px; }
.metric { display: inline-block; margin-right: 28px; }
.metric b { font-size: 22px; display: block; }
pre { background: #f6f8fa; padding: 8px; overflow-x: auto; font-size: 12px; }
"""


def text(value: Any) -> str:
    """Plain text made safe for HTML."""
    return html.escape(str(value))


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def image(fig_or_png: Any, alt: str = "", caption: str = "", dpi: int = 90) -> str:
    """A matplotlib figure (or PNG bytes) as an embedded ``<img>``, optionally with a caption."""
    if isinstance(fig_or_png, (bytes, bytearray)):
        png = bytes(fig_or_png)
    else:
        from convlens.viz.figures import png_bytes

        png = png_bytes(fig_or_png, dpi=dpi)
    tag = f'<img src="{png_data_uri(png)}" alt="{text(alt or caption)}">'
    if caption:
        return f"<figure>{tag}<figcaption>{text(caption)}</figcaption></figure>"
    return f"<figure>{tag}</figure>"


def table(headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """A plain table; every cell is escaped."""
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{text(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def note(message: str) -> str:
    return f'<p class="note">{text(message)}</p>'


def metrics(values: dict[str, str]) -> str:
    """Big numbers in a row: ``{"test accuracy": "91.2%"}``."""
    return "".join(
        f'<span class="metric"><b>{text(v)}</b>{text(k)}</span>' for k, v in values.items()
    )


def _part(part: Any) -> str:
    if isinstance(part, str):
        return part
    if hasattr(part, "savefig") or isinstance(part, (bytes, bytearray)):
        return image(part)
    if hasattr(part, "to_html"):
        return str(part.to_html())
    raise TypeError(f"cannot put a {type(part).__name__} into a report section")


def html_section(title: str, parts: Sequence[Any], *, anchor: str = "") -> str:
    """One ``<section>``: a heading, then each part (HTML string, figure, PNG bytes, or anything
    with ``to_html()`` such as a Summary)."""
    ident = f' id="{text(anchor)}"' if anchor else ""
    return (
        f"<section{ident}><h2>{text(title)}</h2>"
        + "\n".join(_part(p) for p in parts)
        + "</section>"
    )


def render_page(title: str, sections: Sequence[str], subtitle: str = "") -> str:
    """The whole page around ready-made sections."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sub = f"{text(subtitle)} · " if subtitle else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{text(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{text(title)}</h1><p>{sub}written {stamp} by convlens</p></header>"
        "<main>" + "\n".join(sections) + "</main></body></html>\n"
    )


def write_html(path: str | Path, page: str) -> Path:
    """Write ``page`` to ``path`` atomically (temporary file in the same directory, then rename)."""
    return atomic_write_text(path, page)
