"""Where a training step's time goes, and how close each part comes to the machine's peak.

``profile_training`` runs ``fit`` itself, unchanged, on the recipe's model and data, and records a
window of its steps with ``torch.profiler`` once the first steps have warmed the kernels. Every
ATen operation's own time (its self time: children excluded) is put in one kind (convolution
forward, convolution backward, pooling, batch norm, ...); what the operations do not account for
is Python, the profiler's own bookkeeping and waiting. The convolutions' and linear layers' FLOPs
come from the summary's MACs for the batch (forward 2 x MACs, backward twice the forward: the
gradients of the input and of the weights; none for a frozen first convolution, as ``whiten``
leaves it), so each kind's achieved FLOP/s can be set against the machine's matrix-multiply
peak, which ``matmul_peaks`` measures in the same process.

The profiler costs a few microseconds per operation, so the profiled step is a little slower than
an unprofiled one; the step time printed beside the table is measured without it.
"""

from __future__ import annotations

import itertools
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from convlens.train.device import CpuInfo, cpu_info, gpu_name, resolve_device, synchronize

# operation kind -> substrings of ATen operation names (the first kind that matches wins)
KINDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("convolution backward", ("convolution_backward", "conv_backward", "mkldnn_convolution_bw")),
    ("convolution forward", ("convolution", "conv1d", "conv2d", "conv3d")),
    ("linear (fc)", ("addmm", "aten::mm", "aten::bmm", "aten::linear", "matmul")),
    ("pooling", ("pool",)),
    ("batch norm", ("batch_norm",)),
    ("activation", ("relu", "threshold", "gelu", "sigmoid", "tanh", "elu", "softplus", "clamp")),
    ("loss", ("log_softmax", "nll_loss", "cross_entropy", "softmax")),
    ("optimiser", ("_foreach", "adam", "sgd", "lerp", "addcdiv", "addcmul", "sqrt")),
    ("data: gather and augment", ("index", "gather", "flip", "randperm", "rand", "where", "roll")),
    ("layout and dtype copies", ("copy_", "_to_copy", "contiguous", "clone", "aten::to")),
)
# record_function ranges whose operations belong to one kind whatever their names
RANGES: dict[str, str] = {
    "Optimizer.step": "optimiser",
    "Optimizer.zero_grad": "optimiser",
    "convlens.batch": "data: gather and augment",
    "convlens.winograd": "convolution + max-pool by Winograd",
}
WINOGRAD = RANGES["convlens.winograd"]
OTHER = "other operations"
PYTHON = "Python, dispatch and waiting"
GPU_IDLE = "GPU idle: Python, launches and waiting"  # on a GPU: wall time that no kernel filled


@dataclass(frozen=True)
class Peaks:
    """Matrix-multiply throughput of this machine, measured: GFLOP/s per precision."""

    float32: float
    bfloat16: float
    size: int


def matmul_peaks(
    size: int | None = None,
    repeats: int = 10,
    budget: float = 0.05,
    device: torch.device | str = "cpu",
) -> Peaks:
    """The best of ``repeats`` ``torch.mm`` of two square matrices, per precision, in GFLOP/s.

    A peak is a best case: on a shared machine a neighbour's burst only ever slows a product, so
    the fastest of several is the closest to what the cores can do. The matrices grow from 128 by
    doubling up to ``size`` (2048 on a CPU, 8192 on a GPU, whose products of 2048 are over before
    its clocks and queues are busy) while one product takes under ``budget`` seconds: some builds
    multiply bfloat16 on one thread by a reference kernel hundreds of times slower than their
    fast one (torch 2.13 CPU, an AVX512-BF16 EPYC: 52 s for one 2048 x 2048 product on one
    thread, 0.04 s on two), and a peak must not take minutes to measure. ``size`` is the larger
    of the two precisions' final sizes. On a GPU each product is timed between two waits for the
    device; float32 is multiplied as PyTorch's float32 matmul precision says (``highest``, true
    float32, unless the caller allowed TF32).
    """
    device = torch.device(device)
    size = size or (8192 if device.type == "cuda" else 2048)

    def timed(a: torch.Tensor, b: torch.Tensor) -> float:
        synchronize(device)
        start = time.perf_counter()
        torch.mm(a, b)
        synchronize(device)
        return time.perf_counter() - start

    def rate(dtype: torch.dtype) -> tuple[float, int]:
        gen = torch.Generator(device).manual_seed(0)
        n = min(128, size)
        while True:
            a = torch.randn(n, n, generator=gen, device=device).to(dtype)
            b = torch.randn(n, n, generator=gen, device=device).to(dtype)
            timed(a, b)  # the first call picks and prepares the kernel
            first = timed(a, b)
            if first >= budget or n >= size:
                break
            n = min(2 * n, size)
        best = min([first, *(timed(a, b) for _ in range(repeats - 1))])
        return 2 * n**3 / best / 1e9, n

    (f32, n32), (bf16, n16) = rate(torch.float32), rate(torch.bfloat16)
    return Peaks(f32, bf16, max(n32, n16))


@dataclass
class KindTime:
    kind: str
    ms_per_step: float
    flops_per_step: float = 0.0  # FLOPs this kind performs in one step, where they are counted

    def gflops(self) -> float | None:
        if not self.flops_per_step or self.ms_per_step <= 0:
            return None
        return self.flops_per_step / (self.ms_per_step / 1e3) / 1e9


@dataclass
class Profile:
    """One recipe's training step, taken apart."""

    data: str
    model: str
    batch_size: int
    hardware: str  # device, precision, layout, threads as fit chose them
    precision: str  # "bfloat16" or "float32": which peak the step is measured against
    steps: int  # profiled steps
    step_ms: float  # one step's wall time without the profiler (the median step)
    profiled_step_ms: float  # one step's wall time under the profiler
    kinds: list[KindTime] = field(default_factory=list)
    flops_per_step: float = 0.0  # training FLOPs of one step: 3 x forward MACs x 2 x batch
    peaks: Peaks | None = None
    top_ops: list[tuple[str, float]] = field(default_factory=list)  # (ATen op, ms per step)
    cpu: CpuInfo | None = None  # the CPU, where the step ran on one
    gpu: str = ""  # the GPU, where the step ran on one: name, SMs, memory

    def goal(self) -> str:
        """The share of the peak that a step should reach on this CPU, and whether it does:
        40% of the bf16 peak with AMX (whose tiles make that peak several times float32's), 50%
        of the peak of the precision used without (benchmarks/RESULTS.md)."""
        peak = self.peak()
        if self.cpu is None or not peak:
            return ""
        amx = self.cpu.amx and self.precision == "bfloat16"
        share, where = (GOAL_AMX, "with AMX") if amx else (GOAL, "without AMX")
        reached = self.achieved_gflops() / peak
        verdict = "met" if reached >= share else "not met"
        return (
            f"goal on a CPU {where}: at least {share:.0%} of the {self.precision} peak: {verdict} "
            f"({reached:.1%})"
        )

    def peak(self) -> float | None:
        if self.peaks is None:
            return None
        return self.peaks.bfloat16 if self.precision == "bfloat16" else self.peaks.float32

    def achieved_gflops(self) -> float:
        return self.flops_per_step / (self.step_ms / 1e3) / 1e9


GOAL_AMX = 0.40  # a step's share of the bf16 matmul peak on a CPU with AMX
GOAL = 0.50  # of the peak of the precision used, elsewhere


def _best(a: Peaks, b: Peaks) -> Peaks:
    """The higher of two measurements of each peak (taken before and after the profile)."""
    return Peaks(max(a.float32, b.float32), max(a.bfloat16, b.bfloat16), a.size)


def kind_of(name: str, ranges: tuple[str, ...] = ()) -> str:
    """The kind of an ATen operation, by the record_function ranges it runs in, then its name."""
    for outer in ranges:
        for prefix, kind in RANGES.items():
            if outer.startswith(prefix):
                return kind
    low = name.lower()
    for kind, parts in KINDS:
        if any(p in low for p in parts):
            return kind
    return OTHER


def _enclosing(event: Any) -> tuple[str, ...]:
    names = []
    parent = event.cpu_parent
    while parent is not None:
        names.append(parent.name)
        parent = parent.cpu_parent
    return tuple(names)


def split_by_kind(
    events: Any, steps: int, wall_ms: float, on_gpu: bool = False
) -> tuple[dict[str, float], list]:
    """Self time per kind (ms per step) of the profiled ATen operations, and the rest as Python.

    On a GPU an operation's time is that of the kernels it launched (its self device time), and
    the rest of the wall time is the GPU's idle time: Python, kernel launches and waits."""
    per_kind: dict[str, float] = {}
    per_op: dict[str, float] = {}
    for event in events:
        if not event.name.startswith("aten::"):
            continue
        ms = _self_time_us(event, on_gpu) / 1e3 / steps
        if on_gpu and ms == 0.0:
            continue  # launched no kernel: its time is the host's
        kind = kind_of(event.name, _enclosing(event))
        per_kind[kind] = per_kind.get(kind, 0.0) + ms
        per_op[event.name] = per_op.get(event.name, 0.0) + ms
    per_kind[GPU_IDLE if on_gpu else PYTHON] = max(wall_ms - sum(per_kind.values()), 0.0)
    top = sorted(per_op.items(), key=lambda kv: -kv[1])[:12]
    return per_kind, top


def _self_time_us(event: Any, on_gpu: bool) -> float:
    """An event's own time in microseconds: on the CPU, or its kernels' on the GPU (PyTorch
    before 2.4 names the latter self_cuda_time_total)."""
    if not on_gpu:
        return float(event.self_cpu_time_total)
    found = getattr(event, "self_device_time_total", None)
    if found is None:
        found = getattr(event, "self_cuda_time_total", 0.0)
    return float(found or 0.0)


def _macs_by_kind(
    model: nn.Module,
    in_shape: tuple[int, ...],
    fused: tuple[str, ...] = (),
    stem: tuple[str, ...] = (),
) -> tuple[float, float, float, float]:
    """Forward MACs of one example in convolutions and in linear layers, the MACs of the
    convolutions that have no backward: frozen ones before any trainable parameter (the layer
    ``whiten`` fixes), which need neither a weight gradient nor an input gradient, and those of
    the ``fused`` convolutions (run by Winograd's algorithm: counted as the direct sum's MACs,
    and not among the convolutions'). The ``stem`` layers, computed once per image before the
    first step (convlens/train/stem.py), count nowhere: the steps do not compute them."""
    from convlens.analysis.trace import trace_rows

    rows, _ = trace_rows(model, in_shape, meta=False, flop_counter=False)
    rows = [r for r in rows if r.name not in stem]
    winograd = float(sum(r.macs for r in rows if r.name in fused))
    conv = float(sum(r.macs for r in rows if "conv" in r.kind)) - winograd
    linear = float(sum(r.macs for r in rows if "conv" not in r.kind))
    no_backward = 0.0
    for r in rows:
        try:
            module = model.get_submodule(r.name)
        except AttributeError:
            break  # a row without a module of that name: count every backward, as before
        if any(p.requires_grad for p in module.parameters()):
            break
        if "conv" in r.kind:
            no_backward += r.macs
    return conv, linear, no_backward, winograd


def profile_training(
    data: str = "fashion-mnist",
    recipe: str = "fast",
    *,
    warmup: int = 15,
    steps: int = 20,
    peaks: bool = True,
    root: str | None = None,
    overrides: dict[str, Any] | None = None,
    device: str | None = None,
) -> Profile:
    """Profile ``steps`` steps of ``convlens train --recipe RECIPE --data DATA`` after ``warmup``,
    on ``device`` (default: the recipe's, ``auto``). On a GPU each kind's time is its kernels'."""
    if device is not None:
        overrides = {**(overrides or {}), "device": device}
    from torch.profiler import ProfilerActivity, profile

    from convlens.train.loop import fit

    # Kineto, the profiler's C++ half, writes "profiler_start"/"profiler_stop" lines to stderr at
    # every level below 6 unless told otherwise; it reads this when its first profile starts
    os.environ.setdefault("KINETO_LOG_LEVEL", "6")

    train, config, model = _recipe_run(data, recipe, warmup + 2 * steps + 1, root, overrides)
    where = resolve_device(config.device)
    on_gpu = where.type == "cuda"
    activities = [ProfilerActivity.CPU, *([ProfilerActivity.CUDA] if on_gpu else [])]
    before = matmul_peaks(device=where) if peaks else None

    times: list[float] = []
    window: dict[str, Any] = {}

    def on_step(info: Any) -> None:
        if info.step in (warmup + steps, warmup + 2 * steps):
            synchronize(where)  # the window holds its steps' kernels, all of them
        times.append(time.perf_counter())
        if info.step == warmup + steps:  # an unprofiled stretch has been timed: start recording
            window["prof"] = profile(activities=activities)
            window["prof"].__enter__()
            window["start"] = time.perf_counter()
        elif info.step == warmup + 2 * steps and "prof" in window:
            window["seconds"] = time.perf_counter() - window["start"]
            window["prof"].__exit__(None, None, None)

    history = fit(model, train, config, on_step=on_step)
    # the median step of the unprofiled stretch: one step slowed by the machine does not count
    window_times = times[warmup - 1 : warmup + steps]
    plain_ms = statistics.median(b - a for a, b in itertools.pairwise(window_times)) * 1e3
    profiled_ms = window["seconds"] / steps * 1e3
    per_kind, top = split_by_kind(window["prof"].events(), steps, profiled_ms, on_gpu)

    conv_macs, linear_macs, frozen_macs, winograd_macs = _macs_by_kind(
        model, tuple(train.in_shape), history.winograd, history.stem
    )
    batch = config.batch_size
    flops = {
        "convolution forward": 2 * conv_macs * batch,
        "convolution backward": 4 * (conv_macs - frozen_macs) * batch,
        WINOGRAD: 6 * winograd_macs * batch,
        "linear (fc)": 6 * linear_macs * batch,
    }
    kinds = [KindTime(k, ms, flops.get(k, 0.0)) for k, ms in per_kind.items()]
    kinds.sort(key=lambda k: -k.ms_per_step)
    precision = "bfloat16" if "bfloat16" in history.hardware else "float32"
    return Profile(
        data=data, model=config.model, batch_size=batch, hardware=history.hardware,
        precision=precision, steps=steps, step_ms=plain_ms, profiled_step_ms=profiled_ms,
        kinds=kinds, flops_per_step=sum(flops.values()),
        peaks=_best(before, matmul_peaks(device=where)) if before else None, top_ops=top,
        cpu=cpu_info() if where.type == "cpu" else None,
        gpu=gpu_name(where) if on_gpu else "",
    )  # fmt: skip


def _recipe_run(
    data: str, recipe: str, steps: int, root: str | None, overrides: dict[str, Any] | None
) -> tuple[Any, Any, nn.Module]:
    """The recipe's training data (enough for ``steps`` steps), config and fresh model."""
    from convlens.data import load_dataset
    from convlens.train.config import from_dict
    from convlens.train.recipes import get_recipe, make_model

    entry = get_recipe(data, recipe)
    train = load_dataset(data, "train", root=root)
    # cache_stem "on": these few steps run as the recipe's long run does, from a stem table
    settings = {
        **entry.settings, "verbose": 0, "eval_every": 1000, "save_every": 0, "tta": False,
        "cache_stem": "on",
    }  # fmt: skip
    config = from_dict({**settings, **(overrides or {}), "model": entry.model})
    n = min(len(train), steps * config.batch_size)
    train = replace(train, x=train.x[:n], y=train.y[:n])
    # epochs such that fit takes exactly ``steps`` steps: an epoch drops its ragged last batch
    per_epoch = max(n // config.batch_size, 1)
    config = replace(config, epochs=steps / per_epoch)
    model = make_model(entry.model, tuple(train.in_shape), train.num_classes, seed=config.seed)
    return train, config, model


def _profiler_share(p: Profile) -> str:
    """How much of the rest is the profiler's own bookkeeping: the profiled step's extra time."""
    extra = p.profiled_step_ms - p.step_ms
    if extra <= 0:
        return "."
    return (
        f"; about {extra:.2f} ms of it is the profiler's own cost (the profiled step against the "
        "plain one)."
    )


def format_profile(p: Profile, say: Callable[[float], str] | None = None) -> str:
    """The profile as a table: time per kind, its share, and its FLOP/s against the peak."""
    peak = p.peak()
    lines = [
        f"{p.data}, model {p.model}, batch {p.batch_size}, {p.hardware}",
        *([f"CPU: {p.cpu.describe()}"] if p.cpu is not None else []),
        *([f"GPU: {p.gpu}"] if p.gpu else []),
        f"one step: {p.step_ms:.2f} ms without the profiler (median; {p.profiled_step_ms:.2f} ms "
        "with it, on average), "
        f"{p.batch_size / p.step_ms * 1e3:,.0f} images/s, "
        f"{p.achieved_gflops():.1f} GFLOP/s of training arithmetic",
    ]
    if p.peaks is not None:
        lines.append(
            f"matmul peak measured now (best {p.peaks.size}x{p.peaks.size} torch.mm before and "
            "after the profile): float32 "
            f"{p.peaks.float32:.1f} GFLOP/s, bfloat16 {p.peaks.bfloat16:.1f} GFLOP/s "
            f"({p.peaks.bfloat16 / p.peaks.float32:.2f}x)"
        )
        lines.append(
            f"whole step: {100 * p.achieved_gflops() / peak:.1f}% of the {p.precision} peak"
            if peak
            else ""
        )
        goal = p.goal()
        if goal:
            lines.append(goal)
    header = ("kind", "ms/step", "share", "GFLOP/s", f"% of {p.precision} peak")
    rows = [header]
    total = sum(k.ms_per_step for k in p.kinds) or 1.0
    for k in p.kinds:
        g = k.gflops()
        rows.append((
            k.kind, f"{k.ms_per_step:.2f}", f"{100 * k.ms_per_step / total:.1f}%",
            f"{g:.1f}" if g else "", f"{100 * g / peak:.1f}%" if g and peak else "",
        ))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for i, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    own = "their kernels' time" if p.gpu else "self time"
    lines.append(f"largest ATen operations ({own}, ms/step): " + ", ".join(
        f"{name.removeprefix('aten::')} {ms:.2f}" for name, ms in p.top_ops[:8]
    ))  # fmt: skip
    lines.append(
        "FLOPs: convolution forward 2 x MACs x batch, backward twice that (input and weight "
        "gradients; none for a frozen first convolution), linear 6 x MACs x batch; MACs from the "
        "summary; none for layers computed once per image before the first step. "
        + (
            "GPU idle: the step's wall time under the profiler that no kernel fills"
            if p.gpu
            else "Python and waiting: the step's wall time under the profiler that no ATen "
            "operation accounts for"
        )
        + _profiler_share(p)
    )
    if any(k.kind == WINOGRAD and k.ms_per_step > 0 for k in p.kinds):
        lines.append(
            f"{WINOGRAD}: the FLOPs of the direct sum it replaces (6 x MACs x batch); Winograd's "
            "F(6x6, 3x3) needs 5.1x fewer multiplications, so its share of the peak can pass 100%."
        )
    return "\n".join(line for line in lines if line)
