import numpy as np
import pytest
from matplotlib.figure import Figure

from convlens.errors import ConfigError, DataError
from convlens.viz.images import load_image, sample_image
from convlens.viz.kernels import (
    KERNELS,
    convolve,
    cross_correlate,
    plot_flip,
    plot_hyperparameters,
    plot_kernels,
)

signal = pytest.importorskip("scipy.signal")

LECTURE_INPUT = np.array(
    [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]], float
)
LECTURE_KERNEL = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], float)


def test_lecture_cross_correlation_example():
    # LECTURES.md section 3, worked example
    out = cross_correlate(LECTURE_INPUT, LECTURE_KERNEL)
    np.testing.assert_array_equal(out, [[12, 12, 17], [10, 17, 19], [9, 6, 14]])


def test_convolution_flips_the_kernel_like_scipy():
    rng = np.random.default_rng(0)
    img = rng.random((9, 11))
    k = rng.standard_normal((3, 4))
    np.testing.assert_allclose(
        convolve(img, k), signal.convolve2d(img, k, mode="valid"), atol=1e-12
    )
    np.testing.assert_allclose(
        cross_correlate(img, k), signal.correlate2d(img, k, mode="valid"), atol=1e-12
    )
    # with "same" zero padding too
    k3 = rng.standard_normal((3, 3))
    np.testing.assert_allclose(
        cross_correlate(img, k3, padding=1), signal.correlate2d(img, k3, mode="same"), atol=1e-12
    )
    # and the two differ for a kernel that is not symmetric under a 180-degree turn
    assert not np.allclose(convolve(img, k), cross_correlate(img, k))


def test_shift_kernel_moves_opposite_ways():
    img = np.random.default_rng(1).random((20, 20))
    xc = cross_correlate(img, "shift", padding=4)  # 9x9 kernel, 1 at (8, 8)
    cv = convolve(img, "shift", padding=4)
    np.testing.assert_allclose(xc[:16, :16], img[4:, 4:])
    np.testing.assert_allclose(cv[4:, 4:], img[:16, :16])


def test_edge_kernels_by_hand():
    step = np.zeros((6, 6))
    step[:, 3:] = 1.0  # a vertical edge between columns 2 and 3
    diff = cross_correlate(step, "diff")  # [-1, 1]: x[j+1] - x[j]
    expected = np.zeros((6, 5))
    expected[:, 2] = 1.0
    np.testing.assert_array_equal(diff, expected)
    np.testing.assert_array_equal(cross_correlate(step, "horizontal"), np.zeros((4, 4)))
    # the Laplacian sums to zero: a flat picture gives zero; one bright pixel gives 8 at its place
    np.testing.assert_allclose(cross_correlate(np.full((5, 5), 0.7), "laplacian"), 0, atol=1e-12)
    dot = np.zeros((5, 5))
    dot[2, 2] = 1.0
    lap = cross_correlate(dot, "laplacian")
    assert lap[1, 1] == 8 and lap[0, 0] == -1


def test_stride_padding_dilation_change_the_output():
    img = np.random.default_rng(2).random((32, 32))
    full = cross_correlate(img, "laplacian")
    assert full.shape == (30, 30)  # (32 - 3)/1 + 1
    strided = cross_correlate(img, "laplacian", stride=2)
    assert strided.shape == (15, 15)  # floor((32 - 3)/2) + 1
    np.testing.assert_allclose(strided, full[::2, ::2])
    assert cross_correlate(img, "laplacian", padding=2).shape == (34, 34)  # 32 + 4 - 3 + 1
    dilated = cross_correlate(img, "laplacian", dilation=2)
    assert dilated.shape == (28, 28)  # extent 2*(3-1)+1 = 5
    # a dilated kernel is the kernel with zeros between its taps
    spread = np.zeros((5, 5))
    spread[::2, ::2] = KERNELS["laplacian"]
    np.testing.assert_allclose(dilated, cross_correlate(img, spread))


def test_colour_images_are_filtered_per_channel():
    img = sample_image("shapes", 32)
    out = cross_correlate(img, "blur")
    assert out.shape == (28, 28, 3)
    np.testing.assert_allclose(out[..., 1], cross_correlate(img[..., 1], "blur"))


def test_kernel_errors():
    with pytest.raises(ConfigError, match="unknown kernel"):
        cross_correlate(np.zeros((4, 4)), "nope")
    with pytest.raises(ConfigError, match="spans"):
        cross_correlate(np.zeros((4, 4)), "laplacian", dilation=3)


def test_sample_images_and_plots(tmp_path):
    for name in ("shapes", "hopper"):
        img = sample_image(name, 48)
        assert img.shape == (48, 48, 3) and img.min() >= 0 and img.max() <= 1
        assert img.std() > 0.05  # a picture, not a flat field
    img = sample_image("shapes", 48)
    assert isinstance(plot_kernels(img), Figure)
    assert len(plot_flip(img).axes) == 5
    assert len(plot_hyperparameters(img).axes) == 6


def test_load_image_refuses_non_images(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    with pytest.raises(DataError, match="not an image"):
        load_image(bad)
    with pytest.raises(DataError, match="does not exist"):
        load_image(tmp_path / "missing.png")
