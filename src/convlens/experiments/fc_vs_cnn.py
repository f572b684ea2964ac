"""Convolutional against fully connected networks, on ordered and on shuffled input positions.

MNIST-1D (Greydanus & Kobak 2020/2024) is small enough to train in seconds and hard enough to
separate architectures: a 5,210-parameter CNN reaches about 94% test accuracy while a 15,210-
parameter MLP stays near 68%. Prince (Understanding Deep Learning, 2023, Fig. 10.8) reports the
same gap for his networks: about 17% test error for the conv net against about 40% for the fully
connected one.

The shuffled variant applies one fixed permutation to the 40 positions of every signal. An MLP
does not know which inputs are neighbours, so a permutation changes nothing for it; a CNN's
locality and weight sharing assume that neighbours belong together, so it loses its advantage
(Greydanus & Kobak: CNN about 56%, MLP still about 68%).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from convlens.errors import ConfigError
from convlens.experiments.result import (
    ExperimentResult,
    FigureData,
    Reference,
    Series,
    pct,
)
from convlens.experiments.training import Net, Recipe, compare

GK = "Greydanus & Kobak 2020 (arXiv 2011.14439)"
PRINCE = "Prince, Understanding Deep Learning (2023), Fig. 10.8"

NETS: dict[str, tuple[Net, ...]] = {
    "mnist1d": (
        Net("CNN (Greydanus & Kobak)", "conv", "mnist1d_cnn"),
        Net("CNN (Prince)", "conv", "udl_cnn"),
        Net("MLP of comparable size", "dense", "fc100-fc10"),
        Net("MLP (Greydanus & Kobak)", "dense", "mnist1d_mlp"),
        Net("MLP (Prince)", "dense", "udl_fc"),
    ),
    "fashion-mnist": (
        # the lectures' 28x28 example network (LECTURES.md §3, last worked example)
        Net("CNN (lectures' 28×28 net)", "conv", "conv5x5x16p2-pool2-conv5x5x32p2-pool2-fc10"),
        Net("MLP of comparable size", "dense", "fc32-fc10"),
        Net("MLP 784-100-10 (lectures)", "dense", "mlp"),
    ),
}

# Greydanus & Kobak train with Adam at 1e-2, batches of 100, for 6,000 steps (150 epochs of
# 4,000 signals), without weight decay (mnist1d ``get_model_args``).
RECIPES: dict[str, Recipe] = {
    "mnist1d": Recipe(epochs=150),
    "fashion-mnist": Recipe(epochs=3, batch_size=128, lr=2e-3),
}
QUICK_EPOCHS = {"mnist1d": 4.0, "fashion-mnist": 0.2}
# your own data (a folder, .npz or IDX files): Adam at 2e-3, as for Fashion-MNIST, for 10 epochs
USER_RECIPE = Recipe(epochs=10, batch_size=128, lr=2e-3)
USER_QUICK_EPOCHS = 1.0

REFERENCES: dict[tuple[str, bool], tuple[Reference, ...]] = {
    ("mnist1d", False): (
        Reference("CNN (Greydanus & Kobak) test accuracy", "about 94%", GK),
        Reference("MLP (Greydanus & Kobak) test accuracy", "about 68%", GK),
        Reference("CNN (Prince) test error", "about 17% (83% accuracy)", PRINCE),
        Reference("fully connected (Prince) test error", "about 40% (60% accuracy)", PRINCE),
    ),
    ("mnist1d", True): (
        Reference("CNN test accuracy on shuffled positions", "about 56%", GK),
        Reference("MLP test accuracy on shuffled positions", "about 68% (unchanged)", GK),
    ),
}


def _load(data: str, shuffled: bool, options: dict[str, Any] | None = None) -> tuple[Any, Any]:
    from pathlib import Path

    from convlens.data import load_dataset

    if data not in NETS and not Path(data).exists():
        raise ConfigError(
            f"no comparison is defined for {data!r}; choose one of {', '.join(NETS)} "
            "or give the path of your own images or signals"
        )
    if shuffled and data != "mnist1d":
        raise ConfigError("the shuffled-positions variant exists for mnist1d only")
    if shuffled:
        return load_dataset(data, "train", shuffle=True), load_dataset(data, "test", shuffle=True)
    read = dict(options or {})  # how one's own data is read (size=, skip_bad=, ...)
    return load_dataset(data, "train", **read), load_dataset(data, "test", **read)


def _recipe(data: str, quick: bool, epochs: float | None) -> Recipe:
    from dataclasses import replace

    recipe = RECIPES.get(data, USER_RECIPE)
    if epochs is not None:
        return replace(recipe, epochs=epochs)
    return replace(recipe, epochs=QUICK_EPOCHS.get(data, USER_QUICK_EPOCHS)) if quick else recipe


def nets_for(in_shape: tuple[int, ...], num_classes: int) -> tuple[Net, ...]:
    """The comparison for your own data: the lectures' conv net against the lectures' MLP shape,
    sized to the data's classes (signals: the same conv net in 1-D)."""
    k = num_classes
    if len(in_shape) == 3:
        conv = f"conv5x5x16p2-pool2-conv5x5x32p2-pool2-fc{k}"  # LECTURES.md section 3
    elif len(in_shape) == 2:
        conv = f"conv1d5x16p2-pool2-conv1d5x32p2-pool2-fc{k}"
    else:
        raise ConfigError(
            "fc-vs-cnn compares networks on images or signals; this data holds rows of "
            f"{in_shape[0]} features, where there is nothing for a convolution to slide over "
            "(store signals as N x 1 x L arrays)"
        )
    return (
        Net("CNN (lectures' net)", "conv", conv),
        Net("MLP of comparable size", "dense", f"fc32-fc{k}"),
        Net("MLP 100 hidden units (lectures)", "dense", f"fc100-fc{k}"),
    )


def train_comparison(
    data: str = "mnist1d",
    *,
    shuffled: bool = False,
    seeds: int = 3,
    quick: bool = False,
    epochs: float | None = None,
    nets: tuple[Net, ...] | None = None,
    verbose: int = 0,
    announce: Callable[[str], None] | None = None,
    keep: bool = False,
    data_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train the comparison's networks; the raw numbers behind ``fc_vs_cnn`` and ``shuffled``.
    ``data_options`` say how the user's own data is read (``load_dataset``'s options)."""
    if seeds < 1:
        raise ConfigError(f"seeds must be at least 1, not {seeds}")
    train, test = _load(data, shuffled, data_options)
    recipe = _recipe(data, quick, epochs)
    chosen = nets or NETS.get(data) or nets_for(tuple(train.in_shape), train.num_classes)
    results = compare(
        chosen, train, test, recipe, seeds,
        verbose=verbose, announce=announce, keep=keep,
    )  # fmt: skip
    return {
        "data": data,
        "shuffled": shuffled,
        "seeds": seeds,
        "recipe": recipe.__dict__,
        "train_size": len(train),
        "test_size": len(test),
        "nets": results,
    }


def _figures(raw: dict[str, Any], name: str, variant: str) -> tuple[FigureData, ...]:
    """Bars of train and test accuracy per network, and seed 0's test-accuracy curves."""
    data, nets, several = raw["data"], raw["nets"], raw["seeds"] > 1
    positions = tuple(range(len(nets)))
    bars = tuple(
        Series(split, positions, tuple(v[f"{split}_acc"] for v in nets.values()),
               tuple(v[f"{split}_std"] for v in nets.values()))
        for split in ("test", "train")
    )  # fmt: skip
    curves = tuple(
        Series(label, tuple(float(e) for e, _ in v["runs"][0]["curve"]),
               tuple(a for _, a in v["runs"][0]["curve"]))
        for label, v in nets.items()
    )  # fmt: skip
    spread = f" (mean ± std over {raw['seeds']} seeds)" if several else ""
    return (
        FigureData(f"{name}_accuracy", f"Accuracy on {data}{variant}{spread}", "", "accuracy",
                   bars, kind="bar",
                   xticks=tuple(f"{k}\n{v['params']:,} params" for k, v in nets.items())),
        FigureData(f"{name}_curves", f"Test accuracy during training ({data}{variant}, seed 0)",
                   "epoch", "test accuracy", curves),
    )  # fmt: skip


def result_from(raw: dict[str, Any], *, quick: bool = False) -> ExperimentResult:
    """The ExperimentResult (table, findings, references, figures) of a ``train_comparison``."""
    data, shuffled, nets = raw["data"], raw["shuffled"], raw["nets"]
    several = raw["seeds"] > 1  # a spread over one seed would be a made-up zero

    def acc(v: dict[str, Any], split: str) -> str:
        return pct(v[f"{split}_acc"], v[f"{split}_std"] if several else None)

    rows = tuple(
        (label, v["kind"], v["model"], v["params"], acc(v, "train"), acc(v, "test"))
        for label, v in nets.items()
    )
    name = "shuffled" if shuffled else "fc-vs-cnn"
    variant = " with shuffled input positions" if shuffled else ""
    clean = {
        **raw,
        "nets": {k: {f: x for f, x in v.items() if f != "last_model"} for k, v in nets.items()},
    }
    references = REFERENCES.get((data, False), ())
    if shuffled:
        references = references[:2] + REFERENCES.get((data, True), ())
    return ExperimentResult(
        name=name,
        title=f"Convolutional vs fully connected networks on {data}{variant}",
        claim=(
            "A CNN's locality and sharing assume that neighbouring inputs belong together: "
            "destroy the order and its advantage goes, while an MLP does not notice."
            if shuffled
            else "Locality, sharing and hierarchy let a small CNN generalise far better than "
            "fully connected networks with as many or more parameters."
        ),
        columns=("network", "kind", "model", "params", "train acc", "test acc"),
        rows=rows,
        findings=_findings(nets, shuffled, several),
        references=references,
        figures=_figures(raw, name, variant),
        data=clean,
        options={"data": data, "seeds": raw["seeds"], "quick": quick, "recipe": raw["recipe"]},
    )


def best_of(nets: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    """The network of one kind with the highest mean test accuracy."""
    return max(
        ((k, v) for k, v in nets.items() if v["kind"] == kind), key=lambda kv: kv[1]["test_acc"]
    )


def _shuffled_findings(nets: dict[str, Any]) -> tuple[str, ...]:
    out = []
    for kind in ("conv", "dense"):
        ordered = best_of({k: v for k, v in nets.items() if k.endswith("ordered")}, kind)
        mixed = best_of({k: v for k, v in nets.items() if k.endswith("shuffled")}, kind)
        drop = 100 * (ordered[1]["test_acc"] - mixed[1]["test_acc"])
        out.append(
            f"{ordered[0].rsplit(',', 1)[0]}: {pct(ordered[1]['test_acc'])} in order, "
            f"{pct(mixed[1]['test_acc'])} shuffled ({drop:.1f} points lost)."
        )
    for suffix in ("ordered", "shuffled"):
        part = {k: v for k, v in nets.items() if k.endswith(suffix)}
        gap = 100 * (best_of(part, "conv")[1]["test_acc"] - best_of(part, "dense")[1]["test_acc"])
        out.append(f"CNN advantage over the MLP, {suffix}: {gap:+.1f} points.")
    return tuple(out)


def _findings(nets: dict[str, Any], shuffled: bool, several: bool) -> tuple[str, ...]:
    if shuffled:
        return _shuffled_findings(nets)
    conv_label, conv = best_of(nets, "conv")
    dense_label, dense = best_of(nets, "dense")
    gap = 100 * (conv["test_acc"] - dense["test_acc"])
    out = [
        f"Best conv net: {conv_label}, {pct(conv['test_acc'], conv['test_std'] if several else None)} test accuracy "
        f"with {conv['params']:,} parameters.",
        f"Best fully connected net: {dense_label}, {pct(dense['test_acc'], dense['test_std'] if several else None)} "
        f"with {dense['params']:,} parameters.",
        f"Gap: {gap:+.1f} percentage points in favour of the "
        + ("conv net." if gap >= 0 else "fully connected net."),
    ]
    pair = [nets.get(f"{kind} (Greydanus & Kobak)") for kind in ("CNN", "MLP")]
    if pair[0] and pair[1]:
        out.append(
            f"Greydanus & Kobak's pair: {pct(pair[0]['test_acc'])} vs {pct(pair[1]['test_acc'])}, "
            f"a gap of {100 * (pair[0]['test_acc'] - pair[1]['test_acc']):.1f} points "
            "(published: about 94% vs 68%, 26 points)."
        )
    for label, v in nets.items():
        out.append(
            f"{label}: train {pct(v['train_acc'])} vs test {pct(v['test_acc'])} "
            f"(generalisation gap {100 * (v['train_acc'] - v['test_acc']):.1f} points)."
        )
    return tuple(out)


def fc_vs_cnn(
    *, data: str = "mnist1d", seeds: int = 3, quick: bool = False, epochs: float | None = None,
    verbose: int = 0, announce: Callable[[str], None] | None = None,
    data_options: dict[str, Any] | None = None,
) -> ExperimentResult:  # fmt: skip
    """CNNs against MLPs of comparable and larger size: train/test accuracy over seeds;
    ``data_options`` read one's own data (``size="32x32"``, ``skip_bad=True``, ...)."""
    raw = train_comparison(
        data, seeds=seeds, quick=quick, epochs=epochs, verbose=verbose, announce=announce,
        data_options=data_options,
    )  # fmt: skip
    return result_from(raw, quick=quick)


def shuffled(
    *,
    seeds: int = 3,
    quick: bool = False,
    epochs: float | None = None,
    verbose: int = 0,
    announce: Callable[[str], None] | None = None,
) -> ExperimentResult:
    """The Greydanus & Kobak CNN and MLP on MNIST-1D, in order and with one fixed permutation of
    the 40 positions, trained the same way."""
    nets = tuple(n for n in NETS["mnist1d"] if n.model in ("mnist1d_cnn", "mnist1d_mlp"))
    merged: dict[str, Any] = {}
    raw: dict[str, Any] = {}
    for mixed in (False, True):
        raw = train_comparison(
            "mnist1d", shuffled=mixed, seeds=seeds, quick=quick, epochs=epochs, nets=nets,
            verbose=verbose, announce=announce,
        )  # fmt: skip
        suffix = ", shuffled" if mixed else ", ordered"
        merged.update({label + suffix: v for label, v in raw["nets"].items()})
    return result_from({**raw, "nets": merged}, quick=quick)
