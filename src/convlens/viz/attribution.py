"""Which input pixels a prediction depends on.

- ``saliency``: the plain gradient ∂y_c/∂x (Simonyan, Vedaldi & Zisserman 2014, section 3).
- ``guided_backprop`` and ``deconvnet``: the same backward pass with another rule at every ReLU
  (see ``relu_rules``).
- ``grad_cam``: ReLU(Σ_k α_k A^k) with α_k the spatial mean of ∂y_c/∂A^k over a conv layer's maps
  A (Selvaraju et al. 2017, equations 1–2), upsampled to the input; ``guided_grad_cam`` is its
  product with guided backprop (section 3.1 of the same paper). By default the layer is the last
  conv layer whose map is larger than 1x1 (``grad_cam_layer``).
- ``occlusion``: how much the score drops when a window of the input is replaced by a baseline
  (Zeiler & Fergus 2014, section 4.2).
- ``smoothgrad``: the gradient averaged over noisy copies of the input (Smilkov et al. 2017), with
  noise σ a fraction of the input's value range (they recommend 10–20 %).

Every function takes one input ``(C, *spatial)`` (for images also ``(1, C, H, W)``) and a target class
(default: the predicted one), puts the model in eval mode for the pass and restores it after.
Gradient maps come back with the input's shape ``(C, *spatial)``; Grad-CAM and occlusion give one
value per pixel, ``spatial``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from convlens.errors import ConfigError
from convlens.torchutil import eval_mode
from convlens.viz.activations import capture
from convlens.viz.layers import conv_layers, find_conv
from convlens.viz.relu_rules import relu_rule


def _batch(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """One input as a batch of one: ``(C, L)`` and ``(C, H, W)`` gain a batch axis, a batch of one
    stays. A model that records its ``in_shape`` (built by convlens) has ``x`` checked against it,
    and a batch of several inputs is refused, with the fix in the sentence."""
    x = torch.as_tensor(x).detach().float()
    in_shape = getattr(model, "in_shape", None)
    if in_shape is not None:
        want = tuple(int(v) for v in in_shape)
        if tuple(x.shape) == want:
            return x.unsqueeze(0)
        if tuple(x.shape) == (1, *want):
            return x
        shown = "x".join(map(str, want))
        if tuple(x.shape[1:]) == want:
            raise ConfigError(
                f"one input at a time: x holds a batch of {x.shape[0]} of the model's {shown} "
                "inputs; pass x[i]"
            )
        fix = "; add the channel axis, x[None]" if tuple(x.shape) == want[1:] else ""
        raise ConfigError(f"x has shape {tuple(x.shape)}, but the model takes {shown} inputs{fix}")
    if x.dim() == 4 and x.shape[0] != 1:
        raise ConfigError(f"one input at a time: x holds a batch of {x.shape[0]}; pass x[i]")
    if x.dim() in (2, 3):
        return x.unsqueeze(0)
    return x


def _target(logits: torch.Tensor, target: int | None) -> int:
    n = logits.shape[-1]
    if target is None:
        return int(logits[0].argmax())
    if not 0 <= target < n:
        raise ConfigError(f"class {target} is out of range; the model has classes 0 to {n - 1}")
    return int(target)


def predicted_class(model: nn.Module, x: torch.Tensor) -> int:
    """The class the model predicts for one input."""
    with eval_mode(model), torch.no_grad():
        return int(model(_batch(model, x))[0].argmax())


def input_gradient(
    model: nn.Module, x: torch.Tensor, target: int | None = None, *, rule: str = "backprop"
) -> torch.Tensor:
    """∂y_target/∂x for one input, with ``rule`` deciding how gradients cross the ReLUs."""
    xb = _batch(model, x).requires_grad_(True)
    with eval_mode(model), relu_rule(rule):
        logits = model(xb)
        c = _target(logits, target)
        (grad,) = torch.autograd.grad(logits[0, c], xb)
    return grad[0].detach()


def saliency(model: nn.Module, x: torch.Tensor, target: int | None = None) -> torch.Tensor:
    """The plain gradient of the target logit with respect to the input, shape ``(C, *spatial)``."""
    return input_gradient(model, x, target, rule="backprop")


def guided_backprop(model: nn.Module, x: torch.Tensor, target: int | None = None) -> torch.Tensor:
    """Guided backpropagation: no negative gradient passes any ReLU (works with in-place and F.relu)."""
    return input_gradient(model, x, target, rule="guided")


def deconvnet(model: nn.Module, x: torch.Tensor, target: int | None = None) -> torch.Tensor:
    """The deconvnet's backward pass: ReLUs rectify the gradient instead of masking by the input."""
    return input_gradient(model, x, target, rule="deconvnet")


def grad_cam_layer(model: nn.Module, x: torch.Tensor) -> str:
    """Grad-CAM's default layer for input ``x``: the last conv layer whose map has more than one
    position (the last conv layer when none has).

    At a 1x1 map (LeNet-5's conv3 on 32x32 inputs) Σ_k α_k A^k is one number, so the upsampled
    Grad-CAM is a constant that says nothing about where the evidence is.
    """
    last, _ = find_conv(model, None, last=True)  # the usual error for a model without convs
    convs = conv_layers(model)
    with eval_mode(model), capture(model, convs) as store, torch.no_grad():
        model(_batch(model, x))
    larger = [name for name in convs if name in store and math.prod(store[name].shape[2:]) > 1]
    return larger[-1] if larger else last


def grad_cam(
    model: nn.Module, x: torch.Tensor, target: int | None = None, layer: str | None = None
) -> torch.Tensor:
    """Grad-CAM at a conv layer (default: ``grad_cam_layer``), upsampled to the input's size."""
    name, _ = find_conv(model, layer or grad_cam_layer(model, x), last=True)
    xb = _batch(model, x)
    # capture keeps the conv's own output (the net goes on with a copy), so an in-place ReLU after
    # the layer cannot overwrite the maps or move the gradient to its output
    with eval_mode(model), capture(model, [name], keep_graph=True) as store, torch.enable_grad():
        logits = model(xb)
        c = _target(logits, target)
        maps = store[name]  # (1, K, *s)
        (grads,) = torch.autograd.grad(logits[0, c], maps)
    spatial = tuple(range(2, maps.dim()))
    alpha = grads.mean(dim=spatial, keepdim=True)  # (1, K, 1...)
    cam = F.relu((alpha * maps).sum(dim=1, keepdim=True)).detach()  # (1, 1, *s)
    mode = "linear" if cam.dim() == 3 else "bilinear"
    cam = F.interpolate(cam, size=tuple(xb.shape[2:]), mode=mode, align_corners=False)
    return cam[0, 0]


def guided_grad_cam(
    model: nn.Module, x: torch.Tensor, target: int | None = None, layer: str | None = None
) -> torch.Tensor:
    """Guided backprop weighted pixel by pixel by Grad-CAM, shape ``(C, *spatial)``."""
    c = target if target is not None else predicted_class(model, x)
    return guided_backprop(model, x, c) * grad_cam(model, x, c, layer).unsqueeze(0)


def occlusion(
    model: nn.Module,
    x: torch.Tensor,
    target: int | None = None,
    *,
    window: int = 8,
    stride: int = 4,
    baseline: float = 0.0,
    score: str = "prob",
    batch_size: int = 64,
) -> torch.Tensor:
    """Score drop when a ``window``-square patch is set to ``baseline``, averaged per pixel.

    ``score`` is "prob" (softmax probability, as Zeiler & Fergus plot) or "logit". Each pixel gets
    the mean drop over every window that covers it; a positive value means the pixel helped.
    """
    if score not in ("prob", "logit"):
        raise ConfigError(f"occlusion score must be 'prob' or 'logit', not {score!r}")
    xb = _batch(model, x)
    if xb.dim() != 4:
        raise ConfigError("occlusion works on 2-D images (C, H, W)")
    _, _, h, w = xb.shape
    if window < 1 or stride < 1:
        raise ConfigError("occlusion window and stride must be at least 1")

    def scores(batch: torch.Tensor) -> torch.Tensor:
        out = model(batch)
        return out.softmax(-1) if score == "prob" else out

    ys = list(range(0, max(h - window, 0) + 1, stride))
    xs = list(range(0, max(w - window, 0) + 1, stride))
    # make sure the last row and column of pixels are covered too
    if ys[-1] + window < h:
        ys.append(h - window)
    if xs[-1] + window < w:
        xs.append(w - window)
    boxes = [(y, x0) for y in ys for x0 in xs]
    total = torch.zeros(h, w)
    count = torch.zeros(h, w)
    with eval_mode(model), torch.no_grad():
        base_scores = scores(xb)
        c = _target(base_scores, target)
        base = base_scores[0, c]
        for start in range(0, len(boxes), batch_size):
            chunk = boxes[start : start + batch_size]
            batch = xb.repeat(len(chunk), 1, 1, 1)
            for k, (y, x0) in enumerate(chunk):
                batch[k, :, y : y + window, x0 : x0 + window] = baseline
            drops = (base - scores(batch)[:, c]).cpu()
            for (y, x0), d in zip(chunk, drops):
                total[y : y + window, x0 : x0 + window] += d
                count[y : y + window, x0 : x0 + window] += 1
    return total / count.clamp(min=1)


def smoothgrad(
    model: nn.Module,
    x: torch.Tensor,
    target: int | None = None,
    *,
    samples: int = 25,
    noise: float = 0.15,
    seed: int = 0,
    rule: str = "backprop",
) -> torch.Tensor:
    """The mean gradient over ``samples`` copies of ``x`` with Gaussian noise of σ = noise·(max−min)."""
    xb = _batch(model, x)
    c = target if target is not None else predicted_class(model, xb[0])
    sigma = noise * float(xb.max() - xb.min())
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros_like(xb[0])
    for _ in range(samples):
        noisy = xb + sigma * torch.randn(xb.shape, generator=gen).to(xb.device)
        total += input_gradient(model, noisy[0], c, rule=rule)
    return total / samples
