"""convlens's own torch modules against computations written independently of them."""

import pytest
import torch
import torch.nn.functional as F

from convlens.modules import LocalConv2d, Maxout, RecurrentConv2d, WeightedAvgPool


def _as_bank(conv_weight: torch.Tensor) -> torch.Tensor:
    """A Conv2d weight (C_out, C_in, KH, KW) as one bank (C_out, C_in*KH*KW)."""
    return conv_weight.reshape(conv_weight.shape[0], -1)


@pytest.mark.parametrize("tiles", [0, 1, 3])
def test_local_conv_with_every_bank_equal_is_a_convolution(tiles):
    torch.manual_seed(0)
    layer = LocalConv2d(3, 4, (3, 2), (9, 8), tiles=tiles, stride=2, padding=1).double()
    w, b = torch.randn(4, 3, 3, 2, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(_as_bank(w).expand_as(layer.weight))
        layer.bias.copy_(b.expand_as(layer.bias))
    x = torch.randn(2, 3, 9, 8, dtype=torch.float64)
    torch.testing.assert_close(layer(x), F.conv2d(x, w, b, stride=2, padding=1))


def test_tiled_conv_equals_a_loop_over_positions():
    # out[n, o, i, j] = sum over the window of x_pad * w[bank(i, j)] + b[bank(i, j)], with
    # bank(i, j) = (i mod T) * T + (j mod T): each position a small convolution of its own bank
    torch.manual_seed(1)
    t, k, s, p = 2, 3, 1, 1
    layer = LocalConv2d(2, 3, (k, k), (6, 5), tiles=t, stride=s, padding=p).double()
    x = torch.randn(2, 2, 6, 5, dtype=torch.float64)
    xp = F.pad(x, (p, p, p, p))
    h_out, w_out = 6, 5  # 'same' size: (6 + 2 - 3) / 1 + 1
    expected = torch.empty(2, 3, h_out, w_out, dtype=torch.float64)
    for i in range(h_out):
        for j in range(w_out):
            bank = (i % t) * t + j % t
            w = layer.weight[bank].reshape(3, 2, k, k)
            window = xp[:, :, i * s : i * s + k, j * s : j * s + k]
            expected[:, :, i, j] = torch.einsum("nchw,ochw->no", window, w) + layer.bias[bank]
    torch.testing.assert_close(layer(x), expected)
    # positions 2 apart in both directions share weights; neighbours do not
    assert layer.weight.shape == (t * t, 3, 2 * k * k)


def test_local_conv_has_a_bank_per_position():
    layer = LocalConv2d(2, 4, (3, 3), (7, 7))
    # 5 x 5 positions, each 4 filters of 2 * 3 * 3 weights and 4 biases
    assert layer.weight.numel() + layer.bias.numel() == 25 * 4 * 18 + 25 * 4


def test_weighted_pool_weights_and_a_hand_example():
    pool = WeightedAvgPool(3, stride=1)
    expected = torch.tensor([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=torch.float32) / 16
    torch.testing.assert_close(pool.kernel[0, 0], expected)
    x = torch.tensor([[4.0, 8.0, 0.0], [0.0, 16.0, 0.0], [0.0, 0.0, 0.0]]).view(1, 1, 3, 3)
    assert pool(x).item() == pytest.approx((4 + 16 + 64) / 16)
    # 5-wide window: row 4 of Pascal's triangle over 16; 1-D
    pool5 = WeightedAvgPool(5, stride=5, ndim=1)
    torch.testing.assert_close(pool5.kernel[0, 0], torch.tensor([1.0, 4, 6, 4, 1]) / 16)


def test_weighted_pool_treats_every_channel_alike():
    torch.manual_seed(2)
    pool = WeightedAvgPool(3, stride=2, padding=1)
    x = torch.randn(2, 3, 7, 7)
    for c in range(3):
        one = pool(x[:, c : c + 1])
        torch.testing.assert_close(pool(x)[:, c : c + 1], one)
        torch.testing.assert_close(one, F.conv2d(x[:, c : c + 1], pool.kernel, stride=2, padding=1))


def test_maxout_is_the_max_over_groups_of_consecutive_channels():
    x = torch.arange(12.0).view(1, 6, 1, 2) * torch.tensor([1, -1, 1, -1, 1, -1]).view(1, 6, 1, 1)
    out = Maxout(3)(x)
    assert out.shape == (1, 2, 1, 2)
    torch.testing.assert_close(out, torch.stack([x[:, 0:3].amax(1), x[:, 3:6].amax(1)], dim=1))


def test_recurrent_conv_unrolls_the_recurrence():
    # one channel, 1x1 kernel: u = 2, w_f = 0.5, w_r = 1, b = 0: x(0) = 1, x(1) = 2, x(2) = 3
    layer = RecurrentConv2d(1, 1, 1, steps=2)
    with torch.no_grad():
        layer.weight.fill_(0.5)
        layer.recurrent_weight.fill_(1.0)
        layer.bias.zero_()
    assert layer(torch.full((1, 1, 1, 1), 2.0)).item() == 3.0
    # a 3x3 kernel keeps the map size ('same' padding) at every step
    assert RecurrentConv2d(2, 4, 3, steps=3)(torch.zeros(1, 2, 5, 6)).shape == (1, 4, 5, 6)
