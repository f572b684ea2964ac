"""ResNets: the ImageNet networks (18 to 152 layers) and the CIFAR networks (20 to 110 layers).

He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.

* ``resnet18`` ... ``resnet152``: Table 1 of the paper, built as torchvision builds them, so the
  parameter counts are torchvision's (``ResNet*_Weights.IMAGENET1K_V1.meta["num_params"]``):
  11,689,512; 21,797,672; 25,557,032; 44,549,160; 60,192,808. torchvision puts a bottleneck's
  stride on its 3x3 conv ("ResNet v1.5"); ``stride_in_1x1=True`` puts it on the first 1x1 conv as
  the original Caffe models did. The count is the same, the receptive field is not: 483, 1,027
  and 1,507 pixels for ResNet-50/101/152 with the original striding, the values that Araujo et
  al. (Distill 2019) report, against 427, 971 and 1,451 with torchvision's.
* ``resnet20`` ... ``resnet110``: section 4.2: a 3x3 conv with 16 filters, three stages of n
  basic blocks with 16, 32 and 64 filters on 32x32, 16x16 and 8x8 maps, global average pooling,
  fc; 6n + 2 layers. Shortcuts are "option A": identity, sub-sampled by 2 and zero-padded with new
  channels where the shape changes, so they hold no parameters. Table 6 gives 0.27M, 0.46M,
  0.66M, 0.85M and 1.7M parameters.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from convlens.models.registry import register_model


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, stride, bias=False)


# ---------------------------------------------------------------------------------------------
# Residual blocks
# ---------------------------------------------------------------------------------------------


class BasicBlock(nn.Module):
    """Two 3x3 convs and a shortcut: relu(bn(conv(relu(bn(conv(x))))) + shortcut(x))."""

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        planes: int,
        stride: int = 1,
        shortcut: nn.Module | None = None,
        **_: bool,
    ) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4), plus a shortcut."""

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        planes: int,
        stride: int = 1,
        shortcut: nn.Module | None = None,
        stride_in_1x1: bool = False,
    ) -> None:
        super().__init__()
        s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
        self.conv1 = conv1x1(in_channels, planes, s1)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, s3)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class PadShortcut(nn.Module):
    """Option A of He et al. (section 4.2): sub-sample by the stride, zero-pad the new channels."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.extra = out_channels - in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        # half the new channels before, half after, as in the common re-implementations
        return F.pad(x, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))


# ---------------------------------------------------------------------------------------------
# ImageNet ResNets
# ---------------------------------------------------------------------------------------------


class ResNet(nn.Module):
    """Stem, four stages (64, 128, 256, 512 planes), global average pooling, fc."""

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        layers: tuple[int, int, int, int],
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        stride_in_1x1: bool = False,
    ) -> None:
        super().__init__()
        size = 32 if small_input else 224
        self.in_shape: tuple[int, ...] = (in_channels, size, size)
        if small_input:  # CIFAR stem: 3x3 stride 1, no pooling, so 32x32 maps reach layer1
            self.conv1: nn.Conv2d = nn.Conv2d(in_channels, 64, 3, 1, padding=1, bias=False)
            self.maxpool: nn.Module = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        channels = 64
        stages = []
        for i, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers)):
            stride = 1 if i == 0 else 2
            out = planes * block.expansion
            shortcut = None
            if stride != 1 or channels != out:
                shortcut = nn.Sequential(conv1x1(channels, out, stride), nn.BatchNorm2d(out))
            stage = [block(channels, planes, stride, shortcut, stride_in_1x1=stride_in_1x1)]
            stage += [block(out, planes, stride_in_1x1=stride_in_1x1) for _ in range(blocks - 1)]
            stages.append(nn.Sequential(*stage))
            channels = out
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.fc = nn.Linear(channels, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.forward_features(x).mean(dim=(2, 3)))


_IMAGENET = (
    ("resnet18", BasicBlock, (2, 2, 2, 2), 11_689_512),
    ("resnet34", BasicBlock, (3, 4, 6, 3), 21_797_672),
    ("resnet50", Bottleneck, (3, 4, 6, 3), 25_557_032),
    ("resnet101", Bottleneck, (3, 4, 23, 3), 44_549_160),
    ("resnet152", Bottleneck, (3, 8, 36, 3), 60_192_808),
)


def _register_imagenet(
    name: str,
    block: type[BasicBlock] | type[Bottleneck],
    layers: tuple[int, int, int, int],
    params: int,
) -> None:
    depth = name.removeprefix("resnet")

    @register_model(
        name,
        family="resnet",
        in_shape=(3, 224, 224),
        num_classes=1000,
        description=f"ResNet-{depth}, {block.__name__} blocks {'-'.join(map(str, layers))}",
        source="He et al. 2016, Table 1; torchvision ResNet weights num_params",
        params=params,
    )
    def build(
        num_classes: int, in_channels: int, small_input: bool = False, stride_in_1x1: bool = False
    ):
        """224x224 by default, but any size works (global average pooling). ``small_input=True``
        (32x32, CIFAR) swaps the 7x7 stride-2 stem and its max pooling for one 3x3 stride-1 conv
        (64 * 9 * C weights instead of 64 * 49 * C). ``stride_in_1x1=True``: original striding."""
        return ResNet(block, layers, num_classes, in_channels, small_input, stride_in_1x1)


for _entry in _IMAGENET:
    _register_imagenet(*_entry)


# ---------------------------------------------------------------------------------------------
# CIFAR ResNets
# ---------------------------------------------------------------------------------------------


class CifarResNet(nn.Module):
    """6n + 2 layers: conv 16, three stages of n basic blocks (16, 32, 64), average pool, fc."""

    def __init__(self, n: int, num_classes: int = 10, in_channels: int = 3) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        channels = 16
        stages = []
        for i, planes in enumerate((16, 32, 64)):
            stride = 1 if i == 0 else 2
            shortcut = PadShortcut(channels, planes, stride) if stride != 1 else None
            blocks = [BasicBlock(channels, planes, stride, shortcut)]
            blocks += [BasicBlock(planes, planes) for _ in range(n - 1)]
            stages.append(nn.Sequential(*blocks))
            channels = planes
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(64, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        return self.layer3(self.layer2(self.layer1(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.forward_features(x).mean(dim=(2, 3)))


_CIFAR = (("resnet20", 3, 269_722), ("resnet32", 5, 464_154), ("resnet44", 7, 658_586),
          ("resnet56", 9, 853_018), ("resnet110", 18, 1_727_962))  # fmt: skip


def _register_cifar(name: str, n: int, params: int) -> None:
    @register_model(
        name,
        family="resnet",
        in_shape=(3, 32, 32),
        num_classes=10,
        description=f"CIFAR ResNet-{6 * n + 2}: 3 stages of {n} basic blocks, option-A shortcuts",
        source="He et al. 2016, section 4.2 and Table 6",
        params=params,
    )
    def build(num_classes: int, in_channels: int):
        """Made for 32x32 inputs (CIFAR-10); any size works (global average pooling), 28x28
        Fashion-MNIST included with ``in_channels=1``."""
        return CifarResNet(n, num_classes, in_channels)


for _entry_cifar in _CIFAR:
    _register_cifar(*_entry_cifar)
