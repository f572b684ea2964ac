"""Named recipes: a model and settings per data set that train well without any tuning.

``convlens train --data fashion-mnist --recipe fast`` picks the table entry below; any flag given
as well overrides the recipe. Data without an entry (a folder of the user's images, a .csv) gets
``fast`` by its shape (``recipe_for_shape``). The ``fast`` recipes are sized for a 2-core CPU and a time budget
(the benchmark in benchmarks/train_speed.py measures them); ``good`` ones trade time for accuracy
and ``quick`` accuracy for time (Fashion-MNIST only so far).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from convlens.errors import ConfigError

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Recipe:
    model: str  # zoo name or spec text
    settings: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields


def conv_blocks(*widths: int, head: str = "fc10") -> str:
    """Spec text of 3x3 conv -> 2x2 max-pool -> BN -> ReLU blocks of these widths, then ``head``:
    the Fashion-MNIST recipes' network (airbench's order, see below)."""
    return "-".join(f"conv3x3x{c}p1-pool2-bn-relu" for c in widths) + "-" + head


# Fashion-MNIST: three conv blocks in airbench's order, conv -> max-pool -> BN -> ReLU (Jordan,
# 2024: pooling first makes BN and ReLU work on a quarter of the values; measured 25% faster per
# step than conv -> BN -> ReLU -> pool here), bf16 + channels-last, one-cycle AdamW, label smoothing
# 0.1, random flips (a mirrored shirt is a shirt) and test-time flips. Measured with `convlens train
# --recipe fast` end to end on 2 cores of an AVX512-BF16 EPYC (lightly loaded machine, 2026-11-21),
# with 32-64-128 filters and no whitening as the recipe then was: 3.75 epochs at lr 5e-3, seeds
# 0/1/2: 92.80%, 92.86%, 92.57% test in 54, 53 and 59 s wall; 4 epochs at lr 4e-3: 92.69%, 92.73%,
# 92.39% in 61-67 s; 3.5 epochs: 92.74%, 92.53%, 92.37% in about 51 s. SGD (lr 0.2) instead of
# AdamW: 92.5% in 4 epochs. About 4,500-5,500 training images/s. On an AVX2-only EPYC (no bf16, so
# float32 with channels-last; 2026-12-06) seed 0 gave 92.90% in 115.5 s wall; a one-epoch run of
# that recipe 90.22% after 32.2 s of training (NCHW). Earlier trials with 2-pixel crops and label
# smoothing 0.2 reached only 90.5% (fc head) and 88.3% (global average pooling) in 3 epochs, so this
# recipe has neither. Trials on the AVX2-only EPYC (float32, channels-last, seed 0, 2026-12-06; that
# recipe 92.90%): GELU 92.78%; one more 3x3 convolution at 3x3 (92.83%) or at 7x7 (92.88%, each
# about 10% slower); batch 128 at lr 3.5e-3 92.77%; an EMA of the weights (decay 0.99 every 5 steps)
# 92.73% against 92.85% without, both softmax-averaged over flips; test-time shifts by one pixel
# besides the flips 92.52%. Only more passes help, and they level off: 5 epochs 93.28%, 6 93.34%, 8
# 93.40%. What did help: a fixed patch-whitening first layer (`whiten`, airbench's;
# convlens/train/whiten.py). The 32-64-128 network for 3.75 epochs (`fast` until 2026-12-06),
# `convlens train --recipe fast` end to end, seeds 0-4: 92.87%, 93.07%,
# 93.19%, 93.04%, 93.15% (median 93.07%) against 92.90%, 92.55%, 92.61%, 92.46%, 92.74% without it
# (median 92.61%), same machine and hour. Whitening 5x5 patches instead (16 directions, 32 filters)
# gave 92.76% and 92.69% (seeds 0, 1): 3x3 it is.
# A 1-channel 3x3 patch has only 9 directions, so whitening fills 18 of the 32 first filters and
# the other 14 stay random. With 18 filters a step is 7-9% cheaper (benchmarks/fashion_widths.py,
# 2026-12-06 18:14 UTC: 72.7 against 80.0 ms) but the network learns no faster (AVX2-only EPYC,
# float32, seeds 0-2, 2026-12-06, all whitened): 18-64-128 for 3.75 epochs 93.05%, 92.90%,
# 92.90%; for 6 epochs 93.42%, 93.37%, 93.32%; for 8 epochs 93.63%, 93.61%, 93.73%; the 32-64-128
# network for 5 epochs 93.24%, 93.27%, 93.42%. With 16 filters (the 8 directions of largest
# variance, +w and -w) a step costs 0.77x (61.5 ms): 16 is a multiple of the 8 floats of an AVX2
# register where 18 leaves a remainder, and AMX tiles want multiples of 16. The recipe is that
# network: 16-64-128 for 7 epochs (8 since `winograd`, then 6 of 128, below), `convlens train
# --recipe fast` end to end (19:24-19:54 UTC), seeds 0-4: 93.41%, 93.55%, 93.68%, 93.60%, 93.63%
# (median 93.60%) in 1.47x the wall time of the 32-64-128 network's 3.75 epochs (93.07% median, 85 s
# here) run beside it; 6 epochs gave 93.33%, 93.44%, 93.54% in 1.15-1.25x. Muon (Jordan, 2024:
# Newton-Schulz-orthogonalised momentum) on the convolutions lifts a one-epoch run from 90.21% to
# 91.13% (seed 0) but not the full run (92.84%, 92.83%, 92.87% for 32-64-128 over 3.75 epochs): not
# adopted. Batches of 128 at lr 7e-3 (fit API, 2026-12-06, 23:00-23:28 UTC): 5 epochs 93.53%,
# 93.42%, 93.59%, 93.51%, 93.40% (seeds 0-4, median 93.51%) in about 0.75x this recipe's time (an
# epoch of 128 costs about 1.05x one of 256 in these runs); 4 epochs 93.43%, 93.34%, 93.49%; 6
# epochs 93.51%, 93.52%, 93.51%; at lr 1e-2 for 5 epochs 93.50%, 93.27%; this recipe shortened to 5
# epochs (batches of 256) 92.96%, 93.09% (seeds 0, 1). The median with 128 sits on the 93.5% line,
# which 7 epochs of 256 clear (93.60%): not adopted.
# Alternating flips (`alternate_flip`: a random half of the images mirrored in even epochs, the
# others in odd ones; airbench's) against random ones, fit API, seeds 0-4, 2026-12-07 00:00-01:27
# UTC: 5 epochs 93.15%, 93.25%, 93.31%, 93.13%, 93.52% (median 93.25%) against 92.96%, 93.09%,
# 93.38%, 93.29%, 93.32% (93.29%); 6 epochs 93.25%, 93.46%, 93.58%, 93.51%, 93.67% against 93.33%,
# 93.44%, 93.54%, 93.28%, 93.37% (median 93.51% against 93.37%); 7 epochs (seeds 0-2) 93.44%,
# 93.48%, 93.58% against 93.41%, 93.55%, 93.68%: within the seeds' spread, not adopted; with batches
# of 128 (lr 7e-3, 5 epochs) 93.32%, 93.54%, 93.63%, 93.42%, 93.46% (median 93.46% against 93.51%
# with random flips). A narrower 16-48-96 network for 10 epochs (an epoch 0.68x as long): 93.54%,
# 93.39% (seeds 0, 1) in about this recipe's time; 16-64-96 for 7 epochs 93.40%, 93.29%, 93.47%
# (seeds 0-2) in about 0.88x its time. Freezing the first block's batch norm as well
# (`freeze='bn1'`: no gradient below the second convolution, a step 1.07-1.17x faster) gave 92.31%,
# 92.68% (seeds 0, 1): not adopted.
# `winograd` (convlens/train/winograd.py): the third block's convolution (64->128 on 7x7 maps) and
# its max-pool by Winograd's F(6x6, 3x3), 5.1x fewer multiplications than the direct sum, in
# float32 on the CPU: the layer 1.9-2.3x faster forward and backward, a training step 1.35x
# (benchmarks/winograd_speed.py). `convlens train --recipe fast` end to end, AVX2-only EPYC,
# 2026-12-07 03:00-03:11 UTC: seeds 0-4 93.46%, 93.43%, 93.55%, 93.56%, 93.61% (median 93.55%;
# seeds 0-2 93.46%) in 110.0, 100.4, 100.4, 102.1, 99.8 s wall, against 93.41% in 134.9 s without
# it (seed 0, between them; seeds 1-4 without it earlier: 93.55%, 93.68%, 93.60%, 93.63%). Seeds
# follow other paths when the rounding changes: an earlier version of the layer gave 93.56%,
# 93.65%, 93.59% for seeds 0-2. With the time saved the recipe trains 8 epochs instead of 7
# (`--epochs 8`, 03:32-03:38 UTC): seeds 0-2 93.38%, 93.67%, 93.71% (median 93.67%) in 120.1,
# 118.0, 109.2 s wall, still less than 7 epochs without `winograd` (134.9 s), as 8 epochs of
# 18-64-128 (93.63%, 93.61%, 93.73%) had done before. Where `winograd` does not apply (bf16 and
# GPUs, which have kernels of their own) the eighth epoch costs 1.14x the time.
# Batches of 128 for 6 epochs at lr 7e-3, with `winograd` (fit API, 2026-12-07 04:48-05:08 UTC,
# AVX2-only EPYC): seeds 0-4 93.61%, 93.46%, 93.76%, 93.45%, 93.67% (median 93.61%) against
# 93.38%, 93.67%, 93.57%, 93.74% for seeds 0, 1, 3, 4 of 8 epochs of 256 (seed 2: 93.71%, above),
# in 74-106 s of training against 110-121 s beside them; 5 epochs of 128 gave 93.31%, 93.46%,
# 93.53%. A step of 128 costs about 1.07x a step of 256 per image with `winograd` (1.02x without,
# benchmarks/winograd_speed.py), so 6 epochs of 128 take about 0.8x the time of 8 of 256 for the
# same accuracy: the recipe. `convlens train --recipe fast` end to end (05:08-05:16 UTC): seeds
# 0-2 93.61%, 93.46%, 93.76% in 106.6, 94.1 and 120.8 s wall, with the 8 epochs of 256 at 93.38%
# in 140.6 s between them (the machine in a slow phase: 119 s at 04:40); in a quicker phase
# (07:50 UTC) the same accuracies in 83.5, 81.4, 82.2 s. Four epochs of 128 would fit 60 s there
# (44-54 s of training) but reach only 93.32% median (seeds 0-2: 93.32%, 93.07%, 93.41%); with lr
# 1e-2 93.22%, warm-up 0.1 93.37%, label smoothing 0.2 93.15%, weight decay 0.1 93.31% (medians).
# On an AVX512-BF16 EPYC (Zen 4, no AMX; 2026-12-07), where the recipe runs in bf16 autocast and
# `winograd` stands aside: `convlens train --recipe fast` seeds 0-2 93.36%, 93.59%, 93.75% (the
# same to the last digit in every run that day) in 57.8, 60.0, 56.0 s wall; in `convlens bench`
# 57.8, 54.1, 55.6 s (median 55.6 s), in benchmarks/train_speed.py 59.5, 58.9, 57.6 s: 93.5%
# within 60 s. A step runs at 49-61% of the bf16 matmul peak measured beside it; whitened conv1
# and pool1 are computed once per image (`cache_stem`, convlens/train/stem.py: a step 1.08x).
# AdamW by PyTorch's fused kernel (convlens/train/optim.py; the optimiser's share of a step 0.50
# -> 0.22 ms, the whole step within the machine's drift): seeds 0-2 93.40%, 93.61%, 93.85% in
# 57.0, 54.2, 57.8 s wall (report included; 2026-12-07 11:56-11:59 UTC).
_FASHION = conv_blocks(16, 64, 128)
# The `quick` recipe: the same network for half a pass, 90% test accuracy as soon as possible (a
# classroom's wait, and the time-to-90% figure of `convlens bench`). Within one pass each image is
# seen once, so flips give nothing more to learn from; what helps is more, smaller steps at a
# higher rate. Measured with the fit API, float32 channels-last on the AVX2-only EPYC (2026-12-06,
# 21:40-21:55 UTC), test accuracy for seeds 0 and 1 after runs of the epochs given: `fast`'s
# settings, 0.8 epochs 89.77%, 89.94% (1 epoch: 90.35%, 90.63%); the same at lr 1e-2 90.32%,
# 90.61%; at batch 128 90.65%, 90.56%; without label smoothing 90.00%, 90.05%. At 0.6 epochs:
# batch 128 89.97%, 89.75%; batch 128, lr 1e-2 90.32%, 90.30% (90.62%, 90.44% without flips);
# batch 64 90.27%, 90.29%; batch 64, lr 1e-2 90.56%, 90.88%. Without flips at 0.5 epochs: batch
# 64, lr 1e-2 90.47%, 90.40%; lr 2e-2 90.79%, 90.34%, 90.48%, 90.52% (seeds 0-3); batch 128, lr
# 2e-2 90.43%, 90.15%; batch 256, lr 2e-2, 0.6 epochs 89.90%, 90.07%. At 0.4 epochs, batch 64, lr
# 2e-2: 90.34%, 90.12%, 90.07% (seeds 0-2), too close to the line. A step of 64 costs 1.17x a
# step of 256 per image (0.333 against 0.284 ms), which half the images repay twice over. End to
# end, `convlens train --recipe quick --data fashion-mnist`, seeds 0-4: 90.79%, 90.34%, 90.48%,
# 90.52%, 90.59% in 14.7, 12.7, 15.0, 14.0, 15.7 s wall; `convlens bench --recipe quick` (21:56
# UTC): 90% in 9.4 s of training against the Adam loop's 90.9 s (9.66x; `fast` for one epoch
# was 4.40x the evening before). With `winograd` (2026-12-07 03:14 UTC, seeds 0-4, each beside a
# run without it): 90.63%, 90.62%, 90.40%, 90.51%, 90.59% after 8.1-11.1 s of training (median
# 9.0 s) against 90.79%, 90.34%, 90.48%, 90.52%, 90.59% after 11.2-12.6 s (median 11.7 s): 1.30x.
# MNIST keeps the earlier 32-64-128 network: its recipe was carried over, never measured
_MNIST = conv_blocks(32, 64, 128)
# The `good` recipe: 18 whitened first filters, the next blocks one and a half times as wide (96
# and 192 filters), 8 epochs: about 3.5x the time of the 32-64-128 network's 3.75 epochs (a step
# costs 1.66x its step in benchmarks/fashion_widths.py at 18:14 UTC), so 2.4x `fast`'s. Same
# machine, seeds 0-2: 93.73%, 93.98%, 93.72% (seed 2 by `convlens train --recipe good`: 359 s
# wall, where the 32-64-128 network took 83-94 s ten minutes before), against 93.63%, 93.61%,
# 93.73% for 18-64-128 over the same 8 epochs. The earlier `good` (48-96-192, no whitening, 6
# epochs: a step 2.25x the 32-64-128 network's) gave 93.65%, 93.60%, 93.53%. Its 96->192
# convolution on 7x7 maps runs by `winograd` (2.3-2.8x faster alone): `convlens train --recipe
# good` seeds 0-2 93.79%, 93.90%, 93.79% (median 93.79%) in 196.3, 204.0, 181.9 s wall
# (2026-12-07 04:00-04:10 UTC), about 1.7x the time of `fast`'s 8 epochs in the same hour.
_FASHION_WIDE = conv_blocks(18, 96, 192)
# MNIST-1D: four BN 1-D convolutions and global average pooling; the data set's paper reports 94%
# for its CNN (Greydanus & Kobak, "Scaling down deep learning with MNIST-1D", 2024, table 1).
# Measured on the default 4,000/1,000 split, seed 0: 98.4% test after 8 epochs (the recipe) and
# after 10, 99.0% after 16, 99.3% after 40; training accuracy is 100% by epoch 20. End to end
# (`convlens train --recipe fast --data mnist1d`, 2 cores), seeds 0/1/2: 98.6%, 98.0%, 98.5% in
# 8.0, 7.6 and 8.6 s wall. Seeds 0-4 (AVX2-only EPYC, 2026-12-06): 98.5%, 98.1%, 98.9%, 99.1%,
# 98.1%; 6 epochs 98.4%, 98.1%, 98.5%, 98.8%, 97.7%; batches of 256 at lr 5e-3 98.5%, 97.0%,
# 98.3%, 98.7%, 97.8% (10 epochs: 98.2%, 98.4%, 98.4%, 98.4%, 98.1%): 8 epochs of 128 stay. End to
# end there with convlens's own optimiser and the cached data (18:21 UTC): 7.0, 7.6 and 7.6 s wall.
_MNIST1D = "conv1d3x64p1-bn-conv1d3x64p1-bn-pool2-conv1d3x128p1-bn-pool2-conv1d3x128p1-bn-gap-fc10"

RECIPES: dict[tuple[str, str], Recipe] = {
    ("fashion-mnist", "fast"): Recipe(
        _FASHION,
        dict(epochs=6, batch_size=128, optimizer="adamw", lr=7e-3, weight_decay=0.05,
             label_smoothing=0.1, schedule="onecycle", warmup=0.2, flip=True, tta=True,
             whiten=True, winograd=True, eval_every=100),
    ),
    ("fashion-mnist", "quick"): Recipe(
        _FASHION,
        dict(epochs=0.5, batch_size=64, optimizer="adamw", lr=2e-2, weight_decay=0.05,
             label_smoothing=0.1, schedule="onecycle", warmup=0.2, flip=False, tta=False,
             whiten=True, winograd=True, eval_every=100),
    ),
    ("fashion-mnist", "good"): Recipe(
        _FASHION_WIDE,
        dict(epochs=8, batch_size=256, optimizer="adamw", lr=5e-3, weight_decay=0.05,
             label_smoothing=0.1, schedule="onecycle", warmup=0.2, flip=True, tta=True,
             whiten=True, winograd=True, eval_every=100),
    ),
    # MNIST and CIFAR-10: the Fashion-MNIST settings carried over, not measured on these sets
    ("mnist", "fast"): Recipe(
        _MNIST,
        dict(epochs=2, batch_size=256, optimizer="adamw", lr=4e-3, weight_decay=0.05,
             label_smoothing=0.1, schedule="onecycle", warmup=0.2, eval_every=100),  # no flips: 2 vs 5
    ),
    ("mnist1d", "fast"): Recipe(
        _MNIST1D,
        dict(epochs=8, batch_size=128, optimizer="adamw", lr=3e-3, weight_decay=0.05,
             label_smoothing=0.1, schedule="onecycle", warmup=0.1, eval_every=100),
    ),
    # digits (8x8): measured 98.0% test after 3 of these 30 epochs (seed 0)
    ("digits", "fast"): Recipe(
        "conv3x3x32p1-bn-conv3x3x64p1-bn-pool2-fc64-fc10",
        dict(epochs=30, batch_size=64, optimizer="adam", lr=3e-3, weight_decay=1e-4,
             schedule="onecycle", eval_every=100),
    ),
    ("cifar10", "fast"): Recipe(
        "conv3x3x32p1-bn-conv3x3x64p1-bn-pool2-conv3x3x128p1-bn-pool2-conv3x3x256p1-bn-pool2-gap-fc10",
        dict(epochs=10, batch_size=256, lr=0.2, weight_decay=5e-4, label_smoothing=0.2,
             schedule="onecycle", flip=True, crop=4, tta=True, eval_every=100),
    ),
}  # fmt: skip


def list_recipes() -> list[str]:
    return sorted({name for _, name in RECIPES})


# --- `fast` for any data, by its shape ------------------------------------------------------
# The user's own data has no table entry, so the recipe follows the shape of one example and the
# number of classes. The networks are MNIST-1D's and, for images, the 32-64-128 network that
# Fashion-MNIST's `fast` used before whitening, with the head sized to the classes; the settings
# are the measured ones, carried over, with the length scaled so that a run sees about as many
# examples as those recipes did (Fashion-MNIST: 3.75 x 60,000 = 225,000; MNIST-1D: 8 x 4,000 =
# 32,000), never fewer than a few passes and, for images, at most 20 (200 drawn circles and
# squares, 32x32: 100% test accuracy after 2 passes, measured 2026-11-28).
# Flips stay off: a mirrored letter or digit is another class, and only the user knows their data.


def _passes(examples: int, n_train: int, low: float, high: float) -> float:
    return float(min(max(round(examples / max(n_train, 1), 2), low), high))


def _image_recipe(in_shape: tuple[int, ...], num_classes: int, n_train: int) -> Recipe:
    side = min(in_shape[1], in_shape[2])
    if side < 16:  # the digits (8x8) recipe: one pooling step only
        return Recipe(
            f"conv3x3x32p1-bn-conv3x3x64p1-bn-pool2-fc64-fc{num_classes}",
            dict(epochs=_passes(43_000, n_train, 5, 60), batch_size=64, optimizer="adam",
                 lr=3e-3, weight_decay=1e-4, schedule="onecycle", eval_every=100),
        )  # fmt: skip
    widths = [32, 64, 128]
    while side // 2 ** len(widths) > 8 and len(widths) < 5:  # large photos: pool down to <= 8 px
        widths.append(256)
    left = side // 2 ** len(widths)
    head = f"fc{num_classes}" if left <= 4 else f"gap-fc{num_classes}"
    return Recipe(
        conv_blocks(*widths, head=head),
        dict(epochs=_passes(225_000, n_train, 4, 20), batch_size=min(256, max(16, n_train // 8)),
             optimizer="adamw", lr=5e-3, weight_decay=0.05, label_smoothing=0.1,
             schedule="onecycle", warmup=0.2, eval_every=100),
    )  # fmt: skip


def _signal_recipe(in_shape: tuple[int, ...], num_classes: int, n_train: int) -> Recipe:
    return Recipe(
        _MNIST1D.removesuffix("fc10") + f"fc{num_classes}",
        dict(epochs=_passes(32_000, n_train, 8, 60), batch_size=min(128, max(16, n_train // 8)),
             optimizer="adamw", lr=3e-3, weight_decay=0.05, label_smoothing=0.1,
             schedule="onecycle", warmup=0.1, eval_every=100),
    )  # fmt: skip


def _table_recipe(in_shape: tuple[int, ...], num_classes: int, n_train: int) -> Recipe:
    # a small MLP on standardised features (float_x scales each column by the train statistics)
    return Recipe(
        f"fc64-fc64-fc{num_classes}",
        dict(epochs=_passes(12_000, n_train, 10, 200), batch_size=min(128, max(8, n_train // 8)),
             optimizer="adam", lr=1e-2, weight_decay=1e-4, schedule="onecycle", eval_every=100),
    )  # fmt: skip


# number of axes of one example -> the recipe for that kind of data
_BY_SHAPE = {3: _image_recipe, 2: _signal_recipe, 1: _table_recipe}


def recipe_for_shape(in_shape: tuple[int, ...], num_classes: int, n_train: int) -> Recipe:
    """The ``fast`` recipe for data of this shape: images (C, H, W), signals (C, L), rows (F,)."""
    if len(in_shape) not in _BY_SHAPE:
        raise ConfigError(f"no recipe fits examples of shape {in_shape}; give a model or spec.")
    return _BY_SHAPE[len(in_shape)](tuple(in_shape), num_classes, n_train)


def get_recipe(
    data: str,
    name: str,
    shape: Callable[[], tuple[tuple[int, ...], int, int]] | None = None,
) -> Recipe:
    """The recipe ``name`` for the data set ``data``; a clear error lists what exists.

    ``shape`` returns (example shape, number of classes, training examples) of the data; when it
    is given, ``fast`` works for data without a table entry (the user's own) by that shape.
    """
    key = (data.lower(), name.lower())
    if key in RECIPES:
        return RECIPES[key]
    if key[1] == "fast" and shape is not None:
        return recipe_for_shape(*shape())
    have = sorted(d for d, r in RECIPES if r == key[1])
    if have:
        raise ConfigError(
            f"recipe {name!r} has no entry for {data!r}; it exists for {', '.join(have)}."
        )
    raise ConfigError(f"unknown recipe {name!r}; choose one of {', '.join(list_recipes())}.")


def make_model(
    model: str, in_shape: tuple[int, ...], num_classes: int, input: str = "", seed: int = 0
) -> nn.Module:
    """A zoo model by name, else a spec built for ``in_shape``; weights drawn after seeding."""
    import torch

    from convlens.analysis.geometry import parse_shape
    from convlens.build import build_model

    torch.manual_seed(seed)
    try:
        from convlens.models.registry import list_models

        if model in list_models():
            return _zoo_model_for(model, in_shape, num_classes)
    except ImportError:  # a checkout without the zoo still trains specs
        pass
    shape = parse_shape(input) if input else in_shape
    if tuple(shape) != tuple(in_shape):
        have = "x".join(map(str, in_shape))
        raise ConfigError(f"input={input!r} does not match the data's shape {have}.")
    return build_model(model, shape)


def _zoo_model_for(name: str, in_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """A zoo model sized for the data where the model allows it, refused in one sentence if not.

    Models with an ``image_size`` or ``length`` option take the data's size; any other mismatch
    (a 28x28 MLP on 8x8 digits without the option, a 1-D net on images) is found by tracing the
    model on the meta device before any training starts.
    """
    from convlens.analysis.summary import summarize
    from convlens.models.registry import create_model, model_info

    options = model_info(name).options
    kwargs: dict[str, Any] = {}
    if "image_size" in options and len(in_shape) == 3 and in_shape[1] == in_shape[2]:
        kwargs["image_size"] = in_shape[1]
    if "length" in options and len(in_shape) == 2:
        kwargs["length"] = in_shape[1]
    model = create_model(name, num_classes=num_classes, in_channels=in_shape[0], **kwargs)
    summary = summarize(model, in_shape)
    if summary.error:
        have = "x".join(map(str, in_shape))
        want = "x".join(map(str, getattr(model, "in_shape", ())))
        raise ConfigError(
            f"model {name!r} takes {want} inputs and cannot run on this data's {have} inputs "
            f"({summary.error}); pick another model or give a spec"
        )
    return model
