"""fc-vs-cnn and shuffled: seeded and reproducible; the slow tests reproduce the published gap
(Greydanus & Kobak 2020: CNN about 94% vs MLP about 68% on MNIST-1D; shuffled: CNN about 56%)."""

from __future__ import annotations

import pytest

from convlens.experiments.fc_vs_cnn import NETS, result_from, shuffled, train_comparison

PAIR = tuple(n for n in NETS["mnist1d"] if n.model in ("mnist1d_cnn", "mnist1d_mlp"))


def _tiny(**kw):
    return train_comparison("mnist1d", seeds=1, epochs=1, nets=PAIR, **kw)


def test_same_seed_same_numbers_and_counts():
    a, b = _tiny(), _tiny()
    for label in a["nets"]:
        assert a["nets"][label]["test_acc"] == b["nets"][label]["test_acc"]
        assert a["nets"][label]["train_acc"] == b["nets"][label]["train_acc"]
    assert a["nets"]["CNN (Greydanus & Kobak)"]["params"] == 5_210  # 150 + 1,900 + 1,900 + 1,260
    assert a["nets"]["MLP (Greydanus & Kobak)"]["params"] == 15_210  # 4,100 + 10,100 + 1,010
    result = result_from(a)
    assert result.references and "94%" in result.references[0].value
    assert result.column("params") == [5_210, 15_210]


def test_shuffled_positions_are_one_fixed_permutation():
    from convlens.data import load_dataset

    plain = load_dataset("mnist1d", "test")
    mixed = load_dataset("mnist1d", "test", shuffle=True)
    # same labels, and every signal's values are the same multiset, just moved
    assert (plain.y == mixed.y).all()
    assert not (plain.x == mixed.x).all()
    assert (plain.x.sort(dim=-1).values == mixed.x.sort(dim=-1).values).all()


@pytest.mark.slow
def test_published_gap_is_reproduced():
    raw = train_comparison("mnist1d", seeds=1, nets=PAIR)  # the published recipe: 6,000 steps
    cnn, mlp = raw["nets"]["CNN (Greydanus & Kobak)"], raw["nets"]["MLP (Greydanus & Kobak)"]
    assert cnn["test_acc"] - mlp["test_acc"] >= 0.20


@pytest.mark.slow
def test_shuffling_takes_the_cnn_advantage_away():
    result = shuffled(seeds=1)
    nets = result.data["nets"]
    cnn = nets["CNN (Greydanus & Kobak), shuffled"]["test_acc"]
    mlp = nets["MLP (Greydanus & Kobak), shuffled"]["test_acc"]
    assert cnn - mlp < 0.05
