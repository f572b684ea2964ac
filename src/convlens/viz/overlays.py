"""Drawing attribution maps next to (or over) the picture they explain."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from convlens.viz.figures import new_figure, show_image
from convlens.viz.images import is_flat, stretch


def gradient_picture(grad: torch.Tensor, *, signed: bool = False) -> np.ndarray:
    """A ``(C, H, W)`` gradient as a picture.

    Default: max |g| over channels, scaled to [0, 1] (Simonyan et al. 2014, section 3.1). With
    ``signed`` the gradient itself is stretched to [0, 1] per image (RGB when C = 3), the way guided
    backprop pictures are usually shown.
    """
    g = torch.as_tensor(grad).detach().float().cpu()
    if signed:
        pic = stretch(g).permute(1, 2, 0).numpy()
        return pic[..., 0] if pic.shape[-1] != 3 else pic
    m = g.abs().amax(dim=0)
    return (m / m.max()).numpy() if float(m.max()) > 0 else m.numpy()


def heat_overlay(
    image: np.ndarray, heat: torch.Tensor | np.ndarray, alpha: float = 0.5
) -> np.ndarray:
    """``image`` ([0, 1] grey or RGB) blended with a jet-coloured [0, 1]-scaled heat map (a flat
    map in the middle colour, never stretched: see ``images.is_flat``)."""
    from matplotlib import colormaps

    h = stretch(torch.as_tensor(heat).detach().float().cpu()).numpy()  # flat: all 0.5
    colour = colormaps["jet"](h)[..., :3]
    base = np.asarray(image, dtype=np.float64)
    if base.ndim == 2:
        base = np.repeat(base[..., None], 3, axis=-1)
    return np.clip((1 - alpha) * base + alpha * colour, 0, 1)


def flat_title(name: str, values: torch.Tensor) -> str:
    """``name``, and a second line saying so when the map is (nearly) constant."""
    if values.numel() and is_flat(float(values.min()), float(values.max())):
        return f"{name}\nflat map: {name} is constant"
    return name


def plot_attributions(image: np.ndarray, maps: Mapping[str, torch.Tensor], title: str = ""):
    """The picture, then one panel per map: gradient maps as pictures, spatial maps as overlays."""
    fig, axes = new_figure(1, len(maps) + 1, panel=2.3)
    show_image(axes[0, 0], image, "input")
    for ax, (name, m) in zip(axes[0, 1:], maps.items()):
        t = torch.as_tensor(m).detach().float().cpu()
        signed = name.startswith("guided") or name == "deconvnet"
        label = flat_title(name, t)
        if t.dim() == 3 and signed and t.shape[0] != 3:
            # one channel: show the sign too (red positive, blue negative)
            g = t.sum(0).numpy()
            lim = float(np.abs(g).max()) or 1.0
            show_image(ax, g, label, cmap="RdBu_r", vmin=-lim, vmax=lim)
        elif t.dim() == 3:  # already in [0, 1]: no second stretch by imshow
            picture = gradient_picture(t, signed=signed)
            show_image(ax, picture, label, cmap="hot", vmin=0, vmax=1)
        else:
            show_image(ax, heat_overlay(image, t), label)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def plot_signal_attributions(signal: np.ndarray, maps: Mapping[str, torch.Tensor], title: str = ""):
    """For 1-D inputs ``(C, L)``: the signal, then each attribution as a curve over positions; a
    table's row ``(F,)`` is drawn the same way, over its feature positions."""
    sig = np.asarray(signal)
    if sig.ndim == 1:  # one row of features: one curve
        sig = sig[None]
    fig, axes = new_figure(len(maps) + 1, 1, panel=1.4)
    fig.set_size_inches(6, 1.3 * (len(maps) + 1))
    for c in range(sig.shape[0]):
        axes[0, 0].plot(sig[c], lw=1)
    axes[0, 0].set_title("input", fontsize=8)
    for ax, (name, m) in zip(axes[1:, 0], maps.items()):
        t = torch.as_tensor(m).detach().float().cpu()
        values = t.abs().amax(0) if t.dim() == 2 else t
        ax.fill_between(range(len(values)), values.numpy(), color="tab:red", alpha=0.6)
        ax.set_title(name, fontsize=8)
    for ax in axes[:, 0]:
        ax.tick_params(labelsize=6)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
