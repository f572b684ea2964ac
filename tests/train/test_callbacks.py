"""fit's callbacks (on_step, on_epoch) and TrainControl (pause, resume, stop, set_lr)."""

from __future__ import annotations

import json
import math
import threading

import pytest
import torch
from train_toydata import sequence_data

from convlens.build import build_model
from convlens.errors import ConfigError
from convlens.train import StepInfo, TrainConfig, TrainControl, fit

SPEC = "conv1d5x8-pool2-dropout0.25-fc2"
# float32 on the CPU with deterministic algorithms, so runs can be compared bit for bit
EXACT = dict(precision="float32", device="cpu", deterministic=True, threads=1, verbose=0)
# 256 examples in batches of 32: 8 steps an epoch
CONFIG = TrainConfig(epochs=3, batch_size=32, optimizer="adamw", lr=3e-3, **EXACT)


def _model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(SPEC, (1, 40))


def test_on_step_and_on_epoch_report_every_step_and_every_validated_epoch(tmp_path):
    steps: list[StepInfo] = []
    epochs: list[dict] = []
    data = sequence_data()
    fit(
        _model(), data, CONFIG, val=data, run_dir=tmp_path,
        on_step=steps.append, on_epoch=epochs.append,
    )  # fmt: skip
    assert [s.step for s in steps] == list(range(1, 25))
    assert [s.epoch for s in steps] == [k / 8 for k in range(1, 25)]
    # the records written to metrics.jsonl, each passed on after its validation
    written = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert epochs == written and all("val_acc" in r for r in epochs)
    for e, record in enumerate(epochs):
        batches = steps[8 * e : 8 * (e + 1)]
        # equal batches: the epoch's loss and accuracy are the means of its batches'
        assert record["loss"] == pytest.approx(sum(s.loss for s in batches) / 8)
        assert record["acc"] == pytest.approx(sum(s.accuracy for s in batches) / 8)
        assert record["lr"] == batches[-1].lr
    assert all(s.images_per_s > 0 and 0 <= s.accuracy <= 1 for s in steps)


def test_pause_blocks_between_steps_until_resumed_and_changes_nothing():
    reference = _model()
    fit(reference, sequence_data(), CONFIG)

    control = TrainControl()
    seen: list[int] = []
    paused_at = threading.Event()

    def on_step(info: StepInfo) -> None:
        seen.append(info.step)
        if info.step == 3:
            control.pause()  # takes effect before step 4
            paused_at.set()

    model = _model()
    worker = threading.Thread(
        target=fit,
        args=(model, sequence_data(), CONFIG),
        kwargs=dict(on_step=on_step, control=control),
    )
    worker.start()
    assert paused_at.wait(timeout=60)
    worker.join(timeout=0.5)  # a paused run stays paused: no step is taken meanwhile
    assert worker.is_alive() and control.paused and seen == [1, 2, 3]
    control.resume()
    worker.join(timeout=120)
    assert not worker.is_alive() and seen == list(range(1, 25))
    for key, value in reference.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_stop_while_paused_ends_the_run():
    control = TrainControl()

    def on_step(info: StepInfo) -> None:
        if info.step == 2:
            control.pause()
            threading.Timer(0.2, control.stop).start()

    history = fit(_model(), sequence_data(), CONFIG, on_step=on_step, control=control)
    assert history.stopped and history.outcome == "stopped"
    assert history.records == []  # stopped inside the first epoch


def test_stop_keeps_a_resumable_run_that_ends_like_an_uninterrupted_one(tmp_path):
    data = sequence_data()
    reference = _model()
    fit(reference, data, CONFIG, val=data, run_dir=tmp_path / "whole")

    control = TrainControl()

    def on_step(info: StepInfo) -> None:
        if info.step == 11:  # mid-epoch 2
            control.stop()

    cut = tmp_path / "cut"
    history = fit(_model(), data, CONFIG, val=data, run_dir=cut, on_step=on_step, control=control)
    assert history.stopped and history.outcome == "stopped" and history.test is None
    assert len(history.records) == 1
    assert json.loads((cut / "state.json").read_text())["step"] == 11
    assert {"best.json", "last.json", "last.safetensors"} <= {p.name for p in cut.iterdir()}

    model = _model()
    resumed = fit(model, data, CONFIG, val=data, run_dir=cut, resume=True)
    assert not resumed.stopped and [r["step"] for r in resumed.records] == [8, 16, 24]
    for key, value in reference.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_set_lr_applies_from_the_next_step_and_shows_in_the_metrics(tmp_path):
    control = TrainControl()
    lrs: list[float] = []

    def on_step(info: StepInfo) -> None:
        lrs.append(info.lr)
        if info.step == 4:
            control.set_lr(0.5)

    config = CONFIG.replace(lr=0.01, schedule="constant", warmup=0.0, epochs=2)
    fit(_model(), sequence_data(), config, run_dir=tmp_path, on_step=on_step, control=control)
    assert lrs == [0.01] * 4 + [0.5] * 12
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["lr"] for r in records] == [0.5, 0.5]


def test_set_lr_rescales_the_rest_of_the_schedule(tmp_path):
    control = TrainControl()
    lrs: list[float] = []

    def on_step(info: StepInfo) -> None:
        lrs.append(info.lr)
        if info.step == 6:
            control.set_lr(0.02)

    # cosine from 0.1 over 16 steps, no warm-up: lr(s) = 0.1 * (1 + cos(pi * s / 16)) / 2
    config = CONFIG.replace(lr=0.1, schedule="cosine", warmup=0.0, epochs=2)
    fit(_model(), sequence_data(), config, run_dir=tmp_path, on_step=on_step, control=control)

    def cosine(s: int) -> float:
        return (1 + math.cos(math.pi * s / 16)) / 2

    assert lrs[:6] == pytest.approx([0.1 * cosine(s) for s in range(6)])
    # step 6 (0-based) runs at 0.02; later steps keep the cosine's shape from there
    assert lrs[6:] == pytest.approx([0.02 * cosine(s) / cosine(6) for s in range(6, 16)])
    # the scale is part of the resume state
    assert json.loads((tmp_path / "state.json").read_text())["lr_scale"] == pytest.approx(
        0.02 / (0.1 * cosine(6))
    )


@pytest.mark.parametrize("bad", [0, -1e-3, float("nan"), float("inf")])
def test_set_lr_refuses_a_rate_that_is_not_a_positive_number(bad):
    with pytest.raises(ConfigError, match="positive number"):
        TrainControl().set_lr(bad)
