"""Batched data augmentation on tensors: one call per batch, on the batch's device.

Per-sample augmentation in Python (a torchvision transform per image in a DataLoader worker) costs
more than a small CNN's forward pass on a CPU. Here every random choice for the whole batch is
drawn at once from a ``torch.Generator`` and applied with index arithmetic, as in Keller Jordan's
airbench (github.com/KellerJordan/cifar10-airbench), so augmentation is a handful of tensor ops.

Works on uint8 or float images (N, C, H, W) and on sequences (N, C, L), treated as height 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

PAD_MODES = ("zeros", "reflect")


@dataclass(frozen=True)
class Augment:
    crop_padding: int = 0  # random crop of the original size from the image padded by this (0: off)
    pad_mode: str = "zeros"  # how crop_padding pads: "zeros" or "reflect" (mirror without the edge)
    flip: bool = False  # horizontal flip with probability 1/2 (not for digits: 2 vs 5 ...)
    translate: int = 0  # shift by up to +-translate pixels per axis, zero filled (0: off)
    cutout: int = 0  # side of a zeroed square at a random centre (DeVries and Taylor 2017; 0: off)

    def __post_init__(self) -> None:
        from convlens.errors import ConfigError

        if self.pad_mode not in PAD_MODES:
            raise ConfigError(f"pad_mode {self.pad_mode!r} is not one of {', '.join(PAD_MODES)}")
        for name in ("crop_padding", "translate", "cutout"):
            if getattr(self, name) < 0:
                raise ConfigError(f"Augment.{name} must be >= 0, got {getattr(self, name)}")

    @property
    def active(self) -> bool:
        return bool(self.crop_padding or self.flip or self.translate or self.cutout)


# CIFAR-10 recipe of He et al. 2016 (section 4.2): pad 4, random 32x32 crop, random flip.
CIFAR = Augment(crop_padding=4, flip=True)


def _source_index(index: torch.Tensor, size: int, mode: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Map output coordinates that may fall outside [0, size) to source ones, plus a validity mask."""
    if mode == "reflect" and size > 1:
        period = 2 * (size - 1)  # reflect: -1 -> 1, size -> size - 2 (like torch.nn.functional.pad)
        index = index % period
        index = torch.where(index >= size, period - index, index)
        return index, torch.ones_like(index, dtype=torch.bool)
    valid = (index >= 0) & (index < size)
    return index.clamp(0, size - 1), valid


def shift_batch(
    x: torch.Tensor, dy: torch.Tensor, dx: torch.Tensor, mode: str = "zeros"
) -> torch.Tensor:
    """out[n, :, i, j] = x[n, :, i + dy[n], j + dx[n]]; outside the image: 0 or the mirror image.

    A random crop of size (H, W) at offset (oy, ox) from x padded by p is this with dy = oy - p.
    """
    n, _, h, w = x.shape
    rows = dy.view(n, 1) + torch.arange(h, device=x.device)  # (N, H)
    cols = dx.view(n, 1) + torch.arange(w, device=x.device)  # (N, W)
    rows, row_ok = _source_index(rows, h, mode)
    cols, col_ok = _source_index(cols, w, mode)
    batch = torch.arange(n, device=x.device).view(n, 1, 1)
    out = x[batch, :, rows.view(n, h, 1), cols.view(n, 1, w)]  # (N, H, W, C)
    out = out.permute(0, 3, 1, 2)
    keep = (row_ok.view(n, 1, h, 1) & col_ok.view(n, 1, 1, w)).to(out.dtype)
    return (out * keep).contiguous()


def _randint(
    high: int, n: int, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    gen_device = generator.device if generator is not None else torch.device("cpu")
    return torch.randint(0, high, (n,), generator=generator, device=gen_device).to(device)


def random_mirror(n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """Which of n examples a random flip mirrors (bool (N,), each with probability 1/2): the draw
    ``augment_batch`` makes, so that a run can choose the mirrored images before it has them."""
    return _randint(2, n, generator, device).bool()


def flip_batch(x: torch.Tensor, mirror: torch.Tensor) -> torch.Tensor:
    """The batch with the examples where ``mirror`` (N,) is True mirrored along their last axis."""
    return torch.where(mirror.view(-1, *[1] * (x.dim() - 1)), x.flip(-1), x)


def alternating_flips(n: int, seed: int) -> torch.Tensor:
    """The examples (bool (N,)) mirrored in even epochs: a random half; odd epochs mirror the others.

    Random flips show an image the same way in two epochs half of the time; alternating them
    shows it both ways in every pair of epochs (Jordan, "94% on CIFAR-10 in 3.29 seconds on a
    single GPU", 2024, section 3.6). ``mirrored_in`` says which ones an epoch mirrors.
    """
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 2, (n,), generator=generator).bool()


def mirrored_in(flips: torch.Tensor, epoch: int) -> torch.Tensor:
    """Of examples marked by ``alternating_flips``, those that ``epoch`` mirrors."""
    return flips ^ bool(epoch % 2)


def cutout_batch(x: torch.Tensor, cy: torch.Tensor, cx: torch.Tensor, size: int) -> torch.Tensor:
    """Zero a size x size square centred at (cy[n], cx[n]) in each image, clipped at the borders."""
    n, _, h, w = x.shape
    top, left = cy - size // 2, cx - size // 2
    rows = torch.arange(h, device=x.device).view(1, h)
    cols = torch.arange(w, device=x.device).view(1, w)
    in_rows = (rows >= top.view(n, 1)) & (rows < top.view(n, 1) + size)  # (N, H)
    in_cols = (cols >= left.view(n, 1)) & (cols < left.view(n, 1) + size)  # (N, W)
    square = in_rows.view(n, 1, h, 1) & in_cols.view(n, 1, 1, w)
    return x.masked_fill(square, 0)


def augment_batch(
    x: torch.Tensor, cfg: Augment, generator: torch.Generator | None = None
) -> torch.Tensor:
    """A randomly augmented copy of the batch x (N, C, H, W) or (N, C, L); x itself is untouched."""
    if not cfg.active or x.shape[0] == 0:
        return x
    squeeze = x.dim() == 3
    if squeeze:
        x = x.unsqueeze(2)  # (N, C, L) -> (N, C, 1, L)
    n, _, h, w = x.shape
    dev = x.device
    for pad, mode in ((cfg.crop_padding, cfg.pad_mode), (cfg.translate, "zeros")):
        if pad:
            dy = (
                _randint(2 * pad + 1, n, generator, dev) - pad
                if h > 1
                else torch.zeros(n, dtype=torch.long, device=dev)
            )
            dx = _randint(2 * pad + 1, n, generator, dev) - pad
            x = shift_batch(x, dy, dx, mode)
    if cfg.flip:
        x = flip_batch(x, random_mirror(n, generator, dev))
    if cfg.cutout:
        cy = _randint(h, n, generator, dev)
        cx = _randint(w, n, generator, dev)
        x = cutout_batch(x, cy, cx, cfg.cutout)
    return x.squeeze(2) if squeeze else x
