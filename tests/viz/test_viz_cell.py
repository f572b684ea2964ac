"""conv_cell: the window times the kernel plus the bias is the conv's output."""

from __future__ import annotations

import torch

from convlens.build import build_model
from convlens.viz.cell import conv_cell


def test_cell_matches_the_layer_output_with_padding_stride_dilation_groups():
    torch.manual_seed(0)
    model = build_model("conv3x3x4p2s2d2g2-fc3", (2, 9, 9))
    x = torch.randn(2, 9, 9)
    cell = conv_cell(model, x, "conv1", 3, (1, 2))
    assert cell.window.shape == cell.kernel.shape == (1, 3, 3)  # 2 channels / 2 groups
    expected = torch.nn.functional.conv2d(x[None], model.conv1.weight, model.conv1.bias,
                                          stride=2, padding=2, dilation=2, groups=2)[0, 3, 1, 2].detach()  # fmt: skip
    assert abs(cell.output - float(expected)) < 1e-5
    assert abs(cell.products_sum + cell.bias - cell.output) < 1e-5
