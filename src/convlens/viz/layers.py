"""Finding layers of any ``nn.Module`` by their module path ("conv1", "layer1.0.conv2").

A path is what ``model.named_modules()`` prints, so it is the same name the summary table and a
checkpoint use. A wrong path gets one sentence that lists the convolution layers to choose from.
"""

from __future__ import annotations

from torch import nn

from convlens.errors import ConfigError

_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def conv_layers(model: nn.Module) -> list[str]:
    """Module paths of every convolution in ``model``, in definition order."""
    return [name for name, module in model.named_modules() if isinstance(module, _CONV)]


def find_layer(model: nn.Module, path: str) -> nn.Module:
    """The submodule at ``path``; ``ConfigError`` naming the conv layers when there is none."""
    modules = dict(model.named_modules())
    if path in modules and path != "":
        return modules[path]
    convs = conv_layers(model)
    choices = ", ".join(convs) if convs else "none (this model has no convolution layers)"
    raise ConfigError(f"the model has no layer {path!r}; its convolution layers are: {choices}")


def find_conv(
    model: nn.Module, path: str | None = None, *, last: bool = False
) -> tuple[str, nn.Module]:
    """A convolution layer by path, or the first (``last=False``) or last one when no path is given."""
    if path is not None:
        module = find_layer(model, path)
        if not isinstance(module, _CONV):
            names = ", ".join(conv_layers(model)) or "none"
            raise ConfigError(
                f"layer {path!r} is a {type(module).__name__}, not a convolution; "
                f"choose one of: {names}"
            )
        return path, module
    convs = conv_layers(model)
    if not convs:
        raise ConfigError("the model has no convolution layers, so there is nothing to show here")
    first_or_last = convs[-1] if last else convs[0]
    return first_or_last, find_layer(model, first_or_last)
