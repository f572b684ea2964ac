"""convlens's optimisers against torch.optim's (the independent reference), step by step."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

from convlens.train import optim
from convlens.train.config import TrainConfig
from convlens.train.optim import Adam, _groups, fused_runs, make_optimizer, set_lr, torch_optimizer

SETTINGS = {
    "sgd": dict(optimizer="sgd", momentum=0.0, weight_decay=0.0),
    "sgd momentum, decay": dict(optimizer="sgd", momentum=0.9, nesterov=False, weight_decay=5e-4),
    "sgd nesterov, decay": dict(optimizer="sgd", momentum=0.9, nesterov=True, weight_decay=5e-4),
    "adam, decay": dict(optimizer="adam", momentum=0.9, weight_decay=1e-3),
    "adamw, decay": dict(optimizer="adamw", momentum=0.85, weight_decay=0.05),
}


def _model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(64, 3)
    )


def _batches(n: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    return [
        (torch.randn(8, 1, 4, 4, generator=g), torch.randint(0, 3, (8,), generator=g))
        for _ in range(n)
    ]


def _train(model: nn.Module, opt, batches, lrs) -> None:
    for (x, y), lr in zip(batches, lrs, strict=True):
        set_lr(opt, lr)
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()


def _assert_same(a: nn.Module, b: nn.Module, **tol: float) -> None:
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        torch.testing.assert_close(x, y, msg=name, **tol)


def _reference(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """torch's optimiser in the form ours runs here: Adam's fused kernel where ours takes it (the
    two forms round differently, and a gradient of pure rounding noise, as the bias of a
    convolution before batch norm gets, turns that into different steps), foreach elsewhere."""
    if config.optimizer == "sgd" or not fused_runs(list(model.parameters())):
        return torch_optimizer(model, config)
    rule = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return rule(_groups(model, config), lr=config.lr, betas=(config.momentum, 0.999), fused=True)


@pytest.mark.parametrize("form", ["as here", "foreach"])
@pytest.mark.parametrize("name", SETTINGS)
def test_steps_agree_with_torch(name: str, form: str, monkeypatch) -> None:
    if form == "foreach":  # as on a device or PyTorch without the fused kernel
        monkeypatch.setattr(optim, "fused_runs", lambda params: False)
    config = TrainConfig(lr=0.05, **SETTINGS[name])
    batches, lrs = _batches(6), [0.05, 0.04, 0.03, 0.02, 0.05, 0.01]
    ours, theirs = _model(), _model()
    _train(ours, make_optimizer(ours, config), batches, lrs)
    reference = torch_optimizer if form == "foreach" else _reference
    _train(theirs, reference(theirs, config), batches, lrs)
    assert not torch.equal(ours[0].weight, _model()[0].weight)  # the steps moved the weights
    _assert_same(ours, theirs, rtol=1e-6, atol=1e-7)


def test_the_fused_kernel_runs_where_it_exists() -> None:
    cpu = [torch.zeros(2), torch.zeros(3)]
    assert fused_runs(cpu) == (optim._torch_version() >= (2, 4))
    assert not fused_runs([torch.zeros(2), torch.zeros(2, dtype=torch.float64)])  # two dtypes
    assert not fused_runs([torch.zeros(2, device="meta")])  # no kernel there


@pytest.mark.parametrize("name", ["sgd momentum, decay", "adamw, decay"])
def test_state_dict_resumes_exactly(name: str) -> None:
    config = TrainConfig(lr=0.05, **SETTINGS[name])
    batches, lrs = _batches(5), [0.05] * 5
    straight = _model()
    _train(straight, make_optimizer(straight, config), batches, lrs)

    first = _model()
    opt = make_optimizer(first, config)
    _train(first, opt, batches[:3], lrs[:3])
    saved, weights = opt.state_dict(), {k: v.clone() for k, v in first.state_dict().items()}
    assert sorted(saved["state"]) == list(range(6))  # every parameter's buffers, by index
    second = _model(seed=5)
    second.load_state_dict(weights)
    opt2 = make_optimizer(second, config)
    opt2.load_state_dict(saved)
    _train(second, opt2, batches[3:], lrs[3:])
    _assert_same(second, straight, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["sgd nesterov, decay", "adam, decay", "adamw, decay"])
def test_a_state_saved_by_torch_continues(name: str) -> None:
    """Resume states written before convlens had its own optimisers hold torch's state_dict."""
    config = TrainConfig(lr=0.05, **SETTINGS[name])
    batches, lrs = _batches(5), [0.05] * 5
    reference = _model()
    opt = _reference(reference, config)
    _train(reference, opt, batches[:3], lrs[:3])
    ours = _model(seed=5)
    ours.load_state_dict(reference.state_dict())
    mine = make_optimizer(ours, config)
    mine.load_state_dict(opt.state_dict())
    _train(reference, opt, batches[3:], lrs[3:])
    _train(ours, mine, batches[3:], lrs[3:])
    _assert_same(ours, reference, rtol=1e-6, atol=1e-7)


def test_a_state_of_another_shape_is_refused() -> None:
    config = TrainConfig(**SETTINGS["adamw, decay"])
    small = _model()
    opt = make_optimizer(small, config)
    _train(small, opt, _batches(1), [0.01])
    other = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 2))
    with pytest.raises(ValueError, match="holds 4 parameters where the optimiser's holds 2"):
        make_optimizer(other, config).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="has 2 parameter groups, the optimiser 1"):
        Adam([{"params": list(other.parameters())}], lr=0.1).load_state_dict(opt.state_dict())


def test_parameters_without_gradients_are_left_alone() -> None:
    a = nn.Parameter(torch.ones(3))
    b = nn.Parameter(torch.ones(3))
    opt = Adam([{"params": [a, b]}], lr=0.1)
    (a * torch.tensor([1.0, -2.0, 0.5])).sum().backward()
    opt.step()
    assert torch.equal(b, torch.ones(3)) and b not in opt.state
    # Adam's first step moves every coordinate by lr against its gradient's sign
    torch.testing.assert_close(a.detach(), torch.tensor([0.9, 1.1, 0.9]))
    opt.zero_grad(set_to_none=False)
    assert torch.equal(a.grad, torch.zeros(3))


def test_grad_scaler_skips_a_step_with_an_infinite_gradient() -> None:
    """torch's GradScaler drives the optimiser through param_groups and step()."""
    model = _model()
    opt = make_optimizer(model, TrainConfig(**SETTINGS["sgd momentum, decay"], lr=0.1))
    scaler = torch.amp.GradScaler("cpu", init_scale=4.0)
    x, y = _batches(1)[0]
    before = model[4].weight.detach().clone()
    scaler.scale(nn.functional.cross_entropy(model(x), y)).backward()
    model[4].weight.grad[0, 0] = float("inf")
    scaler.unscale_(opt)
    scaler.step(opt)
    scaler.update()
    assert torch.equal(model[4].weight, before)  # skipped, and the scale halved
    assert scaler.get_scale() == 2.0

    opt.zero_grad()
    scaler.scale(nn.functional.cross_entropy(model(x), y)).backward()
    expected = model[4].weight.detach() - 0.1 * (
        model[4].weight.grad / 2.0 + 5e-4 * model[4].weight.detach()
    )
    scaler.step(opt)  # unscales by 1/2, then one plain first step of SGD
    torch.testing.assert_close(model[4].weight.detach(), expected)


def test_training_does_not_import_torch_dynamo() -> None:
    """Importing torch._dynamo costs about 1.4 s of every run's start on a 2-core CPU."""
    code = textwrap.dedent(
        """
        import sys
        sys.path.insert(0, "tests/train")
        from train_toydata import sequence_data
        from convlens.train import TrainConfig, fit
        from convlens.train.recipes import make_model
        data = sequence_data(64)
        for optimizer in ("adamw", "sgd"):
            model = make_model("conv1d3x4p1-bn-relu-gap-fc2", data.in_shape, 2, seed=0)
            fit(model, data, TrainConfig(epochs=1, batch_size=16, optimizer=optimizer, verbose=0))
        print("torch._dynamo" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip().splitlines()[-1] == "False"
