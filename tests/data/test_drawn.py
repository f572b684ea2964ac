"""center_like_mnist: a drawing framed as MNIST's digits were."""

from __future__ import annotations

import numpy as np
import pytest

from convlens.data.drawn import center_like_mnist, center_of_mass
from convlens.errors import ConfigError


def test_centre_of_mass_by_hand():
    image = np.zeros((4, 6))
    image[0, 0] = 1.0
    image[2, 4] = 3.0
    # rows: (0*1 + 2*3)/4 = 1.5; columns: (0*1 + 4*3)/4 = 3.0
    assert center_of_mass(image) == (1.5, 3.0)


def test_off_centre_blob_is_scaled_into_the_box_and_centred():
    canvas = np.zeros((100, 100))
    canvas[10:50, 70:80] = 1.0  # 40 tall, 10 wide, far to the right
    field = center_like_mnist(canvas)
    assert field.shape == (28, 28)
    ink = np.argwhere(field > 0.5)
    height = ink[:, 0].max() - ink[:, 0].min() + 1
    width = ink[:, 1].max() - ink[:, 1].min() + 1
    assert height == 20  # the longer side fills the 20-pixel box
    assert width == 5  # 10 * 20/40, the aspect ratio kept
    cy, cx = center_of_mass(field)
    assert abs(cy - 13.5) <= 0.5 and abs(cx - 13.5) <= 0.5


def test_blank_canvas_and_bad_input():
    assert center_like_mnist(np.zeros((10, 10))).sum() == 0
    with pytest.raises(ConfigError):
        center_like_mnist(np.zeros((3, 3, 3)))
