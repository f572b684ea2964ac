"""Gradient descent as the lectures write it, against hand arithmetic on quadratics.

For f(w) = sum_i a_i w_i^2 a step multiplies w_i by (1 - 2 a_i eta): it converges iff
eta < 1 / a_i for every i, and at eta = 1 / a_i exactly the iterate only flips its sign.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from convlens.experiments.descent import (
    SURFACES,
    _rosenbrock,
    _rosenbrock_grad,
    descend,
    gradient_descent_paths,
    prediction,
    quadratic,
)


def test_each_step_multiplies_by_one_minus_two_a_eta():
    f, grad = quadratic(2.0, 0.5)
    run = descend(f, grad, (1.0, 1.0), lr=0.1, epsilon=0.0, max_steps=12)
    t = np.arange(13)
    # factors 1 - 2(2)(0.1) = 0.6 and 1 - 2(0.5)(0.1) = 0.9
    np.testing.assert_allclose(run.path[:, 0], 0.6**t, rtol=1e-12)
    np.testing.assert_allclose(run.path[:, 1], 0.9**t, rtol=1e-12)
    assert run.outcome == "step budget" and run.steps == 12


@pytest.mark.parametrize(("lr", "outcome"), [(0.99, "converged"), (1.01, "diverged")])
def test_divergence_threshold_is_one_over_a(lr, outcome):
    f, grad = quadratic(1.0, 1.0)  # a = 1: diverges iff eta > 1
    assert descend(f, grad, (3.0, -2.0), lr, max_steps=100_000).outcome == outcome
    said = prediction(((2.0, 0.0), (0.0, 2.0)), lr)
    assert said.startswith("diverges") == (outcome == "diverged")
    assert said == "diverges (η > 2/λ = 1)" or said == "converges, oscillating"


def test_at_exactly_one_over_a_the_slides_stopping_test_is_fooled():
    # eta = 1/a: w -> -w, so f(w^1) = f(w^0) and |f(w^0) - f(w^1)| = 0 <= epsilon after one step
    f, grad = quadratic(4.0, 4.0)
    run = descend(f, grad, (1.0, 2.0), lr=0.25)
    assert run.outcome == "converged" and run.steps == 1
    np.testing.assert_allclose(run.path[-1], [-1.0, -2.0])
    assert prediction(((8.0, 0.0), (0.0, 8.0)), 0.25).startswith("never settles")


def test_steps_to_converge_on_the_bowl_from_the_closed_form():
    # f = x^2 + 10 y^2 from (-4, 1.5), eta = 0.05: y is zero after one step (factor 1 - 1 = 0) and
    # x shrinks by 0.9, so f(w^t) = 16 * 0.81^t for t >= 1; the loop stops at the first step s
    # with f(w^{s-1}) - f(w^s) = 16 * 0.81^(s-1) * 0.19 <= 1e-8
    bowl = SURFACES[0]
    expected = next(s for s in range(2, 1000) if 16 * 0.81 ** (s - 1) * 0.19 <= 1e-8)
    run = descend(bowl.f, bowl.grad, bowl.start, 0.05, epsilon=1e-8)
    assert run.outcome == "converged" and run.steps == expected


def test_rosenbrock_gradient_and_curvature():
    w = np.array([-1.2, 1.0])
    h = 1e-6
    numeric = [(_rosenbrock(w + h * e) - _rosenbrock(w - h * e)) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(_rosenbrock_grad(w), numeric, rtol=1e-6)
    assert _rosenbrock(np.array([1.0, 1.0])) == 0.0
    # Hessian [[802, -400], [-400, 200]]: trace 1002, determinant 400
    top = (1002 + math.sqrt(1002**2 - 4 * 400)) / 2
    assert top == pytest.approx(1001.6, abs=0.05)
    rosen = SURFACES[1]
    assert prediction(rosen.hessian, 1e-3, quadratic=False) == "can settle (η < 2/λ = 0.002)"
    assert prediction(rosen.hessian, 3e-3, quadratic=False).startswith("cannot settle")


def test_experiment_table_agrees_with_the_prediction():
    result = gradient_descent_paths(quick=True)
    bowl = [r for r in result.rows if r[0].startswith("elongated")]
    outcomes = {r[1]: r[3] for r in bowl}
    assert outcomes[0.11] == "diverged"  # 0.11 > 1/10
    assert all(v == "converged" for lr, v in outcomes.items() if lr < 0.1)
    assert not any("disagrees" in f for f in result.findings)
    assert [f.name for f in result.figures] == [
        "descent_path_1", "descent_loss_1", "descent_path_2", "descent_loss_2",
    ]  # fmt: skip
    path = result.data["surfaces"][SURFACES[0].label]["runs"]["0.05"]["path"]
    assert path[0] == [-4.0, 1.5]


def test_cli_writes_table_plots_and_json(tmp_path, capsys):
    import json

    from convlens.cli import main

    assert main(["experiment", "gradient-descent", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "diverges (η > 2/λ = 0.1)" in out
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["name"] == "gradient-descent"
    assert {p.name for p in tmp_path.glob("*.png")} == {
        "descent_path_1.png", "descent_loss_1.png", "descent_path_2.png", "descent_loss_2.png",
    }  # fmt: skip


def test_cli_bad_option_is_one_sentence(capsys):
    from convlens.cli import main

    assert main(["experiment", "traditional", "--data", "mnist"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "digits, fashion-mnist, iris" in err


def test_the_loop_agrees_with_the_scratch_engines_gradient_descent():
    from convlens.scratch import gradient_descent

    bowl = SURFACES[0]
    mine = descend(bowl.f, bowl.grad, bowl.start, 0.03, epsilon=1e-10)
    theirs = gradient_descent(bowl.f, bowl.grad, np.array(bowl.start), 0.03, 1e-10, 20_000)
    assert mine.steps == theirs.steps and theirs.converged
    np.testing.assert_array_equal(mine.path[-1], theirs.w)
