"""The zoo as data: every model's size, cost and receptive field, measured without computing.

Each model is built on the meta device (no weights are allocated) and summarised by
``convlens.analysis.summary.summarize``; spec-built models are summarised from their spec by
arithmetic alone. Nothing here runs a real forward pass, so the whole table takes seconds.

The receptive field reported is that of the last feature map (the last convolution or pooling
window before global pooling or the fc layers), the quantity that Araujo, Norris & Sim (Distill
2019) tabulate: 195 for AlexNet, 212 for VGG-16.

Sizes: the lectures (and Keras's application table) quote float32 weights in "MB". Both readings
are given: ``param_mb`` = bytes / 10^6 and ``param_mib`` = bytes / 2^20. Keras's "MB" is the
second (VGG-16: 138,357,544 * 4 bytes = 527.8 MiB, Keras "528 MB"). The lectures' list is rounder:
AlexNet's 238 is exactly the MiB of the lectures' one-tower form (62,378,344 weights: 238.0 MiB,
249.5 MB), ResNet-50's 100 and ResNet-152's 235 lie between the two readings (97.5 / 102.2 and
229.6 / 240.8), as do VGG-16's 540 and VGG-19's 560 (527.8 / 553.4 and 548.0 / 574.7); no reading
of GoogLeNet gives 40 (6.6 M weights: 25.3 MiB; 13.0 M with the auxiliary classifiers: 49.6 MiB).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

from convlens.fileio import atomic_write_text
from convlens.models.registry import ModelInfo, create_model, list_models, model_info

# layer kinds whose window defines a receptive field (not gap / linear, which see everything)
_WINDOWED = ("conv1d", "conv2d", "maxpool", "avgpool", "subsample")


@dataclass(frozen=True)
class ZooEntry:
    """One row of ``convlens zoo``."""

    info: ModelInfo
    params: int  # counted on the built module
    macs: int  # multiply-accumulates of conv and fc layers for one input at info.in_shape
    rf: tuple[int, ...]  # receptive field of the last feature map; () for models without one
    param_bytes: int  # float32 weights

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def param_mb(self) -> float:
        return self.param_bytes / 1e6

    @property
    def param_mib(self) -> float:
        return self.param_bytes / 2**20

    def to_dict(self) -> dict:
        i = self.info
        return {
            "name": i.name,
            "family": i.family,
            "input": list(i.in_shape),
            "num_classes": i.num_classes,
            "params": self.params,
            "expected_params": i.params,
            "macs": self.macs,
            "receptive_field": list(self.rf),
            "param_bytes": self.param_bytes,
            "param_mb": round(self.param_mb, 3),
            "param_mib": round(self.param_mib, 3),
            "description": i.description,
            "source": i.source,
            "options": list(i.options),
        }


def zoo_entry(name: str) -> ZooEntry:
    """Build one model on the meta device and measure it."""
    from convlens.analysis.summary import summarize
    from convlens.torchutil import built_on_meta

    info = model_info(name)
    with built_on_meta():
        model = create_model(name)
    spec = getattr(model, "spec", None)
    # spec-built models: the arithmetic gives the same rows as tracing, and faster
    summary = summarize(spec, model.in_shape) if spec is not None else summarize(model)
    # the largest field among the windowed layers is that of the last feature map: fields only
    # grow along a path, and branches (inception) are concatenated or (resnet) added at the end
    windowed = [r.rf for r in summary.rows if r.kind in _WINDOWED]
    params = {id(p): p for p in model.parameters()}.values()
    return ZooEntry(
        info=info,
        params=sum(p.numel() for p in params),
        macs=summary.total_macs,
        rf=max(windowed, key=math.prod) if windowed else (),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
    )


def zoo_entries(family: str | None = None, *, cache: bool = False) -> list[ZooEntry]:
    """Every model of the zoo (or of one family), measured.

    With ``cache=True`` the measurements are kept in ``<cache dir>/zoo-<fingerprint>.json``, where
    the fingerprint hashes the source of the models and of the analysis code and the torch
    version, so any change to either measures again. Tracing the branched networks on the meta
    device costs seconds on a small CPU; the table itself is then instant.
    """
    names = list_models(family)
    if not cache:
        return [zoo_entry(name) for name in names]
    path = _cache_path()
    stored = _read_cache(path)
    entries = []
    for name in names:
        if name in stored:
            m = stored[name]
            entry = ZooEntry(
                model_info(name), m["params"], m["macs"], tuple(m["rf"]), m["param_bytes"]
            )
        else:
            entry = zoo_entry(name)
            stored[name] = {
                "params": entry.params,
                "macs": entry.macs,
                "rf": list(entry.rf),
                "param_bytes": entry.param_bytes,
            }
        entries.append(entry)
    if len(stored) != len(_read_cache(path)):
        _write_cache(path, stored)
    return entries


def _cache_path() -> Path:
    import torch

    from convlens.data.sources import cache_dir

    root = Path(__file__).resolve().parent.parent  # the convlens package
    sources = sorted(
        [
            *root.glob("models/*.py"),
            *root.glob("analysis/*.py"),
            root / "build.py",
            root / "spec.py",
        ]
    )
    digest = hashlib.sha256(torch.__version__.encode())
    for source in sources:
        digest.update(source.name.encode() + source.read_bytes())
    return cache_dir() / f"zoo-{digest.hexdigest()[:16]}.json"


def _read_cache(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}  # missing or damaged: measure again
    return data if isinstance(data, dict) else {}


def _write_cache(path: Path, data: dict[str, dict]) -> None:
    # a cache that cannot be written (read-only home) only costs the next run its speed
    with contextlib.suppress(OSError):
        atomic_write_text(path, json.dumps(data))
