"""VGG-11/13/16/19, with and without batch normalisation, written as data.

Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
ICLR 2015, Table 1 (configurations A, B, D, E). Each configuration is a list of 3x3 conv widths
and "M" for a 2x2 max pooling, turned into spec text such as ``conv3x3x64p1-relu-pool2-...``.
Parameter counts are torchvision's (``VGG*_Weights.IMAGENET1K_V1.meta["num_params"]`` in
torchvision/models/vgg.py): vgg11 132,863,336; vgg11_bn 132,868,840; vgg13 133,047,848;
vgg13_bn 133,053,736; vgg16 138,357,544; vgg16_bn 138,365,992; vgg19 143,667,240;
vgg19_bn 143,678,248. As in torchvision, an adaptive average pooling (``adaptive.py``) in front of
the classifier lets a VGG take any input from 32x32 up and load torchvision's ImageNet weights.
"""

from __future__ import annotations

from convlens.build import build_model
from convlens.models.adaptive import with_adaptive_pool
from convlens.models.registry import register_model

CONFIGS: dict[int, list[int | str]] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
         512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}  # fmt: skip

# fc6 and fc7 of the paper; dropout after each as in torchvision (dropout p = 0.5)
_CLASSIFIER = "fc4096-relu-drop-fc4096-relu-drop-fc{n}"


def vgg_spec(
    depth: int, batch_norm: bool = False, num_classes: int = 1000, small_input: bool = False
) -> str:
    """Spec text of a VGG configuration (``vgg_spec(16)`` is VGG-16 for 224x224 inputs).

    ``small_input`` (32x32, CIFAR): five poolings leave 1x1x512 maps, and the classifier is one
    fc layer on those 512 features, as in the usual CIFAR adaptations (e.g. Liu's pytorch-cifar).
    """
    conv = "conv3x3x{c}p1-bn-relu" if batch_norm else "conv3x3x{c}p1-relu"
    parts = ["pool2" if v == "M" else conv.format(c=v) for v in CONFIGS[depth]]
    parts.append(f"fc{num_classes}" if small_input else _CLASSIFIER.format(n=num_classes))
    return "-".join(parts)


def _register(depth: int, batch_norm: bool, params: int) -> None:
    name = f"vgg{depth}" + ("_bn" if batch_norm else "")
    convs = sum(1 for v in CONFIGS[depth] if v != "M")

    @register_model(
        name,
        family="vgg",
        in_shape=(3, 224, 224),
        num_classes=1000,
        description=f"VGG-{depth}: {convs} 3x3 convs + 3 fc"
        + (", batch norm" if batch_norm else ""),
        source="Simonyan & Zisserman 2015, Table 1; torchvision VGG weights num_params",
        params=params,
    )
    def build(num_classes: int, in_channels: int, small_input: bool = False):
        """224x224 input by default, any from 32x32 up (maps pooled to 7x7 before fc1);
        ``small_input=True`` (32x32, CIFAR) uses a single fc layer on the 512 features that the
        five poolings leave (maps pooled to 1x1)."""
        size = 32 if small_input else 224
        spec = vgg_spec(depth, batch_norm, num_classes, small_input)
        return with_adaptive_pool(build_model(spec, (in_channels, size, size)))


for _depth, _plain, _bn in (
    (11, 132_863_336, 132_868_840),
    (13, 133_047_848, 133_053_736),
    (16, 138_357_544, 138_365_992),
    (19, 143_667_240, 143_678_248),
):
    _register(_depth, False, _plain)
    _register(_depth, True, _bn)
