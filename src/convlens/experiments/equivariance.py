"""Translation equivariance of convolutions and invariance from pooling, measured.

Equivariance (LECTURES.md §2): f(g(x)) = g(f(x)) for a shift g. For a stack whose total jump
(effective stride) is J, shifting the input by s pixels should shift the maps by s / J. We
measure the relative error

    e(s) = min_k ||f(roll(x, s)) - roll(f(x), k)|| / ||f(x)||,   k in {floor(s/J), ceil(s/J)}

with ``torch.roll`` as the shift (a circular shift, the symmetry that circular padding respects
exactly). A stride-1 convolution with circular padding gives e = 0 to rounding at every shift;
zero padding breaks it only at the border (and not at all if the content keeps a blank border
wider than the shift); a stride or pooling of 2 keeps it only for even shifts: the sampling
grid can move by whole output pixels only (Zhang, "Making convolutional networks shift-invariant
again", ICML 2019).

Invariance: how much a representation changes at all, ||h(roll(x, s)) - h(x)|| / ||h(x)||.
Feature maps change with every shift; pooling over a window absorbs small shifts, and a global
average over a circularly padded map absorbs every shift exactly.

The networks are spec-built with seeded random weights: these are properties of the architecture,
not of training. The classifier-level curve (accuracy on shifted test data for a trained CNN and
MLP) is in ``shift_robustness``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from convlens.errors import ConfigError
from convlens.experiments.result import ExperimentResult, FigureData, Series, mean_std


@dataclass(frozen=True)
class Probe:
    label: str
    spec: str
    blank_border: int = 0  # zero the outer pixels of the input (content that fits in the image)


EQUIVARIANCE_PROBES: tuple[Probe, ...] = (
    Probe("stride-1 conv, circular padding", "conv3x3x8p1circular"),
    Probe("stride-1 conv, zero padding", "conv3x3x8p1"),
    Probe("stride-1 conv, zero padding, blank border", "conv3x3x8p1", blank_border=9),
    Probe("stride-2 conv, circular padding", "conv3x3x8s2p1circular"),
    Probe("conv + 2×2 max pool", "conv3x3x8p1circular-pool2"),
    Probe(
        "two conv + pool stages (jump 4)", "conv3x3x8p1circular-pool2-conv3x3x16p1circular-pool2"
    ),
)

INVARIANCE_PROBES: tuple[Probe, ...] = (
    Probe("conv feature map", "conv3x3x8p1circular"),
    Probe("after 2×2 max pool", "conv3x3x8p1circular-pool2"),
    Probe("after 4×4 max pool", "conv3x3x8p1circular-pool4"),
    Probe("after global average pool", "conv3x3x8p1circular-gap"),
)

IN_SHAPE = (1, 32, 32)  # 32 is divisible by every jump above, so whole-pixel shifts exist


def _inputs(shape: Sequence[int], n: int, seed: int, blank_border: int) -> Any:
    import torch

    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n, *shape), generator=g)
    if blank_border:
        b = blank_border
        inner = x[..., b:-b, b:-b].clone()
        x.zero_()
        x[..., b:-b, b:-b] = inner
    return x


def _model(spec: str, shape: Sequence[int], seed: int) -> tuple[Any, int]:
    """The spec-built network (seeded weights, eval mode) and its total horizontal jump."""
    import torch

    from convlens.analysis.summary import summarize
    from convlens.build import build_model

    torch.manual_seed(seed)
    model = build_model(spec, tuple(shape)).eval()
    rows = summarize(spec, tuple(shape)).rows
    jump = next((r.jump[-1] for r in reversed(rows) if r.jump), 1)
    return model, jump


def equivariance_errors(
    probe: Probe, shifts: Sequence[int], *, seed: int = 0, n: int = 8
) -> list[float]:
    """e(s) for each shift (see the module docstring), averaged over ``n`` random inputs."""
    import torch

    model, jump = _model(probe.spec, IN_SHAPE, seed)
    x = _inputs(IN_SHAPE, n, seed, probe.blank_border)
    out = []
    with torch.no_grad():
        fx = model(x)
        norm = fx.flatten(1).norm(dim=1)
        for s in shifts:
            fgx = model(torch.roll(x, s, dims=-1))
            best = None
            for k in sorted({s // jump, -(-s // jump)}):
                err = (fgx - torch.roll(fx, k, dims=-1)).flatten(1).norm(dim=1) / norm
                best = err if best is None else torch.minimum(best, err)
            assert best is not None
            out.append(float(best.mean()))
    return out


def invariance_changes(
    probe: Probe, shifts: Sequence[int], *, seed: int = 0, n: int = 8
) -> list[float]:
    """||h(roll(x, s)) - h(x)|| / ||h(x)|| for each shift, averaged over ``n`` random inputs."""
    import torch

    model, _ = _model(probe.spec, IN_SHAPE, seed)
    x = _inputs(IN_SHAPE, n, seed, probe.blank_border)
    out = []
    with torch.no_grad():
        hx = model(x)
        norm = hx.flatten(1).norm(dim=1)
        for s in shifts:
            change = (model(torch.roll(x, s, dims=-1)) - hx).flatten(1).norm(dim=1) / norm
            out.append(float(change.mean()))
    return out


def shift_robustness(
    models: dict[str, Any], test: Any, shifts: Sequence[int], limit: int | None = None
) -> dict[str, dict]:
    """Accuracy on the test set circularly shifted (along the last axis) by each amount, and the
    share of unchanged predictions, for trained models (label -> nn.Module); ``limit`` uses only
    the first that many test examples. Scored as every experiment scores (``training.scoring``),
    so the accuracy at shift 0 is the model's test accuracy."""
    import torch

    from convlens.experiments.training import scoring
    from convlens.train.evaluation import scored_logits

    x, y = test.float_x(), test.y
    if limit is not None:
        x, y = x[:limit], y[:limit]
    config = scoring()
    out: dict[str, dict] = {}
    for label, model in models.items():
        base = scored_logits(model, x, config).argmax(1).cpu()
        acc, same = [], []
        for s in shifts:
            pred = scored_logits(model, torch.roll(x, s, dims=-1), config).argmax(1).cpu()
            acc.append(float((pred == y).float().mean()))
            same.append(float((pred == base).float().mean()))
        out[label] = {"accuracy": acc, "unchanged": same}
    return out


# table header: the errors at whole-jump and other shifts tell equivariance from its absence
COLUMNS = (
    "measure", "network", "spec", "jump", "at shift 1",
    "max at whole-jump shifts", "max at other shifts",
)  # fmt: skip

_MEASURES: dict[str, tuple[tuple[Probe, ...], Callable[..., list[float]]]] = {
    "equivariance": (EQUIVARIANCE_PROBES, equivariance_errors),
    "invariance": (INVARIANCE_PROBES, invariance_changes),
}


def _measure_probe(
    group: str, probe: Probe, measure: Callable[..., list[float]], shifts: list[int], seeds: int
) -> tuple[dict[str, Any], Series, tuple]:
    """One network's curve over ``seeds`` random weightings: its data, its series, its row."""
    per_seed = [measure(probe, shifts, seed=seed) for seed in range(seeds)]
    stats = [mean_std([run[i] for run in per_seed]) for i in range(len(shifts))]
    means, stds = [m for m, _ in stats], [s for _, s in stats]
    jump = _model(probe.spec, IN_SHAPE, 0)[1]
    whole = [means[i] for i in shifts if i and i % jump == 0]
    other = [means[i] for i in shifts if i % jump]
    entry = {"spec": probe.spec, "mean": means, "std": stds, "jump": jump}
    curve = Series(probe.label, tuple(shifts), tuple(means), tuple(stds))
    row = (
        group, probe.label, probe.spec, jump, means[1],
        max(whole) if whole else None, max(other) if other else None,
    )  # fmt: skip
    return entry, curve, row


def _figures(curves: dict[str, list[Series]], classifier: dict | None) -> tuple[FigureData, ...]:
    shift = "input shift (pixels)"
    figures = [
        FigureData("equivariance", "Equivariance error of conv feature maps", shift,
                   "relative error after the best output shift", tuple(curves["equivariance"])),
        FigureData("invariance", "How much a representation changes under a shift", shift,
                   "relative change", tuple(curves["invariance"])),
    ]  # fmt: skip
    if classifier:
        cshifts = tuple(classifier["shifts"])
        accuracy = tuple(
            Series(label, cshifts, tuple(v["accuracy"]))
            for label, v in classifier.items()
            if isinstance(v, dict)
        )
        figures.append(
            FigureData("classifier_shift", "Trained classifiers on shifted test inputs",
                       "input shift (positions along the last axis)", "test accuracy", accuracy)
        )  # fmt: skip
    return tuple(figures)


def equivariance(
    *,
    seeds: int = 3,
    max_shift: int = 8,
    quick: bool = False,
    trained: bool = True,
    epochs: float | None = None,
    classifier: dict | None = None,
    verbose: int = 0,
    announce: Callable[[str], None] | None = None,
) -> ExperimentResult:
    """Equivariance error and invariance against shift size, over ``seeds`` random networks.

    With ``trained`` it also trains the MNIST-1D CNN and MLP of Greydanus & Kobak (seed 0,
    ``epochs`` of the fc-vs-cnn recipe: 40 by default, 4 with ``quick``) and measures their
    test accuracy on shifted signals. ``classifier`` passes that measurement in ready-made (the
    output of ``shift_robustness`` plus its ``"shifts"``) instead.
    """
    if seeds < 1 or max_shift < 1:
        raise ConfigError(f"seeds and max_shift must be at least 1, not {seeds} and {max_shift}")
    if quick:
        seeds, max_shift = min(seeds, 2), min(max_shift, 4)
    if classifier is None and trained:
        classifier = _trained_classifiers(epochs or (4.0 if quick else 40.0), verbose, announce)
    shifts = list(range(max_shift + 1))
    data: dict[str, Any] = {"shifts": shifts, "in_shape": list(IN_SHAPE), "seeds": seeds}
    curves: dict[str, list[Series]] = {}
    rows: list[tuple] = []
    for group, (probes, measure) in _MEASURES.items():
        measured = [_measure_probe(group, probe, measure, shifts, seeds) for probe in probes]
        data[group] = {probe.label: entry for probe, (entry, _, _) in zip(probes, measured)}
        curves[group] = [curve for _, curve, _ in measured]
        rows += [row for _, _, row in measured]
    if classifier:
        data["classifier"] = classifier
    return ExperimentResult(
        name="equivariance",
        title="Translation equivariance and invariance",
        claim="Convolution is translation equivariant (f(g(x)) = g(f(x))); pooling adds "
        "invariance to small translations; strides keep equivariance only for whole-stride shifts.",
        columns=COLUMNS,
        rows=tuple(rows),
        findings=_findings(data),
        figures=_figures(curves, classifier),
        data=data,
        options={
            "seeds": seeds,
            "max_shift": max_shift,
            "quick": quick,
            "trained": bool(classifier),
        },
    )


def _trained_classifiers(
    epochs: float, verbose: int, announce: Callable[[str], None] | None
) -> dict[str, Any]:
    from convlens.data import load_dataset
    from convlens.experiments.fc_vs_cnn import NETS, train_comparison

    pair = tuple(n for n in NETS["mnist1d"] if n.model in ("mnist1d_cnn", "mnist1d_mlp"))
    raw = train_comparison(
        "mnist1d", seeds=1, epochs=epochs, nets=pair, verbose=verbose, announce=announce,
        keep=True,
    )  # fmt: skip
    models = {label: v["last_model"] for label, v in raw["nets"].items()}
    shifts = list(range(11))
    return {
        "shifts": shifts,
        "epochs": epochs,
        **shift_robustness(models, load_dataset("mnist1d", "test"), shifts),
    }


def _findings(data: dict[str, Any]) -> tuple[str, ...]:
    eq, inv = data["equivariance"], data["invariance"]
    circ = max(eq["stride-1 conv, circular padding"]["mean"])
    zero = max(eq["stride-1 conv, zero padding"]["mean"])
    blank = max(eq["stride-1 conv, zero padding, blank border"]["mean"])
    s2 = eq["stride-2 conv, circular padding"]["mean"]
    out = [
        f"Stride-1 convolution with circular padding: largest equivariance error {circ:.1e} "
        "(rounding only).",
        f"With zero padding the border breaks it (largest error {zero:.3f}); with a blank border "
        f"wider than the shift it holds again ({blank:.1e}).",
        f"Stride 2: error {max(s2[2::2], default=0.0):.1e} for even shifts, "
        f"{max(s2[1::2], default=0.0):.3f} for odd shifts.",
    ]
    gap = max(inv["after global average pool"]["mean"])
    conv1 = inv["conv feature map"]["mean"][1]
    pool1 = inv["after 2×2 max pool"]["mean"][1]
    out.append(
        f"A 1-pixel shift changes the conv maps by {conv1:.2f} (relative), the 2×2 max-pooled maps "
        f"by {pool1:.2f}; the global average changes by {gap:.1e} at any shift."
    )
    classifier = data.get("classifier")
    if classifier:
        last = classifier["shifts"][-1]
        for label, v in classifier.items():
            if isinstance(v, dict):
                out.append(
                    f"{label}: test accuracy {v['accuracy'][0]:.1%} unshifted, "
                    f"{v['accuracy'][1]:.1%} after a shift by 1, {v['accuracy'][-1]:.1%} "
                    f"after {last}; {v['unchanged'][1]:.1%} of predictions survive a shift by 1."
                )
    return tuple(out)
