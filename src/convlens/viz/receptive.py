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

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.patches import Rectangle
from torch import nn

from convlens.analysis.receptive_field import FieldBox, field_box
from convlens.errors import ConfigError
from convlens.torchutil import eval_mode
from convlens.viz.activations import capture, support_box
from convlens.viz.figures import new_figure, show_image

__all__ = ["FieldBox", "effective_field", "field_box", "plot_receptive_field", "support_box"]


def effective_field(
    model: nn.Module,
    x: torch.Tensor,
    layer: str,
    index: Sequence[int],
    channel: int | None = None,
) -> torch.Tensor:
    """|∂y/∂x| summed over input channels for the unit at ``index`` (all channels summed if None)."""
    xb = torch.as_tensor(x).detach().float()
    xb = (xb.unsqueeze(0) if xb.dim() in (2, 3) else xb[:1]).clone().requires_grad_(True)
    with eval_mode(model), capture(model, [layer], keep_graph=True) as store:
        model(xb)
        a = store[layer]
        spatial = tuple(a.shape[2:])
        if len(index) != len(spatial) or any(not 0 <= i < n for i, n in zip(index, spatial)):
            raise ConfigError(
                f"unit index {tuple(index)} is outside layer {layer!r}'s {spatial} map"
            )
        where = (0, slice(None), *index)
        unit = a[where]
        y = unit.sum() if channel is None else unit[channel]
        (g,) = torch.autograd.grad(y, xb)
    return g[0].abs().sum(0)


def plot_receptive_field(
    image: np.ndarray, box: FieldBox, erf: torch.Tensor | None = None, title: str = ""
):
    """The picture with the analytic field drawn as a rectangle, beside the measured field."""
    ncols = 2 if erf is not None else 1
    fig, axes = new_figure(1, ncols, panel=3.2)
    ax = axes[0, 0]
    show_image(ax, image, title or f"analytic field {box.size[0]}×{box.size[-1]}")
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
