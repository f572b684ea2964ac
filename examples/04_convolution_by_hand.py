"""4. Convolution by hand: the lectures' worked examples, computed three ways.

Networks compute cross-correlation, s(i, j) = sum_m sum_n I(i + m, j + n) K(m, n); true
convolution flips the kernel first. The output size is (N + 2P - F) / S + 1, and a stride that
does not land on the last pixel "does not fit". The NumPy loops, the NumPy im2col version and
torch.nn.functional.conv2d must all give the same numbers.

Run: python examples/04_convolution_by_hand.py
"""

import numpy as np
import torch
import torch.nn.functional as F

import convlens
from convlens.scratch import conv2d_naive, convolve2d, correlate2d, pool_forward

# the lecture's 5x5 input and 3x3 kernel
image = np.array(
    [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]], float
)
kernel = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]], float)

print("cross-correlation (what conv layers compute), im2col:")
print(correlate2d(image, kernel).astype(int))
naive = conv2d_naive(image[None, None], kernel[None, None])
print("the same with four nested loops:", naive[0, 0].astype(int).tolist())
torch_out = F.conv2d(torch.tensor(image)[None, None], torch.tensor(kernel)[None, None])
print("the same with torch.nn.functional.conv2d:", torch_out[0, 0].int().tolist())
print("true convolution (kernel flipped) differs:")
print(convolve2d(image, kernel).astype(int))

pooled, _ = pool_forward(np.array([[[[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]]], float),
                         "max", 2)  # fmt: skip
print("\nmax pool 2x2 stride 2:", pooled[0, 0].astype(int).tolist())

print("\noutput size (N + 2P - F) / S + 1 on a 7x7 input with a 3x3 filter:")
for stride, padding in [(1, 0), (2, 0), (1, 1), (3, 0)]:
    try:
        size = convlens.conv_output_size(7, 3, stride, padding, strict=True)
        print(f"  stride {stride}, pad {padding}: {size}x{size}")
    except convlens.LayerFitError as err:
        print(f"  stride {stride}, pad {padding}: {err}")

# an edge detector made by hand: the Laplacian answers only where the intensity changes
square = np.zeros((8, 8))
square[2:6, 2:6] = 1.0
laplacian = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], float)
print("\nLaplacian of a bright square (zero inside and outside, non-zero on its border):")
print(correlate2d(square, laplacian).astype(int))
