"""/api/info, /api/zoo, /api/spec and /api/rf: what the build panel asks on every keystroke.

A spec is summarised by arithmetic alone (``convlens.summarize``, no torch), so the table keeps up
with typing; a zoo model is built once and remembered, and traced (on one real example, or on the
meta device once torch._dynamo is loaded: ``convlens.analysis.trace``).
"""

from __future__ import annotations

from typing import Any

from convlens.errors import ConfigError
from convlens.studio.context import Studio
from convlens.studio.presets import EXAMPLES, KERNELS

ZOO_WAIT_S = 0.2  # /api/info waits this long for the zoo before answering without it


def info(studio: Studio, _body: dict[str, Any]) -> dict[str, Any]:
    from convlens import __version__

    studio.zoo_ready.wait(ZOO_WAIT_S)
    return {
        "version": __version__,
        "zoo": studio.zoo or [],
        "datasets": studio.datasets or ([studio.data] if studio.data else []),
        "loading": studio.zoo is None,  # then GET /api/catalog answers once zoo and data are known
        "default_data": studio.default_data(),
        "runs_root": str(studio.runs_root),
        "run": studio.run,
        "kernels": KERNELS,
        "examples": EXAMPLES,
    }


def catalog(studio: Studio, _body: dict[str, Any]) -> dict[str, Any]:
    return studio.load_catalog()


# --- shapes and models ------------------------------------------------------------------------


def read_input(text: Any, default: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """convlens's shape syntax, C x H x W (H x W x C read as the CLI reads it)."""
    from convlens.shapes import read_shape

    if text in (None, ""):
        if default is None:
            raise ConfigError("give the input shape, e.g. 1x28x28 (channels x height x width).")
        return default
    if not isinstance(text, str):
        text = "x".join(str(v) for v in text) if isinstance(text, list) else str(text)
    return read_shape(text).shape


def zoo_model(studio: Studio, name: str, in_shape: tuple[int, ...] | None) -> tuple[Any, tuple]:
    """A zoo model (random weights) for ``in_shape`` (default: its own), remembered."""
    from convlens.models.registry import create_model, list_models, model_info

    if name not in list_models():
        raise ConfigError(f"there is no zoo model {name!r}; see the zoo list for the names.")
    meta = model_info(name)
    shape = tuple(in_shape or meta.in_shape)
    key = ("zoo", name, shape)
    if key not in studio.models:
        kwargs: dict[str, Any] = {}
        if "image_size" in meta.options and len(shape) == 3 and shape[1] == shape[2]:
            kwargs["image_size"] = shape[1]
        if "length" in meta.options and len(shape) == 2:
            kwargs["length"] = shape[1]
        studio.models[key] = create_model(name, in_channels=shape[0], **kwargs)
    return studio.models[key], shape


def _summary(studio: Studio, body: dict[str, Any]) -> tuple[Any, str, tuple[int, ...]]:
    from convlens.analysis.summary import summarize
    from convlens.spec import format_spec, parse_spec

    if body.get("model"):
        model, shape = zoo_model(studio, str(body["model"]), _optional_input(body))
        return summarize(model, shape), str(body["model"]), shape
    text = body.get("spec")
    if not isinstance(text, str):
        raise ConfigError("send a spec as text, e.g. conv5x5x6-pool2-fc10, or a zoo model name.")
    shape = read_input(body.get("input"), (1, 28, 28))
    return summarize(text, shape), format_spec(parse_spec(text)), shape


def _optional_input(body: dict[str, Any]) -> tuple[int, ...] | None:
    return read_input(body["input"]) if body.get("input") else None


def row_json(row: Any) -> dict[str, Any]:
    return {
        "name": row.name, "kind": row.kind, "in_shape": list(row.in_shape),
        "out_shape": list(row.out_shape), "kernel": list(row.kernel_size),
        "stride": list(row.stride), "padding": list(row.padding), "dilation": list(row.dilation),
        "weights": row.weights, "biases": row.biases, "params": row.params, "macs": row.macs,
        "rf": list(row.rf), "jump": list(row.jump), "start": list(row.start),
        "drops_border": bool(row.unused),
        "note": (f"{row.note}; skips {'x'.join(map(str, row.unused))} border px" if row.unused
                 else row.note) or None,
    }  # fmt: skip


def spec(studio: Studio, body: dict[str, Any]) -> dict[str, Any]:
    from convlens.errors import SpecError
    from convlens.spec_span import find_spec_problem

    text = body.get("spec")
    try:
        summary, canonical, shape = _summary(studio, body)
    except SpecError as err:
        problem = find_spec_problem(text, (1, 1, 1)) if isinstance(text, str) else None
        where = problem if problem is not None else None
        return {
            "ok": False, "error": str(err), "token": where.token if where else None,
            "start": where.start if where else None, "end": where.end if where else None,
        }  # fmt: skip
    except ConfigError as err:  # the input shape, or a zoo name
        return {"ok": False, "error": str(err), "token": None, "start": None, "end": None,
                "field": "input" if body.get("input") else "model"}  # fmt: skip
    rows = [row_json(r) for r in summary.rows]
    if summary.error:
        problem = find_spec_problem(text, shape) if isinstance(text, str) else None
        return {
            "ok": False, "error": f"{summary.error}.", "rows": rows,
            "token": problem.token if problem else None,
            "start": problem.start if problem else None, "end": problem.end if problem else None,
        }  # fmt: skip
    return {
        "ok": True,
        "rows": rows,
        "totals": {
            "params": summary.total_params,
            "trainable_params": summary.trainable_params,
            "macs": summary.total_macs,
            "param_bytes": summary.param_bytes,
            "activation_bytes": summary.activation_bytes,
        },
        "spec": canonical,
        "input": list(shape),
        "pytorch": _code(body, canonical, shape),
    }


def _code(body: dict[str, Any], canonical: str, shape: tuple[int, ...]) -> str:
    if body.get("model"):
        return (
            "import convlens\n\n"
            f"model = convlens.create_model({canonical!r}, in_channels={shape[0]})\n"
        )
    from convlens.codegen import pytorch_code

    try:
        return pytorch_code(canonical, shape)
    except ConfigError as err:  # a layer without a PyTorch twin in the table yet
        return f"# {err}\n"


def rf(studio: Studio, body: dict[str, Any]) -> dict[str, Any]:
    from convlens.viz.receptive import field_box

    summary, _, shape = _summary(studio, body)
    index = body.get("layer")
    if not isinstance(index, int) or not 0 <= index < len(summary.rows):
        raise ConfigError(f"layer must be a row index from 0 to {len(summary.rows) - 1}.")
    row = summary.rows[index]
    spatial = shape[1:]
    point = (body.get("y", 0), body.get("x", 0)) if len(spatial) == 2 else (body.get("x", 0),)
    if not all(isinstance(v, int) for v in point):
        raise ConfigError("y and x must be whole numbers (an output cell of the layer).")
    box = field_box(row, point)
    lo, hi = [float(v) for v in box.lo], [float(v) for v in box.hi]
    spans = box.clipped(spatial)
    if len(spatial) == 1:  # a signal: one row
        lo, hi, spans = [0.0, *lo], [0.0, *hi], (slice(0, 1), *spans)
    clipped = [spans[0].start, spans[1].start, spans[0].stop - 1, spans[1].stop - 1]
    return {"box": clipped, "unclipped": [lo[0], lo[1], hi[0], hi[1]]}
