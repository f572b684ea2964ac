"""The MNIST-1D networks: a conv net against a fully connected net on 40-point signals.

* Greydanus & Kobak, "Scaling Down Deep Learning with MNIST-1D", ICML 2024 (arXiv 2011.14439),
  and the ``mnist1d`` repository's ``models.py``: the CNN has three Conv1d layers with 25 channels
  (kernel 5 stride 2 padding 1, then kernel 3 stride 2 padding 1 twice) and a linear layer on the
  25 x 5 = 125 features: 150 + 1,900 + 1,900 + 1,260 = 5,210 parameters. The MLP has two hidden
  layers of 100: 4,100 + 10,100 + 1,010 = 15,210.
* Prince, "Understanding Deep Learning", MIT Press 2023, section 10.5 and its notebook 10.5:
  three Conv1d layers with 15 channels, kernel 3, stride 2, no padding (40 -> 19 -> 9 -> 4), then a
  linear layer on 15 x 4 = 60 features: 60 + 690 + 690 + 610 = 2,050 parameters. Its fully
  connected comparison keeps the same number of hidden units per layer (19 x 15 = 285,
  9 x 15 = 135, 4 x 15 = 60): 11,685 + 38,610 + 8,160 + 610 = 59,065 parameters.

All four take a (1, 40) signal (channels x length); the MLPs flatten it first.
"""

from __future__ import annotations

from convlens.build import build_model
from convlens.models.registry import register_model

_LENGTH = 40


@register_model(
    "mnist1d_cnn",
    family="mnist1d",
    in_shape=(1, _LENGTH),
    num_classes=10,
    description="Greydanus & Kobak's MNIST-1D CNN: 3 Conv1d layers of 25 channels + fc",
    source="Greydanus & Kobak 2024 (arXiv 2011.14439); github.com/greydanus/mnist1d models.py",
    params=5_210,
)
def mnist1d_cnn(num_classes: int, in_channels: int, channels: int = 25, length: int = _LENGTH):
    """Input C x ``length`` (40 by default); the fc layer is sized by what the convs leave."""
    c = channels
    spec = f"conv1d5x{c}s2p1-relu-conv1d3x{c}s2p1-relu-conv1d3x{c}s2p1-relu-fc{num_classes}"
    return build_model(spec, (in_channels, length))


@register_model(
    "mnist1d_mlp",
    family="mnist1d",
    in_shape=(1, _LENGTH),
    num_classes=10,
    description="Greydanus & Kobak's MNIST-1D MLP: 40-100-100-10, ReLU",
    source="Greydanus & Kobak 2024 (arXiv 2011.14439); github.com/greydanus/mnist1d models.py",
    params=15_210,
)
def mnist1d_mlp(num_classes: int, in_channels: int, hidden: int = 100, length: int = _LENGTH):
    """Input C x ``length``, flattened."""
    spec = f"flatten-fc{hidden}-relu-fc{hidden}-relu-fc{num_classes}"
    return build_model(spec, (in_channels, length))


@register_model(
    "udl_cnn",
    family="mnist1d",
    in_shape=(1, _LENGTH),
    num_classes=10,
    description="Prince's MNIST-1D CNN: 3 Conv1d layers of 15 channels, kernel 3, stride 2 + fc",
    source="Prince, Understanding Deep Learning (2023), section 10.5 and notebook 10.5",
    params=2_050,
)
def udl_cnn(num_classes: int, in_channels: int, channels: int = 15, length: int = _LENGTH):
    """Input C x ``length``; valid convolutions, so 40 -> 19 -> 9 -> 4 positions."""
    c = channels
    spec = f"conv1d3x{c}s2-relu-conv1d3x{c}s2-relu-conv1d3x{c}s2-relu-fc{num_classes}"
    return build_model(spec, (in_channels, length))


@register_model(
    "udl_fc",
    family="mnist1d",
    in_shape=(1, _LENGTH),
    num_classes=10,
    description="Prince's fully connected comparison: 40-285-135-60-10 (the CNN's hidden units)",
    source="Prince, Understanding Deep Learning (2023), section 10.5",
    params=59_065,
)
def udl_fc(num_classes: int, in_channels: int, length: int = _LENGTH):
    """Input C x ``length``, flattened; hidden widths equal the CNN's units per layer."""
    return build_model(
        f"flatten-fc285-relu-fc135-relu-fc60-relu-fc{num_classes}", (in_channels, length)
    )
