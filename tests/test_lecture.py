"""`convlens lecture`: the decks' worked examples against hand arithmetic (LECTURES.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from convlens.cli import main
from convlens.errors import ConfigError
from convlens.lectures import RGB_BIAS, RGB_KERNELS, RGB_PLANES, list_examples, run_example


def test_output_size_series():
    # (7 - 3)/1 + 1 = 5; (7 - 3)/2 + 1 = 3; (7 - 3)/3 + 1 = 2.33 (does not fit); (7 + 2 - 3)/1 + 1 = 7
    assert dict(run_example("output-size").values) == {
        "s1p0": 5,
        "s2p0": 3,
        "s3p0": None,
        "s1p1": 7,
    }


def test_conv_parameter_counts():
    v = run_example("conv-params").values
    assert v["one_filter"] == 5 * 5 * 3 + 1 == 76
    assert v["six_filters"] == 76 * 6 == 456
    assert v["ten_filters_pad2"] == 76 * 10 == 760 and v["ten_filters_out"] == 32  # (32+4-5)/1+1
    assert v["pointwise"] == (64 + 1) * 32 == 2_080
    assert v["conv1d"] == (36, 4, 200, 10)  # 3*3*4 + 4, then 5*4*10 + 10
    assert v["five_filters"] == (27 + 1) * 5 == 140
    assert v["fc"] == 128 * 64 + 64 == 8_256


def test_cross_correlation_is_the_lecture_matrix():
    v = run_example("cross-correlation").values
    assert v["correlation"] == [[12, 12, 17], [10, 17, 19], [9, 6, 14]]
    # true convolution = correlation with the kernel flipped: checked against torch
    image = torch.tensor([[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2],
                          [2, 0, 0, 0, 1]], dtype=torch.float64)  # fmt: skip
    kernel = torch.tensor([[0, 1, 2], [2, 2, 0], [0, 1, 2]], dtype=torch.float64)
    flipped = F.conv2d(image[None, None], kernel.flip(0, 1)[None, None])[0, 0]
    assert v["convolution"] == flipped.tolist()


def test_rgb_convolution_matches_torch():
    v = run_example("rgb-convolution").values
    x = torch.tensor(RGB_PLANES, dtype=torch.float64)[None]
    w = torch.tensor(RGB_KERNELS, dtype=torch.float64)[None]
    expected = F.conv2d(x, w, torch.tensor([float(RGB_BIAS)], dtype=torch.float64), padding=1)
    assert np.array_equal(np.array(v["output"]), expected[0, 0].numpy())
    # by hand at (0,0): the padded top-left windows give R 0, G -1 (1 * -1), B 2 (2 * 1); + bias 1
    assert [p[0][0] for p in v["per_plane"]] == [0, -1, 2] and v["output"][0][0] == 2


def test_both_max_pool_examples():
    assert run_example("max-pool").values["outputs"] == [[[6, 8], [3, 4]], [[9, 8], [8, 5]]]


def test_fully_connected_explosion():
    v = run_example("fc-explosion").values
    assert v["per_neuron"] == 3_072  # 32*32*3
    assert v["megapixel"] == 3 * 10**9  # 1000*1000*3 inputs x 1000 units
    assert v["two_hundred"] == 14_400_000_000  # 200*200*3 x 120,000
    assert (v["dense"], v["kernel"], v["kernels"]) == (10_100, 10, 2_000)


def test_bottleneck_numbers_and_the_slides_mistakes():
    worked = run_example("bottleneck")
    v = worked.values
    assert v["direct_mult"] == 28 * 28 * 64 * 5 * 5 * 128 == 160_563_200
    assert v["reduce_mult"] == 28 * 28 * 32 * 128 == 3_211_264
    assert v["then_mult"] == 28 * 28 * 64 * 5 * 5 * 32 == 40_140_800
    assert v["total_mult"] == 43_352_064
    assert v["direct_params"] == 5 * 5 * 128 * 64 + 64 == 204_864
    assert v["total_params"] == (128 * 32 + 32) + (5 * 5 * 32 * 64 + 64) == 55_392
    errors = " ".join(worked.slide_errors)
    assert "4.8M" in errors and "44.8M" in errors and "#params" in errors


def test_inception_module_naive_against_reduced():
    v = run_example("inception").values
    # naive: 1x1 64, 3x3 128, 5x5 32 on 192 channels; pool passes 192 maps on
    naive_w = 192 * 64 + 9 * 192 * 128 + 25 * 192 * 32  # 387,072 weights
    assert v["naive"] == {
        "params": naive_w + 64 + 128 + 32,
        "mult": 784 * naive_w,
        "out_channels": 416,
    }
    # reduced: 64 | 96 -> 128 | 16 -> 32 | pool -> 32 (Szegedy et al. 2015, Table 1, 3a)
    red_w = 192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32  # 163,328
    assert v["with"] == {"params": red_w + 368, "mult": 784 * red_w, "out_channels": 256}
    assert v["with"]["mult"] == 128_049_152


def test_lenet_table():
    v = run_example("lenet").values
    assert v["params"] == [156, 2_416, 48_120, 10_164, 850]
    assert v["total"] == 61_706


def test_small_cnn_shapes():
    v = run_example("small-cnn").values
    assert v["shapes"] == ["28x28x16", "14x14x16", "14x14x32", "7x7x32", "10"]
    # (25 + 1)*16 + (25*16 + 1)*32 + 7*7*32*10 + 10
    assert v["total"] == 416 + 12_832 + 15_690


def test_alexnet_fc_weights_and_slide_errors():
    worked = run_example("alexnet")
    v = worked.values
    assert v["fc_weights"] == [6 * 6 * 256 * 4096, 4096 * 4096, 4096 * 1000]
    assert v["fc_weights"][:2] == [37_748_736, 16_777_216]
    assert sum(v["fc_weights"]) == 58_621_952  # the slide's "58x10^6"
    # conv params: 34,944 + 614,656 + 885,120 + 1,327,488 + 884,992 = 3,747,200
    assert v["total"] == 3_747_200 + 37_752_832 + 16_781_312 + 4_097_000
    assert v["conv_share"][0] == pytest.approx(3_747_200 / 62_378_344)
    assert any("3.7x10^6" in e for e in worked.slide_errors)


def test_alexnet_on_32_flags_same_p5():
    worked = run_example("alexnet-32")
    # (32 + 2*5 - 11)/4 + 1 = 8.75, floored to 8
    assert worked.values["exact"] == 8.75 and worked.values["out"] == 8
    assert any("Same (p=5)" in e for e in worked.slide_errors)


def test_unknown_example_suggests_a_name():
    with pytest.raises(ConfigError, match="did you mean bottleneck"):
        run_example("botleneck")


def test_cli_lists_runs_and_refuses(capsys):
    assert main(["lecture"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name, _ in list_examples())
    assert main(["lecture", "bottleneck"]) == 0
    out = capsys.readouterr().out
    assert "43,352,064" in out and "the slide is wrong:" in out
    assert main(["lecture", "max-pool", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["values"]["outputs"][1] == [[9, 8], [8, 5]]
    assert main(["lecture", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no worked example 'nope'" in err and len(err.strip().splitlines()) == 1


def test_cli_runs_every_example(capsys):
    assert main(["lecture", "--all"]) == 0
    out = capsys.readouterr().out
    assert out.count("result:") >= len(list_examples())
