"""Spec-built networks that take any large enough input, as torchvision's AlexNet and VGG do.

torchvision puts ``nn.AdaptiveAvgPool2d((6, 6))`` (AlexNet) or ``((7, 7))`` (VGG) between the
last pooling layer and the classifier (torchvision/models/alexnet.py and vgg.py). At the default
224x224 input the maps are already that size and the pooling is the identity; on a larger photo
it averages the maps down to it (on a smaller one it repeats them), so the classifier, and with it
ImageNet weights, works at any input at least as large as the conv stack's minimum.

``with_adaptive_pool`` adds the same module, named ``avgpool`` as in torchvision, where the
classifier begins. Its output size is the map size that the network's own input gives, so every
layer keeps its name and size (and every parameter count its value): it only widens the inputs
the network accepts. The spec no longer describes the whole module, so the result carries no
``spec``: summaries trace the module itself.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from convlens.analysis.geometry import analyze


class PooledSequential(nn.Sequential):
    """A spec-built ``nn.Sequential`` with an ``avgpool`` child where the classifier begins."""

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last feature map, before ``avgpool``, as ResNet's and GoogLeNet's method gives it."""
        for name, module in self.named_children():
            if name == "avgpool":
                break
            x = module(x)
        return x


def with_adaptive_pool(model: nn.Sequential) -> PooledSequential:
    """``model`` (built by ``build_model``) with ``avgpool`` where its classifier begins: before
    the flatten and any dropout in front of it, where torchvision has it."""
    in_shape = tuple(model.in_shape)  # type: ignore[arg-type]
    rows = analyze(model.spec, in_shape, activation=None)  # type: ignore[arg-type]
    children = list(model.named_children())
    at = next(i for i, (_, m) in enumerate(children) if isinstance(m, nn.Flatten))
    while at > 0 and isinstance(children[at - 1][1], nn.Dropout):
        at -= 1
    maps = tuple(int(v) for v in rows[at].in_shape[1:])  # (H, W) that reach the classifier
    children.insert(at, ("avgpool", nn.AdaptiveAvgPool2d(maps)))
    pooled = PooledSequential(OrderedDict(children))
    pooled.in_shape = in_shape  # type: ignore[assignment]
    return pooled
