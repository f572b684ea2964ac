from __future__ import annotations

import math

import torch
from train_toydata import image_data

from convlens.build import build_model
from convlens.train import TrainConfig
from convlens.train.bench import PerSampleDataset, SpeedResult, compare, format_comparison


def test_the_per_sample_dataset_yields_what_float_x_gives():
    data = image_data(n=16)
    dataset = PerSampleDataset(data)
    whole = data.float_x()
    for i in (0, 7, 15):
        x, y = dataset[i]
        assert torch.allclose(x, whole[i]) and y == data.y[i]


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


def test_compare_runs_both_loops_on_the_same_model():
    data = image_data(n=64)
    config = TrainConfig(epochs=2, batch_size=16, precision="float32", device="cpu", verbose=0)

    def make():
        torch.manual_seed(0)
        return build_model("conv3x3x4-pool2-fc3", data.in_shape)

    peer, ours = compare(make, data, data, config)
    for r in (peer, ours):
        assert len(r.test_acc) == 2 and r.images_per_s > 0 and r.flops_per_s
    text = format_comparison(peer, ours, 0.5)
    assert "images/s" in text and "tutorial loop" in text
