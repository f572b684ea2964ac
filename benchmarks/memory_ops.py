"""The `fast` step's memory-bound layers, each against a plain copy of the bytes it touches.

    .venv/bin/python benchmarks/memory_ops.py                 # bf16, channels-last, batch 128
    .venv/bin/python benchmarks/memory_ops.py --precision float32 --rounds 7

The `fast` Fashion-MNIST network is run once on a batch to find the input of each of its pooling,
batch-norm and ReLU layers (the shapes and layout training gives them). Each layer's forward and
backward (input gradient, and the parameters' for batch norm) is then timed alone, beside
``copy_`` of a tensor of its input's size and ``zero_`` of one, the least that any pass over those
bytes costs, in alternating rounds in one process; for batch norm also the pieces it would be
rebuilt from with other PyTorch operations. The ratio says how far each kernel is from
reading and writing its data once: what a fused kernel could win, which matters most where the
convolutions are fast (a CPU with AMX, a GPU). The convolution rows give the scale (their ratio
is not shown: they compute, where the others move bytes).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from optimizer_speed import median_ms  # the same timing as the optimiser's benchmark
from torch import nn

from convlens.malloc import keep_freed_memory
from convlens.train.device import cpu_info
from convlens.train.recipes import get_recipe, make_model

KINDS = (nn.MaxPool2d, nn.BatchNorm2d, nn.ReLU, nn.Conv2d)


def layer_inputs(model: nn.Module, x: torch.Tensor) -> list[tuple[str, nn.Module, torch.Tensor]]:
    """Each pooling, batch-norm, ReLU and convolution layer with the input it receives."""
    seen: list[tuple[str, nn.Module, torch.Tensor]] = []
    hooks = [
        module.register_forward_hook(
            lambda m, args, _out, name=name: seen.append((name, m, args[0].detach().clone()))
        )
        for name, module in model.named_modules()
        if isinstance(module, KINDS)
    ]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    return seen


def timings(layer: nn.Module, x: torch.Tensor, n: int, autocast: bool) -> dict[str, float]:
    """Forward + backward of ``layer`` alone, and a copy and a zeroing of ``x``'s size."""
    x = x.requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        grad = torch.randn_like(layer(x))
    params = [p for p in layer.parameters() if p.requires_grad]

    def step() -> None:
        x.grad = None
        for p in params:
            p.grad = None
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            out = layer(x)
        out.backward(grad)

    target, source = torch.empty_like(x.detach()), x.detach()
    return {
        "layer": median_ms(step, n),
        "copy": median_ms(lambda: target.copy_(source), n),
        "zero": median_ms(target.zero_, n),
    }


def composed(x: torch.Tensor, n: int) -> dict[str, float]:
    """The pieces batch norm would be rebuilt from with other PyTorch operations, on its
    channels-last input seen as an (N·H·W) x C matrix: a sum over the rows (the mean), ``var_mean``
    and the per-channel multiply-add that normalises."""
    rows = x.detach().permute(0, 2, 3, 1).reshape(-1, x.shape[1])  # a view of channels-last x
    scale = torch.randn(x.shape[1], dtype=x.dtype)
    shift = torch.randn(x.shape[1], dtype=x.dtype)
    return {
        "sum": median_ms(lambda: rows.sum(0, dtype=torch.float32), n),
        "var_mean": median_ms(lambda: torch.var_mean(rows, 0, correction=0), n),
        "addcmul": median_ms(lambda: torch.addcmul(shift, rows, scale), n),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", default="bfloat16", choices=["float32", "bfloat16"])
    parser.add_argument("--batch", type=int, default=128, help="batch size (the recipe's: 128)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (median taken)")
    parser.add_argument("--steps", type=int, default=100, help="timed calls per kernel per round")
    args = parser.parse_args()
    keep_freed_memory()
    torch.manual_seed(0)
    recipe = get_recipe("fashion-mnist", "fast")
    model = make_model(recipe.model, (1, 28, 28), 10, None, 0).train()
    bf16 = args.precision == "bfloat16"
    x = torch.randn(args.batch, 1, 28, 28)
    model = model.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
    if bf16:  # the inputs each layer gets under autocast: bf16 after a convolution
        with torch.autocast("cpu", dtype=torch.bfloat16):
            found = layer_inputs(model, x)
    else:
        found = layer_inputs(model, x)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}  {cpu_info().describe()}")
    print(f"fast network {recipe.model}, batch {args.batch}, {args.precision}, channels-last, "
          f"{torch.get_num_threads()} threads")  # fmt: skip
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in found}
    for _ in range(args.rounds):
        for name, layer, inp in found:
            times = timings(layer, inp.clone(), args.steps, bf16)
            if isinstance(layer, nn.BatchNorm2d):
                times.update(composed(inp, args.steps))
            rounds[name].append(times)
    print(f"{'layer':<8} {'kind':<12} {'input':<16} {'MB':>6} {'fwd+bwd ms':>11} "
          f"{'copy ms':>8} {'zero ms':>8} {'x copy':>7}")  # fmt: skip
    for name, layer, inp in found:
        med = {k: statistics.median(r[k] for r in rounds[name]) for k in ("layer", "copy", "zero")}
        shape = "x".join(map(str, inp.shape[1:]))
        mb = inp.numel() * inp.element_size() / 1e6
        ratio = "-" if isinstance(layer, nn.Conv2d) else f"{med['layer'] / med['copy']:.1f}x"
        print(f"{name:<8} {type(layer).__name__:<12} {shape:<16} {mb:>6.2f} {med['layer']:>11.3f} "
              f"{med['copy']:>8.3f} {med['zero']:>8.3f} {ratio:>7}")  # fmt: skip
    print("batch norm's pieces as other PyTorch operations (its input as an N·H·W x C view), ms:")
    for name, layer, _ in found:
        if isinstance(layer, nn.BatchNorm2d):
            med = {k: statistics.median(r[k] for r in rounds[name])
                   for k in ("sum", "var_mean", "addcmul", "layer")}  # fmt: skip
            print(f"  {name}: sum over rows {med['sum']:.3f}, var_mean {med['var_mean']:.3f}, "
                  f"per-channel multiply-add {med['addcmul']:.3f}; the layer's forward and "
                  f"backward {med['layer']:.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
