"""Batched augmentation against a per-sample twin written with torch.nn.functional.pad and slices."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from convlens.data import Augment, augment_batch
from convlens.data.augment import cutout_batch, shift_batch
from convlens.errors import ConfigError


def _naive_shift(image: torch.Tensor, dy: int, dx: int, pad: int, mode: str) -> torch.Tensor:
    """Crop of the original size at offset (dy + pad, dx + pad) from the padded image."""
    _, h, w = image.shape
    padded = F.pad(
        image[None].float(), (pad, pad, pad, pad), mode="constant" if mode == "zeros" else "reflect"
    )[0]
    return padded[:, dy + pad : dy + pad + h, dx + pad : dx + pad + w].to(image.dtype)


@pytest.mark.parametrize("mode", ["zeros", "reflect"])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_shift_batch_equals_pad_and_crop_per_sample(mode, dtype):
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(6, 3, 7, 9, generator=g) * 255).to(dtype)
    pad = 3
    dy = torch.randint(-pad, pad + 1, (6,), generator=g)
    dx = torch.randint(-pad, pad + 1, (6,), generator=g)
    out = shift_batch(x, dy, dx, mode)
    for n in range(6):
        assert torch.equal(out[n], _naive_shift(x[n], int(dy[n]), int(dx[n]), pad, mode)), n
    assert out.dtype == dtype


def test_shift_by_hand():
    x = torch.arange(1, 10, dtype=torch.uint8).view(1, 1, 3, 3)  # 1 2 3 / 4 5 6 / 7 8 9
    down_right = shift_batch(x, torch.tensor([-1]), torch.tensor([-1]))  # content moves down-right
    assert down_right[0, 0].tolist() == [[0, 0, 0], [0, 1, 2], [0, 4, 5]]
    mirrored = shift_batch(x, torch.tensor([0]), torch.tensor([1]), "reflect")
    assert mirrored[0, 0].tolist() == [[2, 3, 2], [5, 6, 5], [8, 9, 8]]


def test_cutout_by_hand():
    x = torch.ones(2, 1, 5, 5)
    out = cutout_batch(x, torch.tensor([2, 0]), torch.tensor([2, 0]), 2)
    # size 2 centred at (2, 2): rows/cols 1..2; at (0, 0): rows/cols -1..0 clipped to 0..0
    assert out[0, 0].eq(0).nonzero().tolist() == [[1, 1], [1, 2], [2, 1], [2, 2]]
    assert out[1, 0].eq(0).nonzero().tolist() == [[0, 0]]


def test_augment_is_reproducible_and_leaves_input_alone():
    x = (torch.rand(32, 3, 8, 8) * 255).to(torch.uint8)
    before = x.clone()
    cfg = Augment(crop_padding=2, flip=True, translate=1, cutout=3)
    a = augment_batch(x, cfg, torch.Generator().manual_seed(5))
    b = augment_batch(x, cfg, torch.Generator().manual_seed(5))
    c = augment_batch(x, cfg, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(x, before)
    assert a.shape == x.shape and a.dtype == torch.uint8


def test_flip_only_flips_about_half_and_exactly():
    x = torch.arange(4, dtype=torch.float32).repeat(1000, 1, 1, 1)  # (1000, 1, 1, 4)
    out = augment_batch(x, Augment(flip=True), torch.Generator().manual_seed(0))
    flipped = (out[:, 0, 0] == torch.tensor([3.0, 2.0, 1.0, 0.0])).all(1)
    kept = (out[:, 0, 0] == x[:, 0, 0]).all(1)
    assert bool((flipped | kept).all())
    assert 400 < int(flipped.sum()) < 600  # Binomial(1000, 1/2): 10 standard deviations wide


def test_sequences_are_shifted_along_their_length():
    x = torch.arange(1, 11, dtype=torch.float32).view(1, 1, 10).repeat(20, 1, 1)
    out = augment_batch(x, Augment(translate=2), torch.Generator().manual_seed(1))
    assert out.shape == (20, 1, 10)
    for row in out[:, 0]:
        nz = row[row != 0]
        start = int(nz[0]) - 1  # the first visible value tells the shift
        assert nz.tolist() == list(range(start + 1, start + 1 + len(nz)))


def test_inactive_config_returns_the_batch():
    x = torch.zeros(2, 1, 4, 4)
    assert augment_batch(x, Augment()) is x


def test_bad_config():
    with pytest.raises(ConfigError, match="pad_mode 'wrap'"):
        Augment(pad_mode="wrap")
    with pytest.raises(ConfigError, match="cutout must be >= 0"):
        Augment(cutout=-1)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_augment_on_cuda_matches_cpu_for_the_same_shifts():
    x = (torch.rand(16, 3, 8, 8) * 255).to(torch.uint8)
    dy, dx = torch.randint(-2, 3, (16,)), torch.randint(-2, 3, (16,))
    cpu = shift_batch(x, dy, dx, "reflect")
    gpu = shift_batch(x.cuda(), dy.cuda(), dx.cuda(), "reflect")
    assert torch.equal(gpu.cpu(), cpu)
    g = torch.Generator(device="cuda").manual_seed(0)
    out = augment_batch(x.cuda(), Augment(crop_padding=2, flip=True, cutout=3), g)
    assert out.device.type == "cuda" and out.shape == x.shape
