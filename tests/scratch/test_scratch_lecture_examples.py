"""The worked examples of the lectures (shared/LECTURES.md, section 3), through the scratch engine."""

import numpy as np
import pytest

from convlens.errors import LayerFitError
from convlens.scratch import (
    conv1d_forward,
    conv1d_naive,
    conv2d_forward,
    conv2d_naive,
    convolve2d,
    correlate2d,
    pool_forward,
)

IMAGE = np.array(
    [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]],
    dtype=float,
)
KERNEL = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=float)
CORRELATION = [[12, 12, 17], [10, 17, 19], [9, 6, 14]]  # from the lectures


def test_cross_correlation_example():
    np.testing.assert_array_equal(correlate2d(IMAGE, KERNEL), CORRELATION)
    naive = conv2d_naive(IMAGE[None, None], KERNEL[None, None])[0, 0]
    np.testing.assert_array_equal(naive, CORRELATION)


def test_true_convolution_is_correlation_with_the_flipped_kernel():
    conv = convolve2d(IMAGE, KERNEL)
    # By hand, top-left output: the flipped kernel [[2,1,0],[0,2,2],[2,1,0]] on
    # [[3,3,2],[0,0,1],[3,1,2]] gives 6+3+0 + 0+0+2 + 6+1+0 = 18 (correlation gives 12 there).
    assert conv[0, 0] == 18
    assert not np.array_equal(conv, CORRELATION)
    np.testing.assert_array_equal(conv, correlate2d(IMAGE, KERNEL[::-1, ::-1]))
    # and the naive loops, which index the kernel as K[KH-1-m, KW-1-k], agree
    naive = conv2d_naive(IMAGE[None, None], KERNEL[None, None], flip=True)[0, 0]
    np.testing.assert_array_equal(naive, conv)


def test_true_convolution_commutes_but_correlation_does_not():
    # s = I * K is commutative for true convolution ("full" form): check on two 1-D signals with
    # numpy.convolve as the independent reference.
    a, b = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 0.5])
    full = np.pad(a, 2)[None, None]
    out, _ = conv1d_forward(full, b[None, None], flip=True)
    np.testing.assert_allclose(out[0, 0], np.convolve(a, b))
    np.testing.assert_allclose(out[0, 0], np.convolve(b, a))
    corr, _ = conv1d_forward(full, b[None, None])
    np.testing.assert_allclose(corr[0, 0], np.correlate(np.pad(a, 2), b, mode="valid"))
    assert not np.allclose(corr[0, 0], out[0, 0])


def test_max_pool_example():
    x = np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=float)
    out, _ = pool_forward(x[None, None], "max", 2, 2)
    np.testing.assert_array_equal(out[0, 0], [[6, 8], [3, 4]])
    avg, _ = pool_forward(x[None, None], "avg", 2, 2)
    # by hand: (1+1+5+6)/4, (2+4+7+8)/4, (3+2+1+2)/4, (1+0+3+4)/4
    np.testing.assert_array_equal(avg[0, 0], [[3.25, 5.25], [2.0, 2.0]])


@pytest.mark.parametrize(
    ("size", "stride", "padding", "expected"),
    [(7, 1, 0, 5), (7, 2, 0, 3), (7, 1, 1, 7)],  # the lectures' 7x7 / 3x3 table
)
def test_output_sizes(size, stride, padding, expected):
    x = np.zeros((1, 1, size, size))
    out, _ = conv2d_forward(
        x, np.zeros((1, 1, 3, 3)), stride=(stride, stride), padding=(padding, padding)
    )
    assert out.shape == (1, 1, expected, expected)


def test_one_filter_spans_the_full_depth():
    # 32x32x3 input, one 5x5x3 filter -> 28x28x1 (lectures); with all-ones data and weights
    # every output is 5*5*3 = 75 plus the bias.
    out, _ = conv2d_forward(np.ones((1, 3, 32, 32)), np.ones((1, 3, 5, 5)), np.array([1.0]))
    assert out.shape == (1, 1, 28, 28)
    assert np.all(out == 76)


def test_one_d_layer_formula():
    # h_i = beta + sum_{j=1..3} w_j x_{i+j-2} with zero padding (lectures), by hand for x = 1..5
    x = np.arange(1.0, 6.0)[None, None]
    w = np.array([1.0, 0.0, -1.0])[None, None]
    expected = [0 - 2, 1 - 3, 2 - 4, 3 - 5, 4 - 0]  # x_{i-1} - x_{i+1}
    np.testing.assert_array_equal(conv1d_naive(x, w, padding=1)[0, 0], expected)


def test_a_window_that_does_not_fit_is_refused():
    with pytest.raises(LayerFitError):
        conv2d_forward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3)))
