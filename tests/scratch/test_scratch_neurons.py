"""Neurons and perceptrons: truth tables worked out by hand, the learning rule, the theorem."""

import itertools

import numpy as np
import pytest

from convlens.errors import ConfigError
from convlens.scratch.neurons import (
    McCullochPitts,
    boolean_network,
    patterns,
    train_perceptron,
    train_sigmoid_neuron,
)

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def test_mcculloch_pitts_and_or():
    np.testing.assert_array_equal(McCullochPitts(threshold=2)(INPUTS), [0, 0, 0, 1])  # AND
    np.testing.assert_array_equal(McCullochPitts(threshold=1)(INPUTS), [0, 1, 1, 1])  # OR
    np.testing.assert_array_equal(McCullochPitts(threshold=0)(INPUTS), [1, 1, 1, 1])
    with pytest.raises(ConfigError, match="inputs in"):
        McCullochPitts(1)([0.5, 1])  # Boolean inputs only


@pytest.mark.parametrize("labels", [[0, 0, 0, 1], [0, 1, 1, 1], [1, 1, 1, 0], [1, 0, 0, 0]])
def test_perceptron_learns_linearly_separable_functions(labels):
    result = train_perceptron(INPUTS, labels, max_epochs=100, seed=0)
    assert result.converged and result.mistakes[-1] == 0
    np.testing.assert_array_equal(result.perceptron(INPUTS), labels)


def test_perceptron_fails_on_xor_and_says_so():
    result = train_perceptron(INPUTS, [0, 1, 1, 0], max_epochs=50, seed=0)
    assert not result.converged
    assert result.epochs == 50 and all(m > 0 for m in result.mistakes)
    assert (result.perceptron(INPUTS) != [0, 1, 1, 0]).any()


def test_perceptron_on_iris_setosa_vs_versicolor():
    # Setosa and versicolor are linearly separable on the petal measurements (Fisher 1936 data).
    from sklearn.datasets import load_iris

    iris = load_iris()
    keep = iris.target < 2
    x, y = iris.data[keep][:, 2:], iris.target[keep]
    result = train_perceptron(x, y, max_epochs=200, seed=0)
    assert result.converged
    np.testing.assert_array_equal(result.perceptron(x), y)


def test_network_of_perceptrons_for_xor_has_four_hidden_units():
    net = boolean_network("xor", 2)
    assert net.hidden_weights.shape == (4, 2)
    x = patterns(2)  # (-1,-1), (-1,1), (1,-1), (1,1)
    np.testing.assert_array_equal(net(x), [0, 1, 1, 0])
    np.testing.assert_array_equal(net.hidden(x), np.eye(4, dtype=int))  # one unit per pattern


@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_boolean_function_is_represented(n):
    # The theorem: all 2^(2^n) functions of n inputs; 4, 16 and 256 of them.
    x = patterns(n)
    for table in itertools.product((0, 1), repeat=2**n):
        np.testing.assert_array_equal(boolean_network(list(table), n)(x), table)


def test_boolean_network_errors():
    with pytest.raises(ConfigError, match="truth table"):
        boolean_network([0, 1, 1], 2)
    with pytest.raises(ConfigError, match="unknown Boolean function"):
        boolean_network("implies", 2)
    with pytest.raises(ConfigError, match="inputs in"):
        boolean_network("and", 2)([[0, 1]])  # the theorem's inputs are -1 and 1


def test_sigmoid_neuron_is_smooth_where_the_perceptron_jumps():
    # The lectures' movie example: watch iff rating >= 4. A perceptron jumps between 3.9 and 4.1;
    # a sigmoid neuron fitted to the same labels changes gradually and is 0.5 near the boundary.
    ratings = np.linspace(1, 5, 41)[:, None]
    labels = (ratings[:, 0] >= 4).astype(float)
    neuron, result = train_sigmoid_neuron(ratings, labels, lr=1.0, epsilon=1e-9, max_steps=5_000)
    assert result.losses[-1] < 0.1 * result.losses[0]
    low, high = neuron(np.array([[3.9], [4.1]]))
    assert 0.0 < low < 0.5 < high < 1.0
    boundary = -neuron.bias / neuron.weights[0]
    assert 3.9 < boundary < 4.0  # between the last "no" (3.9) and the first "yes" (4.0)
