"""MNIST-1D, generated here: ten 1-D digit templates, randomly padded, scaled, shifted, noised, sheared.

Greydanus and Kobak, "Scaling down deep learning with MNIST-1D" (ICML 2024; arXiv:2011.14439).
The defaults below are the paper's (and its ``mnist1d`` package's ``get_dataset_args``): 5,000
sequences of length 40, 4,000 for training and 1,000 for testing, seed 42. With them the arrays
are the published frozen data set; tests hold this generator to the reference package.

Each sample is made from its class template by, in this order (one random draw per step, from
one ``RandomState`` seeded once, so the order of the draws *is* the data set):

1. pad the 12-point template with ``p ~ U{36..60}`` zeros on the right;
2. resample it linearly to ``12 + 60 = 72`` points (so the digit gets narrower as ``p`` grows);
3. scale by ``1 + 0.4 (u - 0.5)``;
4. rotate right by ``k ~ U{0..47}`` positions;
5. where the signal is exactly zero (the padding) put smooth noise: N(0, 0.25^2) filtered by a
   Gaussian of sigma 2 (radius 8, mirrored edges);
6. add white noise N(0, 0.02^2) everywhere;
7. shear: subtract ``c * linspace(-0.5, 0.5)`` with ``c = 0.75 (u - 0.5)``;
8. resample linearly to 40 points.

Then the samples are shuffled, optionally the 40 positions are permuted by one fixed permutation
(the "shuffled" variant, which destroys spatial structure), and the whole set is standardised
with its global mean and standard deviation before the train/test cut.
"""

from __future__ import annotations

import contextlib
import hashlib
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from convlens.errors import DataError
from convlens.fileio import atomic_write


@dataclass(frozen=True)
class Mnist1dConfig:
    num_samples: int = 5000  # train + test; split by train_split
    train_split: float = 0.8  # fraction that is train (4,000 of 5,000)
    template_len: int = 12  # points in each digit template
    padding: tuple[int, int] = (36, 60)  # zeros appended: uniform integer in [low, high]
    scale_coeff: float = 0.4  # amplitude scale 1 + scale_coeff * U(-0.5, 0.5)
    max_translation: int = 48  # circular shift uniform in [0, max_translation)
    corr_noise_scale: float = 0.25  # std of the smoothed background noise
    iid_noise_scale: float = 2e-2  # std of the white noise
    shear_scale: float = 0.75  # slope c * U(-0.5, 0.5) subtracted across the sequence
    final_seq_length: int = 40  # length of each output sequence
    shuffle: bool = False  # permute the positions by one fixed permutation
    seed: int = 42

    @classmethod
    def from_options(cls, options: dict) -> Mnist1dConfig:
        """The config for ``load_dataset`` options; ``data_seed`` is the generator's seed there,
        because ``seed`` already names the seed of the validation split."""
        options = dict(options)
        if "data_seed" in options:
            options["seed"] = options.pop("data_seed")
        known = {f.name for f in fields(cls) if f.name != "seed"} | {"data_seed"}
        unknown = sorted(set(options) - known - {"seed"})
        if unknown:
            raise DataError(
                f"unknown mnist1d option(s) {', '.join(unknown)}; choose from {', '.join(sorted(known))}"
            )
        if "padding" in options:
            options["padding"] = tuple(options["padding"])
        cfg = cls(**options)
        if cfg.num_samples < 10 or not 0 < cfg.train_split < 1:
            raise DataError("mnist1d needs num_samples >= 10 and 0 < train_split < 1")
        return cfg


# The ten digit outlines, 12 points each, from the paper's Figure 1 (values as in the mnist1d
# package). They are standardised, shifted to start at 0 and divided by 6 below.
_TEMPLATES = np.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
])  # fmt: skip

CLASSES = tuple(str(d) for d in range(10))


def templates() -> np.ndarray:
    """The ten templates (10, 12): zero mean, unit std, starting at 0, divided by 6."""
    x = _TEMPLATES.copy()
    x -= x.mean(1, keepdims=True)
    x /= x.std(1, keepdims=True)
    x -= x[:, :1]
    return x / 6.0


def resample(x: np.ndarray, n: int) -> np.ndarray:
    """Linear interpolation of ``x`` onto ``n`` equally spaced points spanning the same interval."""
    return np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(x)), x)


def gaussian_smooth(x: np.ndarray, sigma: float = 2.0, truncate: float = 4.0) -> np.ndarray:
    """Gaussian smoothing along the last axis with mirrored edges (``d c b a | a b c d | d c b a``).

    The kernel is exp(-t^2 / 2 sigma^2) on t = -r..r, r = int(truncate sigma + 0.5), normalised to
    sum 1 - the conventions of scipy.ndimage.gaussian_filter1d. Symmetric pairs are added before
    weighting, from the outermost pair inwards, which reproduces that filter to the last bit.
    """
    radius = int(truncate * sigma + 0.5)
    t = np.arange(-radius, radius + 1)
    w = np.exp(-0.5 / (sigma * sigma) * t**2)
    w = w / w.sum()
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(radius, radius)], mode="symmetric")
    n = x.shape[-1]
    out = padded[..., radius : radius + n] * w[radius]
    for j in range(radius, 0, -1):
        pair = padded[..., radius - j : radius - j + n] + padded[..., radius + j : radius + j + n]
        out = out + pair * w[radius + j]
    return out


def generate(cfg: Mnist1dConfig = Mnist1dConfig()) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{"train": (x, y), "test": (x, y)}: x float64 (N, final_seq_length), y int64 (N,).

    The random draws are made sample by sample in the reference order; the steps that need no
    per-sample length (noise, smoothing, shear) then run on the whole batch at once.
    """
    rng = np.random.RandomState(cfg.seed)
    shapes = templates()
    per_class = cfg.num_samples // len(shapes)
    ys = np.repeat(np.arange(len(shapes), dtype=np.int64), per_class)
    low, high = cfg.padding
    length = cfg.template_len + high
    signal = np.empty((len(ys), length))
    corr_noise = np.empty((len(ys), length))
    iid_noise = np.empty((len(ys), length))
    shear = np.empty((len(ys), 1))
    for i, label in enumerate(ys):
        pad = low + int(rng.rand() * (high - low + 1))  # step 1
        # A tiny offset keeps the template's own zeros apart from the padding's zeros (step 5).
        x = resample(np.concatenate([shapes[label] + 1e-8, np.zeros(pad)]), length)  # step 2
        x = x * (1 + cfg.scale_coeff * (rng.rand() - 0.5))  # step 3
        signal[i] = np.roll(x, int(rng.choice(cfg.max_translation)))  # step 4
        corr_noise[i] = cfg.corr_noise_scale * rng.randn(length)
        iid_noise[i] = cfg.iid_noise_scale * rng.randn(length)
        shear[i] = cfg.shear_scale * (rng.rand() - 0.5)
    xs = np.where(signal != 0, signal, gaussian_smooth(corr_noise))  # step 5
    xs = xs + iid_noise  # step 6
    xs = xs - shear * np.linspace(-0.5, 0.5, length)  # step 7
    xs = np.stack([resample(x, cfg.final_seq_length) for x in xs])  # step 8
    order = rng.permutation(len(ys))
    xs, ys = xs[order], ys[order]
    if cfg.shuffle:
        xs = xs[:, rng.permutation(cfg.final_seq_length)]
    xs = (xs - xs.mean()) / xs.std()
    cut = _split_sizes(cfg)[0]
    return {"train": (xs[:cut], ys[:cut]), "test": (xs[cut:], ys[cut:])}


# The generator's output format; a change to ``generate`` that changes its arrays bumps it, so that
# files cached by an older convlens are not read as this one's.
CACHE_FORMAT = 1


def cache_name(cfg: Mnist1dConfig) -> str:
    """The cached file's name: a digest of everything that decides the arrays."""
    digest = hashlib.sha256(f"{CACHE_FORMAT} {cfg!r}".encode()).hexdigest()[:16]
    return f"mnist1d-{digest}.npz"


def load_or_generate(cfg: Mnist1dConfig, folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``generate(cfg)``, read from ``folder`` when an earlier call left its arrays there.

    Generating takes about 0.8 s on a 2-core CPU, reading the file about a millisecond. A file
    that cannot be read or does not hold what this config makes is generated and written again;
    a folder that cannot be written to only means the next call generates too.
    """
    path = folder / cache_name(cfg)
    cached = _read_cached(path, cfg) if path.is_file() else None
    if cached is not None:
        return cached
    splits = generate(cfg)
    arrays: dict[str, Any] = {
        f"{k}_{s}": a for s, pair in splits.items() for k, a in zip("xy", pair, strict=True)
    }

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)

    with contextlib.suppress(OSError):  # a read-only or full folder: generate next time
        atomic_write(path, write)
    return splits


def _split_sizes(cfg: Mnist1dConfig) -> tuple[int, int]:
    """(train, test) counts: the samples come in whole rounds of the ten classes."""
    total = cfg.num_samples // len(_TEMPLATES) * len(_TEMPLATES)
    train = int(total * cfg.train_split)
    return train, total - train


def _read_cached(path: Path, cfg: Mnist1dConfig) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    sizes = dict(zip(("train", "test"), _split_sizes(cfg), strict=True))
    try:
        with np.load(path, allow_pickle=False) as f:
            splits = {s: (f[f"x_{s}"], f[f"y_{s}"]) for s in ("train", "test")}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        return None
    for s, (x, y) in splits.items():
        if (
            x.shape != (sizes[s], cfg.final_seq_length)
            or y.shape != (sizes[s],)
            or x.dtype != np.float64
            or y.dtype != np.int64
        ):
            return None
    return splits
