"""The per-sample DataLoader adapter and `convlens data`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from data_formats import tiny_mnist

from convlens.cli import main
from convlens.data import load_dataset
from convlens.data.loader import TensorDataDataset, data_loader

FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_dataset_items_equal_float_x(tmp_path):
    tiny_mnist(tmp_path, n_train=10)
    data = load_dataset("mnist", root=tmp_path, download=False, verify=False)
    ds = TensorDataDataset(data)
    x, y = ds[3]
    assert torch.allclose(x, data.float_x()[3], atol=1e-6) and y == int(data.y[3])
    batches = list(data_loader(data, batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert torch.allclose(torch.cat([b[0] for b in batches]), data.float_x(), atol=1e-6)
    shuffled = torch.cat([b[1] for b in data_loader(data, batch_size=4, shuffle=True, seed=1)])
    again = torch.cat([b[1] for b in data_loader(data, batch_size=4, shuffle=True, seed=1)])
    assert torch.equal(shuffled, again) and sorted(shuffled.tolist()) == sorted(data.y.tolist())


def test_cli_info_and_list(tmp_path, capsys):
    tiny_mnist(tmp_path, n_train=10)
    assert (
        main(["data", "info", "mnist", "--data-dir", str(tmp_path), "--json"]) == 2
    )  # not the real files
    assert "wrong checksum" in capsys.readouterr().err
    assert main(["data", "list", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "mnist1d" in out and "iris" in out
    # `convlens data` alone lists them too, as the help table of the README suggests
    assert main(["data"]) == 0
    alone = capsys.readouterr().out
    assert "mnist1d" in alone and "fashion-mnist" in alone


def test_cli_unknown_name(capsys):
    assert main(["data", "info", "svhn"]) == 2
    assert "known data sets: mnist, fashion-mnist" in capsys.readouterr().err


def test_cli_iris_json(capsys):
    pytest.importorskip("sklearn")
    assert main(["data", "info", "iris", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["sizes"] == {"train": 120, "test": 30} and info["balanced"]


@pytest.mark.skipif(
    not FASHION.is_dir(), reason="Debian package dataset-fashion-mnist not installed"
)
def test_real_fashion_mnist_info(capsys, monkeypatch):
    from convlens.data import sources

    monkeypatch.setattr(sources, "SYSTEM_DIRS", ("/usr/share/datasets",))
    assert main(["data", "info", "fashion-mnist", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    # Xiao et al. 2017: 60,000 training and 10,000 test images, 10 classes of equal size.
    assert info["sizes"] == {"train": 60000, "test": 10000}
    assert (
        info["class_counts"]["train"] == [6000] * 10 and info["class_counts"]["test"] == [1000] * 10
    )
    assert info["source"] == str(FASHION)
