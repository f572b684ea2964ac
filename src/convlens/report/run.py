"""The report of one training run: ``RUN_DIR/report.html``, a single self-contained page.

It reads what training left in the run directory (``config.json``, ``metrics.jsonl``, the ``best``
or ``last`` checkpoint) and the test split of the run's data set, and shows: the model summary,
the training curves, test accuracy and the confusion matrix, the first layers' filters, feature
maps and attributions for a few test examples, and the most confidently wrong test examples. A
regression run shows its RMSE curves, its test RMSE and its predictions against the targets
instead of accuracy, confusion, attributions and mistakes.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from convlens.errors import CheckpointError, ConfigError, ConvlensError
from convlens.report.html import (
    html_section,
    image,
    metrics,
    note,
    render_page,
    table,
    text,
    write_html,
)

MAX_EVAL = 10_000  # test examples scored for the accuracy, confusion matrix and mistakes


def _checkpoint(run: Path, model: Any = None):
    from convlens.train import load_checkpoint

    for stem in ("best", "last"):
        if (run / f"{stem}.json").is_file():
            return load_checkpoint(run / stem, model)
    raise CheckpointError(
        f"run directory {str(run)!r} holds no checkpoint (best.json or last.json); train into it first"
    )


def _flat(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += _flat(f"{prefix}.{k}" if prefix else str(k), v)
        return out
    return [(prefix, value)]


def _config_section(run: Path) -> str:
    file = run / "config.json"
    if not file.is_file():
        return html_section("Configuration", [note("no config.json in the run directory")])
    try:
        config = json.loads(file.read_text())
    except json.JSONDecodeError:
        return html_section("Configuration", [note("config.json is not valid JSON")])
    rows = [(k, v) for k, v in _flat("", config) if v not in (None, "", [], {})]
    body = f"<details><summary>{len(rows)} settings (config.json)</summary>{table(['setting', 'value'], rows)}</details>"
    return html_section("Configuration", [body], anchor="config")


def _overview_section(run: Path, ckpt: Any) -> str:
    """The numbers a reader looks for first: best validation accuracy (or RMSE), epochs,
    parameters."""
    from convlens.viz.training import read_metrics

    records = read_metrics(run) if (run / "metrics.jsonl").is_file() else []
    values: dict[str, str] = {}
    accs = [r["val_acc"] for r in records if isinstance(r.get("val_acc"), (int, float))]
    if accs:
        values["best validation accuracy"] = f"{max(accs):.2%}"
    errors = [r["val_rmse"] for r in records if isinstance(r.get("val_rmse"), (int, float))]
    if errors:
        values["best validation RMSE"] = f"{min(errors):.4g}"
    if records:
        values["epochs"] = f"{records[-1].get('epoch', len(records))}"
    values["parameters"] = f"{sum(p.numel() for p in ckpt.model.parameters()):,}"
    which = "best" if (run / "best.json").is_file() else "last"
    shown = f"checkpoint shown: {which} (epoch {ckpt.meta.get('epoch')})"
    parts = [metrics(values), f"<p>{text(shown)}</p>"]
    return html_section("Overview", parts, anchor="overview")


def _curves_section(run: Path) -> str:
    from convlens.viz.training import plot_history, read_metrics

    if not (run / "metrics.jsonl").is_file():
        return html_section("Training curves", [note("no metrics.jsonl in the run directory")])
    records = read_metrics(run)
    regression = any("rmse" in r for r in records)
    keys = _REGRESSION_KEYS if regression else _CURVE_KEYS
    rows = [
        [r.get("epoch", ""), *(f"{r[k]:.4f}" if isinstance(r.get(k), float) else "" for k in keys)]
        for r in records
    ]
    caption = "loss and RMSE by epoch" if regression else "loss and accuracy by epoch"
    return html_section(
        "Training curves",
        [image(plot_history(records), caption), table(["epoch", *keys], rows)],
        anchor="curves",
    )


_CURVE_KEYS = ("loss", "acc", "val_loss", "val_acc")
_REGRESSION_KEYS = ("loss", "rmse", "val_loss", "val_rmse")


def _summary_section(model: nn.Module, in_shape: tuple[int, ...]) -> str:
    try:
        from convlens.analysis.summary import summarize

        summary = summarize(model, in_shape)
    except Exception as err:  # a module the tracer cannot follow costs this table, not the page
        return html_section("Model", [note(f"no summary ({type(err).__name__}): {err}")])
    return html_section("Model", [summary.to_html()], anchor="model")


class _Test:
    """The test inputs (normalised, as the model sees them) and how to draw them."""

    def __init__(self, data: Any, mean, std) -> None:
        if mean and dataclasses.is_dataclass(data) and not isinstance(data, type):  # as in training
            data = dataclasses.replace(data, mean=tuple(mean), std=tuple(std))
        self.data = data
        self.x = data.float_x(normalize=True)[:MAX_EVAL]
        self.y = data.y[:MAX_EVAL]
        self.classes = tuple(data.classes)
        self.mean = tuple(data.mean)
        self.std = tuple(data.std)

    @property
    def kind(self) -> str:
        return {3: "image", 2: "signal"}.get(self.x.dim() - 1, "table")

    def picture(self, k: int) -> np.ndarray:
        from convlens.viz.images import to_picture

        if self.kind == "signal":
            return self.x[k].numpy()[0]
        return to_picture(self.x[k], self.mean, self.std)

    def name(self, c: int) -> str:
        return self.classes[c] if c < len(self.classes) else str(c)

    def label(self, k: int) -> str:
        """Example k's class name, or its target values for regression."""
        if self.y.is_floating_point():
            return "target " + ", ".join(f"{float(v):.3g}" for v in self.y[k].reshape(-1))
        return self.name(int(self.y[k]))


def _scored(model: nn.Module, test: _Test, ckpt: Any) -> tuple[torch.Tensor, str]:
    """The model's outputs on the test examples, computed as training, ``convlens eval`` and
    ``predict`` compute them (the run's precision, layout and test-time augmentation), and how,
    in words; the model is back on the CPU in its own layout afterwards."""
    from convlens.train.evaluation import describe_scoring, scored_logits, scoring_config

    config = scoring_config(ckpt.meta, ckpt.config)
    logits = scored_logits(model, test.x, config).cpu()
    model.to("cpu", memory_format=torch.contiguous_format)  # type: ignore[call-overload]
    return logits, describe_scoring(config, test.x.dim() - 2)


def _accuracy_section(model: nn.Module, test: _Test, ckpt: Any) -> tuple[str, torch.Tensor]:
    from convlens.viz.training import confusion_matrix, plot_confusion

    logits, how = _scored(model, test, ckpt)
    probs = logits.softmax(-1)
    pred = probs.argmax(-1)
    n = probs.shape[-1]
    counts = confusion_matrix(test.y, pred, n)
    acc = float((pred == test.y).float().mean())
    loss = float(torch.nn.functional.cross_entropy(logits, test.y))
    per_class = [
        (test.name(c), int(counts[c].sum()), f"{counts[c, c] / max(counts[c].sum(), 1):.1%}")
        for c in range(n)
    ]
    parts = [
        metrics(
            {
                "test accuracy": f"{acc:.2%}",
                "test loss": f"{loss:.4f}",
                "test examples": f"{len(test.y):,}",
                "scored in": how,
            }
        ),
        image(plot_confusion(counts, test.classes), "confusion matrix"),
        table(["class", "examples", "accuracy"], per_class),
    ]
    return html_section("Test accuracy and confusion matrix", parts, anchor="accuracy"), probs


def _regression_section(model: nn.Module, test: _Test, ckpt: Any) -> str:
    """Test RMSE and a picture of the predictions against the targets."""
    from convlens.train.evaluation import outputs_for_targets, regression_metrics
    from convlens.viz.training import plot_predicted

    out, how = _scored(model, test, ckpt)
    scores = regression_metrics(out, test.y)
    predicted = outputs_for_targets(out.float(), test.y)
    numbers = {
        "test RMSE": f"{scores['rmse']:.4g}",
        "mean squared error": f"{scores['loss']:.4g}",
        "test examples": f"{len(test.y):,}",
        "scored in": how,
    }
    figure = plot_predicted(predicted, test.y, scores["rmse"])
    parts = [metrics(numbers), image(figure, "predicted against target")]
    return html_section("Test error", parts, anchor="regression")


def _filters_section(model: nn.Module) -> str:
    from convlens.viz.filters import plot_filters
    from convlens.viz.layers import conv_layers

    convs = conv_layers(model)
    if not convs:
        return html_section("Filters", [note("the model has no convolution layers")])
    parts = [image(plot_filters(model, name), f"filters of {name}") for name in convs[:2]]
    return html_section("Filters", parts, anchor="filters")


def _maps_section(model: nn.Module, test: _Test) -> str:
    from convlens.viz.activations import feature_maps, plot_feature_maps
    from convlens.viz.layers import conv_layers

    convs = conv_layers(model)[:4]
    if not convs:
        return html_section("Feature maps", [note("the model has no convolution layers")])
    maps = feature_maps(model, test.x[:1], convs)
    pic = test.picture(0) if test.kind == "image" else None
    fig = plot_feature_maps(maps, image=pic)
    caption = f"test example 0 ({test.label(0)})"
    return html_section("Feature maps", [image(fig, caption, caption)], anchor="maps")


def _attribution_section(model: nn.Module, test: _Test, examples: int) -> str:
    from convlens.viz import attribution as attr
    from convlens.viz.layers import conv_layers
    from convlens.viz.overlays import plot_attributions, plot_signal_attributions

    has_conv = bool(conv_layers(model))
    parts = []
    for k in range(min(examples, len(test.y))):
        x = test.x[k]
        c = attr.predicted_class(model, x)
        maps = {
            "saliency": attr.saliency(model, x, c),
            "guided backprop": attr.guided_backprop(model, x, c),
            "SmoothGrad": attr.smoothgrad(model, x, c, samples=10),
        }
        title = f"example {k}: true {test.name(int(test.y[k]))}, predicted {test.name(c)}"
        if has_conv:  # at the last conv layer with a map larger than 1x1: a 1x1 one is a constant
            layer = attr.grad_cam_layer(model, x)
            maps["Grad-CAM"] = attr.grad_cam(model, x, c, layer)
            maps["guided Grad-CAM"] = maps["guided backprop"] * maps["Grad-CAM"].unsqueeze(0)
            title += f", Grad-CAM at {layer}"
        if test.kind == "image":
            fig = plot_attributions(test.picture(k), maps, title)
        else:
            fig = plot_signal_attributions(x.numpy(), maps, title)
        parts.append(image(fig, title))
    return html_section("Attributions", parts, anchor="attributions")


def _mistakes_section(test: _Test, probs: torch.Tensor) -> str:
    from convlens.viz.training import most_confident_wrong, plot_mistakes

    wrong = most_confident_wrong(probs, test.y, k=8)
    if not wrong:
        return html_section("Misclassified examples", [note("no test example is misclassified")])
    if test.kind == "table":
        rows = [
            (m.index, test.name(m.true), test.name(m.predicted), f"{m.confidence:.1%}")
            for m in wrong
        ]
        return html_section(
            "Misclassified examples", [table(["index", "true", "predicted", "confidence"], rows)]
        )
    fig = plot_mistakes([test.picture(m.index) for m in wrong], wrong, test.classes)
    return html_section(
        "Misclassified examples",
        [
            image(fig, "the most confidently wrong test examples"),
            f"<p>{text('true → predicted (confidence)')}</p>",
        ],
        anchor="mistakes",
    )


def build_report(
    run_dir: str | Path, *, data: Any = None, examples: int = 3, model: Any = None
) -> str:
    """The report page of a run as an HTML string (see ``write_report``)."""
    run = Path(run_dir)
    if not run.is_dir():
        raise ConfigError(
            f"run directory {str(run)!r} does not exist; give the folder that `convlens train` wrote"
        )
    # the caller's module stays as it is: the checkpoint's weights go into a copy
    ckpt = _checkpoint(run, copy.deepcopy(model) if model is not None else None)
    model = ckpt.model.eval()
    in_shape = tuple(ckpt.in_shape) or tuple(data.in_shape if data is not None else ())
    sections = [
        _overview_section(run, ckpt),
        _summary_section(model, in_shape),
        _curves_section(run),
    ]
    if data is None and ckpt.meta.get("data"):
        try:
            from convlens.data import load_recorded

            data = load_recorded(ckpt.meta, "test")  # read as in training (a folder's --size...)
        except ConvlensError as err:
            sections.append(html_section("Test data", [note(f"no test data: {err}")]))
    if data is not None and ckpt.task == "regression":
        test = _Test(data, ckpt.mean, ckpt.std)
        sections += [_regression_section(model, test, ckpt), _filters_section(model)]
        if test.kind != "table":
            sections.append(_maps_section(model, test))
    elif data is not None:
        test = _Test(data, ckpt.mean, ckpt.std)
        acc, probs = _accuracy_section(model, test, ckpt)
        sections += [acc, _filters_section(model)]
        if test.kind != "table":
            sections += [_maps_section(model, test), _attribution_section(model, test, examples)]
        sections.append(_mistakes_section(test, probs))
    else:
        sections.append(_filters_section(model))
    sections.append(_config_section(run))
    name = ckpt.meta.get("model") or ckpt.meta.get("spec") or type(model).__name__
    subtitle = f"{run.name}: {name}" + (f" on {ckpt.meta['data']}" if ckpt.meta.get("data") else "")
    return render_page("convlens run report", sections, subtitle=subtitle)


def write_report(
    run_dir: str | Path, *, data: Any = None, examples: int = 3, model: Any = None
) -> Path:
    """Write ``RUN_DIR/report.html`` (atomically) and return its path.

    ``data`` is the test ``TensorData``; by default the test split of the data set named in the
    checkpoint is loaded. ``model`` is a module of the run's architecture, a copy of which gets
    the checkpoint's weights: needed for a network built in Python from a
    class of one's own, which the checkpoint cannot rebuild by itself (specs, zoo models and
    ``FILE.py:NAME`` models it rebuilds).
    """
    page = build_report(run_dir, data=data, examples=examples, model=model)
    return write_html(Path(run_dir) / "report.html", page)
