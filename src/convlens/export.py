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
import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from convlens.errors import CheckpointError, ConfigError
from convlens.fileio import atomic_write

ONNX_FILE_LIMIT = 2**31  # protobuf's largest message: one .onnx file holds less than 2 GiB

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
    model: nn.Module,
    example: torch.Tensor,
    path: str,
    opset: int | None,
    dynamo: bool,
    external: bool = False,
) -> None:
    # the exporters report progress on stdout, log about their own internals ("torchvision is not
    # installed. Skipping ...") and warn: a library function stays quiet, so all three are held
    log = logging.getLogger("torch.onnx")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _run_exporter(model, example, path, opset, dynamo, external)
    finally:
        log.setLevel(level)


def _run_exporter(
    model: nn.Module,
    example: torch.Tensor,
    path: str,
    opset: int | None,
    dynamo: bool,
    external: bool,
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
        external_data=external,
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
    found: dict[str, float] = {}

    # one self-contained file unless the weights pass protobuf's 2 GiB limit on one message:
    # then they go beside it, in PATH.data, as ONNX's external data
    external = sum(p.numel() * p.element_size() for p in model.parameters()) >= ONNX_FILE_LIMIT
    if external and not dynamo:
        raise ConfigError("weights over 2 GiB are exported by the dynamo exporter only.")

    def export_and_run(tmp: Path) -> None:
        try:
            _export(model, traced, str(tmp), opset, dynamo, external)
            got = _onnxruntime_outputs(str(tmp), x)
        except ConfigError:
            raise
        except Exception as err:  # the exporters raise many types; one sentence for the user
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise CheckpointError(f"the model could not be exported to ONNX: {first}") from err
        with torch.no_grad():
            want = model(x).float()
        found["diff"] = float((got - want).abs().max()) if got.shape == want.shape else math.inf
        found["opset"] = max(
            (o.version for o in onnx.load(str(tmp)).opset_import if o.domain in ("", "ai.onnx")),
            default=0,
        )

    # the file takes its name only once onnxruntime ran it
    size = _write_with_data(path, export_and_run) if external else None
    if not external:
        atomic_write(path, export_and_run)
    return ExportCheck(
        path=path, in_shape=tuple(in_shape), opset=int(found["opset"]),
        exporter="dynamo" if dynamo else "torchscript", batch=batch, max_abs_diff=found["diff"],
        tolerance=tolerance, size_bytes=size or path.stat().st_size,
    )  # fmt: skip


def _write_with_data(path: Path, write: Callable[[Path], None]) -> int:
    """Export to a temporary folder under the final name, so that the model refers to its data
    as PATH.data, then move the data and, last, the model into place; their size in bytes."""
    folder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        model_file = folder / path.name
        write(model_file)
        data_file = folder / f"{path.name}.data"
        moved = [f for f in (data_file, model_file) if f.exists()]
        for f in moved:
            with open(f, "rb+") as fh:
                os.fsync(fh.fileno())
        size = sum(f.stat().st_size for f in moved)
        for f in moved:  # the data first: a model file never points at data that is not there
            os.replace(f, path.parent / f.name)
        return size
    finally:
        shutil.rmtree(folder, ignore_errors=True)
