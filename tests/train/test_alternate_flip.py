"""Alternating flips: every training image is shown mirrored in exactly one of each two epochs."""

from __future__ import annotations

import torch
from train_toydata import image_data

from convlens.build import build_model
from convlens.data.augment import alternating_flips
from convlens.train import TrainConfig, fit

N, BATCH, EPOCHS = 64, 16, 3


def _mirrored_per_epoch(alternate: bool, seed: int = 0) -> list[set[int]]:
    """Train on 64 noise images and say, for each epoch, which of them the model saw mirrored.

    Each input the model receives in training is matched to the data by its pixels: it equals
    either one image or that image mirrored (a noise image is never its own mirror image)."""
    data = image_data(n=N)
    images = data.float_x()
    seen: list[torch.Tensor] = []

    def record(module: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        if module.training:  # not the evaluation of the test set
            seen.append(args[0].detach().contiguous().clone())

    model = build_model("conv3x3x4-pool2-fc3", (1, 12, 12))
    model.register_forward_pre_hook(record)
    config = TrainConfig(
        epochs=EPOCHS, batch_size=BATCH, flip=True, alternate_flip=alternate, seed=seed,
        precision="float32", device="cpu", verbose=0,
    )  # fmt: skip
    fit(model, data, config)
    shown = torch.cat(seen)
    assert len(shown) == N * EPOCHS
    mirrored: list[set[int]] = []
    for epoch in range(EPOCHS):
        flipped: set[int] = set()
        upright: set[int] = set()
        for x in shown[epoch * N : (epoch + 1) * N]:
            same = (images == x).flatten(1).all(1).nonzero().flatten().tolist()
            mirror = (images.flip(-1) == x).flatten(1).all(1).nonzero().flatten().tolist()
            assert len(same) + len(mirror) == 1  # exactly one image, one way
            (upright if same else flipped).update(same or mirror)
        assert len(upright | flipped) == N  # every image once per epoch
        mirrored.append(flipped)
    return mirrored


def test_each_image_is_mirrored_in_every_other_epoch():
    first, second, third = _mirrored_per_epoch(alternate=True)
    assert first == set(alternating_flips(N, 0).nonzero().flatten().tolist())
    assert N // 4 < len(first) < 3 * N // 4  # a random part of the images, about half
    assert second == set(range(N)) - first  # the others in odd epochs
    assert third == first


def test_random_flips_show_some_image_the_same_way_twice():
    # the contrast: with independent coin flips 64 images all switching sides has chance 2**-64
    first, second, _ = _mirrored_per_epoch(alternate=False)
    same_way_twice = (first & second) | (set(range(N)) - first - second)
    assert same_way_twice


def test_the_mirrored_half_follows_the_seed():
    assert torch.equal(alternating_flips(1000, 3), alternating_flips(1000, 3))
    assert not torch.equal(alternating_flips(1000, 3), alternating_flips(1000, 4))
