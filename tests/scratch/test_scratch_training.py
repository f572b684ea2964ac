"""Training the scratch engine: SGD equals torch's, digits reaches 97%, MNIST-1D matches its twin."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

from convlens import build_model
from convlens.data import load_dataset
from convlens.errors import ConfigError, TrainingError
from convlens.scratch import (
    SGD,
    ScratchTrainConfig,
    accuracy,
    batch_order,
    build_scratch,
    fit_scratch,
)


def _numpy(name, split, dtype=np.float64):
    data = load_dataset(name, split)
    return data.float_x().numpy().astype(dtype), data.y.numpy()


def _torch_twin_training(model, x, y, config):
    """The same recipe in torch: torch.optim.SGD on the batches that batch_order gives."""
    opt = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum,
                          weight_decay=config.weight_decay)  # fmt: skip
    xt, yt = torch.tensor(x), torch.tensor(y)
    model.train()
    for epoch in range(config.epochs):
        for idx in batch_order(len(x), config.batch_size, config.seed + epoch):
            index = torch.from_numpy(idx)
            opt.zero_grad()
            TF.cross_entropy(model(xt[index]), yt[index]).backward()
            opt.step()
    model.eval()


def test_sgd_with_momentum_and_weight_decay_follows_torch_step_by_step():
    spec, shape = "conv3x3x4p1-pool2-fc6", (2, 6, 6)
    torch.manual_seed(0)
    model = build_model(spec, shape).double()
    net = build_scratch(spec, shape)
    net.load_state_dict({k: v.numpy() for k, v in model.state_dict().items()})
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((40, *shape)), rng.integers(0, 6, 40)
    config = ScratchTrainConfig(epochs=3, lr=0.1, batch_size=8, momentum=0.9, weight_decay=1e-3)
    fit_scratch(net, x, y, config)
    _torch_twin_training(model, x, y, config)
    for name, p in model.state_dict().items():
        np.testing.assert_allclose(net.state_dict()[name], p.numpy(), atol=1e-10, err_msg=name)


def test_sgd_plain_step_by_hand():
    w = np.array([1.0, -2.0])
    SGD({"w": w}, lr=0.5).step({"w": np.array([2.0, 2.0])})
    np.testing.assert_array_equal(w, [0.0, -3.0])  # w - 0.5 * g, in place
    opt = SGD({"w": w}, lr=1.0, momentum=0.5)
    opt.step({"w": np.array([1.0, 0.0])})  # v = g
    opt.step({"w": np.array([1.0, 0.0])})  # v = 0.5 v + g = 1.5
    np.testing.assert_array_equal(w, [-2.5, -3.0])


def test_bad_configuration_and_divergence_are_reported():
    with pytest.raises(ConfigError):
        ScratchTrainConfig(lr=0)
    net = build_scratch("fc3", (2,))
    x, y = np.array([[1e150, 1e150], [1.0, 2.0]]), np.array([0, 1])
    with pytest.raises(TrainingError, match="learning rate"):  # the weights overflow to inf
        fit_scratch(net, x, y, ScratchTrainConfig(epochs=5, lr=1e10, batch_size=1))


def test_lenet_style_network_reaches_97_percent_on_digits():
    x, y = _numpy("digits", "train")
    x_test, y_test = _numpy("digits", "test")
    net = build_scratch("conv3x3x16p1-pool2-conv3x3x32p1-pool2-fc64-fc10", (1, 8, 8), seed=0)
    config = ScratchTrainConfig(epochs=12, lr=0.01, batch_size=16, momentum=0.9, seed=0)
    history = fit_scratch(net, x, y, config, x_test, y_test)
    assert history.train_loss[-1] < history.train_loss[0]
    assert accuracy(net, x_test, y_test) >= 0.97


@pytest.mark.slow
def test_mnist1d_scratch_trains_like_its_torch_twin():
    # Greydanus & Kobak's MNIST-1D CNN (three conv1d layers of 25 channels); same initial weights,
    # same batches, same SGD, float32 in both worlds. Recorded on the development machine:
    # scratch 93.5 %, torch 93.1 % test accuracy after 30 epochs.
    x, y = _numpy("mnist1d", "train", np.float32)
    x_test, y_test = _numpy("mnist1d", "test", np.float32)
    spec = "conv1d5x25s2p1-conv1d3x25s2p1-conv1d3x25s2p1-fc10"
    torch.manual_seed(0)
    model = build_model(spec, (1, 40))
    net = build_scratch(spec, (1, 40), dtype=np.float32)
    net.load_state_dict({k: v.numpy() for k, v in model.state_dict().items()})
    config = ScratchTrainConfig(epochs=30, lr=0.05, batch_size=100, momentum=0.9, seed=0)
    fit_scratch(net, x, y, config)
    _torch_twin_training(model, x, y, config)
    scratch_acc = accuracy(net, x_test, y_test)
    with torch.no_grad():
        torch_acc = float((model(torch.tensor(x_test)).argmax(1).numpy() == y_test).mean())
    assert torch_acc > 0.85  # the recipe really trains
    assert abs(scratch_acc - torch_acc) <= 0.02
