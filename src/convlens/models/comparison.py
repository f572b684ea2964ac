"""The lectures' architecture comparison slide, measured from the zoo and set beside its sources.

The slide compares AlexNet, VGG-16/19, GoogLeNet and ResNet-50/152 by size in MB, top-1 / top-5
ImageNet error, depth and a description ("13 conv + 3 fc"). ``compare()`` returns one row per
model: depth (weighted layers on the longest path through the network, measured by a forward
pass on the meta device), conv and fc module counts, parameters, MACs, receptive field and float32
size, next to the published single-model single-crop errors of torchvision's weights and the
slide's own figures, each with its source.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# the slide's models, in its order, as zoo names (torchvision's single-tower AlexNet is the one
# whose published errors exist)
SLIDE_MODELS = ("alexnet", "vgg16", "vgg19", "googlenet", "resnet50", "resnet152")


@dataclass(frozen=True)
class Published:
    """Top-1 / top-5 ImageNet validation error (%) of one model, and where it was published."""

    top1: float
    top5: float
    source: str


def _torchvision(acc1: float, acc5: float, weights: str) -> Published:
    # torchvision's weight metadata gives accuracies (single model, one 224x224 centre crop)
    return Published(round(100 - acc1, 3), round(100 - acc5, 3), f"torchvision {weights} meta")


# torchvision.models.*_Weights.IMAGENET1K_V1.meta["_metrics"]["ImageNet-1K"] acc@1 / acc@5
PUBLISHED: dict[str, Published] = {
    "alexnet": _torchvision(56.522, 79.066, "AlexNet_Weights.IMAGENET1K_V1"),
    "vgg16": _torchvision(71.592, 90.382, "VGG16_Weights.IMAGENET1K_V1"),
    "vgg19": _torchvision(72.376, 90.876, "VGG19_Weights.IMAGENET1K_V1"),
    "googlenet": _torchvision(69.778, 89.530, "GoogLeNet_Weights.IMAGENET1K_V1"),
    "resnet50": _torchvision(76.130, 92.862, "ResNet50_Weights.IMAGENET1K_V1"),
    "resnet152": _torchvision(78.312, 94.046, "ResNet152_Weights.IMAGENET1K_V1"),
}


@dataclass(frozen=True)
class SlideFigures:
    """One row of the lectures' comparison table, as the slide prints it."""

    mb: int
    top1: float
    top5: float
    layers: int
    description: str
    where_from: str  # what the error figures are, as far as the papers tell


SLIDE: dict[str, SlideFigures] = {
    "alexnet": SlideFigures(238, 41.00, 18.00, 8, "5 conv + 3 fc",
                            "near Krizhevsky et al. 2012 Table 2, one CNN: 40.7 / 18.2, "
                            "averaged over 10 patches"),
    "vgg16": SlideFigures(540, 28.07, 9.33, 16, "13 conv + 3 fc",
                          "not traced to Simonyan & Zisserman 2015; not torchvision's 28.408 / 9.618"),
    "vgg19": SlideFigures(560, 27.30, 9.00, 19, "16 conv + 3 fc",
                          "not traced to Simonyan & Zisserman 2015; not torchvision's 27.624 / 9.124"),
    "googlenet": SlideFigures(40, 29.81, 10.04, 22, "21 conv + 1 fc",
                              "not traced; Szegedy et al. 2015 Table 5 gives top-5 10.07 for one "
                              "model, one crop"),
    "resnet50": SlideFigures(100, 22.85, 6.71, 50, "49 conv + 1 fc",
                             "He et al. 2016 Table 3: 10-crop testing, one model"),
    "resnet152": SlideFigures(235, 21.43, 3.57, 152, "151 conv + 1 fc",
                              "top-1 from He et al. 2016 Table 3 (10-crop, one model, top-5 5.71); "
                              "3.57 is the ensemble's top-5 on the test set (Table 5)"),
}  # fmt: skip

FOOTNOTES = (
    "depth: weighted (conv and fc) layers on the longest path from input to output, measured by a "
    "forward pass on the meta device; this is how the slide counts 8 / 16 / 19 / 22 / 50 / 152. "
    "conv and fc count every module, so GoogLeNet has 57 conv modules (its branches sit side by "
    "side) and ResNet-50 53 (with the projection shortcuts).",
    "errors: top-1 / top-5 % on the ImageNet validation set, single model and single 224x224 crop, "
    "from torchvision's weight metadata (100 - acc@1, 100 - acc@5); the slide's figures come from "
    "the papers under other protocols (10 crops, an ensemble), so they are lower.",
    "size: float32 weights, MB = params x 4 / 10^6 and MiB = params x 4 / 2^20. The slide's sizes "
    "fit no single reading: AlexNet's 238 is the MiB of the lectures' one-tower AlexNet "
    "(62,378,344 weights, `alexnet_lecture`); ResNet-50's 100 and ResNet-152's 235 lie between "
    "MiB and MB (97.5 / 102.2 and 229.6 / 240.8), as do VGG-16's 540 and VGG-19's 560 "
    "(527.8 / 553.4 and 548.0 / 574.7); GoogLeNet's 40 fits neither its 6.6 M weights "
    "(25.3 MiB) nor 13.0 M with the auxiliary classifiers (49.6 MiB).",
    "MACs: multiply-accumulates of the conv and fc layers for one 224x224 image; RF: receptive "
    "field of the last feature map.",
)


@dataclass(frozen=True)
class ComparisonRow:
    """One model of the comparison, measured, with its published and slide figures."""

    name: str
    depth: int  # weighted layers on the longest path
    conv_layers: int  # conv modules
    fc_layers: int  # linear modules
    params: int
    param_bytes: int  # float32 weights
    macs: int
    rf: tuple[int, ...]
    published: Published | None
    slide: SlideFigures | None

    @property
    def mb(self) -> float:
        return self.param_bytes / 1e6

    @property
    def mib(self) -> float:
        return self.param_bytes / 2**20


def weighted_depth(model: Any, in_shape: Sequence[int]) -> int:
    """Weighted layers (conv and linear) on the longest path from the input to the output.

    A forward pass on the meta device carries, for every tensor, the number of weighted layers
    behind it: an operation's output gets the largest count among its inputs, plus one for a
    convolution or a linear map. Branches (inception) and shortcuts (ResNet) count their longest
    arm, as the papers count depth.
    """
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils._pytree import tree_flatten

    from convlens.torchutil import eval_mode

    depth: dict[int, int] = {}
    alive: list[torch.Tensor] = []  # keep tensors alive so their ids are not reused

    class _Depth(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            inputs = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
            level = max((depth.get(id(t), 0) for t in inputs), default=0)
            name = getattr(func, "__name__", "")
            level += name in ("conv1d", "conv2d", "conv3d", "linear")
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor):
                    depth[id(t)] = max(level, depth.get(id(t), 0))
                    alive.append(t)
            return out

    with torch.device("meta"):
        x = torch.zeros(1, *in_shape)
    with eval_mode(model), torch.no_grad(), _Depth():
        y = model(x)
    return depth.get(id(y), 0)


def compare(names: Sequence[str] = SLIDE_MODELS) -> list[ComparisonRow]:
    """The comparison table's rows for zoo models (default: the slide's six)."""
    from torch import nn

    from convlens.models.registry import create_model
    from convlens.models.zoo import zoo_entry
    from convlens.torchutil import built_on_meta

    rows = []
    for name in names:
        entry = zoo_entry(name)
        with built_on_meta():
            model = create_model(name)
        modules = list(model.modules())
        rows.append(
            ComparisonRow(
                name=entry.name,
                depth=weighted_depth(model, entry.info.in_shape),
                conv_layers=sum(isinstance(m, nn.modules.conv._ConvNd) for m in modules),
                fc_layers=sum(isinstance(m, nn.Linear) for m in modules),
                params=entry.params,
                param_bytes=entry.param_bytes,
                macs=entry.macs,
                rf=entry.rf,
                published=PUBLISHED.get(entry.name),
                slide=SLIDE.get(entry.name),
            )
        )
    return rows
