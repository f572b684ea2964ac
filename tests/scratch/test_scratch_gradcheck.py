"""Every backward pass of the scratch engine against central differences (float64)."""

import subprocess
import sys

import numpy as np
import pytest

from convlens.scratch import build_scratch, gradcheck_all, numerical_gradient, rel_error
from convlens.scratch.functional import softmax_cross_entropy

RESULTS = gradcheck_all(seed=0)


def test_every_op_is_checked():
    ops = {r.op for r in RESULTS}
    for name in ("linear", "conv1d (im2col)", "conv2d (naive)", "true convolution 2d (im2col)",
                 "maxpool2d k3 s2 p1", "avgpool1d k3 s2 p1", "dropout (fixed mask)",
                 "batch norm 2d (train)", "local response norm", "softmax", "gelu",
                 "conv2d, reflect padding", "softplus", "softmax cross-entropy",
                 "weighted average pool 2d k3 s2 p1", "locally connected 2d",
                 "tiled convolution 2d", "recurrent conv layer (T = 2)", "maxout 3"):  # fmt: skip
        assert name in ops


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: f"{r.op}/{r.wrt}")
def test_relative_error_below_1e_6(result):
    assert result.rel_error < 1e-6


def test_the_check_can_fail():
    # A wrong gradient (factor 2) must show a large relative error: 1/3 for a * 2 against a.
    a = np.random.default_rng(0).standard_normal(10)
    assert rel_error(2 * a, a) == pytest.approx(1 / 3)


def test_whole_network_gradient():
    net = build_scratch("conv3x2x4s2p1-tanh-pool2-flatten-fc5-sigmoid-fc3", (2, 7, 6), seed=1)
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((3, 2, 7, 6)), np.array([0, 2, 1])

    def loss():
        return softmax_cross_entropy(net.forward(x), y)[0]

    _, dlogits = softmax_cross_entropy(net.forward(x), y)
    dx = net.backward(dlogits)
    grads = net.grads()
    for name, param in net.params().items():
        assert rel_error(grads[name], numerical_gradient(loss, param)) < 1e-6, name
    assert rel_error(dx, numerical_gradient(loss, x)) < 1e-6


def test_importing_scratch_does_not_import_torch():
    code = "import sys, convlens.scratch; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
