"""Every worked example of the lectures (shared LECTURES.md, section 3), computed by hand.

The expected numbers below are the lecture's own, re-derived in the comments; none was produced
by the code under test.
"""

import pytest

from convlens.analysis.geometry import analyze, conv_output_size, layer_arithmetic, unused_pixels
from convlens.analysis.summary import summarize
from convlens.errors import LayerFitError
from convlens.spec import Conv, Linear, Pool


@pytest.mark.parametrize(
    ("n", "f", "s", "p", "expected"),
    [
        (7, 3, 1, 0, 5),  # (7 - 3)/1 + 1 = 5
        (7, 3, 2, 0, 3),  # (7 - 3)/2 + 1 = 3
        (7, 3, 1, 1, 7),  # (7 + 2 - 3)/1 + 1 = 7
        (32, 5, 1, 0, 28),
        (32, 5, 1, 2, 32),
        (56, 1, 1, 0, 56),
        (4, 2, 2, 0, 2),  # pooling: (W - F)/S + 1
    ],
)
def test_output_size_formula(n, f, s, p, expected):
    assert conv_output_size(n, f, s, p) == expected


def test_stride_three_does_not_fit_with_the_lectures_wording():
    # (7 - 3)/3 + 1 = 2.33: floor semantics give 2 and leave the last column unread
    assert conv_output_size(7, 3, 3) == 2
    assert unused_pixels(7, 3, 3, 0) == 1
    with pytest.raises(LayerFitError) as err:
        conv_output_size(7, 3, 3, strict=True)
    assert (
        str(err.value) == "3x3 filter with stride 3 does not fit a 7x7 input: (7 - 3)/3 + 1 = 2.33"
    )


def test_slide_same_padding_on_32_is_floored_from_8_75():
    # 11x11 stride 4 "same (p=5)" on 32x32: (32 + 10 - 11)/4 + 1 = 8.75 -> 8
    info = layer_arithmetic(Conv(1, (11, 11), 4, 5), (1, 32, 32))
    assert info.out_shape == (1, 8, 8)
    assert info.note == "8.75 floored to 8"
    assert info.unused == ()  # the 3 unread rows are all padding (P = 5)
    with pytest.raises(LayerFitError, match=r"\(32 \+ 2\*5 - 11\)/4 \+ 1 = 8.75"):
        layer_arithmetic(Conv(1, (11, 11), 4, 5), (1, 32, 32), strict=True)


@pytest.mark.parametrize(
    ("in_shape", "layer", "out_shape", "params"),
    [
        ((3, 32, 32), Conv(1, (5, 5)), (1, 28, 28), 76),  # 5*5*3 + 1
        ((3, 32, 32), Conv(6, (5, 5)), (6, 28, 28), 456),  # 76 * 6
        ((3, 32, 32), Conv(10, (5, 5), 1, 2), (10, 32, 32), 760),  # 76 * 10
        ((64, 56, 56), Conv(32, (1, 1)), (32, 56, 56), 2080),  # (64 + 1) * 32
        ((3, 9, 9), Conv(5, (3, 3)), (5, 7, 7), 140),  # (3*3*3 + 1) * 5
        ((128,), Linear(64), (64,), 8256),  # 128*64 + 64
        ((1, 4, 4), Pool("max", 2), (1, 2, 2), 0),
    ],
)
def test_layer_table(in_shape, layer, out_shape, params):
    info = layer_arithmetic(layer, in_shape)
    assert info.out_shape == out_shape
    assert info.params == params


def test_one_d_example_weights_and_biases():
    # 3 channels, kernel 3 -> 4 channels: 3*3*4 = 36 weights + 4 biases;
    # then kernel 5 -> 10 channels: 4*5*10 = 200 weights + 10 biases
    rows = analyze("conv1d3x4-conv1d5x10", (3, 32), activation=None)
    assert (rows[0].weights, rows[0].biases) == (36, 4)
    assert (rows[1].weights, rows[1].biases) == (200, 10)


def test_mnist_pipeline_shapes():
    spec = "conv5x5x16p2-pool2-conv5x5x32p2-pool2-fc10"
    rows = analyze(spec, (1, 28, 28), activation=None)
    shapes = [r.out_shape for r in rows if r.kind in ("conv2d", "maxpool", "linear")]
    assert shapes == [(16, 28, 28), (16, 14, 14), (32, 14, 14), (32, 7, 7), (10,)]


def test_lenet_table():
    spec = "conv5x5x6-avgpool2-conv5x5x16-avgpool2-conv5x5x120-fc84-fc10"
    rows = [r for r in analyze(spec, (1, 32, 32), activation=None) if r.kind != "flatten"]
    assert [r.out_shape for r in rows] == [
        (6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120, 1, 1), (84,), (10,),
    ]  # fmt: skip
    # (5*5*1+1)*6, 0, (5*5*6+1)*16, 0, (5*5*16+1)*120, 120*84+84, 84*10+10
    assert [r.params for r in rows] == [156, 0, 2416, 0, 48120, 10164, 850]


ALEXNET = (
    "conv11x11x96s4-relu-pool3s2-lrn-conv5x5x256p2-relu-pool3s2-lrn-conv3x3x384p1-relu"
    "-conv3x3x384p1-relu-conv3x3x256p1-relu-pool3s2-flatten-fc4096-relu-fc4096-relu-fc1000"
)


def test_alexnet_as_the_lectures_give_it():
    s = summarize(ALEXNET, (3, 227, 227))
    shapes = {r.name: r.out_shape for r in s.rows}
    assert shapes["conv1"] == (96, 55, 55)  # (227 - 11)/4 + 1
    assert shapes["pool1"] == (96, 27, 27)  # (55 - 3)/2 + 1
    assert shapes["conv2"] == (256, 27, 27)
    assert shapes["pool2"] == (256, 13, 13)
    assert shapes["conv3"] == shapes["conv4"] == (384, 13, 13)
    assert shapes["conv5"] == (256, 13, 13)
    assert shapes["pool3"] == (256, 6, 6)
    # conv: (11*11*3+1)*96 + (5*5*96+1)*256 + (3*3*256+1)*384 + (3*3*384+1)*384 + (3*3*384+1)*256
    conv = 34_944 + 614_656 + 885_120 + 1_327_488 + 884_992
    # fc: (9216+1)*4096 + (4096+1)*4096 + (4096+1)*1000
    fc = 37_752_832 + 16_781_312 + 4_097_000
    assert s.total_params == conv + fc == 62_378_344
    # the slides: conv layers hold about 90-95% of the computation, fc layers about 95% of the
    # parameters
    shares = s.shares()
    assert shares["fc"][0] > 0.9
    assert shares["conv"][1] > 0.9


def test_parameter_sharing_example():
    # 10x10 image: a dense 100 -> 100 layer has 100*100 + 100 = 10,100 parameters; one 3x3 kernel
    # has 9 + 1 = 10; 200 such kernels 2,000
    assert layer_arithmetic(Linear(100), (100,)).params == 10_100
    assert layer_arithmetic(Conv(1, (3, 3)), (1, 10, 10)).params == 10
    assert layer_arithmetic(Conv(200, (3, 3)), (1, 10, 10)).params == 2_000
    # 200x200x3 inputs to 120,000 hidden units: 120,000 * 120,000 = 14.4 billion weights
    assert layer_arithmetic(Linear(120_000, bias=False), (200 * 200 * 3,)).weights == 14_400_000_000
