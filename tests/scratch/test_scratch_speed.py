"""The NumPy engine's per-layer speed table (convlens.scratch.speed, `convlens bench --numpy`).

No timing is asserted: the tests check what is timed, how the fastest run is picked, and how the
table and its verdict are worked out from given times.
"""

from __future__ import annotations

import numpy as np
import torch

from convlens.cli import main as cli
from convlens.scratch import speed
from convlens.scratch.speed import LayerTime, best_times, format_layers, time_layers


def test_best_times_skips_the_warm_up_alternates_and_keeps_the_fastest(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(speed.time, "perf_counter", lambda: clock[0])
    calls: list[str] = []

    def fn(name: str, durations: list[float]):
        def run() -> None:
            calls.append(name)
            clock[0] += durations.pop(0)

        return run

    a = fn("a", [100.0, 3.0, 1.0, 2.0])  # the first call is the warm-up
    b = fn("b", [100.0, 5.0, 4.0, 6.0])
    assert best_times([a, b], repeat=3) == [1.0, 4.0]
    assert calls == ["a", "b", "a", "b", "a", "b", "a", "b"]


def test_the_table_gives_each_ratio_their_geometric_mean_and_the_verdict():
    rows = [LayerTime("conv a", 10.0, 5.0), LayerTime("conv b", 2.0, 7.0)]  # 0.5x and 3.5x
    text = format_layers(rows, batch=64, threads=1)
    lines = text.splitlines()
    assert lines[3].split()[-1] == "0.50" and lines[4].split()[-1] == "3.50"
    assert lines[5].startswith("geometric mean") and lines[5].split()[-1] == "1.32"  # sqrt(1.75)
    assert lines[6] == "goal: within 3x of torch on every layer: NOT met (slowest: conv b, 3.50x)"
    at_goal = [LayerTime("conv a", 1.0, 3.0), LayerTime("conv b", 4.0, 1.0)]
    assert format_layers(at_goal, 64, 1).splitlines()[-1].endswith(": met (slowest: conv a, 3.00x)")
    assert "not limited" in format_layers(rows, 64, 1, limited=False).splitlines()[0]


def test_time_layers_times_each_layer_and_leaves_torch_threads_as_found():
    before = torch.get_num_threads()
    layers = [("tiny 2x6x6 -> 3x4x4, 3x3", 2, 6, 3, 3, 1, 0), ("tiny s2 p1", 2, 6, 4, 3, 2, 1)]
    rows, limited = time_layers(batch=2, threads=1, repeat=1, layers=layers)
    assert [r.name for r in rows] == ["tiny 2x6x6 -> 3x4x4, 3x3", "tiny s2 p1"]
    assert all(r.torch_ms > 0 and r.scratch_ms > 0 for r in rows)
    assert rows[0].ratio == rows[0].scratch_ms / rows[0].torch_ms
    assert isinstance(limited, bool)
    assert torch.get_num_threads() == before


def test_both_steps_do_the_same_work():
    """The timed torch step and NumPy step compute the same gradients (the same layer)."""
    from convlens.scratch.conv import conv2d_backward, conv2d_forward

    x, w, b, dout, stride, pad = speed.conv_case(2, 3, 7, 4, 3, 2, 1)
    out, cache = conv2d_forward(x, w, b, stride, pad)
    dx, dw, db = conv2d_backward(dout, cache)
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    torch.nn.functional.conv2d(xt, wt, bt, stride, pad).backward(torch.tensor(dout))
    assert out.shape == dout.shape == (2, 4, 4, 4)  # (7 + 2 - 3) // 2 + 1 = 4
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, bt.grad.numpy(), rtol=1e-4, atol=1e-4)
    speed.torch_conv_step(x, w, b, dout, stride, pad)()  # both steps run on the case as built
    speed.scratch_conv_step(x, w, b, dout, stride, pad)()


def test_bench_numpy_prints_the_table_after_the_loops(capsys):
    argv = ["bench", "--data", "digits", "--limit", "256", "--epochs", "1", "--rounds", "0"]
    assert cli([*argv, "--tutorial-epochs", "0", "--numpy"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("NumPy engine") :].splitlines()
    names = [line[:40].strip() for line in table[4:11]]
    assert names == [name for name, *_ in speed.LAYERS]
    assert table[11].startswith("geometric mean")
    assert table[12].startswith("goal: within 3x of torch on every layer: ")
