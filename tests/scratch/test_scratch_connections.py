"""The NumPy twins of the lectures' other connection kinds against their torch modules.

Same weights (a torch state_dict loaded into the scratch network), same input: the loss, the
gradient of the input and the gradient of every parameter agree to 1e-10 in float64. The torch
modules themselves are checked against independent computations in tests/test_modules.py.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from convlens import build_model
from convlens.scratch import build_scratch
from convlens.scratch.connections import Maxout, RecurrentConv, WeightedPool
from convlens.scratch.functional import softmax_cross_entropy

SPECS = [
    ("wavgpool3s2p1-fc3", (2, 9, 9)),
    ("conv3x3x4-wavgpool5s1p2-fc3", (1, 11, 10)),
    ("conv1d3x4-wavgpool3s2p1-fc3", (2, 13)),  # 1-D
    ("local3x3x4s2p1-fc3", (2, 7, 8)),
    ("local2x3x3-fc3", (3, 5, 6)),  # rectangular kernel
    ("tiled3x3x4t2-fc3", (2, 8, 7)),
    ("tiled2x2x3t3s2p1-fc3", (1, 9, 9)),
    ("conv3x3x6-maxout3-fc3", (2, 8, 8)),
    ("fc8-maxout2-fc3", (5,)),  # maxout units on a vector
    ("rcl3x3x4t3-gap-fc3", (2, 6, 6)),
    ("conv3x3x3p1-rcl5x5x3t1-pool2-fc3", (2, 8, 8)),
    ("conv3x3x6p1-wavgpool3s2p1-local3x3x6-maxout2-rcl3x3x4t2-tiled2x2x4t2-gap-fc3", (3, 12, 12)),
]


@pytest.mark.parametrize(("spec", "in_shape"), SPECS)
def test_network_with_the_new_layers_equals_its_torch_twin(spec, in_shape):
    torch.manual_seed(0)
    model = build_model(spec, in_shape).double()
    net = build_scratch(spec, in_shape, dtype=np.float64)
    assert list(net.layers) == [name for name, _ in model.named_children()]
    net.load_state_dict({k: v.numpy() for k, v in model.state_dict().items()})

    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((4, *in_shape)), rng.integers(0, 3, 4)
    xt = torch.tensor(x, requires_grad=True)
    loss_t = TF.cross_entropy(model(xt), torch.tensor(y))
    loss_t.backward()
    loss, dlogits = softmax_cross_entropy(net.forward(x, train=True), y)
    dx = net.backward(dlogits)

    assert loss == pytest.approx(loss_t.item(), abs=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-10, rtol=1e-10)
    grads = net.grads()
    assert sorted(grads) == sorted(name for name, _ in model.named_parameters())
    for name, p in model.named_parameters():
        np.testing.assert_allclose(
            grads[name], p.grad.numpy(), atol=1e-10, rtol=1e-10, err_msg=name
        )


def test_weighted_pool_by_hand():
    # weights [1 2 1]^T [1 2 1] / 16: corner 1/16, edge 2/16, centre 4/16
    x = np.array([[4.0, 8.0, 0.0], [0.0, 16.0, 0.0], [0.0, 0.0, 0.0]])[None, None]
    pool = WeightedPool(3, 1)
    out = pool.forward(x)
    assert out.shape == (1, 1, 1, 1)
    assert out[0, 0, 0, 0] == pytest.approx((4 * 1 + 8 * 2 + 16 * 4) / 16)  # 5.25
    # the gradient of the output is each pixel's weight
    dx = pool.backward(np.ones((1, 1, 1, 1)))
    np.testing.assert_allclose(dx[0, 0], np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16)


def test_maxout_by_hand():
    # channels (1, 5 | 3, 2) at one position: groups of 2 -> max(1, 5) = 5, max(3, 2) = 3
    x = np.array([1.0, 5.0, 3.0, 2.0]).reshape(1, 4, 1, 1)
    layer = Maxout(2)
    assert layer.forward(x).ravel().tolist() == [5.0, 3.0]
    dx = layer.backward(np.array([10.0, 20.0]).reshape(1, 2, 1, 1))
    assert dx.ravel().tolist() == [0.0, 10.0, 20.0, 0.0]  # to the winners only


def test_recurrent_conv_by_hand():
    # one channel, 1x1 kernel: u = 2, w_f = 0.5, w_r = 1, b = 0, T = 2
    # x(0) = relu(1) = 1; x(1) = relu(1 + 1) = 2; x(2) = relu(1 + 2) = 3
    layer = RecurrentConv(1, 1, 1, steps=2)
    layer.params.update(
        weight=np.full((1, 1, 1, 1), 0.5),
        recurrent_weight=np.ones((1, 1, 1, 1)),
        bias=np.zeros(1),
    )
    assert layer.forward(np.full((1, 1, 1, 1), 2.0)).item() == 3.0
    dx = layer.backward(np.ones((1, 1, 1, 1)))
    # x(2) = w_f u (1 + w_r + w_r^2) with every ReLU open: d/du = 0.5 * 3, d/dw_r = w_f u (1 + 2 w_r)
    assert dx.item() == pytest.approx(1.5)
    assert layer.grads["recurrent_weight"].item() == pytest.approx(1 * (1 + 2))
    assert layer.grads["weight"].item() == pytest.approx(2 * 3)
