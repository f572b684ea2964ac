"""LeNet-5 on 32x32 inputs, whose last conv layer has a 1x1 map: what each picture does with it.

Shapes by hand (no padding, 5x5 convs, 2x2 average pools): conv1 32 - 4 = 28, pool1 14,
conv2 14 - 4 = 10, pool2 5, conv3 5 - 4 = 1.
"""

import re

import numpy as np
import pytest
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg

import convlens
from convlens.analysis.summary import summarize
from convlens.viz.activations import feature_maps, plot_feature_maps
from convlens.viz.attribution import grad_cam, predicted_class
from convlens.viz.dream import DreamConfig, deep_dream, layer_energy
from convlens.viz.images import stretch
from convlens.viz.overlays import heat_overlay, plot_attributions
from convlens.viz.receptive import effective_field, field_box, plot_receptive_field

# 3.0 and the next float32 above it: a constant map with one unit of rounding noise in it
THREE = np.float32(3.0)
THREE_AND_A_BIT = np.nextafter(THREE, np.float32(4.0))


@pytest.fixture(scope="module")
def lenet():
    torch.manual_seed(0)
    return convlens.create_model("lenet5").eval()


@pytest.fixture(scope="module")
def x():
    return torch.randn(1, 32, 32, generator=torch.Generator().manual_seed(1))


def _noisy_constant(shape) -> torch.Tensor:
    t = torch.full(shape, float(THREE))
    t.view(-1)[0] = float(THREE_AND_A_BIT)
    return t


# 1. a unit outside the map


def test_a_unit_outside_the_map_is_the_centre_unit_with_a_note():
    from convlens.viz.receptive import choose_unit

    # conv2's map is 10x10 (see the module docstring); its centre is (10 // 2, 10 // 2)
    assert choose_unit("conv2", (10, 10), (12, 3)) == (
        (5, 5),
        "conv2's map is 10x10; unit (12, 3) is outside it, showing the centre unit (5, 5)",
    )
    assert choose_unit("conv2", (10, 10), (2, 9)) == ((2, 9), "")
    assert choose_unit("conv2", (10, 10), None) == ((5, 5), "")
    assert choose_unit("conv2", (10, 10), (-1, 0))[0] == (5, 5)


def test_effective_field_of_a_unit_outside_a_1x1_map_warns_and_uses_the_centre(lenet, x):
    note = "conv3's map is 1x1; unit (3, 3) is outside it, showing the centre unit (0, 0)"
    with pytest.warns(UserWarning, match=re.escape(note)):
        erf = effective_field(lenet, x, "conv3", (3, 3))
    torch.testing.assert_close(erf, effective_field(lenet, x, "conv3", (0, 0)))


# 2. Deep Dream octaves


def test_octaves_smaller_than_the_layer_can_take_are_dropped(lenet):
    from convlens.viz.dream import octave_sizes

    image = torch.zeros(1, 32, 32)
    # default 3 octaves, scale 1.4: 32 / 1.4**2 = 16.3 -> 16, 32 / 1.4 = 22.9 -> 23, 32.
    # conv3 at 23: conv1 19, pool1 9, conv2 5, pool2 2 < conv3's 5x5 kernel, so only 32 is left;
    # conv2 at 16: conv1 12, pool1 6, conv2 2, so all three fit
    assert octave_sizes(lenet, image, "conv3") == [(32, 32)]
    assert octave_sizes(lenet, image, "conv2") == [(16, 16), (23, 23), (32, 32)]


def test_deep_dream_runs_at_a_1x1_layer_with_the_default_octaves(lenet, x):
    dream = deep_dream(lenet, x, "conv3", DreamConfig(steps=3))
    assert dream.shape == (1, 32, 32)
    assert layer_energy(lenet, "conv3", dream) > layer_energy(lenet, "conv3", x)


# 3. Grad-CAM's default layer, and flat maps drawn flat


def test_grad_cam_defaults_to_the_last_conv_layer_with_a_map_larger_than_1x1(lenet, x):
    c = predicted_class(lenet, x)
    torch.testing.assert_close(grad_cam(lenet, x, c), grad_cam(lenet, x, c, "conv2"))
    from convlens.viz.attribution import grad_cam_layer

    assert grad_cam_layer(lenet, x) == "conv2"  # conv3's map is 1x1, conv2's 10x10


def test_a_constant_map_with_rounding_noise_is_not_stretched():
    # (hi - lo) / hi = 2.4e-7 / 3: rounding, not signal; shown at the middle of the range
    t = torch.tensor([float(THREE), float(THREE_AND_A_BIT), float(THREE)])
    assert stretch(t).tolist() == [0.5, 0.5, 0.5]
    assert stretch(torch.tensor([1.0, 3.0, 2.0])).tolist() == [0.0, 1.0, 0.5]
    overlay = heat_overlay(np.zeros((4, 4)), _noisy_constant((4, 4)))
    assert np.ptp(overlay.reshape(-1, 3), axis=0).tolist() == [0.0, 0.0, 0.0]


def test_a_flat_grad_cam_panel_says_so_in_its_title():
    fig = plot_attributions(np.zeros((4, 4)), {"Grad-CAM": _noisy_constant((4, 4))})
    assert "flat map: Grad-CAM is constant" in fig.axes[1].get_title()
    fig = plot_attributions(np.zeros((4, 4)), {"Grad-CAM": torch.arange(16.0).view(4, 4)})
    assert "flat" not in fig.axes[1].get_title()


def test_flat_feature_map_channels_are_drawn_at_the_mid_value():
    maps = torch.stack([_noisy_constant((3, 3)), torch.arange(9.0).view(3, 3)])[None]
    fig = plot_feature_maps({"conv": maps})
    mosaic = np.asarray(fig.axes[0].get_images()[0].get_array())
    # tile(..., ncols=2, pad=1): channel 0 at rows 1-3, columns 1-3; channel 1 at columns 5-7
    assert mosaic[1:4, 1:4].tolist() == [[0.5] * 3] * 3
    np.testing.assert_allclose(mosaic[1:4, 5:8], np.arange(9.0).reshape(3, 3) / 8)
    assert "1 flat" in fig.axes[0].get_title()


# 4. 1x1 maps and vectors as bar charts


def test_1x1_maps_and_vectors_are_drawn_as_bars_of_channel_values(lenet, x):
    maps = feature_maps(lenet, x[None], ["conv2", "conv3", "fc1"])
    fig = plot_feature_maps(maps)
    conv2, conv3, fc1 = fig.axes
    assert conv2.get_images() and not conv2.patches  # a 10x10 map is still a picture
    assert len(conv3.patches) == 120 and len(fc1.patches) == 84
    heights = [p.get_height() for p in conv3.patches]
    np.testing.assert_allclose(heights, maps["conv3"][0, :, 0, 0].numpy())


# 5. rf.png's title


def test_a_long_receptive_field_title_stays_inside_the_figure(lenet):
    row = summarize(lenet, (1, 32, 32)).row("conv3")
    title = "conv3 unit (0, 0): field 32×32 px (test example 1 (Trouser))"  # as `viz rf` makes
    fig = plot_receptive_field(
        np.zeros((32, 32)), field_box(row, (0, 0)), torch.rand(32, 32), title
    )
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = [ax.title for ax in fig.axes] + list(fig.texts)
    assert any("Trouser" in t.get_text() for t in texts)
    for t in texts:
        if t.get_text():
            box = t.get_window_extent(renderer)
            assert box.x0 >= fig.bbox.x0 and box.x1 <= fig.bbox.x1, t.get_text()
            assert box.y0 >= fig.bbox.y0 and box.y1 <= fig.bbox.y1, t.get_text()
