"""/api/inspect and friends: a model's view of one input, drawn, uploaded or from the test set.

The model is a run's checkpoint (trained weights, its data's normalisation and class names) or a
spec / zoo model with fresh seeded weights. Every picture comes from ``convlens.viz``; a drawing is
framed as MNIST's digits were by ``convlens.data.drawn.center_like_mnist``.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from typing import Any

from convlens.errors import ConfigError, DataError
from convlens.studio.context import Studio
from convlens.studio.security import run_path

MAX_CHANNELS = 16  # feature maps sent per layer
MAX_UPLOAD = 8 * 1024 * 1024  # bytes of an uploaded picture
MAX_STEPS = 1_000  # gradient-ascent steps a request may ask for


@dataclass(frozen=True)
class Loaded:
    model: Any
    in_shape: tuple[int, ...]
    classes: tuple[str, ...]
    mean: tuple[float, ...] | None  # the data's normalisation; None: inputs go in as 0..1
    std: tuple[float, ...] | None
    data: str | None  # the data set its examples come from
    options: tuple[tuple[str, Any], ...] = ()  # how that data is read (load_dataset's options)
    task: str = "classification"  # or "regression": outputs are values, not class scores


def load_model(studio: Studio, body: dict[str, Any]) -> Loaded:
    """The model a request names: ``run``, or ``spec``/``model`` with ``input``; remembered."""
    if body.get("run"):
        path = run_path(studio.runs_root, str(body["run"]))
        stamps = tuple((path / f"{n}.json").stat().st_mtime_ns for n in ("best", "last")
                       if (path / f"{n}.json").exists())  # fmt: skip
        key: tuple = ("run", str(path), stamps)
        if key not in studio.models:
            from convlens.train import load_checkpoint

            ckpt = load_checkpoint(path)
            studio.models[key] = Loaded(
                ckpt.model, tuple(ckpt.in_shape), tuple(ckpt.classes), ckpt.mean or None,
                ckpt.std or None, ckpt.meta.get("data"),
                tuple((ckpt.meta.get("data_options") or {}).items()), ckpt.task,
            )  # fmt: skip
        return studio.models[key]
    from convlens.studio.api_spec import read_input, zoo_model

    if body.get("model"):
        model, shape = zoo_model(
            studio, str(body["model"]), read_input(body.get("input"), ()) or None
        )
        key = ("zoo-loaded", str(body["model"]), shape)
    elif isinstance(body.get("spec"), str):
        shape = read_input(body.get("input"), (1, 28, 28))
        key = ("spec", body["spec"], shape)
        if key not in studio.models:
            import torch

            from convlens.build import build_model

            torch.manual_seed(0)  # the same fresh weights on every request
            studio.models[key] = build_model(body["spec"], shape)
        model = studio.models[key]
    else:
        raise ConfigError("name a run, or send a spec (or zoo model) and its input shape.")
    model.eval()
    n = _num_outputs(model, shape)
    data = studio.default_data()
    classes = tuple(str(i) for i in range(n))
    return Loaded(model, shape, classes, None, None, data, tuple(studio.options_for(data).items()))


def _num_outputs(model: Any, shape: tuple[int, ...]) -> int:
    import torch

    with torch.no_grad():
        return int(model(torch.zeros(1, *shape)).shape[-1])


# --- the input --------------------------------------------------------------------------------


def picture(studio: Studio, loaded: Loaded, body: dict[str, Any]) -> Any:
    """The input as the model sees it before normalisation: a (C, *spatial) tensor in 0..1."""
    import numpy as np
    import torch

    shape = loaded.in_shape
    if body.get("pixels") is not None:
        if len(shape) != 3:
            raise ConfigError(
                "a drawing is a picture; this model reads signals, so pick an example."
            )
        from convlens.data.drawn import center_like_mnist

        c, h, w = shape
        if c == 1 and h == w:
            grid = center_like_mnist(body["pixels"], size=h, box=max(1, round(h * 20 / 28)))
            return torch.from_numpy(grid)[None]
        return _resized(np.clip(np.asarray(body["pixels"], dtype=np.float32), 0, 1), shape)
    if body.get("image") is not None:
        if len(shape) != 3:
            raise ConfigError("an uploaded picture needs an image model; this one reads signals.")
        return _resized(_decode(body["image"]), shape)
    if body.get("example") is not None:
        index = body["example"]
        data = _test_data(loaded)
        if not isinstance(index, int) or not 0 <= index < len(data):
            raise ConfigError(f"example must be a test index from 0 to {len(data) - 1}.")
        if tuple(data.in_shape) != shape:
            raise ConfigError(
                f"the {data.name} examples are {data.in_shape} but the model reads {shape}."
            )
        return data.float_x(normalize=False)[index]
    raise ConfigError("send a drawing (pixels), an uploaded image or a test example index.")


def _resized(image: Any, shape: tuple[int, ...]) -> Any:
    from convlens.viz.images import to_input

    return to_input(image, shape)[0]


def _decode(uri: Any) -> Any:
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    if not isinstance(uri, str) or not uri.startswith("data:image/") or "," not in uri:
        raise ConfigError("an uploaded image must be a data: URL such as data:image/png;base64,...")
    payload = uri.split(",", 1)[1]
    if len(payload) > MAX_UPLOAD * 4 // 3 + 4:
        raise ConfigError(
            f"the picture is larger than {MAX_UPLOAD // 2**20} MB; send a smaller one."
        )
    try:
        raw = base64.b64decode(payload, validate=True)
        with Image.open(io.BytesIO(raw)) as opened:
            if opened.width * opened.height > 4096 * 4096:
                raise ConfigError(
                    "the picture has more than 16 million pixels; send a smaller one."
                )
            rgb = opened.convert("RGB")
        return np.asarray(rgb, dtype=np.float32) / 255.0
    except (binascii.Error, UnidentifiedImageError, OSError, ValueError):
        raise ConfigError(
            "the upload is not a picture that can be read; send a PNG or JPEG."
        ) from None


def _test_data(loaded: Loaded) -> Any:
    from convlens.data import load_dataset

    if not loaded.data:
        raise DataError("this model has no data set to take examples from.")
    return load_dataset(loaded.data, "test", **dict(loaded.options))


def model_input(loaded: Loaded, pic: Any) -> Any:
    """Normalised with the data's mean and std, batched: (1, C, *spatial)."""
    import torch

    x = pic.float()
    if loaded.mean and loaded.std:
        view = (-1,) + (1,) * (x.dim() - 1)
        x = (x - torch.tensor(loaded.mean).view(view)) / torch.tensor(loaded.std).view(view)
    return x.unsqueeze(0)


# --- looking inside ---------------------------------------------------------------------------


def _unit(t: Any) -> list:
    """Scaled into 0..1 (a constant map becomes 0)."""
    lo, hi = float(t.min()), float(t.max())
    return ((t - lo) / (hi - lo) if hi > lo else t * 0).tolist()


def _signed(t: Any) -> list:
    """Scaled into -1..1 by the largest magnitude, so 0 stays 0."""
    top = float(t.abs().max())
    return (t / top if top > 0 else t * 0).tolist()


def _maps(model: Any, x: Any) -> list[dict[str, Any]]:
    from convlens.viz.activations import feature_maps

    names = [n for n, m in model.named_modules() if n and not list(m.children())]
    outputs = feature_maps(model, x, names)
    layers = []
    for name, module in model.named_modules():
        if name not in outputs:
            continue
        a = outputs[name][0].float()
        if a.dim() == 2:  # a signal's maps (C, L) as one-row pictures
            a = a.unsqueeze(1)
        if a.dim() != 3:
            continue  # vectors (fc layers) are the prediction bars' business
        layers.append({
            "name": name, "kind": type(module).__name__.lower(), "shape": list(a.shape),
            "maps": [_unit(ch) for ch in a[:MAX_CHANNELS]],
        })  # fmt: skip
    return layers


def _target(loaded: Loaded, target: Any, n: int) -> int | None:
    if target is None:
        return None
    if isinstance(target, str) and target in loaded.classes:
        return loaded.classes.index(target)
    if isinstance(target, bool) or not isinstance(target, int) or not 0 <= target < n:
        raise ConfigError(f"target must be a class index from 0 to {n - 1} (or a class name).")
    return target


def inspect(studio: Studio, body: dict[str, Any]) -> dict[str, Any]:
    import torch

    from convlens.viz.attribution import grad_cam, guided_backprop, occlusion, saliency

    loaded = load_model(studio, body)
    pic = picture(studio, loaded, body)
    x = model_input(loaded, pic)
    model = loaded.model
    regression = loaded.task == "regression"
    with torch.no_grad():
        outputs = model(x).float()[0]
    # a classifier's scores as probabilities, best first; a regression's outputs as they are
    probs = outputs if regression else outputs.softmax(-1)
    target = _target(loaded, body.get("target"), len(probs))
    if target is None:
        target = 0 if regression else int(probs.argmax())
    names = (
        loaded.classes if len(loaded.classes) == len(probs) else [str(i) for i in range(len(probs))]
    )
    order = list(range(len(probs))) if regression else probs.argsort(descending=True).tolist()
    image_2d = x.dim() == 4
    sal = saliency(model, x[0], target).abs().amax(0)
    guided = guided_backprop(model, x[0], target)
    try:
        cam = _unit(grad_cam(model, x[0], target))
    except ConfigError:  # a model without convolutions has no Grad-CAM
        cam = None
    occ = None
    if image_2d:
        side = max(2, min(x.shape[-2:]) // 7)
        occ = _signed(occlusion(model, x[0], target, window=side, stride=side))
    return {
        "input": (pic[0] if pic.shape[0] == 1 else pic).tolist(),
        "probs": [{"class": names[i], "index": i, "p": float(probs[i])} for i in order],
        "layers": _maps(model, x),
        "saliency": _unit(sal),
        "guided": _unit(guided[0] if guided.shape[0] == 1 else guided),
        "gradcam": cam,
        "occlusion": occ,
        "target": target,
        "regression": regression,
    }


def cell(studio: Studio, body: dict[str, Any]) -> dict[str, Any]:
    from convlens.analysis.summary import summarize
    from convlens.viz.cell import conv_cell
    from convlens.viz.receptive import field_box

    loaded = load_model(studio, body)
    x = model_input(loaded, picture(studio, loaded, body))
    for key in ("channel", "y", "x"):
        if isinstance(body.get(key), bool) or not isinstance(body.get(key), int):
            raise ConfigError(f"{key} must be a whole number.")
    layer = str(body.get("layer") or "")
    result = conv_cell(loaded.model, x, layer, body["channel"], (body["y"], body["x"]))
    box = None
    # a spec-built model is summarised by arithmetic (milliseconds); others by a trace
    spec = getattr(loaded.model, "spec", None)
    summary = (summarize(spec, loaded.in_shape, activation=None) if spec is not None
               else summarize(loaded.model, loaded.in_shape))  # fmt: skip
    if any(r.name == layer for r in summary.rows):
        spans = field_box(summary.row(layer), (body["y"], body["x"])).clipped(loaded.in_shape[1:])
        box = [spans[0].start, spans[1].start, spans[0].stop - 1, spans[1].stop - 1]
    return {
        "window": result.window.tolist(),
        "kernel": result.kernel.tolist(),
        "bias": result.bias,
        "products_sum": result.products_sum,
        "output": result.output,
        "box": box,
    }


def _settings(body: dict[str, Any], config: Any, names: dict[str, str]) -> Any:
    """A viz config with the request's values for the fields in ``names`` (request -> field)."""
    import dataclasses

    changes = {}
    for given, name in names.items():
        if body.get(given) is None:
            continue
        default = getattr(config, name)
        value = body[given]
        kind = type(default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{given} must be a number, not {value!r}.")
        if kind is int and value != int(value):
            raise ConfigError(f"{given} must be a whole number, not {value!r}.")
        if value < 0:
            raise ConfigError(f"{given} must not be negative, not {value!r}.")
        changes[name] = kind(value)
    if changes.get("steps", 0) > MAX_STEPS:
        raise ConfigError(f"steps must be at most {MAX_STEPS}.")
    return dataclasses.replace(config, **changes)


def _bounds(loaded: Loaded) -> Any:
    import torch

    if not (loaded.mean and loaded.std):
        return None
    m, s = torch.tensor(loaded.mean), torch.tensor(loaded.std)
    view = (-1,) + (1,) * (len(loaded.in_shape) - 1)
    return ((0 - m) / s).view(view), ((1 - m) / s).view(view)


def _picture_json(loaded: Loaded, x: Any) -> list:
    from convlens.viz.images import to_picture

    return to_picture(x, loaded.mean, loaded.std).tolist()


def class_image(studio: Studio, body: dict[str, Any]) -> dict[str, Any]:
    import dataclasses

    import torch

    from convlens.viz.dream import ClassImageConfig, class_model_image

    loaded = load_model(studio, body)
    target = _target(loaded, body.get("class"), len(loaded.classes))
    if target is None:
        raise ConfigError("name the class to draw (an index or a class name).")
    config = _settings(
        body,
        ClassImageConfig(),
        {"steps": "steps", "lr": "lr", "l2": "l2", "blur_every": "blur_every", "jitter": "jitter"},
    )
    x = class_model_image(loaded.model, target, loaded.in_shape, config, bounds=_bounds(loaded))
    with torch.no_grad():
        score = float(loaded.model(x.unsqueeze(0))[0, target])
    return {"image": _picture_json(loaded, x), "settings": dataclasses.asdict(config),
            "score": score, "class": target}  # fmt: skip


def dream(studio: Studio, body: dict[str, Any]) -> dict[str, Any]:
    import dataclasses

    from convlens.viz.dream import DreamConfig, deep_dream

    loaded = load_model(studio, body)
    x = model_input(loaded, picture(studio, loaded, body))
    config = _settings(
        body,
        DreamConfig(),
        {"steps": "steps", "lr": "step_size", "octaves": "octaves", "jitter": "jitter"},
    )
    if not 1 <= config.octaves <= 6:
        raise ConfigError("octaves must be between 1 and 6.")
    image = deep_dream(
        loaded.model, x[0], str(body.get("layer") or ""), config, bounds=_bounds(loaded)
    )
    return {"image": _picture_json(loaded, image), "settings": dataclasses.asdict(config)}
