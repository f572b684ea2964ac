import base64
import io
from html.parser import HTMLParser

import pytest
from PIL import Image

from convlens.errors import CheckpointError, ConfigError
from convlens.report import html_section, table, text, write_report
from convlens.report.html import render_page
from convlens.viz.figures import new_figure

VOID = {"meta", "img", "br", "hr", "input", "link", "col", "source", "wbr"}


class Checker(HTMLParser):
    """Collects tags and checks that every element is closed in the order it was opened."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.images: list[str] = []
        self.tags: dict[str, int] = {}
        self.text: list[str] = []
        self.doctype = False
        self.refs: list[str] = []

    def handle_decl(self, decl):
        self.doctype = self.doctype or decl.lower() == "doctype html"

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src") or "")
        for key in ("href", "src"):
            if key in a and tag != "img":
                self.refs.append(a[key])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check_page(page: str) -> Checker:
    c = Checker()
    c.feed(page)
    c.close()
    assert c.doctype, "no <!DOCTYPE html>"
    assert not c.errors, c.errors[:3]
    assert not c.stack, f"unclosed: {c.stack}"
    assert not c.refs, f"external references: {c.refs}"
    assert c.tags.get("script", 0) == 0 and c.tags.get("link", 0) == 0
    for src in c.images:
        assert src.startswith("data:image/png;base64,"), src[:40]
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        with Image.open(io.BytesIO(png)) as im:
            im.verify()  # a complete, decodable PNG
    return c


def test_report_is_valid_self_contained_html(run_dir, digits_test):
    path = write_report(run_dir, data=digits_test, examples=2)
    assert path == run_dir / "report.html"
    page = path.read_text(encoding="utf-8")
    c = check_page(page)
    words = " ".join(c.text)
    for title in ("Overview", "Model", "Training curves", "Test accuracy", "Filters", "Feature maps",
                  "Attributions", "Misclassified", "Configuration"):  # fmt: skip
        assert title in words, title
    # the summary table names the layers; the accuracy agrees with the model on the data
    assert "conv2" in words and "fc1" in words
    assert len(c.images) >= 8  # curves, confusion, 2 filters, maps, 2 attributions, mistakes
    assert not list(run_dir.glob(".report.html.*"))  # no temporary file left behind


def test_report_loads_the_checkpoints_data_set_itself(run_dir):
    path = write_report(run_dir, examples=1)
    c = check_page(path.read_text(encoding="utf-8"))
    assert "355" in " ".join(c.text)  # the digits test split


def test_bad_run_directories(tmp_path, run_dir):
    with pytest.raises(ConfigError, match="does not exist"):
        write_report(tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        write_report(tmp_path)
    # a failing report leaves the previous report.html as it was
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "best.json").write_text("{not json")
    (broken / "report.html").write_text("old report")
    with pytest.raises(CheckpointError):
        write_report(broken)
    assert (broken / "report.html").read_text() == "old report"


def test_sections_are_building_blocks():
    fig, axes = new_figure(1, 1)
    axes[0, 0].plot([0, 1], [1, 0])
    section = html_section(
        "Extra <study>", [text("a < b & c"), fig, table(["k", "v"], [("x", "<1>")])]
    )
    page = render_page("title", [section])
    c = check_page(page)
    assert "Extra <study>" in " ".join(c.text) and "a < b & c" in " ".join(c.text)
    assert len(c.images) == 1 and c.tags["table"] == 1
    from convlens.analysis.summary import summarize

    assert "<table" in html_section("summary", [summarize("conv3x3x4-fc10", (1, 8, 8))])


def test_report_of_a_1d_signal_model(tmp_path):
    import torch

    from convlens.build import build_model
    from convlens.data import TensorData
    from convlens.train import save_checkpoint

    gen = torch.Generator().manual_seed(0)
    data = TensorData(
        name="signals", split="test", x=torch.randn(40, 1, 24, generator=gen),
        y=torch.arange(40) % 3, classes=("a", "b", "c"), mean=(0.0,), std=(1.0,),
    )  # fmt: skip
    model = build_model("conv1d5x4p2-pool2-conv1d3x4p1-fc3", (1, 24))
    save_checkpoint(tmp_path / "last", model, data=data, epoch=1)
    c = check_page(write_report(tmp_path, data=data, examples=2).read_text(encoding="utf-8"))
    words = " ".join(c.text)
    assert "Attributions" in words and "Feature maps" in words and "conv1d" in words
    assert len(c.images) >= 6  # confusion, 2 filters, maps, 2 attributions (+ mistakes)


def test_report_of_a_model_built_from_a_class_of_ones_own(tmp_path):
    import torch
    from torch import nn

    from convlens.data import TensorData
    from convlens.train import save_checkpoint

    class Net(nn.Module):  # a class the checkpoint cannot name
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)
            self.fc = nn.Linear(4 * 6 * 6, 2)

        def forward(self, x):
            return self.fc(torch.relu(self.conv(x)).flatten(1))

    gen = torch.Generator().manual_seed(0)
    data = TensorData(
        name="pics", split="test", x=torch.randint(0, 256, (20, 1, 8, 8), generator=gen,
        dtype=torch.uint8), y=torch.arange(20) % 2, classes=("a", "b"), mean=(0.5,), std=(0.3,),
    )  # fmt: skip
    trained = Net()
    save_checkpoint(tmp_path / "last", trained, data=data, epoch=1)
    with pytest.raises(CheckpointError, match=r"write_report\(run, model=model\)"):
        write_report(tmp_path, data=data)
    mine = Net()  # other weights than the checkpoint's: the report loads the checkpoint's
    before = {k: v.clone() for k, v in mine.state_dict().items()}
    page = write_report(tmp_path, data=data, examples=1, model=mine).read_text(encoding="utf-8")
    assert ": Net on pics" in page and "confusion matrix" in page
    assert all(torch.equal(v, before[k]) for k, v in mine.state_dict().items())  # left alone
