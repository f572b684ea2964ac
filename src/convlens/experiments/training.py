"""Train a set of networks on one data set over several seeds, the same way for all of them.

The experiments compare architectures, so everything except the architecture is held fixed: the
data, the optimiser, the number of steps and the seeds (seed i initialises every network the same
way in run i and orders its batches the same way). A network is a zoo name or spec text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from convlens.experiments.result import mean_std


@dataclass(frozen=True)
class Net:
    label: str  # as shown in tables, e.g. "CNN (Greydanus & Kobak)"
    kind: str  # "conv", "dense" or "local" (the conv net with its Conv1d layers unshared)
    model: str  # zoo name (convlens zoo) or spec text


@dataclass(frozen=True)
class Recipe:
    """How every network in a comparison is trained."""

    epochs: float
    batch_size: int = 100
    optimizer: str = "adam"
    lr: float = 1e-2
    weight_decay: float = 0.0
    schedule: str = "constant"
    evals: int = 15  # points on the test-accuracy curve
    # CPU threads. One for networks this small: a 100 x 40 batch gives a second thread nothing to
    # do but wait (measured: 200 steps of the MNIST-1D CNN took 6x longer with two threads on a
    # busy 2-core machine), and a fixed count keeps the sums, hence the numbers, reproducible.
    threads: int = 1


def build_net(net: Net, in_shape: Sequence[int], num_classes: int, seed: int) -> Any:
    """The network with seed-determined initial weights."""
    import torch

    from convlens.build import build_model
    from convlens.models.registry import create_model, list_models

    torch.manual_seed(seed)
    if net.model in list_models():
        model = create_model(net.model, num_classes=num_classes, in_channels=in_shape[0])
    else:
        model = build_model(net.model, tuple(in_shape))
    if net.kind == "local":
        from convlens.experiments.local import unshare

        torch.manual_seed(seed)
        model = unshare(model, tuple(in_shape))
    return model


def param_count(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


# Train accuracy is measured on at most this many training examples (the first ones, always the
# same): enough for a three-digit percentage, and it keeps Fashion-MNIST's 60,000 from costing
# more than the training itself.
TRAIN_EVAL_LIMIT = 10_000


def scoring() -> Any:
    """How the experiments score a trained model: float32 on every device (bfloat16 autocast
    slows these tiny networks down on a CPU and would make the numbers depend on the machine),
    no test-time augmentation. Every accuracy an experiment reports is computed this way."""
    from convlens.train import TrainConfig

    return TrainConfig(precision="float32", verbose=0)


def head(data: Any, n: int) -> Any:
    """The first ``n`` examples of a TensorData (all of it if it is smaller)."""
    from dataclasses import replace

    return data if len(data) <= n else replace(data, x=data.x[:n], y=data.y[:n])


def train_once(
    model: Any, train: Any, test: Any, recipe: Recipe, seed: int, verbose: int = 0
) -> dict[str, Any]:
    """Fit ``model``; return train/test accuracy, the test-accuracy curve and the seconds taken.

    The test set is evaluated during training only to draw the curve; nothing is chosen by it
    (no early stopping, no best checkpoint): the accuracies are those after the last step.
    """
    from convlens.train import TrainConfig, evaluate, fit

    steps_per_epoch = max(1, len(train) // recipe.batch_size)
    total_epochs = max(1, round(recipe.epochs))  # for spacing the curve's points
    config = TrainConfig(
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        optimizer=recipe.optimizer,
        lr=recipe.lr,
        weight_decay=recipe.weight_decay,
        schedule=recipe.schedule,
        precision=scoring().precision,  # float32, see scoring()
        seed=seed,
        threads=recipe.threads,
        eval_every=max(1, total_epochs // recipe.evals),
        verbose=verbose,
    )
    start = time.perf_counter()
    history = fit(model, train, config, val=test)
    seconds = time.perf_counter() - start
    curve = [(r["epoch"], r["val_acc"]) for r in history.records if "val_acc" in r]
    scored = scoring()
    return {
        "train_acc": evaluate(model, head(train, TRAIN_EVAL_LIMIT), scored, full=False)["acc"],
        "test_acc": evaluate(model, test, scored, full=False)["acc"],
        "curve": curve,
        "seconds": seconds,
        "steps": max(1, round(recipe.epochs * steps_per_epoch)),  # as fit counts them
    }


def compare(
    nets: Sequence[Net],
    train: Any,
    test: Any,
    recipe: Recipe,
    seeds: int,
    *,
    verbose: int = 0,
    announce: Callable[[str], None] | None = None,
    keep: bool = False,
) -> dict[str, dict[str, Any]]:
    """Train every net for seeds 0..seeds-1; per net: runs, means and spreads (and the models of
    the last seed when ``keep``)."""
    out: dict[str, dict[str, Any]] = {}
    for net in nets:
        runs, model = [], None
        for seed in range(seeds):
            if announce is not None:
                announce(f"{net.label} ({net.model}), seed {seed}")
            model = build_net(net, train.in_shape, train.num_classes, seed)
            runs.append(train_once(model, train, test, recipe, seed, verbose))
        train_m, train_s = mean_std([r["train_acc"] for r in runs])
        test_m, test_s = mean_std([r["test_acc"] for r in runs])
        out[net.label] = {
            "kind": net.kind,
            "model": net.model,
            "params": param_count(model),
            "train_acc": train_m,
            "train_std": train_s,
            "test_acc": test_m,
            "test_std": test_s,
            "runs": runs,
        }
        if keep:
            out[net.label]["last_model"] = model
    return out
