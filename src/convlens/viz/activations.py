"""What layers produce for an input (feature maps) and which inputs excite a unit most.

Activations are caught with forward hooks, so any ``nn.Module`` works and a layer is named by its
module path. "Top activating inputs" follow Zeiler & Fergus (2014), section 4: for one channel, the
data-set examples whose strongest response in that channel is largest, and the crop of each that
the strongest unit sees, measured by the support of its gradient with respect to the input.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from convlens.errors import ConfigError
from convlens.torchutil import eval_mode
from convlens.viz.figures import new_figure, show_image, tile
from convlens.viz.images import is_flat, stretch, to_picture
from convlens.viz.layers import find_layer


def _tensor(output) -> torch.Tensor:
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    raise TypeError(f"layer output is a {type(output).__name__}, not a tensor")


@contextmanager
def capture(model: nn.Module, layers: Sequence[str], *, keep_graph: bool = False) -> Iterator[dict]:
    """Inside the block, ``store[name]`` holds the latest output of each named layer.

    With ``keep_graph`` the stored tensor is the layer's own output, still in the autograd graph,
    so gradients can be taken with respect to it; the layers after it then run on a copy.
    """
    store: dict[str, torch.Tensor] = {}
    handles = []
    for name in layers:
        module = find_layer(model, name)

        def hook(_m, _inp, out, name=name):
            t = _tensor(out)
            # An in-place op later in the net (nn.ReLU(inplace=True), F.relu(x, inplace=True))
            # would overwrite the stored map and, with the graph kept, also make the gradient
            # "with respect to it" the one with respect to the ReLU's output. So the stored
            # tensor is never the one the rest of the net sees.
            if not keep_graph:
                store[name] = t.detach().clone()
                return None
            store[name] = t
            return t.clone() if out is t else None

        handles.append(module.register_forward_hook(hook))
    try:
        yield store
    finally:
        for h in handles:
            h.remove()


def feature_maps(
    model: nn.Module, x: torch.Tensor, layers: Sequence[str]
) -> dict[str, torch.Tensor]:
    """The output of each named layer for the input batch ``x``, as ``{path: tensor}``."""
    with eval_mode(model), capture(model, layers) as store, torch.no_grad():
        model(x)
    return {name: store[name] for name in layers}


def plot_feature_maps(maps: dict[str, torch.Tensor], *, max_channels: int = 32, image=None):
    """One row per layer, for the first sample: the channels' maps as a mosaic (each scaled alone),
    or, where a map has one position (a 1x1 map, a vector from a linear layer), one bar per channel.
    """
    rows = len(maps) + (image is not None)
    fig, axes = new_figure(rows, 1, panel=1)
    fig.set_size_inches(9, 2.4 * rows)
    k = 0
    if image is not None:
        show_image(axes[0, 0], image, "input")
        k = 1
    for ax, (name, t) in zip(axes[k:, 0], maps.items()):
        v = t[0].detach().float().cpu()
        if v.dim() == 1 or math.prod(v.shape[1:]) == 1:
            _channel_bars(ax, name, t, v.reshape(-1))
        else:
            _map_mosaic(ax, name, t, v[:max_channels])
    return fig


def _channel_bars(ax, name: str, t: torch.Tensor, values: torch.Tensor) -> None:
    # a grid of 1x1 blocks, each stretched on its own, would be flat squares: the values tell more
    ax.bar(range(len(values)), values.numpy(), width=0.8, color="tab:blue")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlim(-0.5, len(values) - 0.5)
    ax.set_xlabel("channel", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(f"{name}: {tuple(t.shape[1:])}, value of each channel", fontsize=9)


def _map_mosaic(ax, name: str, t: torch.Tensor, v: torch.Tensor) -> None:
    """Channels ``(C, *spatial)`` of one layer, each stretched to [0, 1] alone; flat ones at 0.5."""
    if v.dim() == 2:  # 1-D maps (C, L)
        v = v[:, None, :]
    scaled = np.stack([stretch(channel).numpy() for channel in v])
    flat = sum(is_flat(float(c.min()), float(c.max())) for c in v)
    if v.shape[1] == 1:  # 1-D maps: one row per channel, positions across
        show_image(ax, scaled[:, 0, :], cmap="viridis", aspect="auto", vmin=0, vmax=1)
        ax.set_ylabel("channel", fontsize=8)
    else:  # NaN gaps draw as blank space between the maps
        mosaic = tile(scaled, min(len(v), 16), fill=np.nan)
        show_image(ax, mosaic, cmap="viridis", vmin=0, vmax=1)
    note = f"; {flat} flat, drawn in the middle colour" if flat else ""
    ax.set_title(f"{name}: {tuple(t.shape[1:])}, first {len(v)} channels{note}", fontsize=9)


@dataclass(frozen=True)
class TopActivations:
    """The examples that excite one channel most, strongest first."""

    layer: str
    channel: int
    indices: np.ndarray  # (k,) data-set indices
    scores: np.ndarray  # (k,) the channel's largest activation in each example
    positions: list[tuple[int, ...]]  # where in the map that activation sits
    boxes: list[tuple[slice, ...]]  # the input region that unit sees (gradient support)
    crops: list[np.ndarray]  # that region of the example, as a [0, 1] picture


def _channel_scores(model, layer, channel, inputs, batch_size):
    scores, where = [], []
    with capture(model, [layer]) as store, torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            model(inputs[start : start + batch_size])
            a = store[layer]
            if a.dim() < 2 or channel >= a.shape[1]:
                raise ConfigError(
                    f"layer {layer!r} has {a.shape[1] if a.dim() > 1 else 0} channels, so there "
                    f"is no channel {channel}; give 0 to {a.shape[1] - 1 if a.dim() > 1 else 0}"
                )
            flat = a[:, channel].reshape(len(a), -1)
            best, arg = flat.max(dim=1)
            scores.append(best)
            where.append(arg)
            spatial = tuple(a.shape[2:])
    return torch.cat(scores), torch.cat(where), spatial


def unit_support(
    model: nn.Module, x: torch.Tensor, layer: str, channel: int, position
) -> tuple[slice, ...]:
    """The bounding box of input pixels whose gradient on one unit is non-zero (its effective field)."""
    x = x.detach().clone().requires_grad_(True)
    with capture(model, [layer], keep_graph=True) as store:
        model(x)
        a = store[layer]
        where = (0, channel, *position)  # a named tuple of indices: Python 3.10 has no a[0, *p]
        unit = a[where]
        (g,) = torch.autograd.grad(unit, x)
    box = support_box(g[0].abs().sum(0))
    if box and box[0].stop == 0:  # a dead unit: fall back to the whole input
        return tuple(slice(0, n) for n in g.shape[2:])
    return box


def support_box(grad: torch.Tensor) -> tuple[slice, ...]:
    """Bounding box (slices) of the non-zero entries of a spatial map (empty slices if none)."""
    mask = grad != 0
    box = []
    for dim in range(mask.dim()):
        other = tuple(d for d in range(mask.dim()) if d != dim)
        hit = mask.any(dim=other) if other else mask
        idx = torch.nonzero(hit).flatten()
        if len(idx) == 0:
            return tuple(slice(0, 0) for _ in range(mask.dim()))
        box.append(slice(int(idx[0]), int(idx[-1]) + 1))
    return tuple(box)


def top_activating(
    model: nn.Module,
    layer: str,
    channel: int,
    inputs: torch.Tensor,
    *,
    k: int = 9,
    batch_size: int = 256,
    mean=None,
    std=None,
) -> TopActivations:
    """The ``k`` inputs whose largest activation in ``channel`` of ``layer`` is highest, with crops."""
    with eval_mode(model):
        scores, where, spatial = _channel_scores(model, layer, channel, inputs, batch_size)
        k = min(k, len(scores))
        best = torch.topk(scores, k)
        positions, boxes, crops = [], [], []
        for idx in best.indices.tolist():
            pos = (
                tuple(int(v) for v in np.unravel_index(int(where[idx]), spatial)) if spatial else ()
            )
            box = unit_support(model, inputs[idx : idx + 1], layer, channel, pos)
            positions.append(pos)
            boxes.append(box)
            if inputs.dim() == 3:  # 1-D signals (N, C, L): the segment of the first channel
                crops.append(inputs[idx, 0][box].detach().cpu().numpy())
            else:
                crops.append(to_picture(inputs[idx], mean, std)[box])
    return TopActivations(
        layer,
        channel,
        best.indices.cpu().numpy(),
        best.values.cpu().numpy(),
        positions,
        boxes,
        crops,
    )


def plot_top_activating(top: TopActivations):
    """The crops that excite one channel most, strongest first, with their activation."""
    n = len(top.crops)
    ncols = min(n, 9)
    fig, axes = new_figure(math.ceil(n / ncols), ncols, panel=1.4)
    for ax, crop, idx, s in zip(axes.flat, top.crops, top.indices, top.scores):
        if crop.ndim == 1:  # a segment of a 1-D signal
            ax.plot(crop, lw=1)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"#{idx}: {s:.2f}", fontsize=8)
        else:
            show_image(ax, crop, f"#{idx}: {s:.2f}")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(f"{top.layer} channel {top.channel}: top {n} crops", fontsize=9)
    return fig
