"""Parameter sharing: a dense layer against a convolution on the same input, counted by summarize.

The lectures' arithmetic (LECTURES.md §2): on a 10×10 image a dense 100 → 100 layer has
100·100 + 100 = 10,100 parameters, one 3×3 kernel has 9 + 1 = 10 and 200 kernels have 2,000; a
dense layer from a 200×200×3 image to 120,000 hidden units holds 120,000 · 120,000 = 14.4 billion
weights, and one dense unit on a 32×32×3 image already has 3,072. Every number here is read from
``summarize`` on a spec, never typed in.

Locality and sharing are two separate savings. A locally connected layer (``LocallyConnected1d``)
keeps the convolution's windows but gives every position its own weights: it saves the dense
layer's long-range weights but not the copies. Training the three side by side on MNIST-1D shows
what each saving is worth in accuracy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from convlens.experiments.result import ExperimentResult, FigureData, Reference, Series, pct
from convlens.experiments.training import Net


@dataclass(frozen=True)
class Case:
    label: str
    spec: str  # one weighted layer (a dense layer gets an implicit flatten before it)
    in_shape: tuple[int, ...]
    lecture: str  # the lectures' number for this case, as they write it ("" if none)


CASES: tuple[Case, ...] = (
    Case("10×10 image, dense 100 → 100", "fc100", (1, 10, 10), "10,100 parameters"),
    Case("10×10 image, one 3×3 kernel", "conv3x3x1p1", (1, 10, 10), "10 parameters"),
    Case("10×10 image, 200 3×3 kernels", "conv3x3x200p1", (1, 10, 10), "2,000 parameters"),
    Case("32×32×3 image, one dense unit", "fc1", (3, 32, 32), "3,072 weights per neuron"),
    Case("200×200×3 image, dense 120,000 units", "fc120000", (3, 200, 200), "14.4 billion weights"),
    Case("200×200×3 image, 3×3 conv to 3 channels", "conv3x3x3p1", (3, 200, 200), ""),
)

COLUMNS = (
    "case", "layer", "input", "output", "units", "weights", "biases", "params", "MACs",
    "fan-in", "uses per weight", "lecture",
)  # fmt: skip


def count(case: Case) -> dict:
    """The layer's counts from the summary; ``uses per weight`` = MACs / weights (the sharing)."""
    from convlens.analysis.geometry import format_shape
    from convlens.analysis.summary import summarize

    row = next(r for r in summarize(case.spec, case.in_shape, activation=None).rows if r.weights)
    units = row.out_elements
    # fan-in: the weights that one output unit reads (a conv unit reads one filter)
    fan_in = row.weights // (row.out_shape[0] if row.kind.startswith("conv") else units)
    return {
        "case": case.label,
        "layer": case.spec,
        "input": format_shape(case.in_shape),
        "output": format_shape(row.out_shape),
        "units": units,
        "weights": row.weights,
        "biases": row.biases,
        "params": row.params,
        "macs": row.macs,
        "fan_in": fan_in,
        "uses_per_weight": row.macs / row.weights,
        "lecture": case.lecture,
    }


def sharing_counts() -> list[dict]:
    return [count(c) for c in CASES]


def count_table(counts: list[dict]) -> tuple[tuple, ...]:
    return tuple(
        (
            c["case"],
            c["layer"],
            c["input"],
            c["output"],
            c["units"],
            c["weights"],
            c["biases"],
            c["params"],
            c["macs"],
            c["fan_in"],
            round(c["uses_per_weight"], 1),
            c["lecture"],
        )
        for c in counts
    )


def count_findings(counts: list[dict]) -> tuple[str, ...]:
    dense, _, conv, _, big, small = counts  # in the order of CASES
    return (
        f"On a 10×10 image a dense layer to 100 units needs {dense['params']:,} parameters; "
        f"200 shared 3×3 kernels need {conv['params']:,} and produce {conv['units']:,} outputs.",
        f"A dense layer from a 200×200×3 image to 120,000 units holds {big['weights'] / 1e9:.1f} "
        f"billion weights ({big['weights'] * 4 / 1e9:.1f} GB as float32); a 3×3 convolution with "
        f"the same 120,000 outputs holds {small['params']:,} parameters, each used "
        f"{small['uses_per_weight']:,.0f} times.",
    )


REFERENCES = (
    Reference(
        "dense 100 → 100 on a 10×10 image / one 3×3 kernel / 200 kernels",
        "10,100 / 10 / 2,000 parameters",
        "course lectures (LECTURES.md §2)",
    ),
    Reference(
        "dense layer, 200×200×3 image to 120,000 hidden units",
        "14.4 billion weights",
        "course lectures (LECTURES.md §2)",
    ),
)


def parameter_sharing_counts() -> ExperimentResult:
    """The counting half of the parameter-sharing experiment (no training, no data)."""
    counts = sharing_counts()
    return ExperimentResult(
        name="parameter-sharing",
        title="Parameter sharing: dense against convolutional layers",
        claim="Locality and parameter sharing: a convolution needs k×k×C_in + 1 parameters per "
        "filter whatever the image size; a dense layer needs one weight per input per unit.",
        columns=COLUMNS,
        rows=count_table(counts),
        findings=count_findings(counts),
        references=REFERENCES,
        data={"counts": counts},
        options={"counts_only": True},
    )


# Same windows, shared or not, against dense: the Greydanus & Kobak CNN, its unshared twin, and
# their MLP (MNIST-1D, trained with the fc-vs-cnn recipe).
TRAINED: tuple[Net, ...] = (
    Net("conv (shared weights)", "conv", "mnist1d_cnn"),
    Net("locally connected (unshared)", "local", "mnist1d_cnn"),
    Net("dense (MLP)", "dense", "mnist1d_mlp"),
)


def parameter_sharing(
    *, seeds: int = 3, quick: bool = False, epochs: float | None = None, counts_only: bool = False,
    verbose: int = 0, announce: Callable[[str], None] | None = None,
) -> ExperimentResult:  # fmt: skip
    """The counts, then (unless ``counts_only``) the accuracy that sharing buys on MNIST-1D."""
    result = parameter_sharing_counts()
    if counts_only:
        return result
    from convlens.experiments.fc_vs_cnn import train_comparison

    raw = train_comparison(
        "mnist1d", seeds=seeds, quick=quick, epochs=epochs, nets=TRAINED,
        verbose=verbose, announce=announce,
    )  # fmt: skip
    nets = raw["nets"]
    lines = tuple(
        f"{label}: {v['params']:,} parameters, train {pct(v['train_acc'], v['train_std'] if seeds > 1 else None)}, "
        f"test {pct(v['test_acc'], v['test_std'] if seeds > 1 else None)} (MNIST-1D, {seeds} seed(s))."
        for label, v in nets.items()
    )
    fig = FigureData(
        "sharing_accuracy", "Same windows, shared or not, against dense (MNIST-1D)", "",
        "accuracy",
        tuple(
            Series(split, tuple(range(len(nets))), tuple(v[f"{split}_acc"] for v in nets.values()),
                   tuple(v[f"{split}_std"] for v in nets.values()))
            for split in ("test", "train")
        ),
        kind="bar", xticks=tuple(f"{k}\n{v['params']:,} params" for k, v in nets.items()),
    )  # fmt: skip
    return replace(
        result,
        findings=result.findings + lines,
        figures=(fig,),
        data={**result.data, "training": raw},
        options={"seeds": seeds, "quick": quick, "recipe": raw["recipe"]},
    )
