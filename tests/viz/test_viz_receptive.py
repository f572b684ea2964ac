import numpy as np
import pytest
import torch

from convlens.analysis.summary import summarize
from convlens.build import build_model
from convlens.errors import ConfigError
from convlens.viz.activations import support_box
from convlens.viz.receptive import effective_field, field_box, plot_receptive_field

SPEC = "conv3x3x4-conv3x3x4-avgpool2-conv3x3x4"


def test_field_box_has_the_size_the_summary_states():
    # by hand (Araujo et al. 2019 recurrence): conv3 r=3 j=1 s=1; conv3 r=5 j=1 s=2;
    # avgpool2 r=6 j=2 s=2.5; conv3 r=6+2*2=10 j=2 s=2.5+1*2=4.5
    row = summarize(SPEC, (1, 24, 24), activation=None).row("conv3")
    assert (row.rf, row.jump, row.start) == ((10, 10), (2, 2), (4.5, 4.5))
    box = field_box(row, (3, 1))
    assert box.size == (10, 10)
    assert box.lo == (4.5 + 6 - 4.5, 4.5 + 2 - 4.5) and box.hi == (15.0, 11.0)


def test_measured_field_of_a_linear_net_fills_the_analytic_box():
    # without ReLUs and with average pooling every input in the field gets a non-zero gradient
    torch.manual_seed(0)
    model = build_model(SPEC, (1, 24, 24), activation=None)
    row = summarize(model, (1, 24, 24)).row("conv3")
    box = field_box(row, (3, 1))
    erf = effective_field(model, torch.randn(1, 24, 24), "conv3", (3, 1))
    assert support_box(erf) == (slice(6, 16), slice(2, 12))
    assert box.clipped((24, 24)) == (slice(6, 16), slice(2, 12))


def test_measured_field_of_a_relu_net_stays_inside_the_box():
    torch.manual_seed(1)
    model = build_model("conv3x3x8p1-pool2-conv3x3x8p1-pool2-conv3x3x8p1", (1, 32, 32))
    row = summarize(model, (1, 32, 32)).row("conv3")
    box = field_box(row, (0, 4))  # the first row of units: the field reaches into the padding
    assert box.lo[0] < 0
    inside = box.clipped((32, 32))
    erf = effective_field(model, torch.randn(1, 32, 32), "conv3", (0, 4))
    outside = erf.clone()
    outside[inside] = 0
    assert float(erf.sum()) > 0 and float(outside.abs().sum()) == 0
    fig = plot_receptive_field(np.zeros((32, 32)), box, erf)
    assert len(fig.axes) == 2


def test_unit_index_errors():
    row = summarize(SPEC, (1, 24, 24)).row("conv3")
    with pytest.raises(ConfigError, match="outside"):
        field_box(row, (9, 0))
    with pytest.raises(ConfigError, match="2 indices"):
        field_box(row, (1,))


def test_dilated_convolutions_grow_the_field_without_stride():
    # F_eff = D(F - 1) + 1 = 5 for a 3x3 kernel at dilation 2: r = 1 + 4 = 5, then 5 + 4 = 9
    torch.manual_seed(2)
    model = build_model("conv3x3x3d2-conv3x3x3d2", (1, 20, 20), activation=None)
    row = summarize(model, (1, 20, 20)).row("conv2")
    assert row.rf == (9, 9) and row.jump == (1, 1)
    box = field_box(row, (5, 5))
    assert box.size == (9, 9) and box.lo == (5.0, 5.0)  # the first unit is centred on pixel 4
    erf = effective_field(model, torch.randn(1, 20, 20), "conv2", (5, 5))
    assert support_box(erf) == (slice(5, 14), slice(5, 14))
    # offsets {0, 2, 4} + {0, 2, 4} = {0, 2, 4, 6, 8} per axis: only 5 x 5 of the 9 x 9 pixels
    # are ever seen (the gridding of stacked dilations)
    assert int((erf != 0).sum()) == 25 and bool(erf[5:14:2, 5:14:2].ne(0).all())


def test_a_signal_models_field_is_an_interval_drawn_on_the_signal(tmp_path):
    from convlens.cli import main
    from convlens.data import TensorData
    from convlens.train import save_checkpoint

    # conv1d3 p1 -> pool2 -> conv1d3 p1 on length 24: conv2's field is 3 + (3 - 1) * 2 = 8
    # samples, its units 2 apart; unit 4 is centred at 0 + 4 * 2 + 0.5 = 8.5: samples 5 to 12
    spec = "conv1d3x4p1-pool2-conv1d3x4p1-fc3"
    model = build_model(spec, (1, 24))
    row = summarize(model, (1, 24)).row("conv2")
    box = field_box(row, (4,))
    assert box.size == (8,) and (box.lo[0], box.hi[0]) == (5.0, 12.0)
    gen = torch.Generator().manual_seed(0)
    data = TensorData("signals", "test", torch.randn(6, 1, 24, generator=gen),
                      torch.arange(6) % 3, ("a", "b", "c"), (0.0,), (1.0,))  # fmt: skip
    stem = save_checkpoint(tmp_path / "ck", model, data=data)
    x = data.x[0]
    erf = effective_field(model, x, "conv2", (4,))
    assert erf.shape == (24,)
    outside = torch.ones(24, dtype=torch.bool)
    outside[5:13] = False
    assert float(erf[outside].abs().max()) == 0.0  # nothing reaches past the interval
    out = tmp_path / "pics"
    np.savez(tmp_path / "sig.npz", x_train=data.x.numpy(), y_train=data.y.numpy(),
             x_test=data.x.numpy(), y_test=data.y.numpy())  # fmt: skip
    argv = ["viz", "rf", str(stem) + ".json", "--layer", "conv2", "--unit", "4", "--out", str(out),
            "--data", str(tmp_path / "sig.npz")]  # fmt: skip
    assert main(argv) == 0
    assert (out / "rf.png").stat().st_size > 0


def test_deep_dream_of_a_signal_model_is_one_sentence():
    from convlens.viz.dream import octave_sizes

    model = build_model("conv1d3x4p1-fc3", (1, 24))
    with pytest.raises(ConfigError, match=r"Deep Dream needs an image input \(C, H, W\)"):
        octave_sizes(model, torch.zeros(1, 24), "conv1")
