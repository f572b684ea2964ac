"""Fully connected baselines for images: the lectures' MLP and logistic regression.

Both flatten the image first, so they take the same C x H x W tensors as the conv nets and can be
trained on the same data; ``image_size`` and ``in_channels`` size the first layer.
"""

from __future__ import annotations

from convlens.build import build_model
from convlens.models.registry import register_model


@register_model(
    "mlp",
    family="mlp",
    in_shape=(1, 28, 28),
    num_classes=10,
    description="MLP 784-100-10 of the lectures (MNIST), ReLU hidden layer",
    source="LECTURES.md section 6 (784 inputs, 100 hidden, 10 outputs)",
    params=79_510,
)
def mlp(
    num_classes: int,
    in_channels: int,
    hidden: int = 100,
    activation: str = "relu",
    image_size: int = 28,
):
    """C*H*W inputs -> ``hidden`` -> ``num_classes``: (784 + 1) * 100 + (100 + 1) * 10 = 79,510.

    ``activation`` is any spec activation (``sigmoid`` for the lectures' sigmoid neurons).
    """
    spec = f"flatten-fc{hidden}-{activation}-fc{num_classes}"
    return build_model(spec, (in_channels, image_size, image_size))


@register_model(
    "logreg",
    family="mlp",
    in_shape=(1, 28, 28),
    num_classes=10,
    description="Logistic (softmax) regression: one fc layer on the flattened image",
    source="(784 + 1) * 10 = 7,850 parameters",
    params=7_850,
)
def logreg(num_classes: int, in_channels: int, image_size: int = 28):
    """C*H*W inputs -> ``num_classes`` logits; softmax is in the cross-entropy loss."""
    return build_model(f"flatten-fc{num_classes}", (in_channels, image_size, image_size))
