"""Plain networks (torch's layers in nn.Sequential) are traced on one real example without the
FLOP counter; everything else on the meta device with it. The counter is torch's own code, so the
two paths must give the same rows wherever the plain one is taken."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch
from torch import nn

from convlens.analysis.trace import plain_network, trace_rows
from convlens.build import build_model
from convlens.models.registry import create_model

PLAIN_SPECS = {
    "conv3x3x16p1-pool2-bn-relu-conv3x3x64p1-pool2-bn-relu-fc10": (1, 28, 28),
    "conv5x5x6-relu-avgpool2-conv5x5x16s2d2-relu-fc120-dropout-fc10": (3, 32, 32),
    "conv1d3x64p1-bn-conv1d3x64p1-bn-pool2-gap-fc10": (1, 40),
}


def _rows_both_ways(model: nn.Module, shape: tuple[int, ...]):
    # the default takes the plain path only while torch._dynamo is not loaded (the subprocess
    # test below checks that choice), so both paths are asked for by name here
    counted, err1 = trace_rows(model, shape, meta=True, flop_counter=True)
    plain, err2 = trace_rows(model, shape, meta=False, flop_counter=False)
    assert err1 is None and err2 is None
    return counted, plain


@pytest.mark.parametrize("spec", sorted(PLAIN_SPECS))
def test_a_plain_spec_network_traces_to_the_same_rows_as_the_flop_counter_gives(spec):
    shape = PLAIN_SPECS[spec]
    model = build_model(spec, shape)
    assert plain_network(model, shape)
    counted, plain = _rows_both_ways(model, shape)
    assert plain == counted
    assert sum(r.macs for r in plain) > 0


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "mnist1d_cnn", "cifar_tutorial", "mlp"])
def test_plain_zoo_models_trace_to_the_counter_s_rows(name):
    model = create_model(name)
    shape = tuple(model.in_shape)
    assert plain_network(model, shape)
    counted, plain = _rows_both_ways(model, shape)
    assert plain == counted


class _Residual(nn.Sequential):
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # a forward of its own: not plain
        return x + super().forward(x)


def test_models_with_forwards_or_layers_of_their_own_are_not_plain():
    assert not plain_network(create_model("resnet18"), (3, 224, 224))
    assert not plain_network(create_model("lenet5_1998"), (1, 32, 32))  # Subsampling, ScaledTanh
    residual = _Residual(nn.Conv2d(4, 4, 3, padding=1))
    assert not plain_network(residual, (4, 8, 8))
    assert not plain_network(nn.Sequential(nn.LSTM(4, 4)), (3, 4))
    # within the layers allowed, size decides: more than 2^22 input values or 2^26 parameters
    assert plain_network(nn.Sequential(nn.Conv2d(3, 4, 3)), (3, 1024, 1024))
    assert not plain_network(nn.Sequential(nn.Conv2d(3, 4, 3)), (3, 2048, 2048))
    with torch.device("meta"):
        big = nn.Sequential(nn.Linear(8192, 8193))  # 67,125,249 parameters > 67,108,864
    assert not plain_network(big, (8192,))


def test_a_plain_trace_leaves_the_model_as_it_was():
    model = build_model(next(iter(PLAIN_SPECS)), (1, 28, 28)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trace_rows(model, (1, 28, 28), meta=False, flop_counter=False)
    assert model.training
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN's running stats included


def _loads_dynamo(command: list[str]) -> tuple[bool, str]:
    code = (
        f"import sys; from convlens.cli import main; sys.argv = {['convlens', *command]!r}\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('dynamo' if 'torch._dynamo' in sys.modules else 'no dynamo')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1] == "dynamo", out.stdout


def test_the_summary_of_a_plain_zoo_model_does_not_import_torch_dynamo():
    # the first conv on the meta device, and the FLOP counter, import torch._dynamo (1.3-2 s);
    # a plain network needs neither, a residual one both
    loaded, text = _loads_dynamo(["summary", "lenet5"])
    assert not loaded and "conv1" in text
    loaded, text = _loads_dynamo(["summary", "resnet20"])
    assert loaded and "layer1" in text
