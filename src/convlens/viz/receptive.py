"""The input region one output unit sees: the analytic field from the summary and the measured one.

The analytic field (``FieldBox``, ``field_box``) lives in ``convlens.analysis.receptive_field``:
the summary gives, per spatial dimension, the field size r, the jump j (input pixels between
adjacent units) and the centre s of the first unit's field (Araujo, Norris & Sim, Distill 2019).
Unit i's field is centred at s + i·j and spans r pixels: [s + i·j − (r − 1)/2, s + i·j + (r − 1)/2].
Part of it may lie in the padding, outside the image.

The effective receptive field (Luo et al. 2016, "Understanding the Effective Receptive Field in
Deep Convolutional Neural Networks") is |∂y/∂x| for that unit: it never reaches past the analytic
box, and is usually concentrated near its centre (a Gaussian-like bump) and thinned by ReLUs and
max pooling, which pass gradient to only some inputs.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.patches import Rectangle
from torch import nn

from convlens.analysis.receptive_field import FieldBox, field_box
from convlens.errors import ConfigError
from convlens.torchutil import eval_mode
from convlens.viz.activations import capture, support_box
from convlens.viz.figures import new_figure, show_image, suptitle_to_fit

__all__ = [
    "FieldBox",
    "choose_unit",
    "effective_field",
    "field_box",
    "plot_receptive_field",
    "plot_receptive_field_1d",
    "support_box",
]


def choose_unit(
    layer: str, spatial: Sequence[int], unit: Sequence[int] | None
) -> tuple[tuple[int, ...], str]:
    """The unit of ``layer``'s map (of size ``spatial``) to show, and a note when it is not ``unit``.

    No unit means the centre one (index n // 2 on each axis). A unit outside the map becomes the
    centre one too, with a one-line note saying so: the last conv layer of a small network often
    has a 1x1 map (LeNet-5's conv3 on 32x32 inputs), where (0, 0) is the only unit.
    """
    centre = tuple(n // 2 for n in spatial)
    if unit is None:
        return centre, ""
    unit = tuple(int(i) for i in unit)
    if len(unit) != len(spatial):
        example = ",".join(["0"] * len(spatial))
        raise ConfigError(
            f"layer {layer!r} has a {len(spatial)}-D map, so a unit takes {len(spatial)} "
            f"indices such as {example}, not {unit}"
        )
    if all(0 <= i < n for i, n in zip(unit, spatial)):
        return unit, ""
    size = "x".join(str(n) for n in spatial)
    return (
        centre,
        f"{layer}'s map is {size}; unit {unit} is outside it, showing the centre unit {centre}",
    )


def effective_field(
    model: nn.Module,
    x: torch.Tensor,
    layer: str,
    index: Sequence[int],
    channel: int | None = None,
) -> torch.Tensor:
    """|∂y/∂x| summed over input channels for the unit at ``index`` (all channels summed if None).

    An ``index`` outside the layer's map gives the centre unit's field and a ``UserWarning`` with
    the note of ``choose_unit``.
    """
    xb = torch.as_tensor(x).detach().float()
    xb = (xb.unsqueeze(0) if xb.dim() in (2, 3) else xb[:1]).clone().requires_grad_(True)
    with eval_mode(model), capture(model, [layer], keep_graph=True) as store:
        model(xb)
        a = store[layer]
        unit, note = choose_unit(layer, tuple(a.shape[2:]), index)
        if note:
            warnings.warn(note, UserWarning, stacklevel=2)
        where = (0, slice(None), *unit)
        unit = a[where]
        y = unit.sum() if channel is None else unit[channel]
        (g,) = torch.autograd.grad(y, xb)
    return g[0].abs().sum(0)


def plot_receptive_field(
    image: np.ndarray, box: FieldBox, erf: torch.Tensor | None = None, title: str = ""
):
    """The picture with the analytic field drawn as a rectangle, beside the measured field.

    ``title`` goes above both panels, wrapped to the figure's width.
    """
    ncols = 2 if erf is not None else 1
    fig, axes = new_figure(1, ncols, panel=3.2)
    ax = axes[0, 0]
    show_image(ax, image, f"analytic field {box.size[0]}×{box.size[-1]}")
    if title:
        suptitle_to_fit(fig, title)
    (y0, x0), (y1, x1) = box.lo[:2], box.hi[:2]
    ax.add_patch(
        Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, color="yellow", lw=2)
    )
    ax.set_xlim(min(-0.5, x0 - 1), max(image.shape[1] - 0.5, x1 + 1))
    ax.set_ylim(max(image.shape[0] - 0.5, y1 + 1), min(-0.5, y0 - 1))
    if erf is not None:
        ax2 = axes[0, 1]
        show_image(ax2, erf.detach().cpu().numpy(), "effective field |∂y/∂x|", cmap="magma")
        ax2.add_patch(
            Rectangle(
                (x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, color="cyan", lw=1
            )
        )
    return fig


def plot_receptive_field_1d(
    signal: np.ndarray, box: FieldBox, erf: torch.Tensor | None = None, title: str = ""
):
    """A 1-D input (C, L) with the analytic field shaded, above the measured field |∂y/∂x| with
    the same span: the 1-D form of ``plot_receptive_field`` (an MNIST-1D model's unit)."""
    signal = np.asarray(signal, dtype=float).reshape(-1, np.asarray(signal).shape[-1])
    nrows = 2 if erf is not None else 1
    fig, axes = new_figure(nrows, 1)
    fig.set_size_inches(6.4, 2.1 * nrows)  # a signal is wide and low
    lo, hi = box.lo[0], box.hi[0]
    length = signal.shape[-1]
    ax = axes[0, 0]
    for channel in signal:
        ax.plot(np.arange(length), channel, lw=1.2)
    ax.axvspan(lo - 0.5, hi + 0.5, color="gold", alpha=0.35, lw=0)
    ax.set_title(f"analytic field: {box.size[0]} samples, positions {lo:g} to {hi:g}", fontsize=9)
    ax.set_xlim(min(-0.5, lo - 1), max(length - 0.5, hi + 1))
    if erf is not None:
        ax2 = axes[1, 0]
        ax2.bar(np.arange(length), erf.detach().cpu().numpy().reshape(-1), color="purple")
        ax2.axvspan(lo - 0.5, hi + 0.5, color="gold", alpha=0.25, lw=0)
        ax2.set_title("effective field |∂y/∂x|", fontsize=9)
        ax2.set_xlim(ax.get_xlim())
        ax2.set_xlabel("input position")
    if title:
        suptitle_to_fit(fig, title)
    return fig
