"""AlexNet twice: the single-tower network PyTorch users know, and the lectures' form.

Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep Convolutional Neural
Networks", NeurIPS 2012. The paper's network is split over two GPUs (conv2, conv4 and conv5 see
only the maps on their own GPU) and normalises responses across channels (LRN, section 3.3).

* ``alexnet``: torchvision's variant (from Krizhevsky's "One weird trick" paper, 2014): 64, 192,
  384, 256, 256 filters, no LRN, 224x224 input. 61,100,840 parameters, as torchvision's
  ``AlexNet_Weights.IMAGENET1K_V1.meta["num_params"]`` states.
* ``alexnet_lecture``: the layer sizes of LECTURES.md section 3 (96, 256, 384, 384, 256 filters,
  227x227 input, LRN after the first two pooling layers as the lectures draw it; the paper puts
  LRN before pooling). One tower: 62,378,344 parameters; ``two_tower=True`` gives the paper's
  grouped convolutions and 60,965,224 parameters.

``alexnet`` ends its features with torchvision's adaptive average pooling (``adaptive.py``), so
it takes any input from 63x63 up and loads torchvision's ImageNet weights (``weights.py``).
"""

from __future__ import annotations

from convlens.build import build_model
from convlens.models.adaptive import with_adaptive_pool
from convlens.models.registry import register_model

_CLASSIFIER = "drop-fc4096-relu-drop-fc4096-relu-fc{n}"

_TORCHVISION = (
    "conv11x11x64s4p2-relu-pool3s2-"
    "conv5x5x192p2-relu-pool3s2-"
    "conv3x3x384p1-relu-conv3x3x256p1-relu-conv3x3x256p1-relu-pool3s2-" + _CLASSIFIER
)

_LECTURE = (
    "conv11x11x96s4-relu-pool3s2-lrn-"
    "conv5x5x256p2{g}-relu-pool3s2-lrn-"
    "conv3x3x384p1-relu-conv3x3x384p1{g}-relu-conv3x3x256p1{g}-relu-pool3s2-" + _CLASSIFIER
)


@register_model(
    "alexnet",
    family="alexnet",
    in_shape=(3, 224, 224),
    num_classes=1000,
    description="AlexNet, single tower as in torchvision (64-192-384-256-256 filters, no LRN)",
    source="Krizhevsky 2014 'One weird trick'; torchvision AlexNet_Weights num_params",
    params=61_100_840,
)
def alexnet(num_classes: int, in_channels: int, image_size: int = 224):
    """Any input of at least 63x63 (three 3x3 stride-2 poolings after an 11x11 stride-4 conv):
    an adaptive average pooling brings the maps to the size that ``image_size`` gives (6x6 at the
    default 224, so 6x6x256 = 9,216 features reach fc1, as in torchvision).
    """
    spec = _TORCHVISION.format(n=num_classes)
    return with_adaptive_pool(build_model(spec, (in_channels, image_size, image_size)))


@register_model(
    "alexnet_lecture",
    family="alexnet",
    in_shape=(3, 227, 227),
    num_classes=1000,
    description="AlexNet as the lectures draw it: 227x227, 96-256-384-384-256 filters, LRN",
    source="Krizhevsky et al. 2012; LECTURES.md section 3",
    params=62_378_344,
)
def alexnet_lecture(num_classes: int, in_channels: int, two_tower: bool = False):
    """Fixed 227x227 input. ``two_tower=True`` splits conv2, conv4 and conv5 into 2 groups.

    Layer by layer (one tower): conv1 34,944; conv2 614,656; conv3 885,120; conv4 1,327,488;
    conv5 884,992; fc6 37,752,832; fc7 16,781,312; fc8 4,097,000.
    """
    spec = _LECTURE.format(g="g2" if two_tower else "", n=num_classes)
    return build_model(spec, (in_channels, 227, 227))
