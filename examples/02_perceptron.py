"""2. The perceptron: it learns any linearly separable function, never XOR; a layer of them can.

The perceptron learning algorithm adds a missed positive to w and subtracts a wrongly accepted
negative, until an epoch passes without a mistake: that happens for AND and OR, never for XOR,
whose true points no line separates from its false ones. One hidden layer of 2^n perceptrons
(one per input pattern) and an output perceptron represent any Boolean function of n inputs.

Run: python examples/02_perceptron.py
"""

import numpy as np

from convlens.scratch import boolean_network, train_perceptron

x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
targets = {"AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0]}
for name, y in targets.items():
    result = train_perceptron(x, y, max_epochs=50, seed=0)
    learned = result.perceptron(x)
    verdict = "learned" if result.converged else "not learned"
    print(
        f"{name:<3}: {verdict:<11} after {result.epochs:>2} epochs, outputs {learned.tolist()}"
        f" (want {y}), weights (w0=-theta, w1, w2) {np.round(result.perceptron.weights, 2)}"
    )

# The constructive network: hidden unit k fires only on the k-th pattern of {-1, 1}^2
net = boolean_network("xor", n=2)
pm = 2 * x - 1  # inputs in {-1, 1}
print("\nXOR by a network of perceptrons (4 hidden units, one per input pattern):")
for row, hidden, out in zip(x, net.hidden(pm), net(pm), strict=True):
    print(f"  x = {row.tolist()}  hidden units firing {hidden.tolist()}  output {out}")
