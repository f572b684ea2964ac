"""Draw a ``FigureData``: line plots with a ±std band, or grouped bars with error bars."""

from __future__ import annotations

from typing import Any

from convlens.experiments.result import FigureData


def plot_figure(fig_data: FigureData) -> Any:
    """A matplotlib ``Figure`` (built without pyplot, so no window and no global state)."""
    import numpy as np
    from matplotlib.figure import Figure

    wide = fig_data.kind == "bar" and len(fig_data.xticks) > 3
    fig = Figure(figsize=(8.0 if wide else 6.4, 4.2), layout="constrained")
    ax = fig.subplots()
    if fig_data.kind == "bar":
        n = max(len(fig_data.series), 1)
        width = 0.8 / n
        for i, s in enumerate(fig_data.series):
            x = np.asarray(s.x, dtype=float) + (i - (n - 1) / 2) * width
            ax.bar(x, s.y, width, yerr=s.spread or None, capsize=3, label=s.label)
            tops = np.asarray(s.y) + (np.asarray(s.spread) if s.spread else 0)  # above the bar
            for xi, yi, top in zip(x, s.y, tops):
                text = f"{yi:.0%}" if 0 <= yi <= 1 else f"{yi:g}"
                ax.annotate(text, (xi, top), ha="center", va="bottom", fontsize=7)
        ax.set_ylim(0, max((max(s.y, default=0) for s in fig_data.series), default=1) * 1.18)
        ax.set_xticks(range(len(fig_data.xticks)), fig_data.xticks, fontsize=7)
    else:
        for i, s in enumerate(fig_data.series):
            # curves often coincide (two exact zeros): vary the dash and the marker so both show
            dash, marker = ("-", "--", ":", "-.")[i % 4], "osv^D<>"[i % 7]
            (line,) = ax.plot(s.x, s.y, linestyle=dash, marker=marker, markersize=4, label=s.label)
            if s.spread:
                lo = np.asarray(s.y) - np.asarray(s.spread)
                hi = np.asarray(s.y) + np.asarray(s.spread)
                ax.fill_between(s.x, lo, hi, color=line.get_color(), alpha=0.2, linewidth=0)
    if fig_data.logy:
        ax.set_yscale("log", base=2)
    ax.set_title(fig_data.title, fontsize=10)
    ax.set_xlabel(fig_data.xlabel)
    ax.set_ylabel(fig_data.ylabel)
    ax.grid(alpha=0.3)
    if len(fig_data.series) > 1:
        ax.legend(fontsize=7, ncol=2 if fig_data.kind == "bar" else 1)
    return fig
