"""The lectures' claims about convolution, as experiments that anyone can rerun.

``run_experiment(name, **options) -> ExperimentResult``; ``list_experiments()`` names them. Each
experiment is also a function of its own (``fc_vs_cnn``, ``shuffled``, ``equivariance``,
``parameter_sharing``, ``receptive_field_growth``, ``learned_invariance``,
``traditional_vs_end_to_end``, ``universal_approximator``, ``gradient_descent_paths``), seeded
and returning a value; rendering to files is ``save_result(result, out_dir)``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from convlens.errors import ConfigError
from convlens.experiments.approximator import universal_approximator
from convlens.experiments.descent import gradient_descent_paths
from convlens.experiments.equivariance import equivariance
from convlens.experiments.fc_vs_cnn import fc_vs_cnn, shuffled
from convlens.experiments.invariance_learned import learned_invariance
from convlens.experiments.output import save_result, table_text
from convlens.experiments.receptive import receptive_field_growth
from convlens.experiments.result import ExperimentResult, FigureData, Reference, Series
from convlens.experiments.sharing import parameter_sharing
from convlens.experiments.traditional import traditional_vs_end_to_end


@dataclass(frozen=True)
class Experiment:
    name: str
    run: Callable[..., ExperimentResult]
    summary: str  # one line for `convlens experiment --list`
    trains: bool  # whether it trains networks (minutes) or only measures (seconds)


EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        Experiment(
            "fc-vs-cnn",
            fc_vs_cnn,
            "CNNs vs fully connected nets on MNIST-1D (or Fashion-MNIST), over seeds",
            True,
        ),
        Experiment(
            "shuffled",
            shuffled,
            "the same with input positions permuted: the CNN's advantage goes",
            True,
        ),
        Experiment(
            "equivariance",
            equivariance,
            "shift the input: conv maps shift with it, pooling absorbs small shifts",
            True,
        ),
        Experiment(
            "parameter-sharing",
            parameter_sharing,
            "dense vs conv parameter counts (lecture arithmetic) and what sharing buys",
            True,
        ),
        Experiment(
            "receptive-field",
            receptive_field_growth,
            "receptive field against depth, stride, pooling and dilation",
            False,
        ),
        Experiment(
            "learned-invariance",
            learned_invariance,
            "the max over filters trained on rotated patterns is rotation-invariant; one filter is not",
            True,
        ),
        Experiment(
            "traditional",
            traditional_vs_end_to_end,
            "hand-made features (HOG, Iris thresholds) + linear classifier vs CNN / MLP end to end",
            True,
        ),
        Experiment(
            "universal-approximator",
            universal_approximator,
            "a 1-D function from sigmoid bumps by hand vs the same network by gradient descent",
            True,
        ),
        Experiment(
            "gradient-descent",
            gradient_descent_paths,
            "the lectures' descent loop on 2-D loss surfaces for several step sizes",
            False,
        ),
    )
}


def list_experiments() -> list[str]:
    return list(EXPERIMENTS)


def experiment_options(name: str) -> dict[str, Any]:
    """The keyword options of an experiment and their defaults."""
    params = inspect.signature(_lookup(name).run).parameters
    return {k: p.default for k, p in params.items() if p.kind is p.KEYWORD_ONLY}


def _lookup(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise ConfigError(f"unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def run_experiment(name: str, **options: Any) -> ExperimentResult:
    """Run one experiment by name: ``run_experiment("equivariance", seeds=2, quick=True)``."""
    known = experiment_options(name)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(
            f"experiment {name!r} has no option {unknown[0]!r}; its options: {', '.join(known)}"
        )
    return _lookup(name).run(**options)


__all__ = [
    "EXPERIMENTS",
    "Experiment",
    "ExperimentResult",
    "FigureData",
    "Reference",
    "Series",
    "equivariance",
    "experiment_options",
    "fc_vs_cnn",
    "gradient_descent_paths",
    "learned_invariance",
    "list_experiments",
    "parameter_sharing",
    "receptive_field_growth",
    "run_experiment",
    "save_result",
    "shuffled",
    "table_text",
    "traditional_vs_end_to_end",
    "universal_approximator",
]
