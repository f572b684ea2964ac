"""LeNet-5 twice: the modern form of the lectures' table, and the 1998 network as published.

LeCun, Bottou, Bengio & Haffner, "Gradient-based learning applied to document recognition",
Proc. IEEE 86(11), 1998, section II.B. The 1998 network differs from today's retellings in three
ways that change its parameter count, all kept here:

* squashing ``f(a) = A tanh(S a)`` with A = 1.7159 and S = 2/3 (the paper's Appendix A);
* trainable sub-sampling: each S-layer map adds up its 2x2 inputs, multiplies by one trainable
  coefficient, adds one trainable bias (2 parameters per map: S2 has 12, S4 has 32);
* C3 is connected to S2 by the partial table of the paper's Table I, so C3 has 1,516 parameters
  instead of the 2,416 of a full connection.

The output layer of the paper is a set of Euclidean RBF units with fixed (not trained) parameter
vectors drawn as 7x12 bitmaps; here it is replaced by an ordinary linear layer (84*10 + 10 = 850
parameters), as nearly every re-implementation does, so the network trains with cross-entropy.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from convlens.build import build_model
from convlens.models.registry import register_model

_LECTURE_SPEC = (
    "conv5x5x6p{p}-relu-avgpool2-conv5x5x16-relu-avgpool2-conv5x5x120-relu-fc84-relu-fc{n}"
)


@register_model(
    "lenet5",
    family="lenet",
    in_shape=(1, 32, 32),
    num_classes=10,
    description="LeNet-5 as in the lectures' table: conv-pool-conv-pool-conv-fc-fc, ReLU",
    source="LECTURES.md section 3 (LeNet-style table); LeCun et al. 1998",
    params=61_706,
)
def lenet5(num_classes: int, in_channels: int, image_size: int = 32):
    """Spec-built, 32x32 by default. Smaller images (``image_size=28`` for MNIST) are zero-padded
    by C1 to 32x32, as the paper padded its 28x28 digits, so the layers and counts stay the same.
    """
    pad = max(0, (32 - image_size + 1) // 2)
    spec = _LECTURE_SPEC.format(p=pad, n=num_classes)
    return build_model(spec, (in_channels, image_size, image_size))


# ---------------------------------------------------------------------------------------------
# The 1998 network
# ---------------------------------------------------------------------------------------------

# Table I of the paper: which S2 maps (0-5) feed each C3 map (0-15). Maps 0-5 see three
# neighbouring maps, 6-11 four neighbouring, 12-14 four non-neighbouring, 15 all six.
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip


class ScaledTanh(nn.Module):
    """The paper's squashing function A tanh(S a), A = 1.7159, S = 2/3 (Appendix A)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 1.7159 * torch.tanh(x * (2.0 / 3.0))


class Subsampling(nn.Module):
    """Sum over 2x2 windows, times a trainable coefficient, plus a trainable bias, per map."""

    def __init__(self, channels: int, kernel_size: int = 2) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.weight = nn.Parameter(torch.empty(channels))
        self.bias = nn.Parameter(torch.empty(channels))
        _uniform_fan_in(self, kernel_size * kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C, H, W) -> (N, C, H/2, W/2)
        k = self.kernel_size
        summed = nn.functional.avg_pool2d(x, k) * (k * k)
        return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class PartialConv2d(nn.Module):
    """A convolution whose output maps each see only some input maps (a connection table)."""

    def __init__(self, table: tuple[tuple[int, ...], ...], kernel_size: int) -> None:
        super().__init__()
        self.table = table
        self.maps = nn.ModuleList(nn.Conv2d(len(inputs), 1, kernel_size) for inputs in table)
        for conv, inputs in zip(self.maps, table):
            _uniform_fan_in(conv, len(inputs) * kernel_size * kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([conv(x[:, list(ins)]) for conv, ins in zip(self.maps, self.table)], 1)


def _uniform_fan_in(module: nn.Module, fan_in: int) -> None:
    # "weights were initialized with random values uniformly distributed between -2.4/F_i and
    # 2.4/F_i, where F_i is the number of inputs (fan-in) of the unit" (paper, section II.B)
    bound = 2.4 / fan_in
    for p in module.parameters(recurse=False):
        nn.init.uniform_(p, -bound, bound)


class LeNet5Classic(nn.Module):
    """LeNet-5 of 1998 on 32x32 inputs: C1 S2 C3 S4 C5 F6 and a linear output layer."""

    def __init__(self, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(in_channels, 6, 5)  # 32x32 -> 28x28x6
        self.s2 = Subsampling(6)  # -> 14x14x6
        self.c3 = PartialConv2d(C3_TABLE, 5)  # -> 10x10x16
        self.s4 = Subsampling(16)  # -> 5x5x16
        self.c5 = nn.Conv2d(16, 120, 5)  # -> 1x1x120
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, num_classes)  # the paper: 10 Euclidean RBF units
        self.squash = ScaledTanh()
        for layer in (self.c1, self.c5, self.f6):
            _uniform_fan_in(layer, math.prod(layer.weight.shape[1:]))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squash(self.s2(self.squash(self.c1(x))))
        x = self.squash(self.s4(self.squash(self.c3(x))))
        return self.squash(self.c5(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.forward_features(x).flatten(1)
        return self.output(self.squash(self.f6(x)))


@register_model(
    "lenet5_1998",
    family="lenet",
    in_shape=(1, 32, 32),
    num_classes=10,
    description="LeNet-5 as published: scaled tanh, trainable sub-sampling, partial C3 table",
    source="LeCun et al. 1998, Proc. IEEE 86(11), section II.B and Table I",
    params=60_850,  # C1 156, S2 12, C3 1,516, S4 32, C5 48,120, F6 10,164, output 850
)
def lenet5_1998(num_classes: int, in_channels: int):
    """Fixed 32x32 input (C5 must reduce 5x5 maps to 1x1); pad 28x28 digits by 2 as the paper did.

    The RBF output layer is replaced by a linear layer (see the module docstring).
    """
    return LeNet5Classic(num_classes, in_channels)
