"""3. A multi-layer perceptron, trained by backpropagation, in NumPy and then in PyTorch.

The same spec text builds a network in the NumPy engine (every forward and backward pass written
out by hand) and in PyTorch. Both learn the 8x8 digits bundled with scikit-learn (no download).
A numerical gradient check shows that the hand-written backward passes are the chain rule.

Run: python examples/03_mlp.py   (CONVLENS_EXAMPLE_QUICK=1 for a few-second version)
"""

import os

import numpy as np
import torch

import convlens
from convlens.scratch import (
    ScratchTrainConfig,
    accuracy,
    build_scratch,
    fit_scratch,
    numerical_gradient,
    rel_error,
)
from convlens.scratch.functional import softmax_cross_entropy

QUICK = os.environ.get("CONVLENS_EXAMPLE_QUICK") == "1"
EPOCHS = 2 if QUICK else 15
SPEC = "fc64-fc10"  # 64 pixels -> 64 hidden ReLU units -> 10 classes (the ReLU is added)

train = convlens.load_dataset("digits", "train")
test = convlens.load_dataset("digits", "test")
x, y = train.float_x().flatten(1).numpy().astype(np.float64), train.y.numpy()
x_test, y_test = test.float_x().flatten(1).numpy().astype(np.float64), test.y.numpy()
print(f"digits: {len(x)} training and {len(x_test)} test images of 8x8 = 64 pixels")

# --- backpropagation checked against finite differences on a few examples --------------------
net = build_scratch(SPEC, (64,), seed=0)
xs, ys = x[:5], y[:5]


def loss() -> float:
    return softmax_cross_entropy(net.forward(xs), ys)[0]


weight = net.params()["fc2.weight"]  # numerical_gradient nudges it in place
numeric = numerical_gradient(loss, weight)
_, dlogits = softmax_cross_entropy(net.forward(xs, train=True), ys)
net.backward(dlogits)
error = rel_error(net.grads()["fc2.weight"], numeric)
print(f"fc2.weight gradient, backprop vs finite differences: relative error {error:.1e}")

# --- the NumPy network learns ------------------------------------------------------------------
net = build_scratch(SPEC, (64,), seed=0)
history = fit_scratch(net, x, y, ScratchTrainConfig(epochs=EPOCHS, lr=0.05, batch_size=32))
print(
    f"NumPy MLP {SPEC}: train loss {history.train_loss[0]:.3f} -> {history.train_loss[-1]:.3f}, "
    f"test accuracy {accuracy(net, x_test, y_test):.1%} after {EPOCHS} epochs"
)

# --- the same spec in PyTorch ------------------------------------------------------------------
torch.manual_seed(0)
model = convlens.build_model(SPEC, (1, 8, 8))  # the flatten is implicit
config = convlens.TrainConfig(epochs=EPOCHS, batch_size=32, lr=0.05, device="cpu", verbose=0)
result = convlens.fit(model, train, config, test=test)
print(f"PyTorch MLP {SPEC}: test accuracy {result.test['acc']:.1%} after {EPOCHS} epochs")
