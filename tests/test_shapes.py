"""Shapes as the slides write them (H x W x C) and as convlens stores them (C x H x W)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convlens.cli import main
from convlens.errors import ConfigError
from convlens.shapes import hwc, read_shape, shape_text


def test_slide_shapes_are_read_as_height_width_channels():
    read = read_shape("32x32x3")
    assert read.shape == (3, 32, 32)
    assert read.note == "read 32x32x3 as height x width x channels; convlens writes 3x32x32"
    assert read_shape("227x227x3").shape == (3, 227, 227)
    assert read_shape("28x28x1").shape == (1, 28, 28)


def test_channels_first_shapes_are_left_alone():
    for text, shape in (("3x32x32", (3, 32, 32)), ("1x28x28", (1, 28, 28)), ("64x56x56", (64, 56, 56)),
                        ("1x40", (1, 40)), ("784", (784,)), ("4x8x3", (4, 8, 3))):  # fmt: skip
        read = read_shape(text)
        assert read.shape == shape and read.note == ""


def test_layout_settles_it_both_ways():
    assert read_shape("3x32x32", "chw").shape == (3, 32, 32)
    assert read_shape("32x32x3", "chw").shape == (32, 32, 3)
    assert read_shape("3x32x32", "hwc").shape == (32, 3, 32)  # H=3, W=32, C=32, as asked
    assert read_shape("32x32x3", "hwc").note == ""  # asked for explicitly: nothing to say
    assert read_shape("1x40", "hwc").shape == (1, 40)  # two numbers: as they are
    with pytest.raises(ConfigError, match="--layout must be one of"):
        read_shape("32x32x3", "whc")


@given(st.integers(5, 512), st.integers(1, 512), st.sampled_from([1, 3]))
def test_hwc_round_trip(h, w, c):
    read = read_shape(f"{h}x{w}x{c}")
    assert read.shape == (c, h, w)
    assert shape_text(read.shape, channels_last=True) == f"{h}x{w}x{c}"
    assert hwc((c, h, w)) == (h, w, c) and hwc((784,)) == (784,)


def test_arith_reads_the_slides_example_and_gives_760(capsys):
    # slide: 32x32x3 input, 10 filters 5x5, stride 1, pad 2 -> 32x32x10, (5*5*3 + 1)*10 = 760
    assert main(["arith", "--input", "32x32x3", "-k", "5", "-n", "10", "-p", "2"]) == 0
    out = capsys.readouterr()
    assert "= 760 (750 weights + 10 biases; 76 per filter)" in out.out
    assert "->  32x32x10" in out.out
    assert out.err == "read 32x32x3 as height x width x channels; convlens writes 3x32x32\n"


@pytest.mark.parametrize(
    "text", ["(1, 28, 28)", "[1, 28, 28]", "torch.Size([1, 28, 28])", "1,28,28"]
)
def test_a_shape_as_python_or_pytorch_prints_it(text):
    assert read_shape(text).shape == (1, 28, 28)


def test_a_spec_in_words_and_a_picture_without_its_channel(capsys):
    # the layers as separate words are the spec joined by dashes
    assert main(["summary", "conv3x3x8", "pool2", "fc10", "--input", "1x28x28"]) == 0
    assert capsys.readouterr().out.startswith("conv3x3x8-pool2-fc10  (input 1x28x28)")
    # 28x28 for a 2-D conv: the error says how one channel is written
    assert main(["summary", "conv3x3x8-fc10", "--input", "28x28"]) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith(
        "but receives 28x28; 1-D inputs take conv1d layers (conv1d3x8), and a grey 28x28 picture "
        "is written 1x28x28"
    )
    assert main(["summary", "conv1d3x8-fc10", "--input", "40"]) == 2
    assert capsys.readouterr().err.strip().endswith("one signal of length 40 is written 1x40")
    assert main(["summary", "conv1d3x8-fc10", "--input", "1x8x8"]) == 2
    assert capsys.readouterr().err.strip().endswith("pictures take 2-D convolutions (conv3x3x8)")


def test_summary_of_a_run_directory_or_checkpoint(capsys, tmp_path):
    from convlens.build import build_model
    from convlens.train import save_checkpoint

    save_checkpoint(tmp_path / "run" / "best", build_model("conv3x3x4-fc3", (1, 8, 8)))
    for ref in (tmp_path / "run", tmp_path / "run" / "best.json"):
        assert main(["summary", str(ref)]) == 0
        out = capsys.readouterr().out
        # the network as built (ReLU and flatten written out): conv 3*3*4 + 4, fc 4*6*6*3 + 3
        assert out.startswith("conv3x3x4-relu-flatten-fc3  (input 1x8x8)")
        assert "params: 475 (trainable 475)" in out


def test_arith_reads_the_layer_as_a_spec_token(capsys):
    # the slide's layer written as the spec writes it: the same 760 parameters
    assert main(["arith", "conv5x5x10p2", "--input", "32x32x3"]) == 0
    out = capsys.readouterr().out
    assert "= 760 (750 weights + 10 biases; 76 per filter)" in out and "->  32x32x10" in out
    # pool2: stride = window, (28 - 2)/2 + 1 = 14; avgpool3s2p1: (28 + 2 - 3)/2 + 1 = 14.5 -> 14
    assert main(["arith", "pool2", "--input", "8x28x28"]) == 0
    out = capsys.readouterr().out
    assert "max pooling 2, stride 2" in out and "->  8x14x14" in out
    assert main(["arith", "avgpool3s2p1", "--input", "8x28x28"]) == 0
    assert "14.50, floored to 14" in capsys.readouterr().out
    # a dilated, strided 1-D layer: extent 2(3 - 1) + 1 = 5, (40 - 5)/2 + 1 = 18.5 -> 18, 25*(3 + 1)
    assert main(["arith", "conv1d3x25s2d2", "--input", "40"]) == 0
    out = capsys.readouterr().out
    assert "F_eff = D(F - 1) + 1 = 2(3 - 1) + 1 = 5" in out and "->  25x18" in out
    assert "= 100 (75 weights + 25 biases" in out


@pytest.mark.parametrize("argv, message", [
    (["conv3x3x4", "-k", "3"], "the layer 'conv3x3x4' already says its window; drop --kernel"),
    ([], "give the layer: a spec token such as conv5x5x10p2"),
    (["fc10"], "one conv or pooling layer, such as conv5x5x10p2 or pool2, not 'fc10'"),
    (["conv3x3x4-pool2"], "not 'conv3x3x4-pool2'"),
    (["conv3x5x4"], "square windows"),
    (["conv3x3x4g2"], "no groups or nobias"),
    (["conv1d5x4"], "'conv1d5x4' is a 1-D convolution and the input '28x28' is 2-D"),
    (["convx"], "cannot read this convolution"),
])  # fmt: skip
def test_arith_layer_token_errors(capsys, argv, message):
    assert main(["arith", *argv, "--input", "28x28"]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_arith_alexnet_input_fits(capsys):
    # (227 - 11)/4 + 1 = 55; (11*11*3 + 1)*96 = 34,944
    assert main(["arith", "--input", "227x227x3", "-k", "11", "-s", "4", "-n", "96"]) == 0
    out = capsys.readouterr().out
    assert "->  55x55x96" in out and "= 34,944" in out


def test_arith_layout_chw_keeps_channels_first(capsys):
    # 3 channels of 32x32: the same 760 parameters, answered in C x H x W
    assert (
        main(["arith", "--input", "3x32x32", "--layout", "chw", "-k", "5", "-n", "10", "-p", "2"])
        == 0
    )
    out = capsys.readouterr()
    assert "= 760 " in out.out and "->  10x32x32" in out.out and out.err == ""
    # read as H x W x C on purpose: 32 channels of 3x32, (5*5*32 + 1)*10 = 8,010
    assert (
        main(["arith", "--input", "3x32x32", "--layout", "hwc", "-k", "5", "-n", "10", "-p", "2"])
        == 0
    )
    assert "= 8,010 " in capsys.readouterr().out


def test_summary_takes_a_slide_shape_and_prints_hwc(capsys):
    assert main(["summary", "conv5x5x10p2", "--input", "32x32x3", "--hwc"]) == 0
    out = capsys.readouterr()
    assert "read 32x32x3 as" in out.err
    assert "(input 32x32x3, H x W x C)" in out.out
    assert "32x32x10" in out.out and "760" in out.out


@pytest.mark.parametrize("argv, message", [
    (["arith", "--input", "32x32x3", "-k", "5", "--layout", "xyz"], "invalid choice"),
    (["arith", "--input", "32by32", "-k", "5"], "cannot read the input shape"),
    (["summary", "conv3x3x4", "--input", "0x32x32"], "cannot read the input shape"),
    (["summary", "conv3x3x4", "--input", "3x8x8", "--width", "5"], "--width must be at least 20"),
])  # fmt: skip
def test_bad_shapes_are_one_sentence_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
