"""Every ``convlens viz`` picture of a checkpoint, written as PNG files.

This is the edge between the command line and the library: it loads the checkpoint, finds the
input (an image file or a test example), calls the compute and ``plot_*`` functions and saves the
figures. Library users call those functions directly.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from convlens.errors import ConfigError
from convlens.viz.figures import save_png


@dataclass(frozen=True)
class GalleryRequest:
    kind: str
    checkpoint: str
    input: str | None = None  # image file
    index: int | None = None  # test example
    layer: str | None = None
    target: int | str | None = None  # class index or name
    channel: int = 0
    unit: tuple[int, ...] | None = None
    steps: int | None = None
    octaves: int | None = None  # dream: scales (default: as many as fit, up to DreamConfig's)
    data_dir: str | None = None
    data: str | None = None  # data set name or path instead of the checkpoint's own
    data_options: tuple[tuple[str, Any], ...] = ()  # load_dataset options for a path
    weights: str | None = None  # zoo or FILE.py:NAME models: a state dict file
    kwargs: str | None = None  # FILE.py:NAME models: JSON keyword arguments


class _Context:
    """A loaded checkpoint, its test data (loaded on first use) and the chosen input."""

    def __init__(self, req: GalleryRequest) -> None:
        from convlens.models.source import class_index, open_model

        self.req = req
        # a checkpoint, or a zoo / FILE.py:NAME model with --weights
        self.ckpt = open_model(req.checkpoint, weights=req.weights, kwargs=req.kwargs)
        n = int(self.ckpt.meta.get("num_classes") or len(self.ckpt.classes) or 0)
        self.target = None if req.target is None else class_index(req.target, self.ckpt.classes, n)
        self.model = self.ckpt.model.eval()
        self.in_shape = tuple(self.ckpt.in_shape)
        self.mean = self.ckpt.mean or None
        self.std = self.ckpt.std or None
        self._data: Any = None

    def data(self):
        if self._data is None:
            from convlens.data import load_recorded

            if not (self.req.data or self.ckpt.meta.get("data")):
                raise ConfigError(
                    "the checkpoint does not name its data set, so give --input FILE instead"
                )
            # the checkpoint's data read as in training (a folder's --size, a .csv's --label)
            data = load_recorded(
                self.ckpt.meta,
                "test",
                self.req.data_dir,
                data=self.req.data,
                **dict(self.req.data_options),
            )
            if self.ckpt.mean:
                data = dataclasses.replace(data, mean=self.ckpt.mean, std=self.ckpt.std)
            self._data = data
        return self._data

    def example(self) -> tuple[torch.Tensor, str]:
        """The input ``(C, ...)`` as the model sees it, and a caption."""
        if self.req.input:
            from convlens.viz.images import load_image, to_input

            if len(self.in_shape) != 3:
                raise ConfigError(
                    f"the model reads inputs of shape {self.in_shape}, not images; use --index N instead"
                )
            image = load_image(self.req.input)
            return to_input(image, self.in_shape, self.mean, self.std)[0], Path(self.req.input).name
        data = self.data()
        index = self.req.index if self.req.index is not None else 0
        if not 0 <= index < len(data):
            raise ConfigError(
                f"--index {index} is out of range; the {data.name} test split has {len(data)} "
                f"examples (0 to {len(data) - 1})"
            )
        x = data.float_x(normalize=True)[index]
        return x, f"test example {index} ({self.class_name(int(data.y[index]))})"

    def class_name(self, c: int) -> str:
        classes = self.ckpt.classes
        return classes[c] if c < len(classes) else str(c)

    def picture(self, x: torch.Tensor):
        from convlens.viz.images import to_picture

        return to_picture(x, self.mean, self.std)

    def bounds(self):
        """Per-channel input values of black and white pixels, to keep optimised images real."""
        if not self.mean or len(self.in_shape) != 3:
            return None
        m = torch.tensor(self.mean).view(-1, 1, 1)
        s = torch.tensor(self.std).view(-1, 1, 1)
        return (0 - m) / s, (1 - m) / s


def draw(req: GalleryRequest, out: Path) -> list[Path]:
    """Write the pictures of ``req.kind`` into ``out``; return the files written."""
    ctx = _Context(req)
    return _DRAW[req.kind](ctx, out)


def _note(message: str) -> None:
    """A one-line remark for the reader on stderr, as ``convlens data`` shows its notes."""
    print(f"note: {message}", file=sys.stderr)


def _filters(ctx: _Context, out: Path) -> list[Path]:
    from convlens.viz.filters import plot_filters

    return [save_png(plot_filters(ctx.model, ctx.req.layer), out / "filters.png")]


def _maps(ctx: _Context, out: Path) -> list[Path]:
    from convlens.viz.activations import feature_maps, plot_feature_maps
    from convlens.viz.layers import conv_layers, find_layer

    if ctx.req.layer:
        find_layer(ctx.model, ctx.req.layer)
    layers = [ctx.req.layer] if ctx.req.layer else conv_layers(ctx.model)
    if not layers:
        raise ConfigError("the model has no convolution layers; name a layer with --layer")
    x, caption = ctx.example()
    maps = feature_maps(ctx.model, x[None], layers)
    pic = ctx.picture(x) if x.dim() == 3 else None
    fig = plot_feature_maps(maps, image=pic)
    fig.suptitle(caption, fontsize=10)
    return [save_png(fig, out / "maps.png")]


def _attributions(ctx: _Context, out: Path, kind: str) -> list[Path]:
    from convlens.viz import attribution as attr
    from convlens.viz.overlays import plot_attributions, plot_signal_attributions

    x, caption = ctx.example()
    c = ctx.target if ctx.target is not None else attr.predicted_class(ctx.model, x)
    where = ""
    if kind == "saliency":
        maps = {
            "saliency": attr.saliency(ctx.model, x, c),
            "guided backprop": attr.guided_backprop(ctx.model, x, c),
            "deconvnet": attr.deconvnet(ctx.model, x, c),
            "SmoothGrad": attr.smoothgrad(ctx.model, x, c),
        }
    else:
        layer = ctx.req.layer or attr.grad_cam_layer(ctx.model, x)
        cam = attr.grad_cam(ctx.model, x, c, layer)
        where = f", Grad-CAM at {layer}"
        maps = {
            "Grad-CAM": cam,
            "guided Grad-CAM": attr.guided_backprop(ctx.model, x, c) * cam.unsqueeze(0),
        }
        if x.dim() == 3:
            side = max(2, min(x.shape[1:]) // 7)
            maps["occlusion"] = attr.occlusion(
                ctx.model, x, c, window=side, stride=max(1, side // 2)
            )
    title = f"{caption}: class {ctx.class_name(c)}{where}"
    if x.dim() == 3:
        fig = plot_attributions(ctx.picture(x), maps, title)
    else:
        fig = plot_signal_attributions(x.numpy(), maps, title)
    return [save_png(fig, out / f"{kind}.png")]


def _rf(ctx: _Context, out: Path) -> list[Path]:
    from convlens.analysis.summary import summarize
    from convlens.viz.layers import find_conv
    from convlens.viz.receptive import (
        choose_unit,
        effective_field,
        field_box,
        plot_receptive_field,
        plot_receptive_field_1d,
    )

    name, _ = find_conv(ctx.model, ctx.req.layer, last=True)
    row = summarize(ctx.model, ctx.in_shape).row(name)
    unit, note = choose_unit(name, row.out_shape[1:], ctx.req.unit)
    if note:
        _note(note)
    box = field_box(row, unit)
    x, caption = ctx.example()
    erf = effective_field(ctx.model, x, name, unit)
    if x.dim() == 2:  # a 1-D signal (C, L): the field is an interval of positions
        title = f"{name} unit {unit[0]}: field {box.size[0]} samples ({caption})"
        fig = plot_receptive_field_1d(x.detach().cpu().numpy(), box, erf, title)
        return [save_png(fig, out / "rf.png")]
    title = f"{name} unit {unit}: field {box.size[0]}×{box.size[1]} px ({caption})"
    return [save_png(plot_receptive_field(ctx.picture(x), box, erf, title), out / "rf.png")]


def _top(ctx: _Context, out: Path) -> list[Path]:
    from convlens.viz.activations import plot_top_activating, top_activating
    from convlens.viz.layers import find_conv

    name, _ = find_conv(ctx.model, ctx.req.layer, last=False)
    data = ctx.data()
    x = data.float_x(normalize=True)[:2000]
    top = top_activating(ctx.model, name, ctx.req.channel, x, k=9, mean=ctx.mean, std=ctx.std)
    return [save_png(plot_top_activating(top), out / "top.png")]


def _class(ctx: _Context, out: Path) -> list[Path]:
    from convlens.viz.dream import ClassImageConfig, class_model_image
    from convlens.viz.figures import image_grid
    from convlens.viz.images import to_picture

    n = int(ctx.ckpt.meta.get("num_classes") or len(ctx.ckpt.classes) or 10)
    targets = [ctx.target] if ctx.target is not None else list(range(min(n, 10)))
    config = ClassImageConfig(steps=ctx.req.steps or ClassImageConfig.steps)
    pics, titles = [], []
    for c in targets:
        img = class_model_image(ctx.model, c, ctx.in_shape, config, bounds=ctx.bounds())
        pics.append(to_picture(img, ctx.mean, ctx.std) if ctx.mean else to_picture(img))
        titles.append(ctx.class_name(c))
    fig = image_grid(
        pics, titles, ncols=min(5, len(pics)), panel=1.8, suptitle="class-model images"
    )
    return [save_png(fig, out / "class.png")]


def _dream(ctx: _Context, out: Path) -> list[Path]:
    from convlens.viz.dream import DreamConfig, deep_dream, octave_sizes
    from convlens.viz.figures import image_grid
    from convlens.viz.layers import find_conv

    name, _ = find_conv(ctx.model, ctx.req.layer, last=True)
    x, caption = ctx.example()
    wanted = ctx.req.octaves
    if wanted is not None and wanted < 1:
        raise ConfigError(f"--octaves must be at least 1, not {wanted}")
    config = DreamConfig(
        steps=ctx.req.steps or DreamConfig.steps, octaves=wanted or DreamConfig.octaves
    )
    sizes = octave_sizes(ctx.model, x, name, config)
    if wanted is not None and len(sizes) < wanted:
        h, w = sizes[0]
        raise ConfigError(
            f"only {len(sizes)} of {wanted} octaves fit: below {h}×{w} the input is too small "
            f"to reach layer {name!r}; use --octaves {len(sizes)}"
        )
    dream = deep_dream(ctx.model, x, name, config, bounds=ctx.bounds())
    label = f"dream at {name}, {len(sizes)} octave{'s' if len(sizes) > 1 else ''}"
    fig = image_grid([ctx.picture(x), ctx.picture(dream)], [caption, label], panel=3)
    return [save_png(fig, out / "dream.png")]


def _curves(ctx: _Context, out: Path) -> list[Path]:
    from convlens.viz.training import plot_history

    run = Path(ctx.req.checkpoint)
    run = run if run.is_dir() else run.parent
    return [save_png(plot_history(run), out / "curves.png")]


def _confusion(ctx: _Context, out: Path) -> list[Path]:
    from convlens.viz.training import (
        confusion_matrix,
        most_confident_wrong,
        plot_confusion,
        plot_mistakes,
        predictions,
    )

    data = ctx.data()
    if data.task == "regression":
        raise ConfigError(
            "a regression run has no classes to confuse; `convlens eval` gives its RMSE and the "
            "report plots its predictions against the targets"
        )
    x = data.float_x(normalize=True)
    probs = predictions(ctx.model, x)
    counts = confusion_matrix(data.y, probs.argmax(-1), probs.shape[-1])
    written = [save_png(plot_confusion(counts, ctx.ckpt.classes), out / "confusion.png")]
    wrong = most_confident_wrong(probs, data.y, k=16)
    if wrong and x.dim() == 2:  # rows of a table: nothing to picture
        _note("the examples are rows of a table, so no pictures of the mistakes are drawn")
    elif wrong:
        pics = [x[m.index].numpy()[0] if x.dim() == 3 else ctx.picture(x[m.index]) for m in wrong]
        written.append(save_png(plot_mistakes(pics, wrong, ctx.ckpt.classes), out / "mistakes.png"))
    return written


_DRAW = {
    "filters": _filters,
    "maps": _maps,
    "saliency": lambda ctx, out: _attributions(ctx, out, "saliency"),
    "gradcam": lambda ctx, out: _attributions(ctx, out, "gradcam"),
    "rf": _rf,
    "top": _top,
    "class": _class,
    "dream": _dream,
    "curves": _curves,
    "confusion": _confusion,
}
