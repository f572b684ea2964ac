"""``--format`` and its ``--json`` shorthand, for the commands that print a table of their own."""

from __future__ import annotations

import argparse


def add_format_arguments(parser: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    """``--format/-f`` (default table) and ``--json``, as eval, predict and data info spell it."""
    parser.add_argument("--format", "-f", choices=formats, default="table", help="output format")
    parser.add_argument(
        "--json",
        dest="format",
        action="store_const",
        const="json",
        help="the same as --format json, as eval, predict and data info take it",
    )
