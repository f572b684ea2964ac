"""Training speed on a CUDA GPU: the figures `train_speed.py` gives for a CPU, measured on the GPU.

A GPU machine may have no network and only minutes to give, so the data travel with the command
and one run prints everything. Here (copies Fashion-MNIST's four files into a folder git ignores):

    .venv/bin/python benchmarks/gpu_speed.py --stage .gpu-data

There (its own PyTorch with CUDA; convlens from the source tree, no install; about 5 minutes on an
H100):

    CONVLENS_DATA=.gpu-data PYTHONPATH=src PYTHONUNBUFFERED=1 python3 benchmarks/gpu_speed.py \
        --json "$OUT/gpu_speed.json" 2>&1 | tee "$OUT/gpu_speed.log"

(the folder .gpu-data travels with the command; ``--parts`` picks parts, ``--quick`` makes each
small).

It prints, and writes to ``--json`` as well, part by part (a part that fails prints its error and
the others still run):

1. ``peaks``: the GPU, the software, and its matmul peaks: the best of 10 ``torch.mm`` of two
   8192 x 8192 matrices in float32 and in bf16, each timed between waits for the device.
2. ``profile``: one `fast` step on Fashion-MNIST (batch 128, bf16 autocast, channels-last as
   `auto` picks them on a GPU): kernel time per kind of operation, the GPU's idle time, the step's
   share of the bf16 peak; then the step alone at larger batches (throughput, not accuracy).
3. ``compare``: the `fast` recipe trained by the tutorial loop with the tutorials' settings (SGD lr
   0.001) and with Adam lr 1e-3 until 90% (per-sample Dataset + DataLoader, float32, each batch
   moved to the GPU as the tutorials do), the same loop with the recipe's settings, and convlens:
   images/s, time to 90% and to 93.5% test accuracy and both ratios; runs of `fast` and `quick`
   sized to end at 90%.
4. ``budget``: ``convlens train --recipe fast --data fashion-mnist --device DEVICE`` end to end
   (start-up, loading, training, testing), 3 seeds: test accuracy and wall seconds.
5. ``compile``: the step of part 2 with ``torch.compile`` (compilation in the warm-up steps).
6. ``graphs``: the `fast` step written out by hand (bf16 autocast, channels-last, AdamW with its
   state on the GPU) run eagerly and captured once as a CUDA graph and replayed, at batches 128
   and 1024: how much of an eager step is the host queueing kernels.

``--device cpu --quick`` runs every part small on this machine, to check the script before a GPU
minute is spent on it.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import shutil
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from convlens.commands.bench import format_comparison
from convlens.data import load_dataset
from convlens.train.bench import budget_run, compare, time_to_sized
from convlens.train.config import from_dict
from convlens.train.device import cpu_info, gpu_name, resolve_device
from convlens.train.profile import format_profile, matmul_peaks, profile_training
from convlens.train.recipes import get_recipe, make_model

PARTS = ("peaks", "profile", "compare", "budget", "compile", "graphs")
TARGETS = (0.90, 0.935)  # test accuracies whose times are reported
FASHION = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")  # fmt: skip


def stage(folder: Path) -> None:
    """Copy the local Fashion-MNIST files to ``folder/fashion-mnist`` (CONVLENS_DATA's layout)."""
    from convlens.data.sources import search_dirs

    target = folder / "fashion-mnist"
    target.mkdir(parents=True, exist_ok=True)
    for name in FASHION:
        found = next((d / name for d in search_dirs("fashion-mnist") if (d / name).is_file()), None)
        if found is None:
            raise SystemExit(f"{name} is not on this machine; install dataset-fashion-mnist.")
        shutil.copy2(found, target / name)
    print(f"staged {len(FASHION)} files in {target}")


class Report:
    """Each part's figures, kept for the JSON file; a failed part keeps its error."""

    def __init__(self, path: Path | None) -> None:
        self.path, self.parts = path, {}
        self.start = time.perf_counter()

    def run(self, name: str, part: Callable[[], Any]) -> Any:
        print(f"\n## {name}", flush=True)
        began = time.perf_counter()
        try:
            found = part()
        except Exception as error:  # one part's failure must not cost the others' figures
            traceback.print_exc()
            self.parts[name] = {"error": f"{type(error).__name__}: {error}"}
            found = None
        else:
            self.parts[name] = found
        took = time.perf_counter() - began
        print(
            f"({name}: {took:.1f} s; {time.perf_counter() - self.start:.0f} s so far)", flush=True
        )
        self.save()
        return found

    def save(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(self.parts, indent=1, default=str)
            partial = self.path.with_suffix(".part")
            partial.write_text(text)
            partial.replace(self.path)


def environment(device: torch.device) -> dict[str, Any]:
    found = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu": cpu_info().describe(),
        "device": str(device),
    }
    if device.type == "cuda":
        found.update(
            gpu=gpu_name(device), cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version()
        )
    for key, value in found.items():
        print(f"{key}: {value}")
    return found


def peaks_part(device: torch.device, quick: bool) -> dict[str, Any]:
    peaks = matmul_peaks(size=512 if quick else None, device=device)
    print(
        f"matmul peak, best {peaks.size}x{peaks.size} torch.mm: float32 {peaks.float32:,.0f} "
        f"GFLOP/s, bfloat16 {peaks.bfloat16:,.0f} GFLOP/s ({peaks.bfloat16 / peaks.float32:.2f}x)"
    )
    return asdict(peaks)


def profile_part(device: torch.device, quick: bool, overrides: dict[str, Any]) -> dict[str, Any]:
    steps, warmup = (3, 3) if quick else (20, 15)
    found = profile_training(
        "fashion-mnist", "fast", warmup=warmup, steps=steps, device=str(device),
        overrides=overrides, peaks=not quick,
    )  # fmt: skip
    print(format_profile(found))
    result = {
        "step_ms": found.step_ms,
        "gflops": found.achieved_gflops(),
        "batch": found.batch_size,
    }
    if found.peak():
        result["share_of_peak"] = found.achieved_gflops() / found.peak()
    result["kinds"] = {k.kind: k.ms_per_step for k in found.kinds}
    return result


def batches_part(device: torch.device, quick: bool, peak: float | None) -> list[dict[str, Any]]:
    """The step alone at larger batches: how much of the GPU a bigger step fills."""
    rows = []
    for batch in (128, 512) if quick else (128, 512, 2048, 8192):
        found = profile_training(
            "fashion-mnist", "fast", warmup=3 if quick else 10, steps=3 if quick else 10,
            device=str(device), overrides={"batch_size": batch}, peaks=False,
        )  # fmt: skip
        share = found.achieved_gflops() / peak if peak else math.nan
        print(
            f"batch {batch:5}: {found.step_ms:8.2f} ms a step, "
            f"{batch / found.step_ms * 1e3:12,.0f} images/s, {found.achieved_gflops():10,.0f} "
            f"GFLOP/s, {100 * share:5.1f}% of the bf16 peak"
        )
        rows.append({"batch": batch, "step_ms": found.step_ms, "share_of_peak": share})
    return rows


def compare_part(device: torch.device, quick: bool, peak: float | None) -> dict[str, Any]:
    train = load_dataset("fashion-mnist", "train")
    test = load_dataset("fashion-mnist", "test")
    if quick:
        train = replace(train, x=train.x[:3000], y=train.y[:3000])
        test = replace(test, x=test.x[:1000], y=test.y[:1000])
    found: dict[str, Any] = {}
    peers = None
    for name, sized in (("fast", (1.0, 1.25, 1.5, 2.0)), ("quick", (0.3, 0.4, 0.5))):
        recipe = get_recipe("fashion-mnist", name)
        epochs = 1.0 if quick else float(recipe.settings["epochs"])
        settings = {**recipe.settings, "epochs": epochs, "verbose": 0, "device": str(device)}
        config = from_dict(settings)

        def new_model(recipe: Any = recipe) -> torch.nn.Module:
            return make_model(recipe.model, train.in_shape, train.num_classes, seed=0)

        tutorial_epochs = 1 if quick else 6
        print(f"`{name}`: {len(train):,} examples, {epochs:g} epochs, {recipe.model}", flush=True)
        result = compare(
            new_model, train, test, config, 0.9, tutorial_epochs, 0,
            (0.5,) if quick else sized, peers=peers,
        )  # fmt: skip
        peers = peers or result
        print(format_comparison(result, 0.9))
        ours = result.convlens
        row: dict[str, Any] = {
            "images_per_s": ours.images_per_s,
            "test_acc": ours.test_acc,
            "seconds_at_epoch": ours.seconds_at_epoch,
            "hardware": ours.hardware,
        }
        for target in TARGETS:
            row[f"to {target:g}"] = ours.time_to(target)
            for peer in (result.tutorial, result.adam):
                if peer is not None:
                    row[f"{peer.name} to {target:g}"] = peer.time_to(target)
        if result.sized:
            row["sized to 0.9"] = time_to_sized(result.sized, 0.9)[0]
            row["sized"] = [asdict(r) for r in result.sized]
        if peak and ours.flops_per_s:
            row["share_of_peak"] = ours.flops_per_s / 1e9 / peak
            print(f"convlens `{name}`: {100 * row['share_of_peak']:.1f}% of the bf16 peak")
        for target in TARGETS:
            print(f"convlens `{name}` to {100 * target:g}% test: {ours.time_to(target):.2f} s")
        found[name] = row
    return found


def budget_part(device: torch.device, quick: bool) -> list[dict[str, Any]]:
    seeds = 1 if quick else 3
    extra = ("--device", str(device), *(("--epochs", "0.2") if quick else ()))
    runs = [budget_run("fashion-mnist", seed, "fast", extra) for seed in range(seeds)]
    for r in runs:
        print(f"seed {r.seed}: {100 * r.test_acc:.2f}% in {r.wall_seconds:.1f} s wall")
    acc = statistics.median(r.test_acc for r in runs)
    wall = statistics.median(r.wall_seconds for r in runs)
    print(f"median: {100 * acc:.2f}% test accuracy in {wall:.1f} s wall")
    return [asdict(r) for r in runs]


def graphs_part(device: torch.device, quick: bool) -> list[dict[str, Any]] | None:
    """Eager steps against one captured CUDA graph replayed: the same arithmetic, no launches."""
    if device.type != "cuda":
        print("CUDA graphs need a CUDA device: skipped")
        return None
    return [graph_row(device, batch, 20 if quick else 200) for batch in (128, 1024)]


def graph_row(device: torch.device, batch: int, n: int) -> dict[str, Any]:
    import torch.nn.functional as F

    recipe = get_recipe("fashion-mnist", "fast")
    model = make_model(recipe.model, (1, 28, 28), 10, seed=0).to(device)
    model = model.to(memory_format=torch.channels_last)
    lr = torch.tensor(1e-3, device=device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, capturable=True, foreach=True)
    gen = torch.Generator(device).manual_seed(0)
    x = torch.randn(batch, 1, 28, 28, device=device, generator=gen)
    x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch,), device=device, generator=gen)

    def step() -> None:
        opt.zero_grad(set_to_none=False)  # a graph replays into the same gradient buffers
        with torch.autocast("cuda", dtype=torch.bfloat16, cache_enabled=False):
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
        loss.backward()
        opt.step()

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up off the capture stream, as PyTorch asks
        for _ in range(5):
            step()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()

    def timed(run: Callable[[], None]) -> float:
        run()
        torch.cuda.synchronize(device)
        start = time.perf_counter()
        for _ in range(n):
            run()
        torch.cuda.synchronize(device)
        return (time.perf_counter() - start) / n * 1e3

    eager_ms, graph_ms = timed(step), timed(graph.replay)
    eager_again = timed(step)  # drift check: eager before and after the replays
    print(
        f"batch {batch:5}: eager {eager_ms:.3f} / {eager_again:.3f} ms a step, graph "
        f"{graph_ms:.3f} ms ({min(eager_ms, eager_again) / graph_ms:.2f}x), "
        f"{batch / graph_ms * 1e3:,.0f} images/s replayed"
    )
    return {"batch": batch, "eager_ms": [eager_ms, eager_again], "graph_ms": graph_ms}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", type=Path, help="copy Fashion-MNIST here and stop")
    parser.add_argument("--device", default="cuda", help="default: cuda")
    parser.add_argument("--quick", action="store_true", help="every part small: a check")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"which parts (default: {','.join(PARTS)})"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.stage:
        stage(args.stage)
        return 0
    parts = args.parts.split(",")
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    device = resolve_device(args.device)
    report = Report(args.json)
    report.run("environment", lambda: environment(device))
    peaks = (
        report.run("peaks", lambda: peaks_part(device, args.quick)) if "peaks" in parts else None
    )
    peak = peaks["bfloat16"] if peaks else None
    if "profile" in parts:
        report.run("profile", lambda: profile_part(device, args.quick, {}))
        report.run("batches", lambda: batches_part(device, args.quick, peak))
    if "compare" in parts:
        report.run("compare", lambda: compare_part(device, args.quick, peak))
    if "budget" in parts:
        report.run("budget", lambda: budget_part(device, args.quick))
    if "compile" in parts:
        report.run("compile", lambda: profile_part(device, args.quick, {"compile": True}))
    if "graphs" in parts:
        report.run("graphs", lambda: graphs_part(device, args.quick))
    failed = [
        name for name, found in report.parts.items() if isinstance(found, dict) and "error" in found
    ]
    print(
        f"\ndone in {time.perf_counter() - report.start:.0f} s"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
