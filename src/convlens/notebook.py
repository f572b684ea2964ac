"""How convlens values look in Jupyter: HTML with the plots inline, nothing to install or fetch.

Jupyter shows any object with a ``_repr_html_`` method as the HTML that method returns. The
values keep their classes free of drawing code: each class has a one-line ``_repr_html_`` that
calls a function here, and the functions build the page from the report's blocks
(``convlens.report.html``: escaped tables, PNGs as ``data:`` URIs), so what a notebook shows is
what the HTML report shows.

    history_html(history)     the per-epoch table and the loss / accuracy curves
    data_html(data)           name, sizes and classes, then a grid of examples with their labels
    experiment_html(result)   an experiment's claim, table, findings and plots
    Attributions(...)         a picture beside its attribution maps (saliency, guided backprop,
                              Grad-CAM): ``Attributions(image, {"gradient": g, ...})``
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# the columns a History table shows, in this order, when a record has them
_HISTORY_COLUMNS = ("epoch", "loss", "acc", "rmse", "val_loss", "val_acc", "val_rmse", "lr", "time")
_PERCENT = ("acc", "val_acc")
_SHOWN_EXAMPLES = 16


def _div(*parts: str) -> str:
    return '<div class="convlens">' + "".join(parts) + "</div>"


def _number(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if key in _PERCENT:
            return f"{100 * value:.2f}%"
        return f"{value:.3g}" if key == "lr" else f"{value:.4f}"
    return str(value)


def history_text(history: Any) -> str:
    """A ``History`` in one line, for a Python prompt: epochs, outcome, the last epoch's metrics
    (and the best epoch's, where another), the test metrics and the run directory."""
    records = list(history.records)

    def metrics(record: dict[str, Any]) -> str:
        return ", ".join(f"{k} {_number(k, record[k])}" for k in _REPR_KEYS if k in record)

    parts = [f"{len(records)} epochs, {history.outcome}"]
    if records:
        parts.append(f"epoch {records[-1].get('epoch', len(records))}: {metrics(records[-1])}")
    best = history.best
    if best and records and best is not records[-1] and best != records[-1]:
        parts.append(f"best epoch {best.get('epoch')}: {metrics(best)}")
    if history.test:
        parts.append(f"test: {metrics(history.test)}")
    if history.run_dir is not None:
        parts.append(f"run_dir {str(history.run_dir)!r}")
    return f"History({'; '.join(parts)})"


_REPR_KEYS = ("loss", "acc", "rmse", "val_loss", "val_acc", "val_rmse")


def history_html(history: Any, max_rows: int = 30) -> str:
    """A ``History`` (from ``fit``) as a table of its epochs and a picture of its curves.

    Long runs show their first and last epochs only (``max_rows`` in all), so a notebook cell
    stays short; every record is still in ``history.records``."""
    from convlens.report.html import image, table, text
    from convlens.viz.training import plot_history

    records = list(history.records)
    keys = [k for k in _HISTORY_COLUMNS if any(k in r for r in records)]
    shown = records
    if len(records) > max_rows:
        half = max_rows // 2
        shown = [*records[:half], {}, *records[-half:]]
    rows = [[_number(k, r.get(k)) if r else "…" for k in keys] for r in shown]
    outcome = getattr(history, "outcome", None) or history.stopped  # "completed", ...
    parts = [f"<b>History</b>: {len(records)} epochs, {text(outcome)}"]
    if getattr(history, "hardware", ""):
        parts.append(f" <small>({text(history.hardware)})</small>")
    if history.test:
        test = ", ".join(f"{k} {_number(k, v)}"
                         for k, v in history.test.items() if isinstance(v, float))  # fmt: skip
        parts.append(f"<br>test: {text(test)}")
    if not records:
        return _div(*parts)
    return _div(*parts, table(keys, rows), image(plot_history(history), caption="training curves"))


def _head(data: Any, n: int) -> Any:
    """The first ``n`` examples (converting only those to float, not a whole 60,000)."""
    from dataclasses import replace

    return replace(data, x=data.x[:n], y=data.y[:n])


def _example_grid(data: Any, n: int) -> Any:
    """A figure of the first ``n`` examples with their labels: pictures for images, curves for
    1-D signals."""
    import numpy as np

    from convlens.viz.figures import image_grid, new_figure

    x = _head(data, n).float_x(normalize=False).cpu()
    labels = [_label(data, y) for y in data.y[:n]]
    if x.dim() == 4:  # (N, C, H, W)
        pics = [np.clip(p.permute(1, 2, 0).numpy(), 0, 1) for p in x]
        return image_grid(pics, labels, ncols=8, panel=1.1)
    cols = 8
    rows = -(-len(x) // cols)
    fig, axes = new_figure(rows, cols, panel=1.3)
    for k, ax in enumerate(axes.flat):
        if k >= len(x):
            ax.axis("off")
            continue
        for channel in x[k]:
            ax.plot(channel.numpy(), linewidth=1)
        ax.set_title(labels[k], fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    return fig


def _label(data: Any, y: Any) -> str:
    """An example's class name, or its regression target values."""
    if data.task == "regression":
        return ", ".join(f"{float(v):.3g}" for v in y.reshape(-1))
    return str(data.classes[int(y)])


def data_html(data: Any, n: int = _SHOWN_EXAMPLES) -> str:
    """A ``TensorData`` as its name, size, shape and class counts, then its first examples."""
    from convlens.report.html import image, table, text

    counts = data.class_counts()
    regression = data.task == "regression"
    what = f"{data.num_outputs} target(s) each" if regression else f"{data.num_classes} classes"
    head = (f"<b>{text(data.name)}</b> ({text(data.split)}): {len(data):,} examples of shape "
            f"{text(' x '.join(map(str, data.in_shape)))}, {what}")  # fmt: skip
    classes = table(("class", "examples"), [(c, f"{k:,}") for c, k in zip(data.classes, counts)])
    if data.x.dim() == 2:  # tabular: the first rows as numbers
        x = _head(data, n).float_x(normalize=False)
        rows = [[*(f"{float(v):g}" for v in row), _label(data, y)]
                for row, y in zip(x, data.y[:n])]  # fmt: skip
        features = [f"x{i}" for i in range(x.shape[1])]
        last = "target" if regression else "class"
        return _div(head, table([*features, last], rows), "" if regression else classes)
    picture = image(_example_grid(data, n), caption=f"the first {min(n, len(data))} examples")
    return _div(head, picture, f"<details><summary>classes</summary>{classes}</details>")


def experiment_html(result: Any) -> str:
    """An ``ExperimentResult`` the way its report section shows it (claim, table, findings,
    published reference points, plots)."""
    from convlens.experiments.output import figure_pngs, section_html

    return _div(section_html(result, figure_pngs(result, dpi=80)))


@dataclass(frozen=True)
class Attributions:
    """A picture and its attribution maps, shown side by side in a notebook.

    ``image`` is a displayable (H, W) or (H, W, 3) array in [0, 1] (``viz.to_picture`` makes one
    from a model input); ``maps`` are named outputs of ``saliency``, ``guided_backprop``,
    ``grad_cam`` and the like."""

    image: Any
    maps: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""

    def figure(self) -> Any:
        from convlens.viz.overlays import plot_attributions

        return plot_attributions(self.image, dict(self.maps), self.title)

    def _repr_html_(self) -> str:
        from convlens.report.html import image

        return _div(image(self.figure()))
