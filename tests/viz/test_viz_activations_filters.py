import re

import numpy as np
import pytest
import torch
from torch import nn

from convlens.build import build_model
from convlens.errors import ConfigError
from convlens.viz.activations import (
    feature_maps,
    plot_feature_maps,
    plot_top_activating,
    top_activating,
)
from convlens.viz.filters import filter_grid, plot_filters


def test_filter_grid_colour_tiles_by_hand():
    w = torch.zeros(4, 3, 2, 2)
    w[1, 0, 0, 1] = 2.0  # filter 1: red at (0, 1) is its largest weight
    w[1, 2, 1, 0] = -1.0  # blue at (1, 0) half as large, negative
    grid = filter_grid(w, ncols=2)
    # 2x2 tiles of 2x2 pixels with 1-pixel gaps: (2*3+1, 2*3+1, 3)
    assert grid.shape == (7, 7, 3)
    tile1 = grid[1:3, 4:6]  # row 0, column 1
    assert tile1[0, 1, 0] == 1.0  # 0.5 + 0.5 * 2/2
    assert tile1[1, 0, 2] == 0.25  # 0.5 + 0.5 * (-1)/2
    assert tile1[0, 0, 1] == 0.5  # zero weight is mid grey
    np.testing.assert_array_equal(grid[1:3, 1:3], 0.5)  # an all-zero filter


def test_filter_grid_per_channel_layout():
    w = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2) + 1
    grid = filter_grid(w, rgb=False)  # 3 input channels would be shown in colour by default
    assert grid.shape == (7, 10)  # rows: 2 filters, columns: 3 input channels
    m = float(w[1].abs().max())  # each filter scaled by its own largest weight
    np.testing.assert_allclose(grid[4:6, 7:9], 0.5 + 0.5 * w[1, 2].numpy() / m)


def test_plot_filters_and_unknown_layer():
    model = build_model("conv5x5x12-pool2-conv3x3x6-fc10", (3, 32, 32))
    # conv1: 12 colour filters of 5x5 in ceil(sqrt(12)) = 4 columns, 1-pixel gaps: 3 x 6 + 1 rows
    # and 4 x 6 + 1 columns; conv2: a row per filter (6), a column per input channel (12), 3x3
    for layer, title, shape in (
        (None, "conv1: 12 filters of 3×5×5", (19, 25, 3)),
        ("conv2", "conv2: 6 filters of 12×3×3\nrows: filters, columns: input channels", (25, 49)),
    ):
        fig = plot_filters(model, layer)
        (ax,) = fig.axes
        assert ax.get_title() == title
        assert ax.images[0].get_array().shape == shape
    with pytest.raises(ConfigError, match="convolution layers are: conv1, conv2"):
        plot_filters(model, "layer1.0.conv2")
    with pytest.raises(ConfigError, match="not a convolution"):
        plot_filters(model, "pool1")


def test_feature_maps_match_the_forward_pass():
    model = build_model("conv3x3x4p1-pool2-conv3x3x6p1-fc10", (1, 12, 12)).eval()
    x = torch.randn(2, 1, 12, 12)
    maps = feature_maps(model, x, ["relu1", "conv2"])
    with torch.no_grad():
        torch.testing.assert_close(maps["relu1"], model[:2](x))
        torch.testing.assert_close(maps["conv2"], model[:4](x))
    fig = plot_feature_maps(maps, image=x[0, 0].numpy())
    assert [ax.get_title() for ax in fig.axes] == [
        "input", "relu1: (4, 12, 12), first 4 channels", "conv2: (6, 6, 6), first 6 channels",
    ]  # fmt: skip
    # the input as it is; 4 maps of 12x12 in a row with 1-pixel gaps; 6 maps of 6x6 in a row
    shapes = [ax.images[0].get_array().shape for ax in fig.axes]
    assert shapes == [(12, 12), (14, 4 * 13 + 1), (8, 6 * 7 + 1)]


def test_top_activating_by_hand():
    # one 3x3 all-ones filter: a unit's activation is the sum of its 3x3 window
    conv = nn.Conv2d(1, 1, 3, bias=False)
    nn.init.ones_(conv.weight)
    model = nn.Sequential(conv, nn.Flatten())
    gen = np.random.default_rng(0)
    x = torch.tensor(gen.random((20, 1, 10, 10)), dtype=torch.float32)
    x[7, 0, 4:7, 2:5] += 3.0  # example 7 has the brightest 3x3 window, at rows 4-6, cols 2-4
    sums = np.array(
        [
            max(x[n, 0, i : i + 3, j : j + 3].sum().item() for i in range(8) for j in range(8))
            for n in range(20)
        ]
    )
    top = top_activating(model, "0", 0, x, k=3)
    np.testing.assert_array_equal(top.indices, np.argsort(-sums)[:3])
    np.testing.assert_allclose(top.scores, np.sort(sums)[::-1][:3], rtol=1e-5)
    assert top.indices[0] == 7 and top.positions[0] == (4, 2)
    assert top.boxes[0] == (slice(4, 7), slice(2, 5))
    assert top.crops[0].shape == (3, 3)
    fig = plot_top_activating(top)
    assert len(fig.axes) == 3 and fig.get_suptitle() == "0 channel 0: top 3 crops"
    order = np.argsort(-sums)[:3]
    assert [ax.get_title() for ax in fig.axes] == [f"#{i}: {sums[i]:.2f}" for i in order]
    assert [ax.images[0].get_array().shape for ax in fig.axes] == [(3, 3)] * 3
    with pytest.raises(ConfigError, match="no channel 3"):
        top_activating(model, "0", 3, x)


def test_top_activating_on_signals():
    conv = nn.Conv1d(1, 2, 3, bias=False)
    nn.init.ones_(conv.weight)
    model = nn.Sequential(conv)
    x = torch.zeros(5, 1, 12)
    x[2, 0, 6:9] = 1.0  # the only non-zero window: units 4..8 of example 2 see part of it
    top = top_activating(model, "0", 1, x, k=2)
    assert top.indices[0] == 2 and top.scores[0] == 3.0 and top.positions[0] == (6,)
    assert top.boxes[0] == (slice(6, 9),)
    np.testing.assert_array_equal(top.crops[0], [1.0, 1.0, 1.0])
    fig = plot_top_activating(top)
    assert len(fig.axes) == 2 and fig.get_suptitle() == "0 channel 1: top 2 crops"
    assert fig.axes[0].get_title() == "#2: 3.00"
    np.testing.assert_array_equal(fig.axes[0].lines[0].get_ydata(), [1.0, 1.0, 1.0])


def test_feature_maps_of_signals():
    model = build_model("conv1d5x4p2-pool2-conv1d3x6p1-fc3", (1, 40)).eval()
    maps = feature_maps(model, torch.randn(1, 1, 40), ["conv1", "conv2", "fc1"])
    assert [tuple(m.shape) for m in maps.values()] == [(1, 4, 40), (1, 6, 20), (1, 3)]
    fig = plot_feature_maps(maps)
    conv1, conv2, fc1 = fig.axes
    assert [ax.images[0].get_array().shape for ax in (conv1, conv2)] == [(4, 40), (6, 20)]
    assert len(fc1.patches) == 3 and not fc1.images  # a vector: one bar per output


def test_nested_module_paths():
    class Block(nn.Module):
        def __init__(self, c_in, c_out):
            super().__init__()
            self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)

        def forward(self, x):
            return torch.relu(self.conv(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(Block(1, 4), Block(4, 5))
            self.head = nn.Linear(5, 2)

        def forward(self, x):
            return self.head(self.features(x).mean(dim=(2, 3)))

    from convlens.viz import conv_layers, grad_cam

    model = Net().eval()
    assert conv_layers(model) == ["features.0.conv", "features.1.conv"]
    x = torch.randn(1, 1, 9, 9)
    maps = feature_maps(model, x, ["features.1.conv"])
    with torch.no_grad():
        torch.testing.assert_close(
            maps["features.1.conv"], model.features[1].conv(model.features[0](x))
        )
    assert grad_cam(model, x[0], 1, layer="features.0.conv").shape == (9, 9)
    with pytest.raises(ConfigError, match=re.escape("features.0.conv, features.1.conv")):
        feature_maps(model, x, ["features.2.conv"])
