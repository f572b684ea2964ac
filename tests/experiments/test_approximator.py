"""The universal-approximator construction against hand arithmetic.

A bump is sigmoid(k(x - a)) - sigmoid(k(x - b)); neighbouring bumps of equal height telescope,
so a step function built from bumps is exactly sigmoid(k(x - 1/2)) - sigmoid(k(x - 1)).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from convlens.errors import ConfigError
from convlens.experiments.approximator import (
    TARGETS,
    bumps_by_hand,
    rms,
    train_sigmoid_nets,
    universal_approximator,
)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_bumps_of_a_step_telescope():
    step = TARGETS["step"].f
    bumps = bumps_by_hand(step, 8)  # k = 10 * 8 = 80; the last four bumps have height 1
    x = np.linspace(0, 1, 101)
    np.testing.assert_allclose(bumps(x), sigmoid(80 * (x - 0.5)) - sigmoid(80 * (x - 1.0)),
                               atol=1e-12)  # fmt: skip
    assert bumps.hidden_units == 16


def test_sharp_bumps_are_exact_at_their_centres():
    bumps = bumps_by_hand(TARGETS["step"].f, 4, sharpness=1000)  # k = 4000
    centres = np.array([0.125, 0.375, 0.625, 0.875])
    np.testing.assert_allclose(bumps(centres), [0, 0, 1, 1], atol=1e-9)


def test_one_bump_at_its_centre_is_height_times_tanh():
    # N = 1, k = 10: at x = 1/2, sigmoid(5) - sigmoid(-5) = tanh(5/2); height f(1/2) = exp(-0.4)
    bumps = bumps_by_hand(TARGETS["bump"].f, 1)
    assert bumps(np.array([0.5]))[0] == pytest.approx(math.exp(-0.4) * math.tanh(2.5), rel=1e-12)


def test_the_error_falls_as_bumps_are_added():
    f = TARGETS["sine"].f
    x = np.linspace(0, 1, 1001)
    errors = [rms(bumps_by_hand(f, n)(x), f(x)) for n in (1, 2, 4, 8, 16, 32)]
    assert errors[-1] < errors[0] / 10
    assert errors == sorted(errors, reverse=True)
    with pytest.raises(ConfigError):
        bumps_by_hand(f, 0)


def test_gradient_descent_on_squared_error_fits():
    x = np.linspace(0, 1, 51)
    y = np.stack([np.sin(2 * np.pi * x), x**2], axis=1)
    fitted, final = train_sigmoid_nets(x, y, (8, 4), steps=300)
    out = fitted(x)
    assert out.shape == (51, 2)
    # the reported loss is 1/2 mean (y - t)^2 of the fitted function
    np.testing.assert_allclose(final, 0.5 * ((out - y) ** 2).mean(0), rtol=1e-4)
    assert (final < 0.2 * 0.5 * y.var(0)).all()  # a fifth of the loss of predicting the mean


@pytest.mark.slow
def test_experiment_reports_both_options():
    result = universal_approximator(quick=True)
    assert result.columns[3:5] == ("by hand: RMS error", "learned: RMS error")
    step = result.data["step"]
    assert step["by_hand_rmse"][-1] < step["by_hand_rmse"][0] / 5
    assert step["learned_rmse"][-1] < step["learned_rmse"][0]
    assert len(result.rows) == 2 * len(step["hidden_units"])
    json.dumps(result.to_dict())  # plain numbers only: results.json must be writable
