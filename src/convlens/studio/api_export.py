"""/api/export: a run or a spec as a file to keep: PyTorch code, weights, report, NumPy script.

Returns ``(filename, media type, bytes)``; the server sends it as a download.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from convlens.errors import ConfigError
from convlens.studio.context import Studio
from convlens.studio.security import run_path

FORMATS = ("pytorch", "safetensors", "report", "numpy")


def _source(
    studio: Studio, body: dict[str, Any]
) -> tuple[str, str | None, tuple[int, ...], Path | None]:
    """(name for the file, spec text or None for a zoo model, input shape, run directory)."""
    from convlens.studio.api_spec import read_input

    if body.get("run"):
        path = run_path(studio.runs_root, str(body["run"]))
        from convlens.studio.runs import checkpoint_meta

        meta = checkpoint_meta(path)
        if not meta:
            raise ConfigError(
                f"run {body['run']!r} has no checkpoint yet; wait for its first epoch."
            )
        spec = str(meta["model"]) if meta.get("kind") == "spec" else None
        return path.name, spec, tuple(meta.get("in_shape") or ()), path
    if isinstance(body.get("spec"), str):
        return "model", body["spec"], read_input(body.get("input"), (1, 28, 28)), None
    raise ConfigError("name a run, or send a spec and its input shape.")


def export(studio: Studio, body: dict[str, Any]) -> tuple[str, str, bytes]:
    fmt = body.get("format")
    if fmt not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    name, spec, shape, path = _source(studio, body)
    # a run's stored spec already has its activations written out: build it as it is
    activation = None if path is not None else "relu"
    if fmt in ("pytorch", "numpy") and spec is None:
        raise ConfigError(
            "this run's model is a zoo model or a module of your own, not a spec, so there is no "
            "spec to write as code; its weights and report export."
        )
    if fmt == "pytorch":
        from convlens.codegen import pytorch_code

        return (
            f"{name}.py",
            "text/x-python",
            pytorch_code(_expanded(spec, shape, activation), shape).encode(),
        )
    if fmt == "numpy":
        from convlens.codegen import numpy_code

        code = numpy_code(_expanded(spec, shape, activation), shape, f"{name}.safetensors")
        return f"{name}_numpy.py", "text/x-python", code.encode()
    if fmt == "safetensors":
        return f"{name}.safetensors", "application/octet-stream", _weights(spec, shape, path)
    if path is None:
        raise ConfigError("a report is written for a trained run; pick a run to export.")
    from convlens.report import build_report

    return f"{name}-report.html", "text/html", build_report(path).encode()


def _expanded(spec: Any, shape: tuple[int, ...], activation: str | None) -> str:
    """The spec with its default activations written out, so code builds the same layers."""
    from convlens.spec import expand_spec, format_spec, parse_spec

    if activation is None:
        return str(spec)
    return format_spec(expand_spec(parse_spec(spec), len(shape), activation))


def _weights(spec: str | None, shape: tuple[int, ...], path: Path | None) -> bytes:
    from safetensors.torch import save

    if path is not None:
        for stem in ("best", "last"):
            file = path / f"{stem}.safetensors"
            if file.is_file():
                return file.read_bytes()
        raise ConfigError("this run has no weights yet; wait for its first epoch.")
    import torch

    from convlens.build import build_model

    torch.manual_seed(0)  # the fresh weights the inspect panel shows for the same spec
    model = build_model(str(spec), shape)
    return save({k: v.contiguous() for k, v in model.state_dict().items()})
