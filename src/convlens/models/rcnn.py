"""The recurrent convolutional network of Liang & Hu, "Recurrent Convolutional Neural Network for
Object Recognition", CVPR 2015, section 4 (the CIFAR-10 model).

One feed-forward 5x5 convolution of K filters, 3x3 stride-2 max pooling, two recurrent
convolutional layers (``rcl``: 3x3 feed-forward and recurrent filters, unrolled for T = 3 steps),
pooling again, two more RCLs, global max pooling and a softmax layer. Parameters for K = 96:

    conv 5x5: (3 * 25 + 1) * 96 = 7,296
    each RCL: 96 * 96 * 9 (w_f) + 96 * 96 * 9 (w_r) + 96 = 165,984; four of them 663,936
    fc: 96 * 10 + 10 = 970                                  total 672,202

the paper's 0.67 M for RCNN-96 (K = 128 gives 1.19 M and K = 160 1.86 M, also as in the paper).
The paper's local response normalisation inside each RCL step and its dropout are left out.
"""

from __future__ import annotations

from convlens.analysis.geometry import analyze
from convlens.build import build_model
from convlens.models.registry import register_model


@register_model(
    "rcnn",
    family="rcnn",
    in_shape=(3, 32, 32),
    num_classes=10,
    description="Liang & Hu's recurrent conv net (RCNN-96): conv5, 4 RCLs (T = 3), global max pool",
    source="Liang & Hu, CVPR 2015, section 4 and table 1 (RCNN-96: 0.67 M parameters)",
    params=672_202,
)
def rcnn(num_classes: int, in_channels: int, width: int = 96, steps: int = 3, image_size: int = 32):
    """``width`` is the paper's K (96, 128 or 160); ``steps`` its T. The last pooling spans the
    whole map that reaches it (7 x 7 for 32 x 32 inputs): global max pooling."""
    rcl = f"rcl3x3x{width}t{steps}"
    body = f"conv5x5x{width}p2-relu-pool3s2-{rcl}-{rcl}-pool3s2-{rcl}-{rcl}"
    in_shape = (in_channels, image_size, image_size)
    side = analyze(body, in_shape)[-1].out_shape[-1]
    return build_model(f"{body}-pool{side}-fc{num_classes}", in_shape)
