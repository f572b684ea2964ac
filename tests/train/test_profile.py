"""`convlens bench --profile`: the step's time per kind of operation, and FLOP/s against the peak."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, replace

import pytest

from convlens.cli import main
from convlens.train.device import CpuInfo, cpu_info
from convlens.train.profile import (
    GPU_IDLE,
    OTHER,
    PYTHON,
    WINOGRAD,
    KindTime,
    Peaks,
    Profile,
    format_profile,
    kind_of,
    matmul_peaks,
    profile_training,
    split_by_kind,
)


@pytest.mark.parametrize(
    ("name", "ranges", "kind"),
    [
        ("aten::mkldnn_convolution", (), "convolution forward"),
        ("aten::convolution_backward", (), "convolution backward"),
        ("aten::max_pool2d_with_indices_backward", (), "pooling"),
        ("aten::native_batch_norm", (), "batch norm"),
        ("aten::threshold_backward", (), "activation"),
        ("aten::_log_softmax", (), "loss"),
        ("aten::addmm", (), "linear (fc)"),
        ("aten::_foreach_mul_", (), "optimiser"),
        # an ordinary multiply inside the optimiser's step is the optimiser's
        ("aten::mul_", ("Optimizer.step#AdamW.step",), "optimiser"),
        ("aten::where", ("convlens.batch",), "data: gather and augment"),
        ("aten::_to_copy", (), "layout and dtype copies"),
        ("aten::empty_strided", (), OTHER),
    ],
)
def test_operations_are_put_in_their_kind(name, ranges, kind):
    assert kind_of(name, ranges) == kind


@dataclass
class _Event:
    name: str
    self_cpu_time_total: float  # microseconds, as torch.profiler reports
    cpu_parent: object = None


def test_self_times_are_summed_per_step_and_the_rest_is_python():
    step = _Event("Optimizer.step#SGD.step", 0.0)
    events = [
        _Event("aten::mkldnn_convolution", 3000.0),  # 3 ms in 2 steps
        _Event("aten::convolution_backward", 5000.0),
        _Event("aten::add_", 1000.0, step),
        _Event("Optimizer.step#SGD.step", 400.0),  # a range, not an operation: not counted
        _Event("aten::empty", 200.0),
    ]
    per_kind, top = split_by_kind(events, steps=2, wall_ms=6.0)
    assert per_kind["convolution forward"] == pytest.approx(1.5)
    assert per_kind["convolution backward"] == pytest.approx(2.5)
    assert per_kind["optimiser"] == pytest.approx(0.5)
    assert per_kind[OTHER] == pytest.approx(0.1)
    assert per_kind[PYTHON] == pytest.approx(6.0 - 1.5 - 2.5 - 0.5 - 0.1)
    assert top[0] == ("aten::convolution_backward", pytest.approx(2.5))


@dataclass
class _GpuEvent:
    name: str
    self_cpu_time_total: float
    self_device_time_total: float  # the kernels it launched, microseconds
    cpu_parent: object = None


@dataclass
class _OldGpuEvent:  # PyTorch before 2.4 named the device time after CUDA
    name: str
    self_cuda_time_total: float
    cpu_parent: object = None


def test_on_a_gpu_each_kind_takes_its_kernels_time_and_the_rest_is_idle():
    events = [
        _GpuEvent("aten::cudnn_convolution", 40.0, 3000.0),  # 1.5 ms of kernels a step
        _GpuEvent("aten::convolution_backward", 90.0, 5000.0),
        _GpuEvent("aten::empty", 20.0, 0.0),  # launched nothing: the host's time, not the GPU's
        _GpuEvent("cudaLaunchKernel", 300.0, 0.0),  # not an ATen operation
        _OldGpuEvent("aten::max_pool2d_with_indices", 600.0),
    ]
    per_kind, top = split_by_kind(events, steps=2, wall_ms=6.0, on_gpu=True)
    assert per_kind == {
        "convolution forward": pytest.approx(1.5),
        "convolution backward": pytest.approx(2.5),
        "pooling": pytest.approx(0.3),
        GPU_IDLE: pytest.approx(6.0 - 1.5 - 2.5 - 0.3),
    }
    assert [name for name, _ in top] == [
        "aten::convolution_backward", "aten::cudnn_convolution", "aten::max_pool2d_with_indices"
    ]  # fmt: skip


def test_the_gpu_is_waited_for_and_the_cpu_is_not(monkeypatch):
    import torch

    from convlens.train.device import synchronize

    waited = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: waited.append(device))
    synchronize(torch.device("cpu"))
    assert waited == []
    synchronize(torch.device("cuda", 1))
    assert waited == [torch.device("cuda", 1)]


def test_flop_rates_and_shares_in_the_table():
    # 4 ms of a 10 ms step doing 2e9 FLOPs: 500 GFLOP/s, half of a 1,000 GFLOP/s peak
    p = Profile(
        data="d", model="m", batch_size=100, hardware="cpu bfloat16", precision="bfloat16",
        steps=1, step_ms=10.0, profiled_step_ms=11.0,
        kinds=[KindTime("convolution forward", 4.0, 2e9), KindTime(PYTHON, 6.0)],
        flops_per_step=5e9, peaks=Peaks(float32=250.0, bfloat16=1000.0, size=8),
    )  # fmt: skip
    assert p.achieved_gflops() == pytest.approx(500.0)
    text = format_profile(p)
    assert "whole step: 50.0% of the bfloat16 peak" in text
    conv = next(line for line in text.splitlines() if line.startswith("convolution forward"))
    assert conv.split()[-4:] == ["4.00", "40.0%", "500.0", "50.0%"]
    assert "10,000 images/s" in text
    # the profiled step took 11 ms against 10: a millisecond of the rest is the profiler's
    assert "about 1.00 ms of it is the profiler's own cost" in text
    # on a GPU: its name, kernel times, the idle rest, and no CPU goal
    gpu = replace(p, hardware="cuda bfloat16", gpu="NVIDIA H100 80GB HBM3, 132 SMs, 79.1 GiB")
    gpu.kinds = [KindTime("convolution forward", 4.0, 2e9), KindTime(GPU_IDLE, 6.0)]
    text = format_profile(gpu)
    assert "GPU: NVIDIA H100 80GB HBM3, 132 SMs, 79.1 GiB" in text
    assert "CPU:" not in text and "goal" not in text
    assert "(their kernels' time, ms/step)" in text and "GPU idle: the step's wall time" in text
    idle = next(line for line in text.splitlines() if line.startswith(GPU_IDLE))
    assert idle.split()[-2:] == ["6.00", "60.0%"]


# the first lines of /proc/cpuinfo on two machines this project measured on (flags shortened)
ZEN4 = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_bf16 avx512_vnni

processor\t: 1
model name\t: another
"""
SAPPHIRE_RAPIDS = """processor : 0
cpu family : 6
model : 143
model name : Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz
flags : avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8
"""


def test_the_cpu_is_named_with_its_units(tmp_path):
    (tmp_path / "zen4").write_text(ZEN4)
    (tmp_path / "spr").write_text(SAPPHIRE_RAPIDS)
    zen4, spr = cpu_info(str(tmp_path / "zen4")), cpu_info(str(tmp_path / "spr"))
    assert zen4.describe() == "AMD EPYC, family 25 model 17 (AVX2, AVX-512, AVX512-BF16; no AMX)"
    assert not zen4.amx
    assert spr.amx
    assert spr.describe() == (
        "Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz, family 6 model 143 "
        "(AVX2, AVX-512, AVX512-BF16, AMX-BF16)"
    )
    assert cpu_info(str(tmp_path / "missing")).name  # the platform's name instead


@pytest.mark.parametrize(
    ("flags", "precision", "gflops", "expected"),
    [
        # 10 ms steps of 5e9 FLOPs: 500 GFLOP/s against peaks of 250 (float32) and 1,000 (bf16)
        ("amx_bf16", "bfloat16", 5e9, "with AMX: at least 40% of the bfloat16 peak: met (50.0%)"),
        ("amx_bf16", "bfloat16", 3.9e9, "with AMX: at least 40% of the bfloat16 peak: not met"),
        ("avx512_bf16", "bfloat16", 5e9, "without AMX: at least 50% of the bfloat16 peak: met"),
        ("avx512_bf16", "bfloat16", 4.9e9, "without AMX: at least 50% of the bfloat16 peak: not"),
        # float32 on an AMX CPU is measured against the float32 peak: 1.5e9 is 60% of it
        (
            "amx_bf16",
            "float32",
            1.5e9,
            "without AMX: at least 50% of the float32 peak: met (60.0%)",
        ),
    ],
)
def test_the_goal_for_the_cpu_and_whether_the_step_meets_it(flags, precision, gflops, expected):
    p = Profile(
        data="d", model="m", batch_size=100, hardware=f"cpu {precision}", precision=precision,
        steps=1, step_ms=10.0, profiled_step_ms=10.0, flops_per_step=gflops,
        peaks=Peaks(float32=250.0, bfloat16=1000.0, size=8), cpu=CpuInfo("x", frozenset([flags])),
    )  # fmt: skip
    assert expected in p.goal()
    assert expected in format_profile(p)
    assert replace(p, cpu=None).goal() == ""  # a GPU's step: no CPU goal


def test_the_winograd_kind_is_counted_as_the_direct_sum_and_says_so():
    # 2 ms doing the 3e9 FLOPs of the direct sum: 1,500 GFLOP/s, 150% of a 1,000 GFLOP/s peak
    kinds = [KindTime(WINOGRAD, 2.0, 3e9), KindTime(PYTHON, 8.0)]
    p = Profile(
        data="d", model="m", batch_size=100, hardware="cpu float32", precision="float32",
        steps=1, step_ms=10.0, profiled_step_ms=10.0, kinds=kinds, flops_per_step=3e9,
        peaks=Peaks(float32=1000.0, bfloat16=2000.0, size=8),
    )  # fmt: skip
    text = format_profile(p)
    row = next(line for line in text.splitlines() if line.startswith(WINOGRAD))
    assert row.split()[-4:] == ["2.00", "20.0%", "1500.0", "150.0%"]
    assert "5.1x fewer multiplications" in text
    plain = replace(p, kinds=[KindTime("convolution forward", 2.0, 3e9), KindTime(PYTHON, 8.0)])
    assert "5.1x fewer" not in format_profile(plain)


def test_matmul_peak_is_measured():
    peaks = matmul_peaks(size=128, repeats=2)
    assert peaks.float32 > 0 and peaks.bfloat16 > 0 and peaks.size == 128


def test_the_matrices_grow_only_while_a_product_is_quick():
    # a product slower than the budget stops the doubling at once: 128 x 128, never 4096
    assert matmul_peaks(size=4096, repeats=1, budget=0.0).size == 128
    # with time to spare they double up to the size asked for: 128, then 256
    assert matmul_peaks(size=256, repeats=1, budget=float("inf")).size == 256


def test_a_real_recipe_step_is_taken_apart(tmp_path):
    p = profile_training("digits", "fast", warmup=2, steps=3, peaks=False)
    kinds = {k.kind: k for k in p.kinds}
    assert {"convolution forward", "convolution backward", "optimiser"} <= set(kinds)
    # every kind's time adds up to the profiled step's wall time (Python takes the remainder)
    assert sum(k.ms_per_step for k in p.kinds) == pytest.approx(p.profiled_step_ms, rel=0.02)
    # digits' recipe: conv 3x3x32 p1 and conv 3x3x64 p1 on 8x8 inputs, batch 64:
    # forward MACs (9*1*32 + 9*32*64) * 64 = 1,198,080 per example, times 2 x 64 FLOPs
    assert kinds["convolution forward"].flops_per_step == 2 * (9 * 32 + 9 * 32 * 64) * 64 * 64
    assert p.batch_size == 64 and p.step_ms > 0


def test_a_frozen_first_convolution_has_no_backward_flops():
    from convlens.build import build_model
    from convlens.train.profile import _macs_by_kind
    from convlens.train.whiten import freeze_first_conv

    model = build_model("conv3x3x4p1-pool2-bn-relu-conv3x3x8p1-fc3", (1, 8, 8))
    # conv1 8*8 positions x 9 x 1 x 4 = 2,304 MACs; conv2 on 4x4: 16 x 9 x 4 x 8 = 4,608; fc 128 x 3
    assert _macs_by_kind(model, (1, 8, 8)) == (2304 + 4608, 384, 0, 0)
    freeze_first_conv(model)  # as whiten leaves it: no weight gradient and no input gradient
    assert _macs_by_kind(model, (1, 8, 8)) == (2304 + 4608, 384, 2304, 0)
    model.conv2.requires_grad_(
        False
    )  # frozen, but after trainable BN: its input gradient is needed
    assert _macs_by_kind(model, (1, 8, 8))[2] == 2304
    # conv2 run by Winograd's algorithm: its 4,608 MACs count apart from the convolutions'
    assert _macs_by_kind(model, (1, 8, 8), ("conv2",)) == (2304, 384, 2304, 4608)


def test_the_convolutions_run_by_winograd_are_named_in_the_hardware_line():
    from convlens.train.winograd import winograd_note

    line = "cpu float32, channels-last, 2 threads" + winograd_note(["conv3", "conv5"])
    assert line.endswith(", Winograd F(6x6, 3x3) for conv3, conv5")
    assert winograd_note([]) == ""


def test_the_command_prints_the_table(capsys):
    assert main(["bench", "--profile", "--data", "digits", "--profile-steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "matmul peak measured now" in out and "convolution backward" in out
    assert main(["bench", "--profile", "--data", "digits", "--profile-steps", "0"]) == 2


@pytest.mark.slow  # a fresh process and the matmul peaks: 11 s
def test_the_profiler_writes_nothing_of_its_own_to_stderr():
    # a fresh process: the profiler's C++ logger reads its level once, when it first starts
    command = ["bench", "--profile", "--data", "digits", "--profile-steps", "2"]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "convlens",
            *command,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "matmul peak measured now" in done.stdout
    assert done.stderr == ""


def test_the_recipe_run_takes_exactly_the_steps_asked_for():
    from convlens.train.profile import _recipe_run
    from convlens.train.run import schedule_steps

    # digits: 1,442 training examples; batches of 64 give 22 steps an epoch, batches of 500 two
    for batch, steps in ((64, 9), (64, 31), (500, 31), (2048, 5)):
        train, config, _ = _recipe_run("digits", "fast", steps, None, {"batch_size": batch})
        assert schedule_steps(config, len(train))[1] == steps, (batch, steps)
