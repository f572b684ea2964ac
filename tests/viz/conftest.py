"""Small models trained in seconds, for the tests where a trained network matters."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from convlens.build import build_model


def _train(model, x, y, steps: int, seed: int = 0, lr: float = 1e-2):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(0, len(x), (64,), generator=gen)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits as normalised (N, 1, 8, 8) tensors."""
    datasets = pytest.importorskip("sklearn.datasets")
    d = datasets.load_digits()
    x = torch.tensor(d.images, dtype=torch.float32)[:, None] / 16
    return (x - 0.3) / 0.4, torch.tensor(d.target)


@pytest.fixture(scope="session")
def digits_model(digits):
    torch.manual_seed(0)
    x, y = digits
    return _train(build_model("conv3x3x8p1-pool2-fc10", (1, 8, 8)), x, y, steps=150)


@pytest.fixture(scope="session")
def quadrant_task():
    """16x16 noise; class 1 adds a bright 3x3 square somewhere in the top-left quadrant only."""
    gen = torch.Generator().manual_seed(1)
    n = 600
    x = 0.3 * torch.randn(n, 1, 16, 16, generator=gen)
    y = torch.arange(n) % 2
    for k in torch.nonzero(y).flatten().tolist():
        r, c = (int(v) for v in torch.randint(0, 6, (2,), generator=gen))
        x[k, 0, r : r + 3, c : c + 3] += 2.0
    torch.manual_seed(0)
    model = _train(build_model("conv3x3x8p1-pool2-conv3x3x8p1-fc2", (1, 16, 16)), x, y, steps=200)
    return model, x, y
