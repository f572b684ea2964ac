"""1. The neuron: a McCulloch-Pitts threshold unit, then a sigmoid neuron that learns.

A McCulloch-Pitts neuron adds its Boolean inputs and fires when the sum reaches a threshold theta
set by hand: theta = n is AND, theta = 1 is OR. The sigmoid neuron replaces the hard step by
1 / (1 + exp(-(w.x + b))), which is smooth, so gradient descent can set w and b from data.

Run: python examples/01_neuron.py
"""

import numpy as np

from convlens.scratch import McCullochPitts, train_sigmoid_neuron

inputs = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
print("McCulloch-Pitts neuron, output 1 iff x1 + x2 >= theta")
print("  x1 x2 | AND (theta=2)  OR (theta=1)")
for x, a, o in zip(inputs, McCullochPitts(2)(inputs), McCullochPitts(1)(inputs), strict=True):
    print(f"   {x[0]}  {x[1]} |      {a}              {o}")

# The lectures' "watch the movie?" example: a hard threshold at rating 4 jumps from no to yes
# between 3.9 and 4.1; a sigmoid neuron fitted to a few opinions answers in degrees.
ratings = np.array([[2.0], [3.0], [3.5], [3.8], [4.2], [4.5], [4.8], [5.0]])
watched = np.array([0, 0, 0, 0, 1, 1, 1, 1])
neuron, descent = train_sigmoid_neuron(ratings, watched, lr=0.5, max_steps=5000)
print(
    f"\nsigmoid neuron fitted by gradient descent: {descent.steps} steps, cross-entropy "
    f"{descent.losses[0]:.3f} -> {descent.losses[-1]:.3f}"
)
print(f"  w = {neuron.weights[0]:.2f}, b = {neuron.bias:.2f}")
for r in (3.9, 4.1):
    step = int(r >= 4.0)
    print(f"  rating {r}: threshold says {step}, sigmoid says {float(neuron([r])):.2f}")
