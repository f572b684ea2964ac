"""Parameter sharing counts against the lectures' hand arithmetic (LECTURES.md §2):
10×10 image, dense 100 → 100: 100·100 + 100 = 10,100; one 3×3 kernel: 9 + 1 = 10;
200 kernels: 2,000; 200×200×3 image to 120,000 units: 120,000² = 14.4e9 weights;
one dense unit on 32×32×3: 3,072 weights."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from convlens.experiments.local import LocallyConnected1d, unshare
from convlens.experiments.sharing import parameter_sharing

COUNTS = {c["case"]: c for c in parameter_sharing(counts_only=True).data["counts"]}


def test_lecture_counts():
    assert COUNTS["10×10 image, dense 100 → 100"]["params"] == 10_100
    assert COUNTS["10×10 image, one 3×3 kernel"]["params"] == 10
    assert COUNTS["10×10 image, 200 3×3 kernels"]["params"] == 2_000
    assert COUNTS["200×200×3 image, dense 120,000 units"]["weights"] == 14_400_000_000
    assert COUNTS["32×32×3 image, one dense unit"]["weights"] == 3_072


def test_sharing_reuses_each_weight_at_every_position():
    # 3×3 kernel, padding 1 on 10×10: every weight is used at all 100 output positions
    assert COUNTS["10×10 image, one 3×3 kernel"]["macs"] == 9 * 100
    # 3 filters of 3×3×3 on 200×200: 81 weights, 3·27·40,000 MACs
    big = COUNTS["200×200×3 image, 3×3 conv to 3 channels"]
    assert (big["weights"], big["macs"]) == (81, 3 * 27 * 40_000)


def test_locally_connected_with_tied_weights_is_a_convolution():
    torch.manual_seed(0)
    layer = LocallyConnected1d(3, 4, 5, in_length=20, stride=2, padding=1)
    conv_w = torch.randn(4, 3, 5)
    conv_b = torch.randn(4)
    with torch.no_grad():
        layer.weight.copy_(conv_w.flatten(1).expand(layer.out_length, -1, -1))
        layer.bias.copy_(conv_b[:, None].expand(-1, layer.out_length))
    x = torch.randn(2, 3, 20)
    expected = F.conv1d(x, conv_w, conv_b, stride=2, padding=1)
    assert torch.allclose(layer(x), expected, atol=1e-5)


def test_unshared_cnn_parameter_count():
    from convlens.models.registry import create_model

    model = unshare(create_model("mnist1d_cnn"), (1, 40))
    # lengths 40 -> 19 -> 10 -> 5; a filter bank per position: 19·150 + 10·1,900 + 5·1,900 + 1,260
    assert sum(p.numel() for p in model.parameters()) == 19 * 150 + 10 * 1900 + 5 * 1900 + 1260
    assert model(torch.randn(2, 1, 40)).shape == (2, 10)


def test_trained_comparison_reports_each_variant():
    result = parameter_sharing(seeds=1, epochs=1)
    nets = result.data["training"]["nets"]
    assert [v["params"] for v in nets.values()] == [5_210, 32_610, 15_210]
    assert any("locally connected (unshared): 32,610 parameters" in f for f in result.findings)
    assert [f.name for f in result.figures] == ["sharing_accuracy"]
