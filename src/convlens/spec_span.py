"""Where in the spec text a mistake is: the token and its character offsets.

An editor underlines the exact characters of the token that does not parse, or of the layer that
does not fit the shape reaching it. ``parse_spec`` and ``analyze`` say what is wrong in a sentence;
this module finds where, by checking the tokens one at a time (for a parse error) and the growing
prefixes of the spec (for a layer that does not fit), so the sentence and the place always come
from the same parser and the same arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from convlens.errors import ConfigError, LayerFitError, SpecError


@dataclass(frozen=True)
class SpecProblem:
    error: str  # convlens's sentence
    token: int | None  # 0-based index of the token among the dash-separated ones
    start: int | None  # character offsets of that token in the text, end exclusive
    end: int | None


def token_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each dash-separated token, without surrounding spaces."""
    spans, start = [], 0
    for piece in text.split("-"):
        lead = len(piece) - len(piece.lstrip())
        spans.append((start + lead, start + len(piece.rstrip())))
        start += len(piece) + 1
    return spans


def find_spec_problem(text: str, in_shape: Sequence[int]) -> SpecProblem | None:
    """The first problem of spec ``text`` on inputs of ``in_shape``, or None when it is sound."""
    from convlens.analysis.geometry import analyze
    from convlens.spec import parse_spec

    spans = token_spans(text)
    try:
        parse_spec(text)
    except SpecError as err:
        for index, (start, end) in enumerate(spans):
            try:
                parse_spec(text[start:end])
            except SpecError:
                return SpecProblem(str(err), index, start, end)
        return SpecProblem(str(err), None, None, None)
    try:
        analyze(text, in_shape)
    except (LayerFitError, ConfigError) as err:
        if not isinstance(err, LayerFitError):
            return SpecProblem(str(err), None, None, None)
        for index in range(len(spans)):
            try:
                analyze(text[: spans[index][1]], in_shape)
            except LayerFitError:
                return SpecProblem(str(err), index, *spans[index])
        return SpecProblem(str(err), None, None, None)
    return None
