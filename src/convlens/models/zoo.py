"""The zoo as data: every model's size, cost and receptive field, measured without computing.

Each model is built on the meta device (no weights are allocated) and summarised by
``convlens.analysis.summary.summarize``; spec-built models are summarised from their spec by
arithmetic alone. Nothing here runs a real forward pass, so the whole table takes seconds.

The receptive field reported is that of the last feature map (the last convolution or pooling
window before global pooling or the fc layers), the quantity that Araujo, Norris & Sim (Distill
2019) tabulate: 195 for AlexNet, 212 for VGG-16.

Sizes: the lectures (and Keras's application table) quote weights in "MB". Both readings are
given: ``param_mb`` = bytes / 10^6 and ``param_mib`` = bytes / 2^20. For the lectures' list,
bytes / 2^20 is the closer reading for AlexNet (62.4 M parameters of the lectures' form:
238.0 MiB against "238 MB") and ResNet-50 (97.5 against "100"); see the README for the table.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    import torch

    from convlens.analysis.summary import summarize

    info = model_info(name)
    with torch.device("meta"):
        model = create_model(name)
    spec = getattr(model, "spec", None)
    # spec-built models: the arithmetic gives the same rows as tracing, and faster
    summary = summarize(spec, model.in_shape) if spec is not None else summarize(model)
    windowed = [r for r in summary.rows if r.kind in _WINDOWED]
    params = {id(p): p for p in model.parameters()}.values()
    return ZooEntry(
        info=info,
        params=sum(p.numel() for p in params),
        macs=summary.total_macs,
        rf=windowed[-1].rf if windowed else (),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
    )


def zoo_entries(family: str | None = None) -> list[ZooEntry]:
    """Every model of the zoo (or of one family), measured."""
    return [zoo_entry(name) for name in list_models(family)]
