"""What one hidden layer can represent: a 1-D function built by hand from sigmoid bumps, then
the same network learned by gradient descent on the squared error.

Option 1, construct by hand (LECTURES.md §8): two sigmoid units of steepness k make a bump,
sigmoid(k(x - a)) - sigmoid(k(x - b)), close to 1 on [a, b] and close to 0 elsewhere. Cut [0, 1]
into N equal pieces and give piece i a bump of height f(c_i), the target at its centre c_i: the
sum is a staircase through the target, and with 2N hidden units the error falls as N grows
(Nielsen, *Neural Networks and Deep Learning*, 2015, ch. 4, the visual proof of universality).
Neighbouring bumps share an edge, so equal heights telescope: a run of bumps of height h from a
to b is exactly h (sigmoid(k(x - a)) - sigmoid(k(x - b))).

Option 2, automatic estimation: the same architecture, y = sum_j v_j sigmoid(w_j x + c_j) + d with
the same number of hidden units, every weight learned by gradient descent (Adam) on
1/2 (y - f(x))^2, the lectures' divergence for real-valued targets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from convlens.errors import ConfigError
from convlens.experiments.result import ExperimentResult, FigureData, Series


def _sigmoid(z: NDArray) -> NDArray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + e^-z), without overflow for large |z|


@dataclass(frozen=True)
class Target:
    label: str
    f: Callable[[NDArray], NDArray]


TARGETS: dict[str, Target] = {
    "sine": Target(
        "sin(2πx) + 0.3 sin(6πx)", lambda x: np.sin(2 * np.pi * x) + 0.3 * np.sin(6 * np.pi * x)
    ),
    "step": Target("step at x = 0.5", lambda x: (x >= 0.5).astype(np.float64)),
    "bump": Target("exp(-40 (x - 0.4)²)", lambda x: np.exp(-40 * (x - 0.4) ** 2)),
}


@dataclass(frozen=True)
class Bumps:
    """sum_i height_i (sigmoid(k (x - edges_i)) - sigmoid(k (x - edges_{i+1}))): 2N sigmoid units."""

    edges: NDArray  # (N + 1,)
    heights: NDArray  # (N,)
    steepness: float

    @property
    def hidden_units(self) -> int:
        return 2 * len(self.heights)

    def __call__(self, x: NDArray) -> NDArray:
        x = np.asarray(x, dtype=np.float64)[..., None]
        rise = _sigmoid(self.steepness * (x - self.edges[:-1]))
        fall = _sigmoid(self.steepness * (x - self.edges[1:]))
        return (rise - fall) @ self.heights


def bumps_by_hand(f: Callable[[NDArray], NDArray], n: int, sharpness: float = 10.0) -> Bumps:
    """N bumps on [0, 1], bump i of height f(centre_i); k = sharpness * N, so every bump's edges
    are equally sharp relative to its width 1/N."""
    if n < 1:
        raise ConfigError(f"a construction needs at least one bump, not {n}")
    edges = np.linspace(0.0, 1.0, n + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    return Bumps(edges, np.asarray(f(centres), dtype=np.float64), sharpness * n)


def rms(a: NDArray, b: NDArray) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def train_sigmoid_nets(
    x: NDArray,
    targets: NDArray,
    hidden: tuple[int, ...],
    *,
    steps: int = 2000,
    lr: float = 0.02,
    seed: int = 0,
) -> tuple[Callable[[NDArray], NDArray], NDArray]:
    """Networks of one hidden layer of sigmoid units, net m with ``hidden[m]`` units fitted to
    ``targets[:, m]`` at the points ``x``, by full-batch Adam on 1/2 (y - t)^2.

    All the networks train in one loop: the loss is the sum of their losses, and since they share
    no parameter and Adam scales every parameter by its own gradient history, each one follows
    exactly the steps it would take alone, for the cost of one run.

    The input weights start spread like a construction's, w ~ N(0, (4 H)^2) with the sigmoids'
    centres -c/w uniform in [0, 1]: PyTorch's default init (|w| <= 1) gives sigmoids that are
    nearly linear over [0, 1], and the network then spends thousands of steps bending them.

    Returns the fitted function (points (P,) -> outputs (P, nets)) and the final loss of each net.
    """
    import torch

    dtype = torch.float32  # float64 is slower on a CPU and gains nothing at these errors
    g = torch.Generator().manual_seed(seed)
    owner = torch.cat([torch.full((h,), m) for m, h in enumerate(hidden)])  # net of each unit
    scale = torch.tensor([float(h) for h in hidden], dtype=dtype)[owner]
    w = torch.randn(len(owner), generator=g, dtype=dtype) * 4 * scale
    centre = torch.rand(len(owner), generator=g, dtype=dtype)
    c = -w * centre
    v = torch.randn(len(owner), generator=g, dtype=dtype) / scale.sqrt()
    d = torch.zeros(len(hidden), dtype=dtype)
    params = [p.requires_grad_() for p in (w, c, v, d)]
    xt = torch.as_tensor(x, dtype=dtype)[:, None]
    yt = torch.as_tensor(targets, dtype=dtype)
    nets = len(hidden)

    def forward(points: torch.Tensor) -> torch.Tensor:
        units = torch.sigmoid(points * w + c) * v  # (P, all units)
        return torch.zeros(len(points), nets, dtype=dtype).index_add(1, owner, units) + d

    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    threads = torch.get_num_threads()
    # one thread: a second one only waits on tensors this small (6x slower on a busy 2-core
    # machine, measured for experiments/training.py), and a fixed count keeps the sums reproducible
    torch.set_num_threads(1)
    try:
        for _ in range(steps):
            opt.zero_grad()
            per_net = 0.5 * ((forward(xt) - yt) ** 2).mean(0)
            per_net.sum().backward()
            opt.step()
            sched.step()
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        final = (0.5 * ((forward(xt) - yt) ** 2).mean(0)).numpy()

    def fitted(z: NDArray) -> NDArray:
        with torch.no_grad():
            return forward(torch.as_tensor(z, dtype=dtype)[:, None]).numpy()

    return fitted, final


def universal_approximator(
    *, quick: bool = False, targets: tuple[str, ...] = ("sine", "step"), seed: int = 0
) -> ExperimentResult:
    """Error of the hand construction and of the trained network against the hidden units."""
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        raise ConfigError(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    hidden_units = (2, 4, 8, 16, 32) if quick else (2, 4, 8, 16, 32, 64)
    steps = 500 if quick else 2000
    x_train = np.linspace(0.0, 1.0, 101)
    x_test = np.linspace(0.0, 1.0, 1001) + 0.5 / 1000  # between the training points
    x_test = x_test[x_test <= 1.0]
    rows: list[tuple] = []
    figures: list[FigureData] = []
    data: dict[str, Any] = {"x_train": len(x_train), "x_test": len(x_test), "steps": steps}
    findings: list[str] = []
    # every (target, size) pair is one network; all of them train together in one loop
    columns = np.stack([TARGETS[t].f(x_train) for t in targets for _ in hidden_units], axis=1)
    nets, final = train_sigmoid_nets(
        x_train, columns, hidden_units * len(targets), steps=steps, seed=seed
    )
    learned_all = nets(x_test)  # (P, one column per network)
    for k, name in enumerate(targets):
        target = TARGETS[name]
        y_test = target.f(x_test)
        hand_err, learned_err, curves = [], [], {}
        for m, h in enumerate(hidden_units):
            col = k * len(hidden_units) + m
            by_hand = bumps_by_hand(target.f, h // 2)(x_test)
            hand_err.append(rms(by_hand, y_test))
            learned_err.append(rms(learned_all[:, col], y_test))
            rows.append((target.label, h, h // 2, hand_err[-1], learned_err[-1], float(final[col])))
            curves[h] = (by_hand, learned_all[:, col])
        data[name] = {
            "label": target.label,
            "hidden_units": list(hidden_units),
            "by_hand_rmse": hand_err,
            "learned_rmse": learned_err,
        }
        figures += _figures(name, target.label, hidden_units, x_test, hand_err, learned_err, curves)
        findings += _findings(target.label, hidden_units, hand_err, learned_err)
    return _result(tuple(rows), findings, figures, data, quick, targets, seed)


def _figures(
    name: str,
    label: str,
    hidden_units: tuple[int, ...],
    x_test: Any,
    hand_err: list[float],
    learned_err: list[float],
    curves: dict[int, tuple[Any, Any]],
) -> list[FigureData]:
    """The error against the hidden units, and the fits of 4 and 16 units beside the target."""
    units = tuple(map(float, hidden_units))
    error = FigureData(
        f"approximator_error_{name}", f"RMS error against hidden units: {label}",
        "hidden sigmoid units", "RMS error on [0, 1]",
        (Series("construct by hand (bumps)", units, tuple(hand_err)),
         Series("gradient descent (squared error)", units, tuple(learned_err))),
        logy=True,
    )  # fmt: skip
    y_test = TARGETS[name].f(x_test)
    pick = np.linspace(0, len(x_test) - 1, 81).astype(int)  # few enough for the markers
    xs = tuple(map(float, x_test[pick]))
    series = [Series("target", xs, tuple(map(float, y_test[pick])))]
    for h in (h for h in (4, 16) if h in curves):
        series.append(Series(f"by hand, {h} units", xs, tuple(map(float, curves[h][0][pick]))))
        series.append(Series(f"learned, {h} units", xs, tuple(map(float, curves[h][1][pick]))))
    fits = FigureData(f"approximator_fit_{name}", f"The fits: {label}", "x", "y", tuple(series))
    return [error, fits]


def _findings(
    label: str, hidden_units: tuple[int, ...], hand_err: list[float], learned_err: list[float]
) -> list[str]:
    better = [h for h, a, b in zip(hidden_units, hand_err, learned_err) if b < a]
    return [
        f"{label}: by hand, the error falls from {hand_err[0]:.3g} with {hidden_units[0]} units "
        f"to {hand_err[-1]:.3g} with {hidden_units[-1]}; learned, from {learned_err[0]:.3g} to "
        f"{learned_err[-1]:.3g}.",
        f"{label}: gradient descent beats the construction at {len(better)} of "
        f"{len(hidden_units)} sizes" + (f" ({', '.join(map(str, better))} units)" if better else "")
        + ".",
    ]  # fmt: skip


def _result(
    rows: tuple[tuple, ...], findings: list[str], figures: list[FigureData],
    data: dict[str, Any], quick: bool, targets: tuple[str, ...], seed: int,
) -> ExperimentResult:  # fmt: skip
    return ExperimentResult(
        name="universal-approximator",
        title="Universal approximation: construct by hand vs learn by gradient descent",
        claim="One hidden layer of sigmoid units can represent any continuous 1-D function: "
        "build it by hand from sigmoid bumps, or estimate the same network automatically by "
        "gradient descent on the squared error.",
        columns=(
            "target",
            "hidden units",
            "bumps",
            "by hand: RMS error",
            "learned: RMS error",
            "final training loss ½(y−t)²",
        ),
        rows=rows,
        findings=tuple(findings),
        figures=tuple(figures),
        data=data,
        options={"quick": quick, "targets": list(targets), "seed": seed},
        command="convlens experiment universal-approximator" + (" --quick" if quick else ""),
    )
