"""`convlens eval CKPT`: accuracy, per-class accuracy and the confusion matrix of a checkpoint;
the RMSE of a regression run."""

from __future__ import annotations

import argparse
from typing import Any

from convlens.commands._data_args import add_data_arguments, load_checkpoint_data


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint", help="run directory (best, else last) or NAME.json / NAME.safetensors"
    )
    parser.add_argument(
        "--data",
        help="data set name or path (default: the one the checkpoint was trained on, read alike)",
    )
    parser.add_argument(
        "--split",
        default="test",
        choices=("train", "test"),
        help="split to evaluate (default: test)",
    )
    parser.add_argument("--data-dir", help="where the data set files are (default: search)")
    parser.add_argument(
        "--tta",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average with flipped images (default: as trained)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    add_data_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from convlens.errors import ConfigError
    from convlens.train import evaluate, load_checkpoint
    from convlens.train.evaluation import describe_scoring, scoring_config

    ckpt = load_checkpoint(args.checkpoint)
    name = args.data or ckpt.meta.get("data")
    if not name:
        raise ConfigError("the checkpoint does not name its data set; add --data NAME.")
    data = load_checkpoint_data(args, ckpt.meta, args.split)
    _check_fits(name, data, ckpt)
    if ckpt.mean:  # normalise exactly as in training
        data = dataclasses.replace(data, mean=ckpt.mean, std=ckpt.std)
    config = scoring_config(ckpt.meta, ckpt.config, device=args.device, tta=args.tta)
    metrics = evaluate(ckpt.model, data, config)
    how = describe_scoring(config, len(data.in_shape) - 1)
    if args.json:
        print(json.dumps({"data": name, "split": args.split, "scored_in": how, **metrics}))
    elif ckpt.task == "regression":
        print(
            f"{name} {args.split}: RMSE {metrics['rmse']:.4g} on {metrics['n']:,} examples, "
            f"mean squared error {metrics['loss']:.4g} ({how})"
        )
    else:
        classes = list(ckpt.classes or data.classes)
        _print_classification(f"{name} {args.split}", metrics, classes, how)
    return 0


def _check_fits(name: str, data: Any, ckpt: Any) -> None:
    """Refuse data of another shape, number of outputs or task than the checkpoint's model."""
    from convlens.errors import ConfigError

    if data.task != ckpt.task:
        raise ConfigError(
            f"{name} holds {data.task} data but the checkpoint is a {ckpt.task} model."
        )
    unit = "outputs" if ckpt.task == "regression" else "classes"
    if tuple(data.in_shape) != ckpt.in_shape or data.num_outputs != ckpt.meta.get(
        "num_classes", data.num_outputs
    ):
        raise ConfigError(
            f"{name} ({'x'.join(map(str, data.in_shape))}, {data.num_outputs} {unit}) does not fit the "
            f"checkpoint's model ({'x'.join(map(str, ckpt.in_shape))}, {ckpt.meta.get('num_classes')} {unit})."
        )


def _print_classification(
    title: str, metrics: dict[str, Any], classes: list[str], how: str
) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"{title}: accuracy {100 * metrics['acc']:.2f}% on {metrics['n']:,} examples, "
        f"loss {metrics['loss']:.4f} ({how})",
        highlight=False,
    )
    per_class = Table(title="per-class accuracy")
    per_class.add_column("class")
    per_class.add_column("accuracy", justify="right")
    per_class.add_column("examples", justify="right")
    for label, acc, row in zip(classes, metrics["per_class_acc"], metrics["confusion"]):
        per_class.add_row(label, f"{100 * acc:.2f}%", f"{sum(row):,}")
    console.print(per_class)
    matrix = Table(title="confusion matrix (rows: true class, columns: predicted)")
    matrix.add_column("")
    for i in range(len(classes)):
        matrix.add_column(str(i), justify="right")
    for i, (label, row) in enumerate(zip(classes, metrics["confusion"])):
        matrix.add_row(label if label == str(i) else f"{i} {label}", *[str(v) for v in row])
    console.print(matrix)
