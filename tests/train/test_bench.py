from __future__ import annotations

import math

import pytest
import torch
from train_toydata import image_data

from convlens.build import build_model
from convlens.commands.bench import format_comparison
from convlens.train import TrainConfig
from convlens.train.bench import (
    TUTORIAL_SETTINGS,
    PerSampleDataset,
    SpeedResult,
    compare,
    tutorial_fit,
)


def _tiny_models(data):
    """A maker of identically initialised small conv nets for ``data``."""

    def make():
        torch.manual_seed(0)
        return build_model("conv3x3x4-pool2-fc3", data.in_shape)

    return make


def test_the_per_sample_dataset_yields_what_float_x_gives():
    data = image_data(n=16)
    dataset = PerSampleDataset(data)
    whole = data.float_x()
    for i in (0, 7, 15):
        x, y = dataset[i]
        assert torch.allclose(x, whole[i], atol=1e-6) and y == data.y[i]


def test_per_sample_alternating_flips_mirror_the_given_images_then_the_others():
    data = image_data(n=6)
    whole = data.float_x()
    flips = torch.tensor([True, False, False, True, True, False])
    dataset = PerSampleDataset(data, flip=True, flips=flips)
    for epoch in (0, 1, 2):
        dataset.epoch = epoch
        for i in range(6):
            mirrored = bool(flips[i]) != (epoch == 1)
            x, _ = dataset[i]
            assert torch.allclose(x, whole[i].flip(-1) if mirrored else whole[i], atol=1e-6)


def test_per_sample_augmentation_is_a_padded_shift_or_a_mirror_of_the_image():
    data = image_data(n=4)
    assert data.x.dtype == torch.uint8
    whole = data.float_x()
    zero = (torch.zeros(()) - torch.tensor(data.mean)) / torch.tensor(data.std)  # a padded pixel
    padded = torch.nn.functional.pad(whole - zero.view(-1, 1, 1), (1, 1, 1, 1)) + zero.view(
        -1, 1, 1
    )
    h, w = whole.shape[-2:]
    dataset = PerSampleDataset(data, flip=True, crop=1)
    torch.manual_seed(0)
    for i in range(4):
        candidates = [
            v
            for top in range(3)
            for left in range(3)
            for base in (padded[i, :, top : top + h, left : left + w],)
            for v in (base, base.flip(-1))
        ]
        x, _ = dataset[i]
        assert any(torch.allclose(x, c, atol=1e-6) for c in candidates)


def test_time_to_is_the_first_epoch_at_or_over_the_target():
    r = SpeedResult("x", 1.0, 3.0, test_acc=[0.5, 0.91, 0.89], seconds_at_epoch=[1.0, 2.0, 3.0])
    assert r.time_to(0.9) == 2.0
    assert r.time_to(0.95) == math.inf


def test_compare_runs_the_three_loops_on_the_same_model():
    data = image_data(n=64)
    config = TrainConfig(epochs=2, batch_size=16, precision="float32", device="cpu", verbose=0)

    make = _tiny_models(data)

    result = compare(make, data, data, config, target=1.01, tutorial_epochs=2, rounds=2)
    assert result.tutorial is not None
    assert result.tutorial.epochs == 2 and len(result.tutorial.test_acc) == 2  # never reached 101%
    for r in (result.same_recipe, result.convlens):
        assert len(r.test_acc) == 2 and r.epochs == 2
    for r in (result.tutorial, result.same_recipe, result.convlens):
        assert r.images_per_s > 0 and r.flops_per_s
    text = format_comparison(result, 1.01)
    assert "images/s" in text and "tutorial, same recipe" in text
    assert "not in 2 epochs" in text
    assert result.interleaved is not None
    peer_rates, our_rates = result.interleaved
    assert len(peer_rates) == len(our_rates) == 2  # the warm-up round is dropped
    assert min(peer_rates + our_rates) > 0 and "2 alternating bursts" in text
    assert compare(make, data, data, config, tutorial_epochs=0).tutorial is None


def test_the_tutorial_loop_stops_at_its_target_and_uses_the_tutorial_settings():
    data = image_data(n=64)
    config = TrainConfig(epochs=5, **TUTORIAL_SETTINGS, device="cpu", verbose=0)
    # "Training a Classifier": SGD(lr=0.001, momentum=0.9); the Fashion-MNIST tutorials: batch 64
    assert (config.optimizer, config.lr, config.momentum, config.batch_size) == (
        "sgd",
        1e-3,
        0.9,
        64,
    )
    torch.manual_seed(0)
    model = build_model("conv3x3x4-pool2-fc3", data.in_shape)
    r = tutorial_fit(model, data, data, config, until=0.0)  # any accuracy reaches 0
    assert len(r.test_acc) == 1 and r.epochs == 1 and r.time_to(0.0) == r.seconds_at_epoch[0]


def test_format_comparison_gives_each_ratio_as_the_peer_over_convlens():
    from convlens.train.bench import Comparison

    peer = SpeedResult("p", 1000.0, 30.0, [0.8, 0.92], [10.0, 20.0], 1e9, epochs=2)
    ours = SpeedResult("c", 4000.0, 7.5, [0.85, 0.93], [3.75, 7.5], 4e9, epochs=2)
    slow = SpeedResult("t", 500.0, 40.0, [0.85, 0.9], [20.0, 40.0], 5e8, epochs=2)
    lines = format_comparison(Comparison(slow, peer, ours), 0.9).splitlines()
    rows = {line.split("  ")[0]: line.split() for line in lines}
    assert rows["images/s"][-2:] == ["8.00x", "4.00x"]  # 4000/500, 4000/1000
    assert rows["train s"][-2:] == ["5.33x", "4.00x"]  # 40/7.5, 30/7.5
    assert rows["to 90% test"][-2:] == ["5.33x", "2.67x"]  # 40 s / 7.5 s, 20 s / 7.5 s


def test_the_adam_loop_is_a_fourth_column_with_its_own_ratios():
    from convlens.train.bench import ADAM_SETTINGS, Comparison

    assert (ADAM_SETTINGS["optimizer"], ADAM_SETTINGS["lr"], ADAM_SETTINGS["batch_size"]) == (
        "adam",
        1e-3,
        64,
    )
    peer = SpeedResult("p", 1000.0, 30.0, [0.8, 0.92], [10.0, 20.0], 1e9, epochs=2)
    ours = SpeedResult("c", 4000.0, 7.5, [0.85, 0.93], [3.75, 7.5], 4e9, epochs=2)
    slow = SpeedResult("t", 500.0, 40.0, [0.85, 0.9], [20.0, 40.0], 5e8, epochs=2)
    adam = SpeedResult("a", 800.0, 30.0, [0.91], [15.0], 8e8, epochs=1)
    table = format_comparison(
        Comparison(slow, peer, ours, adam=adam, interleaved=([900.0], [3600.0])), 0.9
    )
    rows = {line.split("  ")[0]: line.split() for line in table.splitlines()}
    assert rows["images/s"][-3:] == ["8.00x", "5.00x", "4.00x"]  # 4000/500, /800, /1000
    assert rows["to 90% test"][-3:] == ["5.33x", "2.00x", "2.67x"]  # 40, 15 and 20 s over 7.5 s
    bursts = next(line for line in table.splitlines() if "alternating" in line).split()
    assert bursts[-3:] == ["900", "3,600", "4.00x"]
    assert "Adam lr 1e-3" in table


def test_the_time_to_a_target_of_sized_runs_is_the_shortest_run_that_reached_it():
    from convlens.train.bench import SizedRun, time_to_sized

    runs = [SizedRun(2.0, 24.0, 0.925), SizedRun(1.0, 12.0, 0.899), SizedRun(1.25, 15.0, 0.905)]
    assert time_to_sized(runs, 0.9) == (15.0, 1.25)  # 1 epoch ended at 89.9%, under the target
    assert time_to_sized(runs, 0.92) == (24.0, 2.0)
    seconds, epochs = time_to_sized(runs, 0.95)
    assert math.isinf(seconds) and math.isnan(epochs)


def test_sized_runs_are_whole_runs_of_each_length_with_ratios_against_the_peers():
    from convlens.train.bench import Comparison, SizedRun, sized_runs

    data = image_data(n=64)
    config = TrainConfig(epochs=3, batch_size=16, precision="float32", device="cpu", verbose=0)

    make = _tiny_models(data)

    runs = sized_runs(make, data, data, config, (1.0, 2.0))
    assert [r.epochs for r in runs] == [1.0, 2.0] and all(r.train_seconds > 0 for r in runs)
    assert all(0.0 <= r.test_acc <= 1.0 for r in runs)
    # the table's sentence: the shortest run at or over 90% (1.25 epochs, 15 s) against each peer
    adam = SpeedResult("Adam loop", 800.0, 75.0, [0.85, 0.91], [37.5, 75.0], epochs=2)
    peer = SpeedResult("p", 1000.0, 30.0, [0.8, 0.92], [10.0, 20.0], epochs=2)
    ours = SpeedResult("c", 4000.0, 7.5, [0.85, 0.93], [3.75, 7.5], epochs=2)
    sized = [SizedRun(1.0, 12.0, 0.899), SizedRun(1.25, 15.0, 0.905)]
    text = format_comparison(Comparison(None, peer, ours, adam=adam, sized=sized), 0.9)
    line = next(line for line in text.splitlines() if "shortest such run" in line)
    assert "(1.25 epochs): 15.0 s, 5.00x vs Adam loop, 1.33x vs p" in line  # 75/15, 20/15
    assert "1 epoch: 89.90% after 12.0 s" in text


def test_bench_refuses_lengths_that_are_not_epochs(capsys):
    from convlens.cli import main

    for text in ("1,x", "0", "1,-2"):
        assert main(["bench", "--sized", text]) == 2
        err = capsys.readouterr().err
        assert "--sized" in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_bench_names_a_device_it_cannot_use_in_one_sentence(capsys):
    from convlens.cli import main

    for argv in (["--device", "cuda"], ["--device", "nope"], ["--profile", "--device", "cuda"]):
        assert main(["bench", "--data", "digits", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert "device" in err and len(err.splitlines()) == 1
