"""Receptive fields of the zoo's feature maps: analytic (summary on the meta device) against
published values and hand arithmetic, and against the field measured by gradients.

Published values: Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional Neural
Networks", Distill 2019, and the table of its library (google-research/receptive_field,
RECEPTIVE_FIELD_TABLE.md), computed on TF-Slim models: alexnet_v2 pool5 195, vgg_a (VGG-11) pool5
150, vgg_16 pool5 212, resnet_v1_50/101/152 block4 483 / 1,027 / 1,507. TF-Slim's AlexNet and VGG
have the kernels and strides of ours (padding differs, which moves fields but does not resize
them). TF-Slim's ResNet v1 strides the last unit of a block instead of the first (its README
says so); at the end of block4 that gives the same size as the original striding on the first
1x1 conv (``stride_in_1x1=True``): both add each block's 3x3 conv at the same jumps.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convlens.models import create_model
from convlens.models.zoo import zoo_entry

ARAUJO_2019 = {
    ("alexnet", ()): 195,
    ("alexnet_lecture", ()): 195,
    ("vgg11", ()): 150,
    ("vgg16", ()): 212,
    ("resnet50", (("stride_in_1x1", True),)): 483,
    ("resnet101", (("stride_in_1x1", True),)): 1_027,
    ("resnet152", (("stride_in_1x1", True),)): 1_507,
}


def _cifar(n: int) -> int:
    # conv 3x3 (3); stage 1: 2n convs at jump 1 (+2 each); stage 2: its first conv strides at
    # jump 1 (+2), the other 2n - 1 run at jump 2 (+4); stage 3 likewise at jumps 2 and 4
    return 3 + 2 * 2 * n + (2 + 4 * (2 * n - 1)) + (4 + 8 * (2 * n - 1))


def _resnet_tv(blocks: tuple[int, ...], bottleneck: bool) -> int:
    # stem: conv 7 s2 (7, jump 2), max pool 3 s2 (11, jump 4); a 3x3 conv adds 2 * jump; with
    # torchvision's striding each stage's first 3x3 conv strides, at the previous jump
    rf, jump = 11, 4
    for stage, n in enumerate(blocks):
        convs = n * (1 if bottleneck else 2)
        if stage:
            rf += 2 * jump
            jump *= 2
            convs -= 1
        rf += convs * 2 * jump
    return rf


HAND = {
    "lenet5": 32,  # conv 5 (5), pool 2 (6, jump 2), conv 5 (14), pool 2 (16, jump 4), conv 5 (32)
    "lenet5_1998": 32,
    "vgg13": 156,  # (2 convs + pool) per stage: 6, 16, 36, 76, 156
    "vgg19": 268,  # 6, 16, 52, 124, 268
    "vgg16_bn": 212,
    # 7x7 s2 (7), pool (11), 1x1, 3x3 (19), pool (27, jump 8); each inception module adds its
    # largest kernel: 3x3 in torchvision (+2 jump), 5x5 in the paper (+4 jump); 3x3 s2 pool before
    # 4a, 2x2 s2 pool before 5a
    "googlenet": 27 + 2 * 16 + 16 + 5 * 32 + 16 + 2 * 64,
    "googlenet_5x5": 27 + 2 * 32 + 16 + 5 * 64 + 16 + 2 * 128,
    "resnet18": _resnet_tv((2, 2, 2, 2), False),
    "resnet34": _resnet_tv((3, 4, 6, 3), False),
    "resnet50": _resnet_tv((3, 4, 6, 3), True),
    "resnet101": _resnet_tv((3, 4, 23, 3), True),
    "resnet152": _resnet_tv((3, 8, 36, 3), True),
    "resnet20": _cifar(3),
    "resnet56": _cifar(9),
    "resnet110": _cifar(18),
    # conv 5 s2 p1 (5, jump 2), conv 3 s2 (9, jump 4), conv 3 s2 (17)
    "mnist1d_cnn": 17,
    "udl_cnn": 15,  # 3, 7, 15
    "cifar_tutorial": 16,  # conv 5 (5), pool 2 (6, jump 2), conv 5 (14), pool 2 (16)
    "fast28": 18,  # 3, 4 (jump 2), 8, 10 (jump 4), 18
    # conv 5 (5), pool 3 s2 (7, jump 2); an RCL unrolled 3 steps crosses 4 3x3 convs on its
    # longest path: + 4 * 2 * 2 = 16 each (23, 39); pool 3 s2 (43, jump 4); two RCLs + 32 each
    # (75, 107); the global 7x7 max pool at jump 4 (+ 24): 131
    "rcnn": 131,
}


# the deep ResNets trace for seconds on the meta device: their cases run under -m slow
DEEP = {"resnet101", "resnet152", "resnet110"}


def _cases(names):
    marks = lambda name: [pytest.mark.slow] if name in DEEP else []  # noqa: E731
    return [
        pytest.param(key, marks=marks(key[0] if isinstance(key, tuple) else key)) for key in names
    ]


@pytest.mark.parametrize(
    "key", _cases(ARAUJO_2019), ids=lambda k: k[0] + "".join(f"-{o}" for o, _ in k[1])
)
def test_receptive_field_matches_araujo_2019(key):
    name, options = key
    with torch.device("meta"):
        model = create_model(name, **dict(options))
    from convlens.analysis.summary import summarize

    rows = summarize(model).rows
    rf = max(r.rf for r in rows if r.kind in ("conv2d", "maxpool", "avgpool"))
    assert rf == (ARAUJO_2019[key],) * 2


@pytest.mark.parametrize("name", _cases(HAND))
def test_zoo_receptive_field_matches_hand_arithmetic(name):
    rf = zoo_entry(name).rf
    assert rf == (HAND[name],) * len(rf)


def test_hand_arithmetic_of_torchvision_resnets():
    # values worked out in the resnet module docstring: the original striding (Araujo's 483,
    # 1,027, 1,507) minus 56 = 2 * 4 + 2 * 8 + 2 * 16: with torchvision's striding the first 3x3
    # conv of stages 2-4 runs at the previous, halved, jump
    assert [HAND["resnet50"], HAND["resnet101"], HAND["resnet152"]] == [427, 971, 1_451]


# ---------------------------------------------------------------------------------------------
# Measured by gradients
# ---------------------------------------------------------------------------------------------


def _features(model: nn.Module) -> nn.Module:
    """The part of a model that maps the input to its last feature map."""
    if hasattr(model, "forward_features"):
        return _Bound(model)
    children = list(model.children())
    cut = next(
        i
        for i, m in enumerate(children)
        if isinstance(m, (nn.Flatten, nn.Linear)) or "Global" in type(m).__name__
    )
    return nn.Sequential(*children[:cut])


class _Bound(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.forward_features(x)


def _linearise(module: nn.Module) -> None:
    """Make every unit of the field count: positive weights and inputs keep every ReLU open, and
    max pooling (whose gradient reaches one input per window) becomes average pooling of the same
    geometry. Batch norm in eval mode with fresh statistics and unit scale is (almost) the
    identity: a smaller scale would shrink each residual branch against its shortcut until the
    gradient through the longest path, the one that sets the field's edge, underflows."""
    for name, child in module.named_children():
        if isinstance(child, (nn.MaxPool1d, nn.MaxPool2d)):
            avg = nn.AvgPool1d if isinstance(child, nn.MaxPool1d) else nn.AvgPool2d
            setattr(
                module, name, avg(child.kernel_size, child.stride, child.padding, child.ceil_mode)
            )
        else:
            _linearise(child)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.reset_running_stats()
            for p in m.parameters(recurse=False):
                p.fill_(1.0 / p[0].numel() if p.dim() > 1 else 1.0)


def measured_rf(name: str, shape: tuple[int, ...], **options) -> tuple[int, ...]:
    """Extent of the input pixels whose gradient reaches the centre unit of the last feature map."""
    with torch.device("meta"):
        model = create_model(name, **options)
    features = _features(model)
    features.to_empty(device="cpu")  # no weight initialisation: the values are set below
    _linearise(features)
    # float64: the edge of the field is reached by few paths, each the product of one weight per
    # layer (the effective receptive field of Luo et al. 2016 decays fast away from the centre)
    features.double().eval()
    x = torch.ones(1, *shape, dtype=torch.float64, requires_grad=True)
    y = features(x)
    centre = tuple(n // 2 for n in y.shape[2:])
    y[(0, slice(None), *centre)].sum().backward()
    reached = x.grad[0].abs().sum(0) > 0  # spatial mask
    extents = []
    for dim, size in enumerate(reached.shape):
        other = tuple(d for d in range(reached.dim()) if d != dim)
        hit = reached.any(dim=other).nonzero().flatten() if other else reached.nonzero().flatten()
        first, last = int(hit[0]), int(hit[-1])
        assert first > 0 and last < size - 1, "the field touches the border: use a larger input"
        extents.append(last - first + 1)
    return tuple(extents)


MEASURED = [
    # (model, options, input large enough to hold the centre unit's whole field)
    ("lenet5", {}, (1, 64, 64)),
    ("lenet5_1998", {}, (1, 64, 64)),
    ("alexnet_lecture", {}, (3, 291, 291)),
    ("alexnet", {}, (3, 291, 291)),
    ("resnet20", {}, (3, 96, 96)),
    ("mnist1d_cnn", {}, (1, 40)),
    ("udl_cnn", {}, (1, 40)),
    ("cifar_tutorial", {}, (3, 48, 48)),
    ("fast28", {}, (1, 48, 48)),
    ("fast32", {}, (3, 96, 96)),
    ("rcnn", {"width": 4}, (3, 200, 200)),  # the field does not depend on the width
]
MEASURED_SLOW = [
    ("vgg16", {}, (3, 288, 288)),
    ("googlenet", {}, (3, 448, 448)),
    ("googlenet_5x5", {}, (3, 768, 768)),
    ("resnet18", {}, (3, 512, 512)),
    ("resnet50", {}, (3, 512, 512)),
    ("resnet50", {"stride_in_1x1": True}, (3, 576, 576)),
    ("resnet56", {}, (3, 288, 288)),
]


def _check(name, options, shape):
    measured = measured_rf(name, shape, **options)
    assert measured == zoo_rf(name, options)


def zoo_rf(name: str, options: dict) -> tuple[int, ...]:
    if options:
        from convlens.analysis.summary import summarize

        with torch.device("meta"):
            model = create_model(name, **options)
        return max(
            (
                r.rf
                for r in summarize(model).rows
                if r.kind.startswith(("conv", "maxpool", "avgpool"))
            ),
            key=sum,
        )
    return zoo_entry(name).rf


@pytest.mark.parametrize("name, options, shape", MEASURED, ids=[m[0] for m in MEASURED])
def test_gradient_receptive_field_equals_the_analytic_one(name, options, shape):
    _check(name, options, shape)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, options, shape",
    MEASURED_SLOW,
    ids=[m[0] + ("-v1" if m[1] else "") for m in MEASURED_SLOW],
)
def test_gradient_receptive_field_of_the_large_networks(name, options, shape):
    _check(name, options, shape)
