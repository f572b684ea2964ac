"""GoogLeNet (Inception v1): naive inception blocks and blocks with 1x1 reductions.

Szegedy et al., "Going Deeper with Convolutions", CVPR 2015: Figure 2 (a) naive and (b) reduced
inception modules, Table 1 (the widths below), section 6 (auxiliary classifiers).

The default ``googlenet`` is torchvision's network exactly (6,624,904 parameters without the
auxiliary classifiers, 13,004,888 with them; torchvision's ``GoogLeNet_Weights`` meta): every conv
is conv (no bias) + batch norm (eps 0.001) + ReLU, a choice from after the paper, and there is no
LRN. torchvision's "5x5" branch uses a 3x3 kernel, a known slip kept for its pretrained weights
(pytorch/vision issue #906). ``googlenet_5x5`` uses the paper's 5x5 kernel there: each module
gains 16 * (5x5 reduce) * (5x5 filters) weights, 380,928 in all, so 7,005,832 parameters.
``googlenet_naive`` builds the same stack from naive modules (no reductions; the pooling branch
passes all its input maps on), the lectures' example of why 1x1 reductions matter.

``transform_input=True`` re-normalises the input first, as torchvision's ImageNet weights for
GoogLeNet need (``imagenet.to_half_range``); ``create_model("googlenet", weights=...)`` turns it on
unless told otherwise, as torchvision's ``googlenet(weights=...)`` does.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from convlens.models.imagenet import to_half_range
from convlens.models.registry import register_model


class BasicConv2d(nn.Sequential):
    """conv (no bias) -> batch norm -> ReLU, torchvision's building block."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)
        self.relu = nn.ReLU(inplace=True)


class Widths(NamedTuple):
    """One row of the paper's Table 1."""

    c1x1: int  # "#1x1"
    c3x3_reduce: int  # "#3x3 reduce"
    c3x3: int  # "#3x3"
    c5x5_reduce: int  # "#5x5 reduce"
    c5x5: int  # "#5x5"
    pool_proj: int  # "pool proj"


class Inception(nn.Module):
    """Four parallel branches concatenated: 1x1 | 1x1-3x3 | 1x1-5x5 | 3x3 max pool-1x1."""

    def __init__(self, in_channels: int, w: Widths, kernel5: int = 5) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, w.c1x1, 1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, w.c3x3_reduce, 1),
            BasicConv2d(w.c3x3_reduce, w.c3x3, 3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, w.c5x5_reduce, 1),
            BasicConv2d(w.c5x5_reduce, w.c5x5, kernel5, padding=kernel5 // 2),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, w.pool_proj, 1),
        )
        self.out_channels = w.c1x1 + w.c3x3 + w.c5x5 + w.pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([b(x) for b in branches], dim=1)


class InceptionNaive(nn.Module):
    """Figure 2(a): 1x1 | 3x3 | 5x5 | 3x3 max pool, side by side, without 1x1 reductions."""

    def __init__(self, in_channels: int, w: Widths, kernel5: int = 5) -> None:
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, w.c1x1, 1)
        self.branch2 = BasicConv2d(in_channels, w.c3x3, 3, padding=1)
        self.branch3 = BasicConv2d(in_channels, w.c5x5, kernel5, padding=kernel5 // 2)
        self.branch4 = nn.MaxPool2d(3, stride=1, padding=1)
        self.out_channels = w.c1x1 + w.c3x3 + w.c5x5 + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([b(x) for b in branches], dim=1)


class InceptionAux(nn.Module):
    """Auxiliary classifier (section 6): avg pool to 4x4, 1x1 conv 128, fc 1024, dropout 0.7, fc."""

    def __init__(self, in_channels: int, num_classes: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d((4, 4))
        self.conv = BasicConv2d(in_channels, 128, 1)
        self.fc1 = nn.Linear(128 * 4 * 4, 1024)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(0.7)
        self.fc2 = nn.Linear(1024, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(self.pool(x)).flatten(1)
        return self.fc2(self.dropout(self.relu(self.fc1(x))))


# Table 1 of the paper, "inception (3a)" to "inception (5b)"; "M" is a 3x3 stride-2 max pooling
# (2x2 before 5a in torchvision, which gives the same 7x7 maps at 224x224)
STAGES: tuple[tuple[str, Widths] | str, ...] = (
    ("inception3a", Widths(64, 96, 128, 16, 32, 32)),
    ("inception3b", Widths(128, 128, 192, 32, 96, 64)),
    "maxpool3",
    ("inception4a", Widths(192, 96, 208, 16, 48, 64)),
    ("inception4b", Widths(160, 112, 224, 24, 64, 64)),
    ("inception4c", Widths(128, 128, 256, 24, 64, 64)),
    ("inception4d", Widths(112, 144, 288, 32, 64, 64)),
    ("inception4e", Widths(256, 160, 320, 32, 128, 128)),
    "maxpool4",
    ("inception5a", Widths(256, 160, 320, 32, 128, 128)),
    ("inception5b", Widths(384, 192, 384, 48, 128, 128)),
)


class GoogLeNet(nn.Module):
    """Stem, nine inception modules, global average pooling, dropout 0.2 (torchvision), fc.

    With ``aux_logits`` the two auxiliary classifiers (after 4a and 4d) run in training mode;
    ``forward`` still returns the main logits only (so any training loop works) and keeps the
    auxiliary logits in ``self.aux_outputs`` for a loss that wants them (the paper weights each by
    0.3).
    """

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        aux_logits: bool = False,
        kernel5: int = 3,
        naive: bool = False,
        transform_input: bool = False,
    ) -> None:
        super().__init__()
        self.transform_input = transform_input
        self.conv1 = BasicConv2d(in_channels, 64, 7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, 1)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        block = InceptionNaive if naive else Inception
        channels = 192
        self.stages: list[str] = []
        for stage in STAGES:
            if isinstance(stage, str):
                pool = nn.MaxPool2d(2 if stage == "maxpool4" else 3, stride=2, ceil_mode=True)
                self.add_module(stage, pool)
                self.stages.append(stage)
                continue
            name, widths = stage
            module = block(channels, widths, kernel5)
            self.add_module(name, module)
            self.stages.append(name)
            channels = module.out_channels
            if aux_logits and name in ("inception4a", "inception4d"):
                self.add_module(
                    "aux1" if name == "inception4a" else "aux2", InceptionAux(channels, num_classes)
                )
        self.aux_logits = aux_logits
        self.aux_outputs: list[torch.Tensor] = []
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(channels, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        if self.transform_input:
            x = to_half_range(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        self.aux_outputs = []
        for name in self.stages:
            x = getattr(self, name)(x)
            if self.aux_logits and self.training and name in ("inception4a", "inception4d"):
                aux: nn.Module = getattr(self, "aux1" if name == "inception4a" else "aux2")
                self.aux_outputs.append(aux(x))
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_features(x).mean(dim=(2, 3))  # global average pooling
        return self.fc(self.dropout(x))


_SOURCE = "Szegedy et al. 2015, Table 1; torchvision GoogLeNet_Weights num_params"


@register_model(
    "googlenet",
    family="googlenet",
    in_shape=(3, 224, 224),
    num_classes=1000,
    description="GoogLeNet / Inception v1 as in torchvision (BN convs, 3x3 in the '5x5' branch)",
    source=_SOURCE,
    params=6_624_904,
)
def googlenet(
    num_classes: int, in_channels: int, aux_logits: bool = False, transform_input: bool = False
):
    """Any input of at least 32x32 (global average pooling at the end); 224x224 by default.

    ``aux_logits=True`` adds the two auxiliary classifiers (13,004,888 parameters in all);
    ``transform_input=True`` takes ImageNet-normalised input to the [-1, 1] range that
    torchvision's GoogLeNet weights were trained on."""
    return GoogLeNet(
        num_classes, in_channels, aux_logits, kernel5=3, transform_input=transform_input
    )


@register_model(
    "googlenet_5x5",
    family="googlenet",
    in_shape=(3, 224, 224),
    num_classes=1000,
    description="GoogLeNet with the paper's 5x5 kernels in the 5x5 branch (torchvision uses 3x3)",
    source=_SOURCE + "; pytorch/vision issue #906",
    params=7_005_832,
)
def googlenet_5x5(num_classes: int, in_channels: int, aux_logits: bool = False):
    """As ``googlenet`` but with 5x5 kernels where the paper has them (+380,928 parameters)."""
    return GoogLeNet(num_classes, in_channels, aux_logits=aux_logits, kernel5=5)


@register_model(
    "googlenet_naive",
    family="googlenet",
    in_shape=(3, 224, 224),
    num_classes=1000,
    description="GoogLeNet stack built from naive inception modules (no 1x1 reductions)",
    source="Szegedy et al. 2015, Figure 2(a) with the widths of Table 1",
    params=97_531_080,  # per-module arithmetic as in tests/models (no 1x1 reductions)
)
def googlenet_naive(num_classes: int, in_channels: int):
    """Any input of at least 32x32. Widths as in Table 1, but every pooling branch passes all its
    input maps on, so the channels grow from 192 to 4,944: the cost that 1x1 reductions avoid."""
    return GoogLeNet(num_classes, in_channels, kernel5=5, naive=True)


class InceptionClassifier(nn.Module):
    """One inception module on its own, then global average pooling and a linear classifier.

    The lectures' single-module example: inception (3a) of Table 1 on a 28x28x192 volume, with
    1x1 reductions (Figure 2(b)) or naive (Figure 2(a)). The paper's 5x5 kernel is used.
    """

    def __init__(self, num_classes: int, in_channels: int, naive: bool = False) -> None:
        super().__init__()
        block = InceptionNaive if naive else Inception
        widths = STAGES[0][1]  # inception (3a): 64, 96 -> 128, 16 -> 32, pool -> 32
        assert isinstance(widths, Widths)
        self.inception3a = block(in_channels, widths, kernel5=5)
        self.fc = nn.Linear(self.inception3a.out_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.inception3a(x).mean(dim=(2, 3)))


@register_model(
    "inception3a",
    family="googlenet",
    in_shape=(192, 28, 28),
    num_classes=10,
    description="One inception module, (3a) of GoogLeNet on 28x28x192, then pooling and fc",
    source="Szegedy et al. 2015, Figure 2(b) and Table 1 row inception (3a)",
    params=166_634,  # convs 163,328 + batch norm 736 + fc 2,570 (tests/models)
)
def inception3a(num_classes: int, in_channels: int, naive: bool = False):
    """Any input of at least 1x1; ``naive=True`` drops the 1x1 reductions (Figure 2(a))."""
    return InceptionClassifier(num_classes, in_channels, naive=naive)
