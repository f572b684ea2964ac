"""Learned invariance (Goodfellow et al., Deep Learning, Fig. 9.9): the max over rotated detectors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from convlens.errors import ConfigError
from convlens.experiments.invariance_learned import learned_invariance, max_over_groups, pattern


def test_pattern_rotates_like_rot90():
    p = pattern(0)
    np.testing.assert_allclose(pattern(90), np.rot90(p), atol=1e-12)
    np.testing.assert_allclose(pattern(180), np.rot90(p, 2), atol=1e-12)
    assert not np.allclose(p, np.fliplr(p)) and not np.allclose(p, np.flipud(p))  # no symmetry


def test_max_over_groups_by_hand():
    r = torch.tensor([[0.1, 0.9, 0.3, 0.2]])
    # groups of 2: channel 0 pools channels 0 and 2, channel 1 pools 1 and 3
    assert max_over_groups(r, 2).tolist() == [[pytest.approx(0.3), pytest.approx(0.9)]]
    assert max_over_groups(r, 4).tolist() == [[pytest.approx(0.9)]]
    assert max_over_groups(r, 1).tolist() == r.tolist()
    with pytest.raises(ConfigError):
        max_over_groups(r, 3)


@pytest.mark.slow
def test_the_max_is_invariant_where_one_filter_is_not():
    result = learned_invariance(quick=True)
    single, full = result.data["groups"]["1"], result.data["groups"]["12"]
    assert single["spread"] > 0.8
    assert full["spread"] < 0.2
    assert full["noise_mean"] < 0.5  # invariant, not always on
    spreads = result.column("spread (max − min)")
    assert spreads[-1] == min(spreads)
    json.dumps(result.to_dict())  # plain numbers only: results.json must be writable
