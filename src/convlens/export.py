"""ONNX export, checked: the exported graph is run with onnxruntime and compared with PyTorch.

An export is only useful if the other runtime computes what PyTorch computes, so
``export_onnx`` never hands back an unchecked file: it exports to a temporary file beside the
target, runs both models on the same random batch (of a different size from the one traced, so a
batch dimension baked into the graph shows up as an error), and moves the file into place only
then. The batch dimension is dynamic; every other dimension is fixed by ``in_shape``.

Needs the optional extra ``export`` (onnx, onnxruntime, onnxscript).
"""

from __future__ import annotations

import contextlib
import copy
import io
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from convlens.errors import CheckpointError, ConfigError

# float32 through different kernels agrees to ~1e-6 on these nets; 1e-4 leaves room for deep
# ones (ResNet-20: ~3e-6 measured) and still catches a wrong layer, which is off by ~1e-1
TOLERANCE = 1e-4
INSTALL = "pip install convlens[export]"


@dataclass(frozen=True)
class ExportCheck:
    """What was written and how closely onnxruntime reproduced PyTorch's outputs."""

    path: Path
    in_shape: tuple[int, ...]  # one example's shape; the batch dimension is dynamic
    opset: int
    exporter: str  # "dynamo" (torch.export) or "torchscript"
    batch: int  # examples in the comparison batch
    max_abs_diff: float  # max |onnxruntime - torch| over that batch's outputs
    tolerance: float
    size_bytes: int

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def describe(self) -> str:
        verdict = "ok" if self.ok else f"FAILED (tolerance {self.tolerance:.0e})"
        shape = "x".join(map(str, self.in_shape))
        return (
            f"{self.path}: {self.size_bytes / 1e6:.2f} MB, opset {self.opset}, input Nx{shape}; "
            f"onnxruntime vs torch on {self.batch} inputs: max abs diff {self.max_abs_diff:.2e} "
            f"{verdict}"
        )


def _require_onnx() -> None:
    missing = []
    for module in ("onnx", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ConfigError(
            f"ONNX export needs {' and '.join(missing)}; install them with `{INSTALL}`."
        )


def _export(
    model: nn.Module, example: torch.Tensor, path: str, opset: int | None, dynamo: bool
) -> None:
    # the exporters report progress on stdout, log about their own internals ("torchvision is not
    # installed. Skipping ...") and warn: a library function stays quiet, so all three are held
    log = logging.getLogger("torch.onnx")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _run_exporter(model, example, path, opset, dynamo)
    finally:
        log.setLevel(level)


def _run_exporter(
    model: nn.Module, example: torch.Tensor, path: str, opset: int | None, dynamo: bool
) -> None:
    if not dynamo:
        torch.onnx.export(
            model, (example,), path, dynamo=False, opset_version=opset or 17,
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            input_names=["input"], output_names=["logits"],
        )  # fmt: skip
        return
    try:
        import onnxscript  # noqa: F401 - torch's dynamo exporter needs it
    except ImportError:
        raise ConfigError(
            f"the dynamo ONNX exporter needs onnxscript; install it with `{INSTALL}`."
        ) from None
    batch = torch.export.Dim("batch")
    torch.onnx.export(
        model, (example,), path, dynamo=True, opset_version=opset, verbose=False,
        dynamic_shapes=({0: batch},), input_names=["input"], output_names=["logits"],
    )  # fmt: skip


def _onnxruntime_outputs(path: str, x: torch.Tensor) -> torch.Tensor:
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    (out, *_) = session.run(None, {name: x.numpy()})
    return torch.from_numpy(out)


def export_onnx(
    model: nn.Module,
    path: str | Path,
    in_shape: tuple[int, ...],
    *,
    opset: int | None = None,
    dynamo: bool = True,
    batch: int = 3,
    tolerance: float = TOLERANCE,
    seed: int = 0,
) -> ExportCheck:
    """Write ``model`` as ONNX to ``path`` and check it against PyTorch with onnxruntime.

    ``in_shape`` is one example's shape, e.g. ``(1, 32, 32)``. ``dynamo=False`` uses the older
    TorchScript exporter (several times faster to export; deprecated by PyTorch). The file is
    moved into place only after onnxruntime has run it; a check outside ``tolerance`` still
    writes the file and says so in the returned ``ExportCheck`` (``check.ok`` is False).
    """
    _require_onnx()
    import onnx

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{str(path)!r} is a directory; give the .onnx file to write.")
    if not path.parent.is_dir():
        raise ConfigError(f"the folder {str(path.parent)!r} does not exist; create it first.")
    # traced in float32 on the CPU, from a copy: the caller's model keeps its device and mode
    model = copy.deepcopy(model).to("cpu").float().eval()
    gen = torch.Generator().manual_seed(seed)
    traced = torch.randn(2, *in_shape, generator=gen)
    x = torch.randn(batch, *in_shape, generator=gen)  # another batch size than the traced one
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        try:
            _export(model, traced, tmp, opset, dynamo)
            got = _onnxruntime_outputs(tmp, x)
        except ConfigError:
            raise
        except Exception as err:  # the exporters raise many types; one sentence for the user
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise CheckpointError(f"the model could not be exported to ONNX: {first}") from err
        with torch.no_grad():
            want = model(x).float()
        diff = float((got - want).abs().max()) if got.shape == want.shape else float("inf")
        opset_used = max(
            (o.version for o in onnx.load(tmp).opset_import if o.domain in ("", "ai.onnx")),
            default=0,
        )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ExportCheck(
        path=path, in_shape=tuple(in_shape), opset=opset_used,
        exporter="dynamo" if dynamo else "torchscript", batch=batch, max_abs_diff=diff,
        tolerance=tolerance, size_bytes=path.stat().st_size,
    )  # fmt: skip
