"""`convlens demo`: why convolution wins, shown on MNIST-1D in about a minute, offline.

The demo prints the summaries of a small CNN and an MLP, trains both (progress bars), prints the
fc-vs-cnn table next to the published numbers, measures equivariance, and writes one HTML report
with the pictures. MNIST-1D is generated locally, so nothing is downloaded.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

# Shorter than the published 6,000 steps (150 epochs) so the demo takes about a minute; --full
# restores the published recipe and three seeds.
DEMO_EPOCHS = {"mnist1d": 40.0, "fashion-mnist": 1.0}
QUICK_EPOCHS = {"mnist1d": 2.0, "fashion-mnist": 0.05}
SHIFTS = list(range(0, 11))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="mnist1d", choices=("mnist1d", "fashion-mnist"),
                        help="mnist1d (default, generated locally) or fashion-mnist (local copy)")  # fmt: skip
    parser.add_argument("--epochs", type=float, default=None, help="training length of each net")
    parser.add_argument("--full", action="store_true",
                        help="the published recipe (150 epochs on MNIST-1D) and 3 seeds: minutes")  # fmt: skip
    parser.add_argument(
        "--quick", action="store_true", help="a few seconds of training (a smoke test)"
    )
    parser.add_argument("--out", default="convlens-runs/demo", help="report directory")


def _say(text: str) -> None:
    print(text, flush=True)


def run(args: argparse.Namespace) -> int:
    from convlens.experiments.equivariance import equivariance, shift_robustness
    from convlens.experiments.fc_vs_cnn import NETS, best_of, result_from, train_comparison
    from convlens.experiments.output import table_text
    from convlens.experiments.sharing import parameter_sharing_counts

    start = time.perf_counter()
    data = args.data
    nets = _demo_nets(data, NETS[data])
    epochs = args.epochs
    if epochs is None and not args.full:
        epochs = (QUICK_EPOCHS if args.quick else DEMO_EPOCHS)[data]
    seeds = 3 if args.full else 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # 1. what is compared: the two networks' layer tables
    summaries = _summaries(nets, data)

    # 2. train both, same data, same recipe, same seeds
    _say(f"training on {data} ({seeds} seed(s), {epochs or 'the published number of'} epochs each)")
    raw = train_comparison(
        data, seeds=seeds, epochs=epochs, nets=nets, verbose=1, keep=True,
        announce=lambda text: _say(f"training {text}"),
    )  # fmt: skip
    result = result_from(raw)
    result = _with_demo_command(result, args)
    _say(table_text(result))

    # 3. why: equivariance of conv maps, and the trained classifiers on shifted inputs
    from convlens.data import load_dataset

    test = load_dataset(data, "test")
    models = {label: v["last_model"] for label, v in raw["nets"].items()}
    classifier = {"shifts": SHIFTS, **shift_robustness(models, test, SHIFTS)}
    eq = _with_demo_command(equivariance(seeds=2, quick=True, classifier=classifier), args)
    _say(table_text(eq))
    counts = parameter_sharing_counts()

    # 4. one report with every picture
    report = _write_report(out, data, summaries, result, eq, counts)
    conv_label, conv = best_of(raw["nets"], "conv")
    dense_label, dense = best_of(raw["nets"], "dense")
    _say(
        f"{conv_label}: {100 * conv['test_acc']:.1f}% test accuracy with {conv['params']:,} "
        f"parameters; {dense_label}: {100 * dense['test_acc']:.1f}% with {dense['params']:,}."
    )
    _say(f"pictures: {', '.join(sorted(p.name for p in out.glob('*.png')))} in {out}")
    _say(f"report: {report}")
    _say(f"done in {time.perf_counter() - start:.0f} s")
    sys.stdout.flush()
    return 0


def _demo_nets(data: str, nets):
    """The first conv net and the MLP it is usually compared with (Greydanus & Kobak's pair)."""
    if data == "mnist1d":
        return tuple(n for n in nets if n.model in ("mnist1d_cnn", "mnist1d_mlp"))
    return (nets[0], nets[-1])


def _with_demo_command(result, args: argparse.Namespace):
    from dataclasses import replace

    flags = "" if args.data == "mnist1d" else f" --data {args.data}"
    flags += " --full" if args.full else ""
    flags += f" --epochs {args.epochs:g}" if args.epochs is not None else ""
    return replace(result, command=f"convlens demo{flags}")


def _json(results: dict) -> str:
    import json

    return json.dumps({k: v.to_dict() for k, v in results.items()}, indent=2) + "\n"


def _summaries(nets: Any, data: str) -> list[Any]:
    """The layer table of each network, printed as it is made."""
    from convlens.analysis.summary import summarize
    from convlens.experiments.training import build_net

    in_shape = (1, 40) if data == "mnist1d" else (1, 28, 28)
    summaries = []
    for net in nets:
        model = build_net(net, in_shape, 10, seed=0)
        summary = summarize(model, in_shape, title=f"{net.label}: {net.model}")
        summaries.append(summary)
        _say(str(summary))
    return summaries


def _write_report(
    out: Path, data: str, summaries: list[Any], result: Any, eq: Any, counts: Any
) -> Path:
    """Every picture as a PNG, the results as JSON and one report page; the page's path."""
    from convlens.experiments.output import figure_pngs, section_html
    from convlens.fileio import atomic_write_bytes, atomic_write_text
    from convlens.report.html import html_section, render_page, write_html

    sections = [html_section("The two networks", summaries)]
    for res in (result, eq, counts):
        pngs = figure_pngs(res)
        for name, png in pngs.items():
            atomic_write_bytes(out / f"{name}.png", png)
        sections.append(section_html(res, pngs))
    report = write_html(
        out / "report.html",
        render_page("convlens demo: why convolution works", sections, subtitle=f"data: {data}"),
    )
    atomic_write_text(out / "results.json", _json({"fc-vs-cnn": result, "equivariance": eq}))
    return report
