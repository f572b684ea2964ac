"""convlens: define, measure, train, look inside and rebuild convolutional neural networks.

The public names are imported lazily, so ``import convlens`` (and ``convlens --help``) stays fast
and does not pull in torch until a function that needs it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_PUBLIC: dict[str, str] = {
    # spec language and arithmetic (torch-free)
    "parse_spec": "convlens.spec",
    "format_spec": "convlens.spec",
    "Spec": "convlens.spec",
    "Conv": "convlens.spec",
    "Pool": "convlens.spec",
    "Linear": "convlens.spec",
    "Activation": "convlens.spec",
    "BatchNorm": "convlens.spec",
    "LocalResponseNorm": "convlens.spec",
    "Dropout": "convlens.spec",
    "Flatten": "convlens.spec",
    "GlobalAvgPool": "convlens.spec",
    "conv_output_size": "convlens.analysis.geometry",
    "layer_arithmetic": "convlens.analysis.geometry",
    # torch
    "build_model": "convlens.build",
    "summarize": "convlens.analysis.summary",
    "Summary": "convlens.analysis.summary",
    "create_model": "convlens.models.registry",
    "list_models": "convlens.models.registry",
    "model_info": "convlens.models.registry",
    "ModelInfo": "convlens.models.registry",
    "register_model": "convlens.models.registry",
    "load_dataset": "convlens.data",
    "list_datasets": "convlens.data",
    "dataset_info": "convlens.data",
    "TensorData": "convlens.data",
    "Augment": "convlens.data",
    "augment_batch": "convlens.data",
    "fit": "convlens.train",
    "evaluate": "convlens.train",
    "predict": "convlens.train",
    "TrainConfig": "convlens.train",
    "History": "convlens.train",
    "save_checkpoint": "convlens.train",
    "load_checkpoint": "convlens.train",
    "export_onnx": "convlens.export",
    "ExportCheck": "convlens.export",
    # looking inside
    "saliency": "convlens.viz",
    "guided_backprop": "convlens.viz",
    "grad_cam": "convlens.viz",
    "class_model_image": "convlens.viz",
    "deep_dream": "convlens.viz",
    "feature_maps": "convlens.viz",
    "write_report": "convlens.report",
    # experiments
    "run_experiment": "convlens.experiments",
    "list_experiments": "convlens.experiments",
    "ExperimentResult": "convlens.experiments",
    # NumPy engine
    "build_scratch": "convlens.scratch",
    # errors
    "ConvlensError": "convlens.errors",
    "SpecError": "convlens.errors",
    "LayerFitError": "convlens.errors",
    "DataError": "convlens.errors",
    "CheckpointError": "convlens.errors",
    "ConfigError": "convlens.errors",
    "TrainingError": "convlens.errors",
}

__all__ = ["__version__", *_PUBLIC]


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'convlens' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
