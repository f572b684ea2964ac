"""codegen: the PyTorch code of a spec builds the same network as build_model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from convlens.build import build_model
from convlens.codegen import numpy_code, pytorch_code

CASES = [
    ("conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10", (1, 32, 32)),
    ("conv3x3x8p1s2-bn-relu-avgpool2-drop0.25-conv3x3x4d2-gap-fc5", (3, 20, 20)),
    ("conv1d5x4s2-lrelu0.1-pool2-fc3", (2, 40)),
]


@pytest.mark.parametrize(("spec", "shape"), CASES)
def test_generated_code_computes_what_build_model_builds(spec, shape):
    torch.manual_seed(0)
    reference = build_model(spec, shape).eval()
    scope: dict = {"__name__": "generated"}
    exec(pytorch_code(spec, shape), scope)
    model = scope["model"].eval()
    model.load_state_dict(reference.state_dict())  # the same keys: conv1.weight, fc1.bias, ...
    x = torch.randn(2, *shape)
    assert torch.allclose(model(x), reference(x), atol=1e-6)


def test_code_spells_out_the_channel_arithmetic():
    code = pytorch_code("conv5x5x6-pool2-fc10", (1, 28, 28))
    assert "nn.Conv2d(1, 6, kernel_size=5)" in code
    assert "nn.Linear(864, 10)" in code  # 6 * 12 * 12 = 864, computed, not typed


def test_numpy_script_loads_the_weights(tmp_path):
    from safetensors.torch import save_file

    spec, shape = "conv3x3x4-pool2-fc3", (1, 8, 8)
    torch.manual_seed(1)
    reference = build_model(spec, shape).eval()
    save_file(reference.state_dict(), str(tmp_path / "weights.safetensors"))
    script = tmp_path / "net.py"
    script.write_text(numpy_code(spec, shape))
    scope = {"__name__": "loaded", "sys": __import__("sys")}
    import sys

    argv, sys.argv = sys.argv, ["net.py", str(tmp_path / "weights.safetensors")]
    try:
        exec(script.read_text(), scope)
    finally:
        sys.argv = argv
    x = np.random.default_rng(0).normal(size=(2, *shape))
    expected = reference(torch.from_numpy(x).float()).detach().numpy()
    assert np.allclose(scope["net"].forward(x), expected, atol=1e-5)
