"""The report's panels for LeNet-5 on 32x32 inputs, whose conv3 map is 1x1 (random weights)."""

import pytest
import torch

import convlens
from convlens.data import TensorData
from convlens.report import run as report_run
from convlens.train import save_checkpoint


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    """Every figure the report of a LeNet-5 run embeds, in page order."""
    run = tmp_path_factory.mktemp("lenet")
    gen = torch.Generator().manual_seed(0)
    data = TensorData(
        name="pictures", split="test", x=torch.randint(0, 256, (12, 1, 32, 32), generator=gen,
        dtype=torch.uint8), y=torch.arange(12) % 10, classes=tuple("abcdefghij"),
        mean=(0.5,), std=(0.25,),
    )  # fmt: skip
    torch.manual_seed(0)
    save_checkpoint(run / "last", convlens.create_model("lenet5"), data=data, epoch=1)
    kept = []
    embed = report_run.image

    def keep(fig, *args, **kwargs):
        kept.append(fig)
        return embed(fig, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_run, "image", keep)
        report_run.build_report(run, data=data, examples=1)
    return kept


def test_the_feature_map_panel_draws_a_1x1_map_as_bars(figures):
    axes = {ax.get_title().split(":")[0]: ax for fig in figures for ax in fig.axes}
    # conv3's 1x1 map: one bar per channel, 120 of them; conv2's 10x10 map stays a picture
    assert len(axes["conv3"].patches) == 120
    assert axes["conv2"].get_images() and not axes["conv2"].patches


def test_the_attribution_panel_takes_grad_cam_at_the_last_map_larger_than_1x1(figures):
    titles = [fig.get_suptitle() for fig in figures]
    assert any("Grad-CAM at conv2" in t for t in titles), titles
