"""Open the report in headless Chromium: the page must render, with every image decoded."""

import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from convlens.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed")

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

# Counts the images that did not decode into the page once everything has loaded.
PROBE = """<script>
window.addEventListener("load", () => {
  const imgs = [...document.images];
  const broken = imgs.filter((i) => !(i.complete && i.naturalWidth > 0)).length;
  document.body.setAttribute("data-images", imgs.length);
  document.body.setAttribute("data-broken", broken);
});
</script>"""


def chromium(tmp_path, *args):
    profile = tmp_path / "profile"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def screenshot(tmp_path, page, name):
    shot = tmp_path / f"{name}.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri())
    assert shot.is_file(), "Chromium wrote no screenshot"
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape[:2] == (2000, 1200)
    return pixels


def content(pixels):
    """Share of pixels that are neither page background (#f4f5f7) nor white, and distinct colours."""
    far = lambda rgb: np.abs(pixels - rgb).sum(axis=-1) > 30  # noqa: E731
    ink = (far((244, 245, 247)) & far((255, 255, 255))).mean()
    return ink, len(np.unique(pixels.reshape(-1, 3), axis=0))


def test_report_renders_in_chromium(tmp_path, run_dir, digits_test):
    report = write_report(run_dir, data=digits_test, examples=1)
    ink, colours = content(screenshot(tmp_path, report, "report"))
    assert ink > 0.05, f"only {ink:.1%} of the page shows anything"
    assert colours > 500, f"only {colours} distinct colours: the page looks empty"
    # the same page with every picture emptied: far fewer colours, so the pictures are drawn
    bare = tmp_path / "bare.html"
    bare.write_text(re.sub(r'src="data:[^"]*"', 'src=""', report.read_text(encoding="utf-8")))
    _, bare_colours = content(screenshot(tmp_path, bare, "bare"))
    assert bare_colours < 0.67 * colours, (bare_colours, colours)

    # every <img> decoded: run a copy of the page with a probe script and read the DOM back
    probed = tmp_path / "probed.html"
    probed.write_text(report.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"))
    dom = chromium(tmp_path, "--dump-dom", "--virtual-time-budget=10000", probed.as_uri()).stdout
    count = re.search(r'data-images="(\d+)"', dom)
    broken = re.search(r'data-broken="(\d+)"', dom)
    assert count and broken, "the probe did not run"
    assert int(count.group(1)) >= 7 and int(broken.group(1)) == 0
