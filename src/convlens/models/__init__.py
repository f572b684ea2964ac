"""The model zoo: ``create_model(name, num_classes=..., in_channels=...)``, ``list_models()``."""

from convlens.models.registry import (
    ModelInfo,
    create_model,
    list_models,
    model_info,
    register_model,
)

__all__ = ["ModelInfo", "create_model", "list_models", "model_info", "register_model"]
