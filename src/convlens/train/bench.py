"""Training speed, side by side: convlens's loop against the loop of the PyTorch tutorials.

The peer is what the PyTorch "Training a Classifier" and "Datasets & DataLoaders" tutorials teach:
a per-sample ``Dataset`` whose ``__getitem__`` returns one image, turned into a tensor, augmented
and normalised by per-sample transforms as torchvision does, a ``DataLoader`` with
``shuffle=True`` that collates batches in Python, float32, the same model. It runs twice:

- with the tutorials' own training settings (``TUTORIAL_SETTINGS``: SGD with momentum, a constant
  learning rate, batches of 64, no augmentation), until it reaches the target test accuracy: the
  time a user of the tutorials waits for a given accuracy;
- with the convlens recipe's optimiser, schedule, batch size, augmentation and epochs: the same
  arithmetic, so the difference is the engine alone (data pipeline, precision and layout).

convlens keeps the data set on the device as one tensor, gathers batches by index, and trains in
bf16 with channels-last where the hardware supports it.

All loops are timed the same way: training time only (evaluation after each epoch is excluded
from the clock), so the time to a test accuracy counts the steps it took, not the evaluations.
Library functions return data; benchmarks/train_speed.py and ``convlens bench`` print it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from convlens.data.augment import alternating_flips, mirrored_in
from convlens.train.config import TrainConfig
from convlens.train.device import resolve_device, synchronize
from convlens.train.evaluation import evaluate
from convlens.train.loop import fit, training_flops
from convlens.train.optim import lr_factor, set_lr, torch_optimizer

# The training settings of the PyTorch tutorials. "Training a Classifier" steps
# ``optim.SGD(lr=0.001, momentum=0.9)`` on plain cross-entropy; the Fashion-MNIST tutorials
# ("Datasets & DataLoaders", "Optimizing Model Parameters") batch 64 examples and train for 10
# epochs (the latter without momentum: the stronger of the two optimisers is taken). No tutorial
# augments, smooths labels, decays weights or schedules the learning rate.
TUTORIAL_SETTINGS: dict[str, Any] = dict(
    optimizer="sgd", lr=1e-3, momentum=0.9, nesterov=False, weight_decay=0.0, schedule="constant",
    warmup=0.0, batch_size=64, label_smoothing=0.0, grad_clip=0.0, flip=False, crop=0, tta=False,
)  # fmt: skip
TUTORIAL_EPOCHS = 10
# A well-written loop of the same kind, stronger than the tutorials' settings: the same per-sample
# Dataset + DataLoader (batches of 64, shuffled) and float32, with Adam at its usual lr 1e-3.
ADAM_SETTINGS: dict[str, Any] = {**TUTORIAL_SETTINGS, "optimizer": "adam", "momentum": 0.0}


@dataclass
class SpeedResult:
    name: str
    images_per_s: float  # training throughput over all epochs
    train_seconds: float  # training time, evaluation excluded
    test_acc: list[float] = field(default_factory=list)  # after each epoch
    seconds_at_epoch: list[float] = field(default_factory=list)  # cumulative training time
    flops_per_s: float | None = None
    epochs: float = 0.0  # epochs trained (a run stopped at its target trains fewer)
    hardware: str = ""  # device, precision, layout and threads, where the loop chose them

    def time_to(self, accuracy: float) -> float:
        """Training seconds until the test accuracy first reached ``accuracy`` (inf if never)."""
        for acc, seconds in zip(self.test_acc, self.seconds_at_epoch):
            if acc >= accuracy:
                return seconds
        return math.inf


class PerSampleDataset(torch.utils.data.Dataset):
    """The tutorial shape: one example per ``__getitem__``, augmented and normalised on the fly.

    For uint8 images it does what torchvision's MNIST/FashionMNIST/CIFAR10 datasets and the
    tutorials' transforms do for each sample: ``Image.fromarray``, then RandomCrop with padding and
    RandomHorizontalFlip when the recipe asks for them (or its alternating flips: ``flips``
    mirrored in even epochs, the others in odd ones), then ToTensor (/255) and Normalize.
    """

    def __init__(
        self, data: Any, flip: bool = False, crop: int = 0, flips: torch.Tensor | None = None
    ) -> None:
        self.x, self.y = data.x, data.y
        view = (-1,) + (1,) * (data.x.dim() - 2)
        self.mean = torch.tensor(data.mean).view(view)
        self.std = torch.tensor(data.std).view(view)
        self.flip, self.crop = flip, crop
        self.flips = flips  # alternating flips: the images mirrored in even epochs
        self.epoch = 0  # the loop sets it; alternating flips mirror the other images when odd
        self.images = data.x.dtype == torch.uint8 and data.x.dim() == 4

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.images:
            return (self.x[i].float() - self.mean) / self.std, self.y[i]
        from PIL import Image, ImageOps

        pixels = self.x[i].permute(1, 2, 0).numpy()
        img = Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)
        if self.crop:
            w, h = img.size
            img = ImageOps.expand(img, border=self.crop)
            left, top = (int(v) for v in torch.randint(0, 2 * self.crop + 1, (2,)))
            img = img.crop((left, top, left + w, top + h))
        if self.flips is not None:
            mirror = bool(mirrored_in(self.flips[i], self.epoch))
        else:
            mirror = self.flip and bool(torch.rand(()) < 0.5)
        if mirror:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        x = torch.from_numpy(np.array(img, dtype=np.uint8, copy=True))
        x = (x.view(*x.shape[:2], -1).permute(2, 0, 1).float() / 255.0 - self.mean) / self.std
        return x, self.y[i]


def tutorial_fit(
    model: nn.Module,
    data: Any,
    test: Any,
    config: TrainConfig,
    on_epoch: Callable[[int], None] | None = None,
    until: float | None = None,
    name: str = "tutorial loop",
) -> SpeedResult:
    """The peer loop: DataLoader over a per-sample Dataset, float32, ``config``'s optimiser settings.

    It trains on ``config.device`` as the tutorials pick theirs (``auto``: a GPU when there is
    one), moving each batch there as it comes from the loader. With ``until``, training stops
    after the first epoch whose test accuracy reaches it; with ``test=None`` nothing is evaluated.
    """
    flips = alternating_flips(len(data), config.seed) if config.alternate_flip else None
    dataset = PerSampleDataset(data, flip=config.flip, crop=config.crop, flips=flips)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=True,
        drop_last=True,
        generator=torch.Generator().manual_seed(config.seed),
    )
    device = resolve_device(config.device)
    model.to(device)
    optimizer = torch_optimizer(model, config)  # torch.optim's, as a plain loop has
    steps_per_epoch = len(loader)
    epochs = math.ceil(config.epochs)
    total = round(config.epochs * steps_per_epoch)
    result = SpeedResult(name, 0.0, 0.0)
    plain = replace(
        config, precision="float32", channels_last="off", device=str(device), tta=False, verbose=0
    )
    step, seconds = 0, 0.0
    for epoch in range(epochs):
        model.train()
        dataset.epoch = epoch
        start = time.perf_counter()
        for x, y in loader:
            if step >= total:
                break
            x, y = x.to(device), y.to(device)
            set_lr(optimizer, config.lr * lr_factor(config, step, total, steps_per_epoch))
            loss = F.cross_entropy(model(x), y, label_smoothing=config.label_smoothing)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
        synchronize(device)  # the epoch's last steps may still be running on a GPU
        seconds += time.perf_counter() - start
        result.seconds_at_epoch.append(seconds)
        if test is not None:
            result.test_acc.append(evaluate(model, test, plain, full=False)["acc"])
        if on_epoch:
            on_epoch(epoch)
        if until is not None and result.test_acc and result.test_acc[-1] >= until:
            break
    result.epochs = step / steps_per_epoch
    result.train_seconds = seconds
    result.images_per_s = step * config.batch_size / seconds
    return result


def convlens_fit(model: nn.Module, data: Any, test: Any, config: TrainConfig) -> SpeedResult:
    """convlens's fit with test accuracy after every epoch (its evaluation time excluded)."""
    history = fit(model, data, replace(config, eval_every=1), val=test)
    seconds = list(_cumulative(r["time"] for r in history.records))
    steps = history.records[-1]["step"]
    result = SpeedResult(
        "convlens", steps * config.batch_size / seconds[-1], seconds[-1], hardware=history.hardware
    )
    result.test_acc = [r["val_acc"] for r in history.records]
    result.seconds_at_epoch = seconds
    result.epochs = steps / (len(data) // min(config.batch_size, len(data)))
    return result


@dataclass
class SizedRun:
    """A convlens run whose one-cycle schedule is sized to end at a target accuracy."""

    epochs: float
    train_seconds: float  # evaluation excluded, as for the other loops
    test_acc: float  # at the end of the run, scored as the run scores


def sized_runs(
    make_model: Callable[[], nn.Module],
    data: Any,
    test: Any,
    config: TrainConfig,
    lengths: tuple[float, ...] = (1.0, 1.25, 1.5, 2.0),
) -> list[SizedRun]:
    """The recipe shortened to each of ``lengths`` epochs, each from a fresh model.

    A one-cycle schedule reaches its accuracy at its end, as its learning rate anneals; part-way
    through a longer run the rate is still high and the accuracy lower. The time a recipe needs
    for a target is therefore that of the shortest run ending at or above it, the measure of
    airbench's records ("94% in 2.6 s" is a whole run sized to 94%).
    """
    runs = []
    for epochs in lengths:
        history = fit(
            make_model(), data, replace(config, epochs=epochs, eval_every=1_000), val=test
        )
        seconds = sum(r["time"] for r in history.records)
        runs.append(SizedRun(epochs, seconds, history.records[-1]["val_acc"]))
    return runs


def time_to_sized(runs: list[SizedRun], accuracy: float) -> tuple[float, float]:
    """(training seconds, epochs) of the shortest sized run that reached ``accuracy``."""
    for run in sorted(runs, key=lambda r: r.epochs):
        if run.test_acc >= accuracy:
            return run.train_seconds, run.epochs
    return math.inf, math.nan


def _cumulative(values: Any) -> Any:
    total = 0.0
    for v in values:
        total += v
        yield total


def interleaved_rates(
    make_model: Callable[[], nn.Module],
    data: Any,
    config: TrainConfig,
    rounds: int = 7,
    steps: int = 30,
) -> tuple[list[float], list[float]]:
    """Images/s of the same-recipe tutorial loop and of convlens, measured in alternating bursts.

    Each round trains each loop for ``steps`` batches, one right after the other, so a machine that
    speeds up or slows down over minutes (a shared or thermally limited host) affects both alike.
    The first round warms caches and kernels and is dropped. Returns (tutorial, convlens) rates.
    """
    n = min(len(data), steps * config.batch_size)
    part = replace(data, x=data.x[:n], y=data.y[:n])
    short = replace(config, epochs=1, verbose=0, eval_every=1, save_every=0, patience=0)
    peer_model, our_model = make_model(), make_model()
    peer_rates, our_rates = [], []
    for _ in range(rounds + 1):
        peer_rates.append(tutorial_fit(peer_model, part, None, short).images_per_s)
        our_rates.append(fit(our_model, part, short).records[-1]["images_per_s"])
    return peer_rates[1:], our_rates[1:]


@dataclass
class Comparison:
    tutorial: SpeedResult | None  # the tutorial loop with the tutorials' settings, until the target
    same_recipe: SpeedResult  # the tutorial loop with the convlens recipe's settings and epochs
    convlens: SpeedResult
    adam: SpeedResult | None = None  # the same loop with Adam lr 1e-3, until the target
    # images/s of the same-recipe tutorial loop and of convlens in alternating short bursts
    interleaved: tuple[list[float], list[float]] | None = None
    sized: list[SizedRun] | None = None  # the recipe shortened, each run sized to its end


def compare(
    make_model: Callable[[], nn.Module],
    data: Any,
    test: Any,
    config: TrainConfig,
    target: float = 0.9,
    tutorial_epochs: float = TUTORIAL_EPOCHS,
    rounds: int = 0,
    sized: tuple[float, ...] = (),
    peers: Comparison | None = None,
) -> Comparison:
    """The three loops on identically initialised models; FLOP/s from the summary's MACs.

    The tutorial-settings run trains for at most ``tutorial_epochs`` and stops once it reaches
    ``target``; ``tutorial_epochs=0`` leaves it out. ``rounds`` > 0 adds ``interleaved_rates``;
    ``sized`` lengths (epochs) add ``sized_runs``. ``peers``, an earlier comparison of the same
    model on the same data, lends its tutorial and Adam loops instead of training them again:
    their settings are fixed, so another recipe for the same network does not change them.
    """
    model = make_model()
    flops = training_flops(model, tuple(data.in_shape))
    tutorial = adam = None
    if peers is not None:
        tutorial, adam = peers.tutorial, peers.adam
    elif tutorial_epochs:
        settings = replace(config, **TUTORIAL_SETTINGS, epochs=tutorial_epochs, verbose=0)
        tutorial = tutorial_fit(model, data, test, settings, until=target, name="tutorial")
        settings = replace(config, **ADAM_SETTINGS, epochs=tutorial_epochs, verbose=0)
        adam = tutorial_fit(make_model(), data, test, settings, until=target, name="Adam loop")
        model = make_model()
    same = tutorial_fit(model, data, test, replace(config, verbose=0), name="tutorial, same recipe")
    ours = convlens_fit(make_model(), data, test, config)
    for r in (tutorial, adam, same, ours):  # borrowed peers: the same network, the same value
        if r is not None:
            r.flops_per_s = r.images_per_s * flops if flops else None
    interleaved = interleaved_rates(make_model, data, config, rounds) if rounds else None
    runs = sized_runs(make_model, data, test, config, sized) if sized else None
    return Comparison(tutorial, same, ours, adam=adam, interleaved=interleaved, sized=runs)


@dataclass(frozen=True)
class BudgetRun:
    data: str
    seed: int
    wall_seconds: float  # the whole command: start-up, loading, training, testing
    test_acc: float


def budget_run(
    data: str, seed: int, recipe: str = "fast", extra: tuple[str, ...] = ()
) -> BudgetRun:
    """Time ``convlens train --recipe RECIPE --data DATA`` end to end, in a fresh process."""
    import re
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        argv = [sys.executable, "-m", "convlens", "train", "--recipe", recipe, "--data", data]
        argv += ["--seed", str(seed), "--out", out, "--no-report", "--verbose", "0", *extra]
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
    found = re.search(r"test accuracy ([0-9.]+)%", proc.stdout)
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"{' '.join(argv)} failed: {proc.stderr.strip()[-500:]}")
    return BudgetRun(data, seed, wall, float(found.group(1)) / 100)
