"""Parameter counts of every zoo model against numbers derived without the code under test.

Sources: the torchvision weight tables (``*_Weights.IMAGENET1K_V1.meta["num_params"]`` in
torchvision/models/{alexnet,vgg,googlenet,resnet}.py, also listed on
https://docs.pytorch.org/vision/stable/models.html), the papers, and per-layer hand arithmetic:
conv (K_h K_w C_in + 1) C_out, fc (in + 1) out, batch norm 2C, conv without bias K_h K_w C_in C_out.
Models are built on the meta device: counting needs no memory.
"""

from __future__ import annotations

import pytest
import torch

from convlens.models import create_model, list_models, model_info


def conv(c_in: int, c_out: int, k: int, bias: bool = True) -> int:
    return (k * k * c_in + bias) * c_out


def fc(n_in: int, n_out: int) -> int:
    return (n_in + 1) * n_out


def bn(c: int) -> int:
    return 2 * c


# ---------------------------------------------------------------------------------------------
# Hand arithmetic for the models that no table lists
# ---------------------------------------------------------------------------------------------

# LECTURES.md section 3, LeNet-style table: 156 + 2,416 + 48,120 + 10,164 + 850
LENET5 = 156 + 2_416 + 48_120 + 10_164 + 850
# LeCun et al. 1998, section II.B: C1 156, S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164 (paper's
# numbers); the RBF output is replaced by a linear layer of 84 * 10 + 10 = 850
LENET5_1998 = 156 + 12 + 1_516 + 32 + 48_120 + 10_164 + 850

# LECTURES.md section 3 AlexNet: conv 96 11x11 on 3, 256 5x5, 384 3x3, 384 3x3, 256 3x3; 6x6x256 maps
ALEXNET_LECTURE = (
    conv(3, 96, 11) + conv(96, 256, 5) + conv(256, 384, 3) + conv(384, 384, 3) + conv(384, 256, 3)
    + fc(6 * 6 * 256, 4096) + fc(4096, 4096) + fc(4096, 1000)
)  # fmt: skip
# the paper's two towers: conv2, conv4, conv5 see half of their input maps
ALEXNET_TWO_TOWER = (
    ALEXNET_LECTURE
    - (conv(96, 256, 5) - conv(48, 256, 5))
    - (conv(384, 384, 3) - conv(192, 384, 3))
    - (conv(384, 256, 3) - conv(192, 256, 3))
)

# Szegedy et al. 2015, Table 1 (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)
INCEPTION = [
    (64, 96, 128, 16, 32, 32), (128, 128, 192, 32, 96, 64),
    (192, 96, 208, 16, 48, 64), (160, 112, 224, 24, 64, 64), (128, 128, 256, 24, 64, 64),
    (112, 144, 288, 32, 64, 64), (256, 160, 320, 32, 128, 128),
    (256, 160, 320, 32, 128, 128), (384, 192, 384, 48, 128, 128),
]  # fmt: skip
# the 5x5 branch with 5x5 kernels instead of torchvision's 3x3: 16 more weights per pair
GOOGLENET_5X5 = 6_624_904 + sum(16 * r5 * c5 for _, _, _, r5, c5, _ in INCEPTION)


def _googlenet_naive() -> int:
    """Conv (no bias) + BN everywhere; naive modules keep all input maps in the pooling branch."""
    total = conv(3, 64, 7, False) + bn(64) + conv(64, 64, 1, False) + bn(64)
    total += conv(64, 192, 3, False) + bn(192)
    c = 192
    for c1, _, c3, _, c5, _ in INCEPTION:
        total += conv(c, c1, 1, False) + conv(c, c3, 3, False) + conv(c, c5, 5, False)
        total += bn(c1) + bn(c3) + bn(c5)
        c = c1 + c3 + c5 + c
    return total + fc(c, 1000)


def _cifar_resnet(n: int, classes: int = 10) -> int:
    """He et al. 2016 section 4.2: conv 16, then n basic blocks at 16, 32, 64; option-A shortcuts
    hold no parameters; convs have no bias and are followed by batch norm."""
    total = conv(3, 16, 3, False) + bn(16)
    c = 16
    for planes in (16, 32, 64):
        for _ in range(n):
            total += (
                conv(c, planes, 3, False) + bn(planes) + conv(planes, planes, 3, False) + bn(planes)
            )
            c = planes
    return total + fc(64, classes)


def _fast(widths: tuple[int, ...], c_in: int, head_in: int) -> int:
    total, c = 0, c_in
    for w in widths:
        total += conv(c, w, 3) + bn(w)
        c = w
    return total + fc(head_in, 10)


EXPECTED = {
    "lenet5": LENET5,
    "lenet5_1998": LENET5_1998,
    # torchvision AlexNet_Weights / VGG*_Weights / GoogLeNet_Weights / ResNet*_Weights num_params
    "alexnet": 61_100_840,
    "alexnet_lecture": ALEXNET_LECTURE,
    "vgg11": 132_863_336,
    "vgg11_bn": 132_868_840,
    "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736,
    "vgg16": 138_357_544,
    "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240,
    "vgg19_bn": 143_678_248,
    "googlenet": 6_624_904,
    "googlenet_5x5": GOOGLENET_5X5,
    "googlenet_naive": _googlenet_naive(),
    # inception (3a) on 192 channels (Szegedy et al. 2015, Table 1): 1x1 64 | 1x1 96, 3x3 128 |
    # 1x1 16, 5x5 32 | pool, 1x1 32; bias-free convs with batch norm, then fc 256 -> 10
    "inception3a": conv(192, 64, 1, False)
    + conv(192, 96, 1, False)
    + conv(96, 128, 3, False)
    + conv(192, 16, 1, False)
    + conv(16, 32, 5, False)
    + conv(192, 32, 1, False)
    + bn(64 + 96 + 128 + 16 + 32 + 32)
    + fc(256, 10),
    # Liang & Hu 2015, section 4: conv 5x5 of K = 96, four RCLs each with a feed-forward and a
    # recurrent 3x3 filter bank and one bias, softmax layer; the paper quotes 0.67 M
    "rcnn": conv(3, 96, 5) + 4 * (2 * 96 * 96 * 9 + 96) + fc(96, 10),
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "resnet152": 60_192_808,
    "resnet20": _cifar_resnet(3),
    "resnet32": _cifar_resnet(5),
    "resnet44": _cifar_resnet(7),
    "resnet56": _cifar_resnet(9),
    "resnet110": _cifar_resnet(18),
    "mlp": fc(784, 100) + fc(100, 10),  # the lectures' 784-100-10
    "logreg": fc(784, 10),
    # Greydanus & Kobak (mnist1d models.py, printed by the repository's notebooks): 5,210 and 15,210
    "mnist1d_cnn": 5_210,
    "mnist1d_mlp": 15_210,
    # Prince, UDL section 10.5: Conv1d 1->15, 15->15, 15->15 (kernel 3), fc 60->10
    "udl_cnn": (3 * 1 + 1) * 15 + 2 * (3 * 15 + 1) * 15 + fc(60, 10),
    "udl_fc": fc(40, 285) + fc(285, 135) + fc(135, 60) + fc(60, 10),
    # PyTorch "Training a Classifier" tutorial: 62,006
    "cifar_tutorial": 62_006,
    # conv-bn 16, 32, 64 on 1 channel, then fc 64 * 7 * 7 -> 128 -> 10
    "fast28": _fast((16, 32, 64), 1, 64 * 7 * 7)
    - fc(64 * 7 * 7, 10)
    + fc(64 * 7 * 7, 128)
    + fc(128, 10),
    "fast32": _fast((32, 64, 128, 256), 3, 256),
}


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_every_model_has_an_independent_expected_count():
    assert sorted(EXPECTED) == sorted(list_models())


@pytest.mark.parametrize("name", list_models())
def test_parameter_count(name):
    with torch.device("meta"):
        model = create_model(name)
    assert count(model) == EXPECTED[name]
    assert model_info(name).params == EXPECTED[name]


def test_hand_arithmetic_agrees_with_the_published_counts():
    # the derivations above reproduce numbers that are published elsewhere
    assert LENET5_1998 == 60_850
    assert ALEXNET_LECTURE == 62_378_344  # one-tower AlexNet, the usual "62.3 M"
    assert ALEXNET_TWO_TOWER == 60_965_224  # Caffe's bvlc_alexnet (grouped)
    # He et al. 2016, Table 6: 0.27M, 0.46M, 0.66M, 0.85M, 1.7M
    for n, published in ((3, 0.27), (5, 0.46), (7, 0.66), (9, 0.85)):
        assert round(_cifar_resnet(n) / 1e6, 2) == published
    assert round(_cifar_resnet(18) / 1e6, 1) == 1.7
    # torchvision's GoogLeNet: 6,624,904 without and 13,004,888 with the auxiliary classifiers
    aux = lambda c: conv(c, 128, 1, False) + bn(128) + fc(2048, 1024) + fc(1024, 1000)  # noqa: E731
    assert 6_624_904 + aux(512) + aux(528) == 13_004_888
    # Prince reports a 2,050-parameter conv net
    assert EXPECTED["udl_cnn"] == 2_050


def test_lenet5_1998_per_layer_counts_match_the_paper():
    model = create_model("lenet5_1998")
    per_layer = {name: count(getattr(model, name)) for name in ("c1", "s2", "c3", "s4", "c5", "f6")}
    assert per_layer == {"c1": 156, "s2": 12, "c3": 1_516, "s4": 32, "c5": 48_120, "f6": 10_164}
    # Table I: C3 maps 0-5 see 3 S2 maps, 6-14 see 4, map 15 sees all 6
    assert [len(ins) for ins in model.c3.table] == [3] * 6 + [4] * 9 + [6]


@pytest.mark.parametrize(
    "name, kwargs, expected",
    [
        ("alexnet_lecture", {"two_tower": True}, ALEXNET_TWO_TOWER),
        ("googlenet", {"aux_logits": True}, 13_004_888),
        # torchvision's ResNet-18 with a 10-way head: 11,689,512 - 513 * 1000 + 513 * 10
        ("resnet18", {"num_classes": 10}, 11_181_642),
        # and with the CIFAR stem (3x3 instead of 7x7 on 3 channels: 3 * 64 * 40 fewer weights);
        # 11,173,962 is the count of the widely used CIFAR ResNet-18 (Liu's pytorch-cifar)
        ("resnet18", {"num_classes": 10, "small_input": True}, 11_173_962),
        # CIFAR VGG-16 with batch norm and one fc on 512 features: pytorch-cifar's 14,728,266
        ("vgg16_bn", {"num_classes": 10, "small_input": True}, 14_728_266),
        ("resnet50", {"stride_in_1x1": True}, 25_557_032),  # striding moves no weights
        # a gray input removes 2 of 3 input channels of the first conv: 2 * 64 * 49 weights
        ("resnet50", {"in_channels": 1}, 25_557_032 - 2 * 64 * 49),
        ("lenet5", {"num_classes": 5}, LENET5 - 5 * 85),
        ("mnist1d_cnn", {"in_channels": 2}, 5_210 + 25 * 5),
    ],
)
def test_options_change_the_count_as_the_arithmetic_says(name, kwargs, expected):
    with torch.device("meta"):
        model = create_model(name, **kwargs)
    assert count(model) == expected
