"""The History that fit returns is the mapping it looks like: record keys to per-epoch lists."""

from __future__ import annotations

import pytest
from train_toydata import image_data

from convlens.build import build_model
from convlens.train import TrainConfig, fit
from convlens.train.run import History

RECORDS = [
    {"epoch": 1, "loss": 2.0, "acc": 0.25},
    {"epoch": 2, "loss": 1.0, "acc": 0.5, "val_acc": 0.75},
]


def test_in_keys_items_values_len_and_get():
    history = History(records=RECORDS)
    assert "acc" in history and "val_acc" in history and "rmse" not in history
    assert list(history.keys()) == ["epoch", "loss", "acc", "val_acc"]
    assert len(history) == 4
    assert dict(history.items()) == {
        "epoch": [1, 2],
        "loss": [2.0, 1.0],
        "acc": [0.25, 0.5],
        "val_acc": [None, 0.75],  # evaluated on the second epoch only
    }
    assert list(history.values())[2] == [0.25, 0.5]
    assert history.get("val_acc") == [None, 0.75] and history.get("rmse") is None
    assert history["loss"] == [2.0, 1.0] and history.history == dict(history)
    with pytest.raises(KeyError, match="rmse"):
        history["rmse"]


def test_an_empty_history_is_an_empty_mapping():
    history = History()
    assert "acc" not in history and len(history) == 0 and list(history) == []


def test_the_history_of_fit_and_the_schedule_it_counted():
    from convlens.train.run import schedule_steps

    data = image_data()  # 128 examples: batches of 48 give 2 steps per epoch, 16 dropped
    config = TrainConfig(epochs=3, batch_size=48, verbose=0, precision="float32")
    history = fit(build_model("conv3x3x4-pool2-fc3", (1, 12, 12)), data, config, val=data)
    assert "acc" in history and "val_acc" in history and len(history["acc"]) == 3
    assert history.get("val_rmse") is None
    assert schedule_steps(config, len(data)) == (2, 6)
    assert history["step"] == [2, 4, 6]  # what fit counted is what schedule_steps says
