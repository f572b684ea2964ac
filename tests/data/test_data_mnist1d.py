"""Our MNIST-1D generator against the reference ``mnist1d`` package (Greydanus and Kobak)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convlens.data import load_dataset
from convlens.data.mnist1d import Mnist1dConfig, gaussian_smooth, generate
from convlens.errors import DataError

# Fingerprints of the default data set, computed with the reference package
# (mnist1d.data.make_dataset() with get_dataset_args(), package version installed in the venv):
# they hold even where the package is not installed.
REF_SHAPES = {"train": (4000, 40), "test": (1000, 40)}
REF_TRAIN_COUNTS = [398, 396, 411, 394, 394, 402, 401, 404, 402, 398]
REF_TEST_COUNTS = [102, 104, 89, 106, 106, 98, 99, 96, 98, 102]
REF_FIRST_TRAIN_LABELS = [2, 6, 4, 5, 6, 6, 6, 0, 3, 1]
REF_FIRST_TEST_LABELS = [2, 6, 3, 9, 4, 3, 1, 9, 5, 2]
REF_TRAIN_MEAN, REF_TRAIN_STD = -0.0003236717, 0.9976479749
REF_TEST_MEAN, REF_TEST_STD = 0.0012946867, 1.0093522562
REF_X0_FIRST5 = [
    -0.33200566736939013,
    -0.4719103656557236,
    -0.778697076293495,
    -1.0097408265367045,
    -0.8823525654053073,
]
REF_SHUFFLED_X0_FIRST5 = [
    1.0358740294925417,
    0.4101984957624668,
    -0.8823525654053073,
    -1.093485710822378,
    0.8673925837312527,
]


@pytest.fixture(scope="module")
def default_set():
    return generate()


def test_fingerprints_of_the_default_set(default_set):
    (x, y), (xt, yt) = default_set["train"], default_set["test"]
    assert x.shape == REF_SHAPES["train"] and xt.shape == REF_SHAPES["test"]
    assert np.bincount(y).tolist() == REF_TRAIN_COUNTS
    assert np.bincount(yt).tolist() == REF_TEST_COUNTS
    assert y[:10].tolist() == REF_FIRST_TRAIN_LABELS and yt[:10].tolist() == REF_FIRST_TEST_LABELS
    assert x.mean() == pytest.approx(REF_TRAIN_MEAN, abs=1e-9)
    assert x.std() == pytest.approx(REF_TRAIN_STD, abs=1e-9)
    assert xt.mean() == pytest.approx(REF_TEST_MEAN, abs=1e-9)
    assert xt.std() == pytest.approx(REF_TEST_STD, abs=1e-9)
    assert x[0, :5].tolist() == pytest.approx(REF_X0_FIRST5, abs=1e-12)


def test_shuffled_variant_permutes_positions_by_one_fixed_permutation(default_set):
    shuffled = generate(Mnist1dConfig(shuffle=True))
    x, xs = default_set["train"][0], shuffled["train"][0]
    assert xs[0, :5].tolist() == pytest.approx(REF_SHUFFLED_X0_FIRST5, abs=1e-12)
    assert np.array_equal(shuffled["train"][1], default_set["train"][1])
    # One permutation for every sample: find it from sample 0 and check it on all of them.
    perm = np.array([int(np.flatnonzero(x[0] == v)[0]) for v in xs[0]])
    assert sorted(perm.tolist()) == list(range(40))
    assert np.array_equal(xs, x[:, perm])


def test_identical_to_the_reference_package(default_set):
    ref = pytest.importorskip("mnist1d.data")
    expected = ref.make_dataset()
    assert np.array_equal(default_set["train"][0], expected["x"])
    assert np.array_equal(default_set["test"][0], expected["x_test"])
    assert np.array_equal(default_set["train"][1], expected["y"])
    assert np.array_equal(default_set["test"][1], expected["y_test"])


@pytest.mark.parametrize(
    "changes",
    [
        {"shuffle": True, "num_samples": 500, "seed": 11},
        {"num_samples": 600, "seed": 3, "corr_noise_scale": 0.1, "iid_noise_scale": 0.05},
        {
            "num_samples": 300,
            "seed": 7,
            "final_seq_length": 24,
            "max_translation": 10,
            "shear_scale": 0.0,
        },
    ],
)
def test_identical_to_the_reference_package_with_other_parameters(changes):
    ref = pytest.importorskip("mnist1d.data")
    args = ref.get_dataset_args()
    for key, value in changes.items():
        setattr(args, "shuffle_seq" if key == "shuffle" else key, value)
    expected = ref.make_dataset(args)
    ours = generate(Mnist1dConfig(**changes))
    assert np.array_equal(ours["train"][0], expected["x"])
    assert np.array_equal(ours["test"][0], expected["x_test"])
    assert np.array_equal(ours["train"][1], expected["y"])


def test_gaussian_smoothing_matches_scipy_bit_for_bit():
    ndimage = pytest.importorskip("scipy.ndimage")
    rng = np.random.default_rng(0)
    for n in (9, 17, 72, 200):  # shorter and longer than the 17-tap kernel
        x = rng.normal(size=n)
        assert np.array_equal(gaussian_smooth(x), ndimage.gaussian_filter(x, 2))


def test_gaussian_smoothing_by_hand():
    # A constant signal stays constant (weights sum to 1, mirrored edges are constant too).
    assert np.allclose(gaussian_smooth(np.full(20, 3.0)), 3.0, atol=1e-15)


def test_load_dataset_gives_float_channels_and_options():
    train = load_dataset("mnist1d")
    assert train.x.shape == (4000, 1, 40) and train.x.dtype == torch.float32
    assert train.y[:10].tolist() == REF_FIRST_TRAIN_LABELS
    small = load_dataset("mnist1d", "test", num_samples=200, data_seed=1, shuffle=True)
    expected = generate(Mnist1dConfig(num_samples=200, seed=1, shuffle=True))["test"]
    assert small.x.shape == (40, 1, 40)
    assert np.array_equal(small.x[:, 0].numpy(), expected[0].astype(np.float32))
    assert np.array_equal(small.y.numpy(), expected[1])
    with pytest.raises(DataError, match="unknown mnist1d option"):
        load_dataset("mnist1d", noise=0.1)
