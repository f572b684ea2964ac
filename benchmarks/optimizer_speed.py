"""Adam's fused kernel against its foreach form, in the `fast` Fashion-MNIST step and alone.

    .venv/bin/python benchmarks/optimizer_speed.py              # 10 rounds a side
    .venv/bin/python benchmarks/optimizer_speed.py --rounds 4

Prints, in alternating rounds in one process (a machine that drifts touches both alike):
1. the optimiser's update alone on the `fast` network's parameters (convlens's Adam in each form
   and torch.optim.AdamW's fused and foreach forms beside it), median ms per update;
2. the whole `fast` step (``profile_training``: the plain step's median, and the optimiser kind's
   time under the profiler), foreach form against fused, with the paired differences.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from convlens.malloc import keep_freed_memory
from convlens.train import optim
from convlens.train.device import cpu_info
from convlens.train.profile import profile_training
from convlens.train.recipes import get_recipe, make_model


def median_ms(run: Callable[[], None], n: int = 300) -> float:
    for _ in range(20):
        run()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def updates_alone() -> None:
    recipe = get_recipe("fashion-mnist", "fast")
    model = make_model(recipe.model, (1, 28, 28), 10)
    params = list(model.parameters())
    for p in params:
        p.grad = torch.randn_like(p)
    groups = [{"params": params, "weight_decay": 0.05}]
    ours = optim.Adam(groups, lr=1e-3, decoupled=True)
    fused_here = optim.fused_runs(params)
    real = optim.fused_runs
    theirs = {
        form: torch.optim.AdamW(groups, lr=1e-3, **{form: True})
        for form in ("foreach", *(("fused",) if fused_here else ()))
    }
    print(f"{len(params)} tensors, {sum(p.numel() for p in params):,} parameters")
    try:
        optim.fused_runs = lambda params: False  # type: ignore[assignment]
        foreach = median_ms(ours.step)
    finally:
        optim.fused_runs = real
    line = f"convlens Adam: foreach {foreach:.3f} ms"
    if fused_here:
        fused = median_ms(ours.step)
        line += f", fused {fused:.3f} ms ({foreach / fused:.2f}x)"
    print(line)
    print(
        "torch.optim.AdamW: "
        + ", ".join(f"{form} {median_ms(opt.step):.3f} ms" for form, opt in theirs.items())
    )


def whole_steps(rounds: int) -> None:
    real = optim.fused_runs
    steps: dict[str, list[float]] = {"foreach": [], "fused": []}
    own: dict[str, list[float]] = {"foreach": [], "fused": []}
    for r in range(rounds):
        for form in ("foreach", "fused") if r % 2 == 0 else ("fused", "foreach"):
            optim.fused_runs = real if form == "fused" else (lambda params: False)  # type: ignore[assignment]
            p = profile_training("fashion-mnist", "fast", warmup=20, steps=100, peaks=False)
            steps[form].append(p.step_ms)
            own[form].append(next(k.ms_per_step for k in p.kinds if k.kind == "optimiser"))
    optim.fused_runs = real
    for form in steps:
        print(
            f"{form:8} step median {statistics.median(steps[form]):.2f} ms "
            f"(rounds {', '.join(f'{v:.2f}' for v in steps[form])}); optimiser under the "
            f"profiler {min(own[form]):.2f}-{max(own[form]):.2f} ms"
        )
    pairs = [a - b for a, b in zip(steps["foreach"], steps["fused"], strict=True)]
    print(f"foreach minus fused, round by round: {', '.join(f'{d:+.2f}' for d in pairs)} ms")


def main() -> int:
    keep_freed_memory()  # as every convlens command runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="whole-step rounds a side")
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {cpu_info().describe()}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("\n## The update alone")
    updates_alone()
    print("\n## The whole `fast` step")
    whole_steps(args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
