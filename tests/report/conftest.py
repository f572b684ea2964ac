"""A small but real run directory: a checkpoint, config.json and metrics.jsonl on the digits data."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from convlens.build import build_model


@pytest.fixture(scope="session")
def digits_test():
    from convlens.data import load_dataset

    return load_dataset("digits", "test")


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory, digits_test):
    from convlens.train import TrainConfig, save_checkpoint

    run = tmp_path_factory.mktemp("run")
    torch.manual_seed(0)
    model = build_model("conv3x3x4p1-pool2-conv3x3x6p1-fc10", (1, 8, 8))
    x, y = digits_test.float_x(), digits_test.y
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = torch.Generator().manual_seed(0)
    records = []
    for epoch in (1, 2, 3):
        for _ in range(10):  # a few steps on the test split: enough to learn something, not all
            idx = torch.randint(0, len(x), (64,), generator=gen)
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            logits = model(x)
        acc = float((logits.argmax(1) == y).float().mean())
        records.append(
            {
                "epoch": epoch,
                "loss": float(loss.detach()),
                "acc": acc,
                "val_loss": float(F.cross_entropy(logits, y)),
                "val_acc": acc,
            }
        )
    model.eval()
    config = TrainConfig(model="conv3x3x4p1-pool2-conv3x3x6p1-fc10", data="digits", epochs=3)
    save_checkpoint(
        run / "best", model, config=config, data=digits_test, epoch=3, metrics=records[-1]
    )
    (run / "config.json").write_text(config.to_json())
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return run
