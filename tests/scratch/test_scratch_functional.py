"""Activations, losses and gradient descent against values worked out by hand."""

import math

import numpy as np
import pytest

from convlens.scratch import functional as F
from convlens.scratch.optim import gradient_descent


def test_activation_values_and_lecture_derivatives():
    z = np.array([-2.0, 0.0, 3.0])
    s = F.sigmoid(z)
    np.testing.assert_allclose(s, [1 / (1 + math.e**2), 0.5, 1 / (1 + math.e**-3)])
    np.testing.assert_allclose(F.sigmoid_grad(z, s), s * (1 - s))
    assert F.sigmoid_grad(np.array([0.0]), np.array([0.5]))[0] == 0.25
    assert F.tanh_grad(np.array([0.0]), F.tanh(np.array([0.0])))[0] == 1.0
    np.testing.assert_array_equal(F.relu(z), [0, 0, 3])
    np.testing.assert_array_equal(F.relu_grad(z, F.relu(z)), [0, 1, 1])  # f'(0) = 1 as lectured
    np.testing.assert_allclose(F.softplus(np.array([0.0])), [math.log(2)])
    np.testing.assert_allclose(F.softplus_grad(z, F.softplus(z)), F.sigmoid(z))


def test_stable_for_large_inputs():
    z = np.array([-1000.0, 1000.0])
    np.testing.assert_array_equal(F.sigmoid(z), [0.0, 1.0])
    np.testing.assert_allclose(F.softplus(z), [0.0, 1000.0])
    np.testing.assert_allclose(F.softmax(np.array([[1000.0, 1000.0]])), [[0.5, 0.5]])


def test_softmax():
    y = F.softmax(np.array([[0.0, math.log(3.0)]]))
    np.testing.assert_allclose(y, [[0.25, 0.75]])


def test_losses_by_hand():
    loss, dy = F.squared_error(np.array([[3.0]]), np.array([[1.0]]))
    assert loss == 2.0 and dy[0, 0] == 2.0  # 1/2 (3 - 1)^2, derivative y - t
    loss, _ = F.binary_cross_entropy(np.array([0.5]), np.array([1.0]))
    assert loss == pytest.approx(math.log(2))
    loss, _ = F.cross_entropy(np.array([[0.25, 0.75]]), np.array([[0.0, 1.0]]))
    assert loss == pytest.approx(-math.log(0.75))
    loss, dz = F.softmax_cross_entropy(np.array([[0.0, math.log(3.0)]]), np.array([1]))
    assert loss == pytest.approx(-math.log(0.75))
    np.testing.assert_allclose(dz, [[0.25, -0.25]])  # softmax - onehot


def test_gradient_descent_stops_when_the_loss_stops_changing():
    # f(w) = (w - 3)^2, w0 = 0, eta = 0.1: w_t = 3 (1 - 0.8^t), f(w_t) = 9 * 0.64^t
    result = gradient_descent(
        lambda w: float((w[0] - 3) ** 2), lambda w: 2 * (w - 3), np.zeros(1), lr=0.1, epsilon=1e-6
    )
    assert result.converged
    t = result.steps
    assert result.w[0] == pytest.approx(3 * (1 - 0.8**t))
    # it stopped at the first t where 9 (0.64^(t-1) - 0.64^t) <= 1e-6
    change = lambda k: 9 * (0.64 ** (k - 1) - 0.64**k)  # noqa: E731
    assert change(t) <= 1e-6 < change(t - 1)


def test_gradient_descent_reports_a_spent_budget():
    result = gradient_descent(
        lambda w: float(w[0] ** 2), lambda w: 2 * w, np.ones(1), lr=0.001, max_steps=5
    )
    assert not result.converged and result.steps == 5 and len(result.losses) == 6
