"""ONNX export: the written graph, run by onnxruntime, computes what PyTorch computes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from convlens.build import build_model
from convlens.cli import main
from convlens.errors import ConfigError
from convlens.export import TOLERANCE, export_onnx
from convlens.models.registry import create_model
from convlens.train import save_checkpoint


def _onnxruntime(path, x: torch.Tensor) -> torch.Tensor:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {"input": x.numpy()})[0])


def test_a_spec_net_round_trips_and_the_batch_stays_dynamic(tmp_path):
    torch.manual_seed(0)
    model = build_model("conv3x3x4-bn-pool2-fc8-fc3", (1, 8, 8)).eval()
    # the TorchScript exporter keeps this test to a second; the dynamo one is in the slow tests
    check = export_onnx(model, tmp_path / "net.onnx", (1, 8, 8), dynamo=False)
    assert check.ok and check.max_abs_diff < 1e-4
    assert check.path.stat().st_size == check.size_bytes > 0
    # an independent run of the file with a batch size used neither in tracing nor in the check
    x = torch.randn(5, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(_onnxruntime(check.path, x), model(x), atol=1e-4, rtol=0)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


class _Wrong(nn.Module):
    """A model whose ONNX graph differs from its eager forward: the check must notice."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # traced with batch 2, the Python branch is frozen into the graph; eager takes the other
        if x.shape[0] == 2:
            return x.flatten(1)
        return -x.flatten(1)


def test_a_graph_that_differs_from_pytorch_is_reported(tmp_path):
    check = export_onnx(_Wrong(), tmp_path / "wrong.onnx", (4,), dynamo=False, batch=3)
    assert not check.ok and check.max_abs_diff > 0.1
    assert "FAILED" in check.describe()


def test_bad_target_is_one_sentence(tmp_path):
    model = build_model("fc3", (4,))
    with pytest.raises(ConfigError, match="does not exist"):
        export_onnx(model, tmp_path / "missing" / "x.onnx", (4,))
    with pytest.raises(ConfigError, match="is a directory"):
        export_onnx(model, tmp_path, (4,))


def test_missing_onnx_names_the_extra(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_onnxruntime(name, *args, **kwargs):
        if name == "onnxruntime":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    with pytest.raises(ConfigError, match=r"pip install convlens\[export\]"):
        export_onnx(build_model("fc3", (4,)), tmp_path / "x.onnx", (4,))


def test_cli_exports_a_checkpoint(tmp_path, capsys):
    torch.manual_seed(0)
    model = build_model("conv1d5x4-pool2-fc3", (1, 20))
    save_checkpoint(tmp_path / "ck", model)
    code = main(["export", str(tmp_path / "ck.json"), "--onnx", str(tmp_path / "m.onnx"),
                 "--torchscript"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "max abs diff" in out and (tmp_path / "m.onnx").is_file()
    assert main(["export", str(tmp_path / "nothing"), "--onnx", str(tmp_path / "n.onnx")]) == 2
    assert "no run directory or checkpoint at" in capsys.readouterr().err


def test_without_onnx_the_file_goes_beside_the_checkpoint_or_here(tmp_path, capsys, monkeypatch):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "ck", build_model("conv1d5x4-pool2-fc3", (1, 20)))
    run = tmp_path / "run"
    run.mkdir()
    save_checkpoint(run / "best", build_model("fc3", (1, 6)))
    monkeypatch.chdir(tmp_path)
    for ref, written in [
        (str(tmp_path / "ck.json"), tmp_path / "ck.onnx"),
        (str(run), run / "model.onnx"),
        ("lenet5", tmp_path / "lenet5.onnx"),
    ]:
        assert main(["export", ref, "--torchscript"]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        assert out.startswith(f"{written.relative_to(tmp_path) if ref == 'lenet5' else written}: ")
        assert written.is_file()


ZOO = [
    ("lenet5", {}, (1, 32, 32)),
    ("resnet20", {}, (3, 32, 32)),
    ("mnist1d_cnn", {}, (1, 40)),
    ("mnist1d_mlp", {}, (1, 40)),
    ("cifar_tutorial", {}, (3, 32, 32)),
]


@pytest.mark.slow
@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "torchscript"])
@pytest.mark.parametrize(("name", "kwargs", "in_shape"), ZOO, ids=[z[0] for z in ZOO])
def test_zoo_models_round_trip(tmp_path, name, kwargs, in_shape, dynamo):
    torch.manual_seed(0)
    model = create_model(name, **kwargs)
    # batch norm in eval mode uses running statistics: make them non-trivial first
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(8, *in_shape))
    check = export_onnx(model, tmp_path / f"{name}.onnx", in_shape, dynamo=dynamo)
    assert check.max_abs_diff < TOLERANCE, check.describe()


@pytest.mark.slow  # the dynamo exporter: about 10 s per model
def test_the_dynamo_export_is_one_file_holding_its_weights(tmp_path):
    torch.manual_seed(0)
    model = build_model("conv3x3x8-relu-pool2-fc16-fc3", (1, 8, 8)).eval()
    weight_bytes = 4 * sum(p.numel() for p in model.parameters())
    check = export_onnx(model, tmp_path / "net.onnx", (1, 8, 8))
    assert [p.name for p in tmp_path.iterdir()] == ["net.onnx"]  # no data file beside it
    assert check.size_bytes == check.path.stat().st_size > weight_bytes
    # moved elsewhere, the file still runs: it refers to no other file
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    check.path.rename(moved / "copy.onnx")
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(
            _onnxruntime(moved / "copy.onnx", x), model(x), atol=1e-4, rtol=0
        )


@pytest.mark.slow
def test_weights_past_the_file_limit_go_to_path_data(tmp_path, monkeypatch):
    import convlens.export

    monkeypatch.setattr(convlens.export, "ONNX_FILE_LIMIT", 1000)  # stands in for 2 GiB
    torch.manual_seed(0)
    model = build_model("conv3x3x8-relu-pool2-fc16-fc3", (1, 8, 8)).eval()
    check = export_onnx(model, tmp_path / "net.onnx", (1, 8, 8))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.onnx", "net.onnx.data"]
    data = tmp_path / "net.onnx.data"
    # the exporter keeps tiny tensors inline; the large ones are in the data file
    assert data.stat().st_size >= 4 * max(p.numel() for p in model.parameters())
    assert check.size_bytes == check.path.stat().st_size + data.stat().st_size
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(_onnxruntime(check.path, x), model(x), atol=1e-4, rtol=0)
