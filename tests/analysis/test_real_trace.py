"""The first trace in a process runs one real example of a model of modest size, counted by the FLOP
counter's formulas in convlens's own dispatch mode (no torch._dynamo); everything else goes to the
meta device and PyTorch's FlopCounterMode. FlopCounterMode is torch's own code, so the two paths
must give the same rows wherever the real one is taken."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convlens.analysis.trace import _Flops, real_trace_ok, trace_rows
from convlens.build import build_model
from convlens.models.registry import create_model

SPECS = {
    "conv3x3x16p1-pool2-bn-relu-conv3x3x64p1-pool2-bn-relu-fc10": (1, 28, 28),
    "conv5x5x6-relu-avgpool2-conv5x5x16s2d2-relu-fc120-dropout-fc10": (3, 32, 32),
    "conv1d3x64p1-bn-conv1d3x64p1-bn-pool2-gap-fc10": (1, 40),
}
ZOO = ["lenet5", "lenet5_1998", "alexnet", "googlenet", "inception3a", "resnet18", "resnet50",
       "resnet20", "mnist1d_cnn", "cifar_tutorial", "fast28", "rcnn"]  # fmt: skip


def _both_ways(model: nn.Module, shape: tuple[int, ...]):
    # the default takes the real example only while torch._dynamo is not loaded (the subprocess
    # tests below check that choice), so both paths are asked for by name here
    counted, err1 = trace_rows(model, shape, meta=True, flop_counter=True)
    real, err2 = trace_rows(model, shape, meta=False, flop_counter=True)
    assert err1 is None and err2 is None
    return counted, real


@pytest.mark.parametrize("spec", sorted(SPECS))
def test_a_spec_network_traces_to_the_same_rows_on_a_real_example(spec):
    shape = SPECS[spec]
    model = build_model(spec, shape)
    assert real_trace_ok(model, shape)
    counted, real = _both_ways(model, shape)
    assert real == counted
    assert sum(r.macs for r in real) > 0


@pytest.mark.parametrize("name", ZOO)
def test_zoo_models_trace_to_the_flop_counter_s_rows_on_a_real_example(name):
    with torch.device("meta"):
        model = create_model(name)
    model = model.to_empty(device="cpu")  # values do not matter to shapes and MACs
    shape = tuple(model.in_shape)
    assert real_trace_ok(model, shape)
    counted, real = _both_ways(model, shape)
    assert real == counted


class Functional(nn.Module):
    """A conv, a linear and a matmul as function calls on the model's own parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(8, 3, 3, 3))
        self.fc = nn.Parameter(torch.randn(10, 8 * 6 * 6))
        self.proj = nn.Parameter(torch.randn(10, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.w)  # (1, 8, 6, 6)
        return torch.matmul(F.linear(x.flatten(1), self.fc), self.proj)


def test_functional_calls_are_counted_on_a_real_example():
    # conv: 8 x 6 x 6 x 27 = 7,776; linear: 288 x 10 = 2,880; matmul: 10 x 4 = 40
    counted, real = _both_ways(Functional(), (3, 8, 8))
    assert real == counted
    assert sum(r.macs for r in real) == 7_776 + 2_880 + 40


def test_attention_and_recurrent_kernels_are_left_to_the_meta_device():
    # their fused CPU kernels have no formula: a real trace would count them as 0
    q, k, v = torch.zeros(1, 2, 5, 8), torch.zeros(1, 2, 7, 8), torch.zeros(1, 2, 7, 8)
    with torch.no_grad(), _Flops() as flops:
        F.scaled_dot_product_attention(q, k, v)
    assert flops.unsure
    with torch.no_grad(), _Flops() as flops:
        nn.LSTM(4, 6)(torch.zeros(3, 1, 4))
    assert flops.unsure
    with torch.no_grad(), _Flops() as flops:
        nn.Conv2d(3, 4, 3)(torch.zeros(1, 3, 8, 8))
    assert not flops.unsure and flops.total == 2 * 4 * 6 * 6 * 27
    assert not real_trace_ok(nn.Sequential(nn.LSTM(4, 4)), (3, 4))
    assert not real_trace_ok(nn.Sequential(nn.Flatten(), nn.MultiheadAttention(8, 2)), (5, 8))


def test_size_decides_for_the_others():
    # at most 2^20 input values and 2^28 parameters
    assert real_trace_ok(nn.Sequential(nn.Conv2d(3, 4, 3)), (3, 512, 512))
    assert not real_trace_ok(nn.Sequential(nn.Conv2d(3, 4, 3)), (3, 1024, 1024))
    with torch.device("meta"):
        big = nn.Sequential(nn.Linear(16384, 16385))  # 268,451,840 parameters > 268,435,456
        small = nn.Sequential(nn.Linear(16384, 16383))  # 268,435,455
    assert not real_trace_ok(big, (16384,))
    assert real_trace_ok(small, (16384,))


def test_a_real_trace_leaves_the_model_as_it_was():
    model = build_model(next(iter(SPECS)), (1, 28, 28)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trace_rows(model, (1, 28, 28), meta=False, flop_counter=True)
    assert model.training
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN's running stats included


def _run(command: list[str]) -> tuple[bool, str]:
    """Run ``convlens COMMAND`` in a new process: did it import torch._dynamo, and its output."""
    code = (
        f"import sys; from convlens.cli import main; sys.argv = {['convlens', *command]!r}\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('dynamo' if 'torch._dynamo' in sys.modules else 'no dynamo')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1] == "dynamo", out.stdout


def test_a_first_summary_of_modest_size_does_not_import_torch_dynamo():
    # the first conv on the meta device, and the FLOP counter, import torch._dynamo (1.2-2 s)
    loaded, text = _run(["summary", "resnet50", "--format", "json"])
    assert not loaded
    summary = json.loads(text[: text.rindex("}") + 1])
    assert round(summary["total_macs"] / 1e7) == 409  # torchvision's model table: 4.09 G
    loaded, text = _run(["summary", "googlenet_naive", "--input", "3x1024x1024"])  # 3 M values
    assert loaded and "conv" in text


def test_built_on_meta_gives_the_shapes_of_a_real_build_without_initialising():
    from convlens.torchutil import built_on_meta

    with built_on_meta():
        meta = create_model("resnet20")
    real = create_model("resnet20")
    assert all(p.is_meta for p in meta.parameters())
    assert {k: v.shape for k, v in meta.state_dict().items()} == {
        k: v.shape for k, v in real.state_dict().items()
    }
    code = (
        "import sys\nfrom convlens.torchutil import built_on_meta\n"
        "from convlens.models.registry import create_model\n"
        "with built_on_meta():\n    create_model('resnet50')\n"
        "print('dynamo' if 'torch._dynamo' in sys.modules else 'no dynamo')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "no dynamo"  # torch.device("meta") alone imports it (normal_)


def test_built_on_meta_keeps_what_construction_says_of_a_parameter_beyond_its_values():
    from convlens.torchutil import built_on_meta

    class Frozen(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.conv.weight.requires_grad_(False)  # frozen at construction
            self.scale = nn.Parameter(torch.ones(4).unsqueeze_(1))  # (4, 1)
            nn.init.normal_(self.conv.bias)

    with built_on_meta():
        model = Frozen()
    assert not model.conv.weight.requires_grad and model.conv.bias.requires_grad
    assert model.scale.shape == (4, 1) and model.scale.is_meta


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_a_half_precision_model_is_summarised_with_inputs_of_its_precision(dtype):
    from convlens.analysis.summary import summarize

    full = create_model("resnet20")
    params = sum(p.numel() for p in full.parameters())
    half = create_model("resnet20").to(dtype)
    for meta in (True, False):
        rows, error = trace_rows(half, (3, 32, 32), meta=meta, flop_counter=True)
        assert error is None
        assert rows == trace_rows(full, (3, 32, 32), meta=meta, flop_counter=True)[0]
    summary = summarize(half, (3, 32, 32))
    assert not summary.error
    assert summary.param_bytes == 2 * params  # two bytes a parameter, against four in float32


def test_a_first_trace_that_meets_attention_is_taken_again_on_the_meta_device():
    # two heads of 5 tokens of 8: q 2 x 5 x 8 x 8 = 640; Q K^T 2 x 5 x 5 x 8 = 400; weights
    # times V 2 x 5 x 5 x 8 = 400. Four-dimensional inputs run the fused CPU kernel, which the
    # counter's formulas do not know, so the trace goes to the meta device (importing dynamo)
    code = """
import sys
import torch
import torch.nn.functional as F
from torch import nn
from convlens.analysis.summary import summarize

class Attend(nn.Module):
    def __init__(self):
        super().__init__()
        self.q = nn.Linear(8, 8, bias=False)

    def forward(self, x):
        return F.scaled_dot_product_attention(self.q(x), x, x)

assert "torch._dynamo" not in sys.modules
print(summarize(Attend(), (2, 5, 8)).total_macs, "torch._dynamo" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["1440", "True"]
