"""Winograd's F(6x6, 3x3) against oneDNN's direct convolution and max-pool, side by side.

    .venv/bin/python benchmarks/winograd_speed.py            # layers, then whole `fast` steps
    .venv/bin/python benchmarks/winograd_speed.py --rounds 9

Part 1: one 3x3 convolution (padding 1) and the 2x2 max-pool after it, forward and backward, in
float32 channels-last, for the layer shapes of the Fashion-MNIST recipes and a few around them:
``F.conv2d`` + ``F.max_pool2d`` against ``conv3x3_maxpool2`` (convlens/train/winograd.py), the
two timed in alternating rounds so that drift in the machine's speed affects both alike, with the
largest difference of their outputs. Part 2: a whole training step of the `fast` network (forward,
backward, AdamW) with and without ``winograd_view``, per batch size. The figures behind the rule
in ``fusable``.
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import time
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F

from convlens.train.recipes import get_recipe, make_model
from convlens.train.winograd import MIN_BATCH, conv3x3_maxpool2, winograd_view

# (batch, in channels, out channels, map side): the recipes' third blocks first
LAYERS = [
    (256, 64, 128, 7),  # fast, batch 256
    (64, 64, 128, 7),  # fast's network at quick's batch
    (256, 96, 192, 7),  # good
    (256, 32, 64, 7),
    (256, 16, 64, 14),  # fast's second block
    (256, 32, 64, 14),
]


def alternate(fns: Mapping[str, Callable[[], None]], rounds: int, reps: int) -> dict[str, float]:
    """Median milliseconds per call of each function, timed in alternating rounds."""
    for fn in fns.values():
        for _ in range(2):
            fn()
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(reps):
                fn()
            times[name].append((time.perf_counter() - start) / reps * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}


def layers(rounds: int) -> None:
    print("| batch | conv | map | direct ms | Winograd ms | speed-up | largest difference |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for b, c, o, side in LAYERS:
        g = torch.Generator().manual_seed(0)
        x = torch.randn(b, c, side, side, generator=g).relu()
        x = x.contiguous(memory_format=torch.channels_last).requires_grad_()
        w = (torch.randn(o, c, 3, 3, generator=g) * 0.1).requires_grad_()
        bias = torch.randn(o, generator=g).requires_grad_()
        up = torch.randn(b, o, side // 2, side // 2, generator=g)

        fns = {
            "direct": functools.partial(_layer_step, direct, x, w, bias, up),
            "winograd": functools.partial(_layer_step, conv3x3_maxpool2_6, x, w, bias, up),
        }
        ms = alternate(fns, rounds, 10)
        with torch.no_grad():
            diff = (direct(x, w, bias) - conv3x3_maxpool2_6(x, w, bias)).abs().max().item()
        print(
            f"| {b} | {c}->{o} | {side}x{side} | {ms['direct']:.2f} | {ms['winograd']:.2f} | "
            f"{ms['direct'] / ms['winograd']:.2f}x | {diff:.1e} |"
        )


def direct(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(F.conv2d(x, w, b, padding=1), 2)


def _layer_step(fn: Callable[..., torch.Tensor], *tensors: torch.Tensor) -> None:
    x, w, bias, up = tensors
    x.grad = w.grad = bias.grad = None
    fn(x, w, bias).backward(up)


def _train_step(
    net: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor
) -> None:
    loss = F.cross_entropy(net(x), y, label_smoothing=0.1)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def conv3x3_maxpool2_6(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return conv3x3_maxpool2(x, w, b, 6)


def steps(rounds: int) -> None:
    recipe = get_recipe("fashion-mnist", "fast")
    print(f"\nwhole training steps of {recipe.model} (AdamW, label smoothing 0.1)")
    print("| batch | direct ms | with Winograd ms | speed-up | fused |")
    print("|---:|---:|---:|---:|---|")
    for batch in (64, 128, 256):
        g = torch.Generator().manual_seed(0)
        x = torch.randn(batch, 1, 28, 28, generator=g).contiguous(memory_format=torch.channels_last)
        y = torch.randint(0, 10, (batch,), generator=g)
        fns: dict[str, Callable[[], None]] = {}
        fused: list[str] = []
        for name in ("direct", "winograd"):
            model = make_model(recipe.model, (1, 28, 28), 10, seed=0)
            model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            net = model
            if name == "winograd":  # fused at every batch size, MIN_BATCH's rule aside
                net, fused = winograd_view(model, (max(batch, MIN_BATCH), 1, 28, 28))
            opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
            fns[name] = functools.partial(_train_step, net, opt, x, y)
        ms = alternate(fns, rounds, 10)
        print(
            f"| {batch} | {ms['direct']:.2f} | {ms['winograd']:.2f} | "
            f"{ms['direct'] / ms['winograd']:.2f}x | {', '.join(fused) or 'none'} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds of 10 calls")
    args = parser.parse_args()
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {platform.machine()}  "
        f"torch {torch.__version__}  cpu capability {torch.backends.cpu.get_cpu_capability()}  "
        f"{torch.get_num_threads()} threads  float32 channels-last"
    )
    layers(args.rounds)
    steps(args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
