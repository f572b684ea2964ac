"""The studio's page ships whole inside the package: no asset names another host.

Everything the page needs (its ES modules, CSS and any font) is served by the studio itself, so
it works with no network and sends nothing anywhere. These checks read the files as text.
"""

import re
from pathlib import Path

import pytest

import convlens

STATIC = Path(convlens.__file__).parent / "studio" / "static"
ASSETS = sorted(p for p in STATIC.rglob("*") if p.is_file())
TEXT_SUFFIXES = {".html", ".js", ".css", ".json", ".svg", ".txt", ".map"}

# a scheme-qualified or protocol-relative URL: http://x, https://x, //x in url(), src=, href=, import
HOST_URL = re.compile(r"https?://", re.IGNORECASE)
PROTOCOL_RELATIVE = re.compile(
    r"""(?:url\(\s*|(?:src|href|action)\s*=\s*|from\s+|import\s*\(?\s*)["']?//[^/\s"')]""",
    re.IGNORECASE,
)
# local references: <script src>, <link href>, import ... from "./x.js", url(x)
LOCAL_REFS = re.compile(
    r"""(?:src|href)="(static/[^"]+)"|from\s+"\./([^"]+)"|url\(\s*["']?([^"')]+)"""
)


# binary assets (fonts, pictures) hold no URL a browser would follow
BINARY_SUFFIXES = {".woff2", ".woff", ".ttf", ".png", ".ico"}


def test_there_are_assets():
    names = {p.name for p in ASSETS}
    assert {"index.html", "main.js", "studio.css"} <= names, names
    unknown = [p.name for p in ASSETS if p.suffix not in TEXT_SUFFIXES | BINARY_SUFFIXES]
    assert not unknown, f"add these kinds of asset to the host check: {unknown}"


@pytest.mark.parametrize(
    "path", [p for p in ASSETS if p.suffix in TEXT_SUFFIXES], ids=lambda p: p.name
)
def test_no_asset_names_a_host(path):
    text = path.read_text(encoding="utf-8")
    for pattern in (HOST_URL, PROTOCOL_RELATIVE):
        hit = pattern.search(text)
        assert hit is None, (
            f"{path.name} names a host: {text[max(0, hit.start() - 40) : hit.end() + 40]!r}"
        )


def test_the_check_catches_hosts():
    """The patterns above are not vacuous: each form of outside reference is caught."""
    for text in (
        '<script src="https://cdn.example.org/x.js"></script>',
        "@import url(http://fonts.example.com/a.css);",
        '<link href="//fonts.example.com/a.css">',
        'import x from "//cdn.example.org/x.js";',
        "font-src: url('//example.org/f.woff2')",
    ):
        assert HOST_URL.search(text) or PROTOCOL_RELATIVE.search(text), text
    for text in (
        '<link href="static/studio.css">',
        'import { x } from "./api.js";',
        "a // comment",
    ):
        assert not (HOST_URL.search(text) or PROTOCOL_RELATIVE.search(text)), text


@pytest.mark.parametrize(
    "path", [p for p in ASSETS if p.suffix in {".html", ".js", ".css"}], ids=lambda p: p.name
)
def test_every_local_reference_exists(path):
    """A module or stylesheet the page names is shipped beside it (a typo would 404 silently)."""
    text = path.read_text(encoding="utf-8")
    for match in LOCAL_REFS.finditer(text):
        ref = next(g for g in match.groups() if g)
        if ref.startswith("data:"):
            continue
        target = STATIC / ref.removeprefix("static/") if match.group(1) else path.parent / ref
        assert target.is_file(), f"{path.name} refers to {ref}, which is not shipped"
