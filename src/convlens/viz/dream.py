"""Images made by gradient ascent on the input: class-model images and Deep Dream.

Class-model ("fantasy") images follow Simonyan, Vedaldi & Zisserman 2014, section 2: find
I* = argmax_I S_c(I) − λ‖I‖², with S_c the unnormalised class score (the logit, not the softmax,
so the image is pushed towards class c rather than only away from the others). Plain ascent gives
high-frequency noise; the regularisers that make the result recognisable are the ones Yosinski et
al. 2015 ("Understanding Neural Networks Through Deep Visualization") and Mordvintsev et al. 2015
("Inceptionism") use: random jitter of a few pixels each step, total variation, and an occasional
Gaussian blur.

Deep Dream (Mordvintsev, Olah & Tyka 2015) starts from a real image and ascends ½‖A_l(I)‖² for a
layer l, with steps normalised by the gradient's mean magnitude, at several scales ("octaves"),
carrying the added detail from each scale to the next.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from convlens.errors import ConfigError
from convlens.torchutil import eval_mode
from convlens.viz.layers import find_layer


@dataclass(frozen=True)
class ClassImageConfig:
    # Defaults picked by eye on a small Fashion-MNIST CNN (28x28): without the blur and TV terms
    # the images fill with saturated high-frequency stripes; with them, trousers and boots appear.
    # Pictures much smaller than that (8x8 digits) want blur_every=0 and a lighter tv.
    steps: int = 200  # gradient-ascent steps
    lr: float = 0.05  # Adam step size, in normalised input units
    l2: float = 1e-3  # λ of the L2 penalty (Simonyan et al. 2014)
    tv: float = 1e-2  # weight of the total-variation penalty (sum of squared neighbour differences)
    jitter: int = 2  # random shift of up to this many pixels each step
    blur_every: int = 4  # Gaussian blur every this many steps (0: never)
    blur_sigma: float = 0.5  # pixels
    seed: int = 0


@dataclass(frozen=True)
class DreamConfig:
    # at most this many scales, smallest first; those too small for the model to reach the
    # dreamed layer are left out (LeNet-5's conv3 needs all of its 32x32 input: one octave)
    octaves: int = 3
    octave_scale: float = 1.4  # size ratio between octaves
    steps: int = 20  # ascent steps per octave
    step_size: float = 0.01  # step length relative to the input's value range
    jitter: int = 2
    channel: int | None = None  # dream one channel instead of the whole layer
    seed: int = 0


def total_variation(x: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between neighbouring pixels, over both spatial axes."""
    dy = x[..., 1:, :] - x[..., :-1, :]
    dx = x[..., :, 1:] - x[..., :, :-1]
    return dy.pow(2).mean() + dx.pow(2).mean()


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur each channel of ``(N, C, H, W)`` with a separable Gaussian of ``sigma`` pixels."""
    radius = max(1, int(3 * sigma + 0.5))
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    k = torch.exp(-(t**2) / (2 * sigma**2))
    k = k / k.sum()
    c = x.shape[1]
    x = F.conv2d(
        F.pad(x, (radius, radius, 0, 0), mode="replicate"),
        k.view(1, 1, 1, -1).repeat(c, 1, 1, 1),
        groups=c,
    )
    return F.conv2d(
        F.pad(x, (0, 0, radius, radius), mode="replicate"),
        k.view(1, 1, -1, 1).repeat(c, 1, 1, 1),
        groups=c,
    )


def _jitter(
    x: torch.Tensor, amount: int, gen: torch.Generator
) -> tuple[torch.Tensor, tuple[int, int]]:
    if amount <= 0:
        return x, (0, 0)
    dy, dx = (int(v) for v in torch.randint(-amount, amount + 1, (2,), generator=gen))
    return torch.roll(x, shifts=(dy, dx), dims=(-2, -1)), (dy, dx)


@contextmanager
def _frozen(model: nn.Module) -> Iterator[None]:
    """Only the image is optimised: parameters stop asking for gradients, then ask as before."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    for p, _ in flags:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)


def class_model_image(
    model: nn.Module,
    target: int,
    in_shape: Sequence[int],
    config: ClassImageConfig = ClassImageConfig(),
    *,
    bounds: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """An input ``(C, H, W)`` that maximises the logit of class ``target``, regularised.

    ``bounds`` (per-channel low and high input values, e.g. of [0, 1] pixels after normalisation)
    keeps the image inside the range real inputs have.
    """
    if len(in_shape) != 3:
        raise ConfigError(
            f"class images need a 2-D image input shape (C, H, W), not {tuple(in_shape)}"
        )
    gen = torch.Generator().manual_seed(config.seed)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    x = (0.01 * torch.randn((1, *in_shape), generator=gen)).to(device).requires_grad_(True)
    if bounds is not None:
        bounds = (bounds[0].to(device), bounds[1].to(device))
    opt = torch.optim.Adam([x], lr=config.lr)
    with eval_mode(model), _frozen(model):
        n = model(x.detach()).shape[-1]
        if not 0 <= target < n:
            raise ConfigError(f"class {target} is out of range; the model has classes 0 to {n - 1}")
        for step in range(config.steps):
            shifted, _ = _jitter(x, config.jitter, gen)
            score = model(shifted)[0, target]
            loss = (
                -score
                + config.l2 * x.pow(2).sum()
                + config.tv * total_variation(x) * x[0, 0].numel()
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                if (
                    config.blur_every
                    and (step + 1) % config.blur_every == 0
                    and step + 1 < config.steps
                ):
                    x.copy_(gaussian_blur(x, config.blur_sigma))
                if bounds is not None:
                    x.copy_(torch.maximum(torch.minimum(x, bounds[1]), bounds[0]))
    return x.detach()[0]


class _Stop(Exception):
    """Raised by a hook to end the forward pass once the dreamed layer has run."""


def _layer_objective(
    model: nn.Module, layer: str, x: torch.Tensor, channel: int | None
) -> torch.Tensor:
    module = find_layer(model, layer)
    caught: list[torch.Tensor] = []

    def hook(_m, _i, out):
        caught.append(out if isinstance(out, torch.Tensor) else out[0])
        raise _Stop

    handle = module.register_forward_hook(hook)
    try:
        model(x)
    except _Stop:
        pass
    finally:
        handle.remove()
    if not caught:
        raise ConfigError(
            f"layer {layer!r} did not run in the forward pass, so it cannot be dreamed"
        )
    a = caught[0]
    if channel is not None:
        if a.dim() < 2 or not 0 <= channel < a.shape[1]:
            raise ConfigError(f"layer {layer!r} has no channel {channel}")
        a = a[:, channel]
    return 0.5 * a.pow(2).sum()


def layer_energy(
    model: nn.Module, layer: str, x: torch.Tensor, channel: int | None = None
) -> float:
    """½‖A_layer(x)‖², the quantity Deep Dream increases."""
    with torch.no_grad():
        return float(
            _layer_objective(
                model, layer, torch.as_tensor(x).float().reshape(1, *x.shape[-3:]), channel
            )
        )


def _reaches(model: nn.Module, layer: str, shape: Sequence[int], device) -> str:
    """Why the model cannot get to ``layer`` on a zero input of ``shape``; "" when it can."""
    with torch.no_grad():
        try:
            _layer_objective(model, layer, torch.zeros(*shape, device=device), None)
        except RuntimeError as err:  # the shape error of the first layer the input is too small for
            return str(err).splitlines()[0]
    return ""


def octave_sizes(
    model: nn.Module, image: torch.Tensor, layer: str, config: DreamConfig = DreamConfig()
) -> list[tuple[int, int]]:
    """The ``(H, W)`` of each octave Deep Dream runs, smallest first: up to ``config.octaves`` of
    them, each ``config.octave_scale`` times the last, leaving out those too small for the model.

    "Too small" is found by trying: one forward pass on zeros up to ``layer`` per size, which costs
    less than one step of the ascent and knows every layer type (padding, pooling, dilation).
    """
    if image.dim() not in (3, 4):
        raise ConfigError(
            f"Deep Dream needs an image input (C, H, W), not shape {tuple(image.shape)}"
        )
    c, h, w = image.shape[-3:]
    sizes = []
    for k in range(max(1, config.octaves)):  # the full size first, then smaller
        size = (
            max(1, round(h / config.octave_scale**k)),
            max(1, round(w / config.octave_scale**k)),
        )
        with eval_mode(model):
            why = _reaches(model, layer, (1, c, *size), image.device)
        if why and k == 0:
            raise ConfigError(
                f"the model cannot reach layer {layer!r} on a {h}×{w} image ({why}); "
                "give a larger image"
            )
        if why:
            break
        sizes.append(size)
    return sizes[::-1]


def deep_dream(
    model: nn.Module,
    image: torch.Tensor,
    layer: str,
    config: DreamConfig = DreamConfig(),
    *,
    bounds: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """Amplify what ``layer`` sees in ``image`` (a ``(C, H, W)`` model input); returns the dream.

    The octaves are those of ``octave_sizes``: as many as the model can take, up to
    ``config.octaves``.
    """
    find_layer(model, layer)
    if image.dim() not in (3, 4):
        raise ConfigError(
            f"Deep Dream needs an image input (C, H, W), not shape {tuple(image.shape)}"
        )
    base = torch.as_tensor(image).detach().float().reshape(1, *image.shape[-3:])
    span = float(base.max() - base.min()) or 1.0
    gen = torch.Generator().manual_seed(config.seed)
    if bounds is not None:
        bounds = (bounds[0].to(base.device), bounds[1].to(base.device))
    sizes = octave_sizes(model, base, layer, config)
    with eval_mode(model):
        detail = torch.zeros(1, base.shape[1], *sizes[0], device=base.device)
        img = base
        for size in sizes:
            scaled = F.interpolate(base, size=size, mode="bilinear", align_corners=False)
            detail = F.interpolate(detail, size=size, mode="bilinear", align_corners=False)
            img = scaled + detail
            for _ in range(config.steps):
                shifted, (dy, dx) = _jitter(img, config.jitter, gen)
                shifted = shifted.detach().requires_grad_(True)
                objective = _layer_objective(model, layer, shifted, config.channel)
                (g,) = torch.autograd.grad(objective, shifted)
                g = torch.roll(g, shifts=(-dy, -dx), dims=(-2, -1))
                img = img + config.step_size * span * g / (g.abs().mean() + 1e-8)
                if bounds is not None:
                    img = torch.maximum(torch.minimum(img, bounds[1]), bounds[0])
            detail = img - scaled
    return img.detach()[0]
