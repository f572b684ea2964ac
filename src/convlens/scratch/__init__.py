"""The NumPy engine: every piece of a convolutional network written out by hand.

Neurons and perceptrons (``neurons``), activations and losses (``functional``), im2col
(``im2col``), convolution in a naive and a fast form (``conv``), pooling (``pool``), layers with
forward and backward passes (``layers``), batch and local response normalisation (``norm``),
networks built from a spec (``net``), gradient descent and SGD (``optim``), training (``train``)
and numerical gradient checks (``gradcheck``).
Only NumPy is imported here, never torch: the tests hold this engine against torch from outside.
"""

from convlens.scratch.conv import (
    conv1d_backward,
    conv1d_forward,
    conv1d_naive,
    conv1d_naive_backward,
    conv2d_backward,
    conv2d_forward,
    conv2d_naive,
    conv2d_naive_backward,
    convolve2d,
    correlate2d,
)
from convlens.scratch.gradcheck import GradCheck, gradcheck_all, numerical_gradient, rel_error
from convlens.scratch.im2col import col2im, im2col
from convlens.scratch.net import ScratchNet, build_scratch
from convlens.scratch.neurons import (
    BooleanNetwork,
    McCullochPitts,
    Perceptron,
    PerceptronResult,
    SigmoidNeuron,
    boolean_network,
    train_perceptron,
    train_sigmoid_neuron,
)
from convlens.scratch.optim import SGD, DescentResult, batch_order, gradient_descent
from convlens.scratch.pool import pool_backward, pool_forward
from convlens.scratch.train import ScratchHistory, ScratchTrainConfig, accuracy, fit_scratch

__all__ = [
    "SGD",
    "BooleanNetwork",
    "DescentResult",
    "GradCheck",
    "McCullochPitts",
    "Perceptron",
    "PerceptronResult",
    "ScratchHistory",
    "ScratchNet",
    "ScratchTrainConfig",
    "SigmoidNeuron",
    "accuracy",
    "batch_order",
    "boolean_network",
    "build_scratch",
    "col2im",
    "conv1d_backward",
    "conv1d_forward",
    "conv1d_naive",
    "conv1d_naive_backward",
    "conv2d_backward",
    "conv2d_forward",
    "conv2d_naive",
    "conv2d_naive_backward",
    "convolve2d",
    "correlate2d",
    "fit_scratch",
    "gradcheck_all",
    "gradient_descent",
    "im2col",
    "numerical_gradient",
    "pool_backward",
    "pool_forward",
    "rel_error",
    "train_perceptron",
    "train_sigmoid_neuron",
]
