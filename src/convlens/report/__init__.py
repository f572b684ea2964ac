"""The HTML report of a run, and the blocks (sections, tables, embedded figures) it is built from."""

from convlens.report.html import html_section, image, note, render_page, table, text, write_html
from convlens.report.run import build_report, write_report

__all__ = [
    "build_report",
    "html_section",
    "image",
    "note",
    "render_page",
    "table",
    "text",
    "write_html",
    "write_report",
]
