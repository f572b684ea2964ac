"""conv_steps: the step list agrees with the im2col engine and with torch."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from convlens.scratch.steps import conv_steps, pool_steps, size_formula


def test_steps_sum_to_torch_conv2d():
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 7, 6)), rng.normal(size=(2, 3, 2))
    result = conv_steps(x, w, 0.5, stride=(2, 1), padding=1, dilation=(1, 2))
    expected = F.conv2d(torch.tensor(x)[None], torch.tensor(w)[None], torch.tensor([0.5], dtype=torch.float64),
                        stride=(2, 1), padding=1, dilation=(1, 2))[0, 0].numpy()  # fmt: skip
    assert np.allclose(result.output, expected)
    sums = np.array([s.sum for s in result.steps]).reshape(expected.shape)
    assert np.allclose(sums, expected)


def test_formula_matches_the_library_sentence():
    formula = size_formula((7, 7), (3, 3), (3, 3), (0, 0), (1, 1))
    assert formula.text == "(7 - 3)/3 + 1 = 2.33" and not formula.fits
    assert formula.sentence.rstrip(".").endswith(formula.text)


def test_pool_steps_lecture_example():
    result = pool_steps([[0, 4, 7, 8], [9, 2, 4, 5], [6, 7, 3, 4], [8, 2, 1, 5]], "max", 2)
    assert result.output.tolist() == [[9, 8], [8, 5]]  # LECTURES.md §8
