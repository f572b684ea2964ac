"""Gradient descent in action: the lectures' loop on 2-D loss surfaces, for several step sizes.

The loop is the slide's (LECTURES.md §1): start at w^0, repeat w^{t+1} = w^t - eta grad f(w^t)
while |f(w^t) - f(w^{t+1})| > epsilon. Every iterate is kept, so the path can be drawn over the
surface's contours.

On a quadratic the outcome is known in advance. For f(w) = sum_i a_i w_i^2 the gradient is
2 a_i w_i, so a step multiplies coordinate i by (1 - 2 a_i eta): the iterates shrink while
|1 - 2 a_i eta| < 1, that is 0 < eta < 1 / a_i, oscillate in sign once eta > 1 / (2 a_i), and
diverge once eta > 1 / a_i. The steepest direction sets the limit for the whole surface
(eta < 1 / max a_i), and the shallowest sets the pace: this is why an elongated bowl is slow
(Goodfellow, Bengio & Courville, *Deep Learning*, 2016, section 4.3.1, the condition number).
Rosenbrock's valley, f = (1 - x)^2 + 100 (y - x^2)^2 (Rosenbrock 1960), is the classic harder
case: the loop crawls along the curved floor and the stopping test fires long before the minimum
at (1, 1) when the loss changes too little per step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from convlens.errors import ConfigError
from convlens.experiments.result import ExperimentResult, FigureData, Series


@dataclass(frozen=True)
class Surface:
    label: str
    f: Callable[[NDArray], float]
    grad: Callable[[NDArray], NDArray]
    start: tuple[float, float]
    minimum: tuple[float, float]
    rates: tuple[float, ...]  # the step sizes eta to try
    hessian: tuple[tuple[float, float], tuple[float, float]]  # second derivatives at the minimum
    quadratic: bool  # f is exactly its second-order expansion, so the Hessian says everything
    levels: tuple[float, ...] = ()  # contour values to draw


def quadratic(
    a: float, b: float
) -> tuple[Callable[[NDArray], float], Callable[[NDArray], NDArray]]:
    """f(w) = a w_1^2 + b w_2^2 and its gradient (2 a w_1, 2 b w_2)."""
    scale = np.array([a, b], dtype=np.float64)
    return (lambda w: float(scale @ (w * w))), (lambda w: 2.0 * scale * w)


def _rosenbrock(w: NDArray) -> float:
    x, y = w
    return float((1 - x) ** 2 + 100 * (y - x * x) ** 2)


def _rosenbrock_grad(w: NDArray) -> NDArray:
    x, y = w
    return np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


_BOWL = quadratic(1.0, 10.0)
SURFACES: tuple[Surface, ...] = (
    # Hessian diag(2, 20): the limit is eta < 2/20 = 0.1; at 0.09 the w_2 factor is 1 - 1.8 = -0.8
    Surface(
        "elongated bowl f = x² + 10y²",
        *_BOWL,
        start=(-4.0, 1.5),
        minimum=(0.0, 0.0),
        rates=(0.01, 0.03, 0.05, 0.09, 0.11),
        hessian=((2.0, 0.0), (0.0, 20.0)),
        quadratic=True,
        levels=(0.5, 2, 6, 12, 20, 32),
    ),
    # Hessian [[2 - 400(y - x^2) + 800x^2, -400x], [-400x, 200]] at (1, 1): eigenvalues 1001.6 and
    # 0.40, so near the minimum steps must stay under 2 / 1001.6 = 0.0020; from (-1.2, 1), the
    # usual start (Rosenbrock 1960), 0.01 already throws the first step out of the valley
    Surface(
        "Rosenbrock f = (1-x)² + 100(y-x²)²",
        _rosenbrock,
        _rosenbrock_grad,
        start=(-1.2, 1.0),
        minimum=(1.0, 1.0),
        rates=(5e-4, 1e-3, 1.5e-3, 3e-3, 1e-2),
        hessian=((802.0, -400.0), (-400.0, 200.0)),
        quadratic=False,
        levels=(0.25, 1, 4, 10, 30, 100),
    ),
)


@dataclass(frozen=True)
class Descent:
    path: NDArray  # (T + 1, 2): w^0 ... w^T
    losses: tuple[float, ...]  # f(w^0) ... f(w^T)
    outcome: str  # "converged", "diverged" or "step budget"

    @property
    def steps(self) -> int:
        return len(self.losses) - 1


def descend(
    f: Callable[[NDArray], float],
    grad: Callable[[NDArray], NDArray],
    w0: Sequence[float],
    lr: float,
    epsilon: float = 1e-8,
    max_steps: int = 20_000,
    blow_up: float = 1e6,
) -> Descent:
    """The slide's loop, keeping every iterate. It stops when the loss changes by at most
    ``epsilon`` ("converged"), when the loss grows past ``blow_up`` times its start or stops being
    a number ("diverged"), or after ``max_steps``."""
    w = np.array(w0, dtype=np.float64)
    path, losses = [w], [f(w)]
    limit = blow_up * max(abs(losses[0]), 1.0)
    for _ in range(max_steps):
        w = w - lr * grad(w)
        path.append(w)
        losses.append(f(w))
        if not math.isfinite(losses[-1]) or abs(losses[-1]) > limit:
            return Descent(np.array(path), tuple(losses), "diverged")
        if abs(losses[-2] - losses[-1]) <= epsilon:
            return Descent(np.array(path), tuple(losses), "converged")
    return Descent(np.array(path), tuple(losses), "step budget")


def prediction(hessian: Sequence[Sequence[float]], lr: float, quadratic: bool = True) -> str:
    """What the step factors 1 - eta lambda_i say before any step is taken (lambda_i: the
    Hessian's eigenvalues at the minimum; 2 a_i for f = sum a_i w_i^2, hence 1 - 2 a_i eta).

    On a quadratic they hold everywhere: |1 - eta lambda| > 1 for some i means divergence. On
    any other surface they hold only near the minimum: the iterates cannot settle there."""
    curv = np.linalg.eigvalsh(np.asarray(hessian, dtype=np.float64))
    factors = 1 - lr * curv
    worst = float(np.abs(factors).max())
    limit = f"2/λ = {2 / curv.max():.3g}"
    if worst > 1:
        return f"diverges (η > {limit})" if quadratic else f"cannot settle (η > {limit})"
    if worst == 1:
        return f"never settles (η = {limit})"
    if not quadratic:
        return f"can settle (η < {limit})"
    return "converges" + (", oscillating" if factors.min() < 0 else "")


def _thin(path: NDArray, most: int = 400) -> NDArray:
    """At most ``most`` points of a path, always with its first and last."""
    if len(path) <= most:
        return path
    keep = np.unique(np.r_[np.linspace(0, len(path) - 1, most).astype(int), len(path) - 1])
    return path[keep]


def gradient_descent_paths(*, quick: bool = False, epsilon: float = 1e-8) -> ExperimentResult:
    """Run the loop on each surface for each step size; table, paths and loss curves."""
    if epsilon <= 0:
        raise ConfigError(f"epsilon must be positive, not {epsilon}")
    max_steps = 5_000 if quick else 50_000
    rows: list[tuple] = []
    figures: list[FigureData] = []
    data: dict[str, dict] = {}
    findings: list[str] = []
    for k, surface in enumerate(SURFACES):
        runs = {}
        path_series, loss_series = [], []
        for lr in surface.rates:
            row, runs[str(lr)], path, loss = _one_run(surface, lr, epsilon, max_steps)
            rows.append(row)
            path_series.append(path)
            loss_series.append(loss)
        data[surface.label] = {
            "start": list(surface.start),
            "minimum": list(surface.minimum),
            "levels": list(surface.levels),
            "runs": runs,
        }
        figures += [
            FigureData(f"descent_path_{k + 1}", f"Paths of gradient descent: {surface.label}",
                       "w₁", "w₂", tuple(path_series)),
            FigureData(f"descent_loss_{k + 1}", f"Loss against step: {surface.label}",
                       "step (thinned)", "f(w)", tuple(loss_series), logy=True),
        ]  # fmt: skip
        findings.extend(_findings(surface, runs))
    return ExperimentResult(
        name="gradient-descent",
        title="Gradient descent in action on two loss surfaces",
        claim="Gradient descent w ← w − η∇f(w), repeated while the loss still changes by more "
        "than ε, walks down the loss surface; too large a step η overshoots and diverges.",
        columns=(
            "surface",
            "η",
            "predicted by 1 − ηλ",
            "outcome",
            "steps",
            "final loss",
            "distance to minimum",
        ),
        rows=tuple(rows),
        findings=tuple(findings),
        figures=tuple(figures),
        data={"epsilon": epsilon, "max_steps": max_steps, "surfaces": data},
        options={"quick": quick, "epsilon": epsilon},
        command="convlens experiment gradient-descent" + (" --quick" if quick else ""),
    )


def _one_run(
    surface: Surface, lr: float, epsilon: float, max_steps: int
) -> tuple[tuple, dict[str, object], Series, Series]:
    """Descend ``surface`` at step size ``lr``: its table row, its data, its path and loss curve."""
    run = descend(surface.f, surface.grad, surface.start, lr, epsilon, max_steps)
    end = run.path[-1]
    distance = float(np.hypot(*(end - np.array(surface.minimum))))
    predicted = prediction(surface.hessian, lr, surface.quadratic)
    diverged = run.outcome == "diverged"
    row = (
        surface.label, lr, predicted, run.outcome, run.steps,
        None if diverged else run.losses[-1], None if diverged else distance,
    )  # fmt: skip
    shown = _thin(run.path)
    data = {
        "outcome": run.outcome, "steps": run.steps, "final_loss": run.losses[-1],
        "distance": distance, "predicted": predicted, "path": shown.tolist(),
    }  # fmt: skip
    label = f"η = {lr:g} ({run.outcome}, {run.steps} steps)"
    inside = _inside_box(shown, surface)
    path = Series(label, tuple(inside[:, 0]), tuple(inside[:, 1]))
    curve = _thin(np.array(run.losses[: _first_big(run.losses)]), 200)
    steps = np.linspace(0, len(curve) - 1, len(curve))
    loss = Series(f"η = {lr:g}", tuple(steps), tuple(np.maximum(curve, 1e-12)))
    return row, data, path, loss


def _first_big(losses: Sequence[float]) -> int:
    """The length of the loss curve worth plotting: up to the first non-finite or huge value."""
    for i, v in enumerate(losses):
        if not math.isfinite(v) or v > 1e6 * max(abs(losses[0]), 1.0):
            return max(i, 1)
    return len(losses)


def _inside_box(path: NDArray, surface: Surface) -> NDArray:
    """The part of a path within a box around the start and the minimum (a diverging path leaves
    it after a few steps; the rest would only stretch the axes)."""
    pts = np.array([surface.start, surface.minimum])
    half = 1.5 * np.abs(pts[0] - pts[1]).max()
    centre = pts.mean(0)
    ok = np.all(np.abs(path - centre) <= half, axis=1)
    stop = len(ok) if ok.all() else max(int(np.argmin(ok)), 1)
    return path[:stop]


def _findings(surface: Surface, runs: dict[str, dict]) -> list[str]:
    out = []
    for lr, run in runs.items():
        if surface.quadratic:
            agrees = run["predicted"].startswith("diverges") == (run["outcome"] == "diverged")
            out.append(
                f"{surface.label}, η = {lr}: the factors 1 − ηλ predict "
                f"'{run['predicted']}'; the loop {run['outcome']} after {run['steps']} steps"
                + ("" if agrees else " (disagrees with the prediction)")
                + "."
            )
        elif run["outcome"] == "diverged":
            out.append(f"{surface.label}, η = {lr}: diverged after {run['steps']} steps.")
        elif run["predicted"].startswith("cannot") and run["distance"] > 1e-2:
            out.append(
                f"{surface.label}, η = {lr}: {run['predicted']}: after {run['steps']:,} "
                f"steps the iterate is still {run['distance']:.2g} from the minimum, "
                "bouncing across the valley instead of settling."
            )
        elif run["outcome"] == "step budget":
            out.append(
                f"{surface.label}, η = {lr}: still walking after {run['steps']:,} steps "
                f"({run['distance']:.2g} from the minimum): too small a step is slow."
            )
    done = [(float(lr), r) for lr, r in runs.items() if r["outcome"] == "converged"]
    if done:
        fastest, best = min(done, key=lambda p: p[1]["steps"])
        out.append(f"{surface.label}: the fewest steps ({best['steps']:,}) at η = {fastest:g}.")
        for rate, r in done:
            if r["distance"] > 1e-3:
                out.append(
                    f"{surface.label}, η = {rate:g}: the stopping test fired with the iterate "
                    f"still {r['distance']:.2g} from the minimum: the loss was changing by "
                    "less than ε per step, not zero."
                )
    return out
