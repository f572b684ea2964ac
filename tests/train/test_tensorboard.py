"""TensorBoard event files: the same numbers as metrics.jsonl, read back with TensorBoard's reader."""

from __future__ import annotations

import json

import pytest
import torch
from train_toydata import sequence_data

from convlens.build import build_model
from convlens.errors import ConfigError
from convlens.train import TrainConfig, fit
from convlens.train.tensorboard import TensorBoardLog, scalar_tag

CONFIG = TrainConfig(epochs=2, batch_size=64, device="cpu", precision="float32", verbose=0)


def test_tags_group_train_and_val_curves():
    assert scalar_tag("loss") == "loss/train"
    assert scalar_tag("val_acc") == "acc/val"
    assert scalar_tag("lr") == "run/lr"
    assert scalar_tag("images_per_s") == "run/images_per_s"


def test_events_hold_each_epochs_metrics(tmp_path):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    data = sequence_data()
    torch.manual_seed(0)
    model = build_model("conv1d5x8-pool2-fc2", data.in_shape)
    fit(model, data, CONFIG.replace(tensorboard=True), val=data, run_dir=tmp_path)
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").open()]
    events = accumulator.EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    for key, tag in [("loss", "loss/train"), ("val_acc", "acc/val"), ("lr", "run/lr")]:
        scalars = events.Scalars(tag)
        assert [s.step for s in scalars] == [r["step"] for r in records] == [4, 8]
        # event files store float32
        assert [s.value for s in scalars] == pytest.approx([r[key] for r in records], rel=1e-6)


def test_no_event_files_unless_asked(tmp_path):
    data = sequence_data()
    fit(build_model("conv1d5x8-pool2-fc2", data.in_shape), data, CONFIG, run_dir=tmp_path)
    assert not (tmp_path / "tensorboard").exists()


def test_missing_tensorboard_names_the_extra(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name == "tensorboard":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(ConfigError, match=r"pip install convlens\[tensorboard\]"):
        TensorBoardLog(tmp_path)
