"""`cache_stem`: the frozen first layers computed once per training image, not at every step."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from train_toydata import image_data

from convlens.build import build_model
from convlens.data.augment import flip_batch
from convlens.errors import ConfigError
from convlens.train import stem
from convlens.train.config import TrainConfig
from convlens.train.loop import fit

SPEC = "conv3x3x8p1-relu-pool2-bn-relu-conv3x3x8p1-gap-fc3"


def _frozen(spec: str = SPEC, shape: tuple[int, ...] = (1, 12, 12)) -> nn.Sequential:
    model = build_model(spec, shape)
    model.conv1.requires_grad_(False)
    return model


def test_the_stem_is_the_frozen_prefix_up_to_the_first_layer_with_state_or_parameters():
    assert (
        stem.stem_length(_frozen()) == 3
    )  # conv1, relu1, pool2's pool1; bn1 keeps batch statistics
    assert stem.stem_length(build_model(SPEC, (1, 12, 12))) == 0  # conv1 trains
    assert stem.stem_length(_frozen("conv3x3x8p1-bn-relu-fc3")) == 1
    model = _frozen("conv3x3x8p1-relu-conv3x3x8p1-relu-fc3")
    assert stem.stem_length(model) == 2  # the second convolution trains
    model.conv2.requires_grad_(False)
    assert stem.stem_length(model) == 4
    assert stem.stem_length(build_model("pool2-relu-fc3", (1, 12, 12))) == 0  # no convolution
    frozen = _frozen("conv3x3x8p1-relu-gap")
    frozen.requires_grad_(False)
    assert stem.stem_length(frozen) == 2  # the last layer is left to run, never the whole network
    assert stem.stem_length(nn.Conv2d(1, 2, 3).requires_grad_(False)) == 0  # not a Sequential


def test_the_hardware_line_names_the_stem():
    assert stem.stem_note([]) == ""
    assert stem.stem_note(["conv1", "pool1"]) == ", conv1 + pool1 computed once per image"
    names = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2"]
    assert stem.stem_note(names) == ", conv1 to pool2 (6 layers) computed once per image"


def test_a_table_is_built_when_each_row_is_used_twice_and_fits():
    # 60,000 images and their mirror images: 120,000 rows of 16x14x14 bf16 values (6,272 bytes)
    rows, row = 120_000, 16 * 14 * 14 * 2
    assert stem.worth_it("auto", 6 * 469, 128, rows, row)  # 360,192 images through the stem
    assert not stem.worth_it("auto", 469, 128, rows, row)  # 60,032: each row used half a time
    assert stem.worth_it("auto", 1875, 128, rows, row)  # 240,000 = twice 120,000
    assert not stem.worth_it("auto", 1874, 128, rows, row)
    assert stem.worth_it("on", 1, 128, rows, row)
    assert not stem.worth_it("off", 10**6, 128, rows, row)
    assert not stem.worth_it("on", 10**6, 128, stem.MAX_BYTES // 100 + 1, 100)  # over 2 GiB
    assert not stem.worth_it("on", 1, 128, rows, row, limit=rows * row - 1)  # over a GPU's quarter
    assert stem.memory_limit(torch.device("cpu")) == stem.MAX_BYTES


def test_the_rows_are_the_stem_of_each_image_and_of_its_mirror_image():
    model = _frozen()
    x = torch.randn(40, 1, 12, 12)
    front, rest = stem.split(model, stem.stem_length(model))
    assert [type(m) for m in rest][:2] == [nn.BatchNorm2d, nn.ReLU]
    table = stem.StemTable(
        front, rest, x, mirrored=True, autocast=torch.autocast("cpu", enabled=False),
        channels_last=True,
    )  # fmt: skip
    assert table.rows.shape == (80, 8, 6, 6)
    assert table.nbytes == 80 * 8 * 6 * 6 * 4
    index = torch.tensor([3, 0, 39, 3])
    mirror = torch.tensor([True, False, True, False])
    with torch.no_grad():
        expected = front(flip_batch(x[index], mirror))  # pool, ReLU, conv one image at a time
        assert torch.allclose(table.batch(index, mirror), expected, atol=1e-6)
        assert torch.allclose(table.batch(index), front(x[index]), atol=1e-6)
    assert table.batch(index).is_contiguous(memory_format=torch.channels_last)
    plain = stem.StemTable(
        front, rest, x, mirrored=False, autocast=torch.autocast("cpu", enabled=False),
        channels_last=False,
    )  # fmt: skip
    assert plain.rows.shape == (40, 8, 6, 6)
    with pytest.raises(ConfigError, match="without the mirrored images"):
        plain.batch(index, mirror)


def _run(cache: str, **settings):
    torch.manual_seed(0)
    model = build_model(SPEC, (1, 12, 12))
    config = TrainConfig(
        epochs=3, batch_size=16, lr=0.01, whiten=True, verbose=0, device="cpu",
        precision="float32", cache_stem=cache, seed=1, **settings,
    )  # fmt: skip
    history = fit(model, image_data(96), config)
    return history, model


@pytest.mark.parametrize("settings", [{}, {"flip": True}, {"flip": True, "alternate_flip": True}])
def test_training_from_the_table_follows_the_same_path_as_without(settings):
    # the same random order and flips, the same layers: the losses agree to float32 rounding
    cached, model = _run("on", **settings)
    direct, other = _run("off", **settings)
    assert cached.stem == ("conv1", "relu1", "pool1")
    assert "conv1 + relu1 + pool1 computed once per image" in cached.hardware
    assert direct.stem == () and "computed once" not in direct.hardware
    for a, b in zip(cached.records, direct.records, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)
        assert a["acc"] == b["acc"]
    for (name, p), q in zip(model.state_dict().items(), other.state_dict().values(), strict=True):
        assert torch.allclose(p.float(), q.float(), atol=1e-4), name


def test_auto_leaves_out_runs_that_would_not_pay_and_those_that_crop():
    # 96 images and their mirror images: 192 rows; 3 epochs of 96 pass 288 images (1.5 each)
    assert _run("auto", flip=True)[0].stem == ()
    assert _run("auto", flip=False)[0].stem == ("conv1", "relu1", "pool1")  # 288 of 96 rows
    assert _run("on", flip=True, crop=2)[0].stem == ()  # a crop is not in the table


def test_a_run_interrupted_and_resumed_from_the_table_ends_as_an_uninterrupted_one(tmp_path):
    from convlens.train.callbacks import StepInfo

    def run(out, stop_at=0, resume=False):
        def on_step(info: StepInfo) -> None:
            if info.step == stop_at:
                raise KeyboardInterrupt  # as Ctrl-C: fit saves the resume state

        torch.manual_seed(0)
        model = build_model(SPEC, (1, 12, 12))
        config = TrainConfig(
            epochs=3, batch_size=16, lr=0.01, whiten=True, verbose=0, device="cpu",
            precision="float32", cache_stem="on", flip=True, seed=1,
        )  # fmt: skip
        history = fit(model, image_data(96), config, run_dir=out, resume=resume, on_step=on_step)
        return model, history

    whole, history = run(tmp_path / "whole")
    assert history.stem == ("conv1", "relu1", "pool1")
    run(tmp_path / "parts", stop_at=8)  # mid-way through the second epoch of 6 steps
    resumed, again = run(tmp_path / "parts", resume=True)
    assert again.stem == history.stem
    for (name, p), q in zip(whole.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.allclose(p.float(), q.float(), atol=1e-5), name


def test_a_stem_unfrozen_or_changed_during_the_run_is_computed_again_at_every_step():
    # fine-tuning schedules unfreeze early layers part-way; the table then no longer stands in
    seen = {}

    def unfreeze(model):
        def on_step(info) -> None:
            if info.step == 4:
                model.conv1.requires_grad_(True)
            seen[info.step] = model.conv1.weight.grad is not None

        return on_step

    torch.manual_seed(0)
    model = build_model(SPEC, (1, 12, 12))
    config = TrainConfig(
        epochs=2, batch_size=16, lr=0.01, whiten=True, verbose=0, device="cpu", cache_stem="on"
    )
    history = fit(model, image_data(96), config, on_step=unfreeze(model))
    assert history.stem == ("conv1", "relu1", "pool1")
    assert not any(seen[s] for s in range(1, 5)) and all(seen[s] for s in range(5, 13))
    model.conv1.requires_grad_(False)
    table = stem.StemTable(
        *stem.split(model, 3), torch.randn(4, 1, 12, 12), mirrored=False,
        autocast=torch.autocast("cpu", enabled=False), channels_last=False,
    )  # fmt: skip
    assert table.current()
    model.conv1.requires_grad_(True)
    assert not table.current()
    model.conv1.requires_grad_(False)
    assert table.current()
    with torch.no_grad():
        model.conv1.weight.mul_(2)  # an edit in place
    assert not table.current()
