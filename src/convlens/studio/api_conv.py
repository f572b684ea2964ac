"""/api/conv: one convolution (and optionally a pooling after it), every step written out.

All arithmetic comes from the NumPy engine (``convlens.scratch.steps``); this is JSON in and out.
"""

from __future__ import annotations

from typing import Any

from convlens.errors import ConfigError
from convlens.studio.context import Studio

MAX_CELLS = 64 * 64  # input positions; the step list grows with it and the page animates it all


def conv(_studio: Studio, body: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from convlens.scratch.steps import conv_steps, pool_steps

    if "input" not in body or "kernel" not in body:
        raise ConfigError("send an input matrix and a kernel matrix.")
    image = body["input"]
    try:
        size = int(np.asarray(image, dtype=float).size)
    except (TypeError, ValueError):
        raise ConfigError("the input must be a grid of numbers (a list of equal rows).") from None
    if size > MAX_CELLS:
        raise ConfigError(
            f"the input has {size} values; the step-by-step view takes up to {MAX_CELLS}."
        )
    bias = body.get("bias", 0.0) or 0.0
    if isinstance(bias, bool) or not isinstance(bias, (int, float)):
        raise ConfigError(f"the bias must be a number, not {bias!r}.")
    mode = body.get("mode") or "correlation"
    result = conv_steps(
        image, body["kernel"], float(bias), body.get("stride", 1), body.get("padding", 0),
        body.get("dilation", 1), mode=mode,
    )  # fmt: skip
    out: dict[str, Any] = {
        "output": result.output.tolist(),
        "padded_input": result.padded_input[0].tolist() if len(result.padded_input) == 1
        else result.padded_input.tolist(),
        "steps": [
            {"out": list(s.out), "window": [list(p) for p in s.window],
             "products": [list(p) for p in s.products], "sum": s.sum}
            for s in result.steps
        ],
        "formula": {"text": result.formula.text, "fits": result.formula.fits,
                    "sentence": result.formula.sentence},
        "flipped_kernel": _squeeze(result.kernel) if mode == "convolution" else None,
        "pool": None,
    }  # fmt: skip
    if body.get("pool"):
        size = body.get("pool_size", 2)
        pooled = pool_steps(result.output, body["pool"], size, body.get("pool_stride", size))
        out["pool"] = {
            "output": pooled.output.tolist(),
            "steps": [
                {"out": list(s.out), "window": [list(p) for p in s.window], "values": s.values,
                 "value": s.value}
                for s in pooled.steps
            ],
        }  # fmt: skip
    return out


def _squeeze(kernel: Any) -> Any:
    return kernel[0].tolist() if len(kernel) == 1 else kernel.tolist()
