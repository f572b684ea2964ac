"""Same weights, same input: the scratch engine's forward and backward equal torch's.

float64 to 1e-10, float32 to 1e-4, for random layer settings (hypothesis), 1-D and 2-D, and the
naive loops agree with im2col. torch is the independent implementation here.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from convlens import build_model
from convlens.errors import CheckpointError, LayerFitError
from convlens.scratch import build_scratch, layers, norm
from convlens.scratch.conv import (
    conv2d_backward,
    conv2d_forward,
    conv2d_naive,
    conv2d_naive_backward,
)
from convlens.scratch.functional import softmax_cross_entropy

TOL = {np.float64: 1e-10, np.float32: 1e-4}
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def conv_cases(draw):
    nd = draw(st.sampled_from([1, 2]))
    groups = draw(st.sampled_from([1, 1, 2]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(nd))  # rectangular in 2-D
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nd))
    size = tuple(draw(st.integers(3, 9)) for _ in range(nd))
    n = draw(st.integers(1, 3))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    return nd, groups, c_in, c_out, kernel, stride, padding, dilation, size, n, bias, seed


def _fits(size, kernel, padding, dilation):
    return all(
        s + 2 * p - d * (k - 1) - 1 >= 0 for s, k, p, d in zip(size, kernel, padding, dilation)
    )


# Settings that must be covered whatever hypothesis draws:
# (nd, groups, c_in, c_out, kernel, stride, padding, dilation, size, n, bias, seed)
FIXED_CASES = [
    (2, 1, 3, 4, (3, 3), (2, 2), (1, 1), (1, 1), (9, 8), 2, True, 0),  # stride 2, padding
    (2, 1, 2, 3, (2, 4), (1, 2), (0, 2), (2, 1), (7, 9), 2, True, 1),  # rectangular, dilation
    (2, 2, 4, 6, (3, 1), (2, 1), (2, 0), (2, 2), (8, 5), 1, False, 2),  # groups, no bias
    (1, 1, 3, 5, (5,), (2,), (1,), (1,), (40,), 3, True, 3),  # MNIST-1D's first layer
    (1, 1, 2, 2, (3,), (1,), (2,), (3,), (9,), 2, True, 4),  # 1-D dilation
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", FIXED_CASES)
def test_conv_fixed_cases_equal_torch(case, dtype):
    _check_conv(case, dtype)


@SETTINGS
@given(conv_cases(), st.sampled_from([np.float64, np.float32]))
def test_conv_forward_backward_equals_torch(case, dtype):
    assume(_fits(case[8], case[4], case[6], case[7]))
    _check_conv(case, dtype)


def _check_conv(case, dtype):
    nd, groups, c_in, c_out, kernel, stride, padding, dilation, size, n, bias, seed = case
    rng = np.random.default_rng(seed)
    results = {}
    for impl in ("im2col", "naive"):
        conv = layers.Conv(c_in, c_out, kernel, stride, padding, dilation, groups, bias,
                           impl=impl, rng=np.random.default_rng(seed), dtype=dtype)  # fmt: skip
        x = rng.standard_normal((n, c_in, *size)).astype(dtype)
        out = conv.forward(x)
        dout = rng.standard_normal(out.shape).astype(dtype)
        dx = conv.backward(dout)
        results[impl] = (x, out, dout, dx, dict(conv.grads), dict(conv.params))
        rng = np.random.default_rng(seed)  # the same x and dout for both forms

    x, out, dout, dx, grads, params = results["im2col"]
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(params["weight"], requires_grad=True)
    bt = torch.tensor(params["bias"], requires_grad=True) if bias else None
    fn = TF.conv1d if nd == 1 else TF.conv2d
    ot = fn(xt, wt, bt, stride, padding, dilation, groups)
    ot.backward(torch.tensor(dout))
    tol = TOL[dtype]
    np.testing.assert_allclose(out, ot.detach().numpy(), atol=tol, rtol=tol)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=tol, rtol=tol)
    np.testing.assert_allclose(grads["weight"], wt.grad.numpy(), atol=tol, rtol=tol)
    if bias:
        np.testing.assert_allclose(grads["bias"], bt.grad.numpy(), atol=tol, rtol=tol)
    _, out_n, _, dx_n, grads_n, _ = results["naive"]
    np.testing.assert_allclose(out_n, out, atol=tol, rtol=tol)
    np.testing.assert_allclose(dx_n, dx, atol=tol, rtol=tol)
    np.testing.assert_allclose(grads_n["weight"], grads["weight"], atol=tol, rtol=tol)


def test_true_convolution_equals_torch_with_a_flipped_kernel():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 8, 7)), rng.standard_normal((4, 3, 3, 2))
    ours = conv2d_naive(x, w, stride=(2, 1), padding=(1, 1), flip=True)
    theirs = TF.conv2d(torch.tensor(x), torch.tensor(w).flip(2, 3), stride=(2, 1), padding=1)
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-10)
    dout = rng.standard_normal(ours.shape)
    wt = torch.tensor(w, requires_grad=True)
    TF.conv2d(torch.tensor(x), wt.flip(2, 3), stride=(2, 1), padding=1).backward(torch.tensor(dout))
    _, dw, _ = conv2d_naive_backward(dout, x, w, stride=(2, 1), padding=(1, 1), flip=True)
    np.testing.assert_allclose(dw, wt.grad.numpy(), atol=1e-10)


@SETTINGS
@given(
    nd=st.sampled_from([1, 2]),
    kind=st.sampled_from(["max", "avg"]),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    pad=st.integers(0, 2),
    size=st.integers(4, 10),
    seed=st.integers(0, 2**16),
)
def test_pooling_equals_torch(nd, kind, kernel, stride, pad, size, seed):
    assume(2 * pad <= kernel)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3, *(size,) * nd))
    pool = layers.Pool(kind, kernel, stride, pad)
    out = pool.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = pool.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    fn = {("max", 1): TF.max_pool1d, ("max", 2): TF.max_pool2d,
          ("avg", 1): TF.avg_pool1d, ("avg", 2): TF.avg_pool2d}[kind, nd]  # fmt: skip
    ot = fn(xt, kernel, stride, pad)
    ot.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ot.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize(
    ("name", "torch_fn"),
    [("relu", TF.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("softplus", TF.softplus),
     ("elu", TF.elu), ("gelu", TF.gelu), ("lrelu", TF.leaky_relu), ("softmax", lambda t: TF.softmax(t, dim=1))],
)  # fmt: skip
def test_activations_equal_torch(name, torch_fn):
    rng = np.random.default_rng(1)
    x, dout = rng.standard_normal((4, 6)) * 3, rng.standard_normal((4, 6))
    act = layers.Activation(name)
    out, dx = act.forward(x), act.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    ot = torch_fn(xt)
    ot.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ot.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize(
    ("size", "alpha", "beta", "k"), [(5, 1e-4, 0.75, 2.0), (3, 0.5, 0.75, 1.0), (4, 0.3, 1.5, 0.5)]
)
def test_local_response_norm_equals_torch(size, alpha, beta, k):
    rng = np.random.default_rng(size)
    x = rng.standard_normal((2, 7, 4, 3)) * 2
    lrn = norm.LocalResponseNorm(size, alpha, beta, k)
    out = lrn.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = lrn.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    ot = torch.nn.LocalResponseNorm(size, alpha, beta, k)(xt)
    ot.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ot.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12)


SPECS = [
    ("conv5x5x6p2-pool2-conv5x5x16-avgpool2-fc120-fc84-fc10", (1, 28, 28)),
    ("conv1d5x25s2p1-conv1d3x25s2p1-conv1d3x25s2p1-fc10", (1, 40)),
    ("conv1d5x8d2-bn-relu-pool3s2p1-conv1d3x8g2-gap-fc4", (2, 30)),
    ("conv3x2x8s2p1x2d2-bn-elu-pool3s2p1-sub2-drop0-fc5-softplus-fc3", (3, 17, 16)),
    ("conv5x5x12s2-relu-pool3s2-lrn-conv3x3x8p1-relu-lrn4-gap-fc3", (3, 23, 23)),  # AlexNet-like
    ("conv3x3x4p1circular-gelu-conv3x2x4p2x1reflect-tanh-conv3x3x3s2p1replicate-fc3", (2, 7, 6)),
    ("conv1d3x4p2reflect-sigmoid-conv1d3x4p1circular-lrelu-conv1d2x3p1replicate-fc3", (1, 9)),
]


@pytest.mark.parametrize(("spec", "in_shape"), SPECS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_network_from_a_spec_equals_its_torch_twin(spec, in_shape, dtype):
    torch.manual_seed(0)
    model = build_model(spec, in_shape)
    model = model.double() if dtype == np.float64 else model
    net = build_scratch(spec, in_shape, dtype=dtype)
    assert list(net.layers) == [name for name, _ in model.named_children()]
    net.load_state_dict({k: v.numpy() for k, v in model.state_dict().items()})

    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((5, *in_shape)).astype(dtype), rng.integers(0, 3, 5)
    xt = torch.tensor(x, requires_grad=True)
    model.train()
    loss_t = TF.cross_entropy(model(xt), torch.tensor(y))
    loss_t.backward()
    logits = net.forward(x, train=True)
    loss, dlogits = softmax_cross_entropy(logits, y)
    dx = net.backward(dlogits)

    tol = TOL[dtype]
    assert loss == pytest.approx(loss_t.item(), abs=tol)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=tol, rtol=tol)
    grads = net.grads()
    for name, p in model.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), atol=tol, rtol=tol, err_msg=name)
    for name, buf in model.state_dict().items():  # batch-norm running statistics
        if "running" in name:
            np.testing.assert_allclose(net.state_dict()[name], buf.numpy(), atol=tol, rtol=tol)
    model.eval()
    np.testing.assert_allclose(net.forward(x), model(xt).detach().numpy(), atol=tol, rtol=tol)


def test_load_state_dict_refuses_weights_of_another_network():
    net = build_scratch("conv3x3x4-fc10", (1, 8, 8))
    other = build_model("conv3x3x5-fc10", (1, 8, 8))
    with pytest.raises(CheckpointError, match="shape"):
        net.load_state_dict({k: v.numpy() for k, v in other.state_dict().items()})
    with pytest.raises(CheckpointError, match=r"missing: fc1\.bias"):
        net.load_state_dict({k: v for k, v in net.state_dict().items() if k != "fc1.bias"})


def test_reflect_padding_wider_than_the_input_is_refused():
    net = build_scratch("conv3x3x2p3reflect-fc2", (1, 3, 3))
    with pytest.raises(LayerFitError, match="reflect padding 3"):
        net.forward(np.zeros((1, 1, 3, 3)))


def test_a_forward_pass_backs_propagates_once():
    # backward reuses the im2col buffer, so a second backward must refuse rather than be wrong
    x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2))
    out, cache = conv2d_forward(x, w)
    conv2d_backward(np.ones_like(out), cache)
    with pytest.raises(RuntimeError, match="run forward again"):
        conv2d_backward(np.ones_like(out), cache)
    # integer inputs (the lectures' examples) still back-propagate
    out, cache = conv2d_forward(np.ones((1, 1, 3, 3), dtype=int), np.ones((1, 1, 2, 2)))
    dx, _, _ = conv2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])  # windows per pixel
