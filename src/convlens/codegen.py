"""A spec as code a student can read and paste: plain PyTorch, or the NumPy engine.

``pytorch_code(spec, in_shape)`` writes the ``nn.Sequential`` that ``build_model`` builds, with every
channel count and ``in_features`` spelled out as a number and the output shape of each layer in a
comment, so the code runs without convlens and its ``state_dict`` keys are those of a convlens
checkpoint (conv1.weight, fc1.bias, ...). The code is generated from the built modules themselves
through the table below (the constructor arguments each module type is rebuilt from), so it cannot
drift from what ``build_model`` makes.

``numpy_code(spec, in_shape)`` writes a script that builds the same network in ``convlens.scratch``
and loads a checkpoint's safetensors weights into it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from convlens.errors import ConfigError

# constructor arguments per module type: positional attributes, then keyword attributes with the
# constructor's default (a keyword equal to its default is left out, as a person would write it)
_ARGS: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "Conv1d": (
        ("in_channels", "out_channels"),
        dict(kernel_size=None, stride=1, padding=0, dilation=1, groups=1, bias=True,
             padding_mode="zeros"),
    ),
    "Conv2d": (
        ("in_channels", "out_channels"),
        dict(kernel_size=None, stride=1, padding=0, dilation=1, groups=1, bias=True,
             padding_mode="zeros"),
    ),
    "MaxPool1d": ((), dict(kernel_size=None, stride=None, padding=0)),
    "MaxPool2d": ((), dict(kernel_size=None, stride=None, padding=0)),
    "AvgPool1d": ((), dict(kernel_size=None, stride=None, padding=0)),
    "AvgPool2d": ((), dict(kernel_size=None, stride=None, padding=0)),
    "Linear": (("in_features", "out_features"), dict(bias=True)),
    "BatchNorm1d": (("num_features",), dict(eps=1e-5, momentum=0.1)),
    "BatchNorm2d": (("num_features",), dict(eps=1e-5, momentum=0.1)),
    "LocalResponseNorm": (("size",), dict(alpha=1e-4, beta=0.75, k=1.0)),
    "Dropout": ((), dict(p=0.5)),
    "Flatten": ((), {}),
    "ReLU": ((), {}),
    "Sigmoid": ((), {}),
    "Tanh": ((), {}),
    "Softplus": ((), {}),
    "GELU": ((), {}),
    "ELU": ((), {}),
    "LeakyReLU": ((), dict(negative_slope=0.01)),
    "Softmax": ((), dict(dim=None)),
}  # fmt: skip

# modules convlens defines itself, written as the torch modules that compute the same thing
_EQUIVALENT: dict[str, Callable[[Sequence[int]], str]] = {
    "GlobalAvgPoolFlat": lambda in_shape: (
        f"nn.Sequential(nn.AdaptiveAvgPool{len(in_shape) - 1}d(1), nn.Flatten())"
    ),
}


def _value(module: Any, name: str) -> Any:
    if name == "bias":
        return module.bias is not None
    value = getattr(module, name)
    if isinstance(value, tuple) and value and all(v == value[0] for v in value):
        return value[0]  # (5, 5) -> 5, as a person writes a square kernel
    return value


def module_code(module: Any, in_shape: Sequence[int] = ()) -> str:
    """``nn.Conv2d(1, 6, kernel_size=5)`` for one built module."""
    kind = type(module).__name__
    if kind in _EQUIVALENT:
        return _EQUIVALENT[kind](in_shape)
    if kind not in _ARGS:
        raise ConfigError(f"there is no PyTorch code for the {kind} layer yet.")
    positional, keywords = _ARGS[kind]
    args = [repr(_value(module, name)) for name in positional]
    for name, default in keywords.items():
        value = _value(module, name)
        if name == "stride" and kind.endswith(("Pool1d", "Pool2d")):
            default = _value(module, "kernel_size")  # pooling's stride defaults to its window
        if default is None or value != default:
            args.append(f"{name}={value!r}")
    return f"nn.{kind}({', '.join(args)})"


_AXES = {3: "channels x height x width", 2: "channels x length"}


def _shape(shape: Sequence[int]) -> str:
    return "x".join(str(v) for v in shape)


def pytorch_code(spec: Any, in_shape: Sequence[int]) -> str:
    """A runnable Python file holding the spec's network as an ``nn.Sequential``."""
    from convlens.analysis.geometry import analyze
    from convlens.build import build_model
    from convlens.spec import format_spec, parse_spec

    model = build_model(spec, in_shape)
    rows = {row.name: row for row in analyze(spec, in_shape)}
    lines = []
    for name, module in model.named_children():
        row = rows[name]
        lines.append(
            f"    ({name!r}, {module_code(module, row.in_shape)}),  # -> {_shape(row.out_shape)}"
        )
    batch = ", ".join(str(v) for v in (1, *in_shape))
    return "\n".join(
        [
            f"# {format_spec(parse_spec(spec))}",
            f"# for inputs of {_shape(in_shape)} ({_AXES.get(len(in_shape), 'features')}), written by convlens",
            "from collections import OrderedDict",
            "",
            "import torch",
            "from torch import nn",
            "",
            "model = nn.Sequential(OrderedDict([",
            *lines,
            "]))",
            "",
            'if __name__ == "__main__":',
            f"    x = torch.zeros({batch})",
            "    print(model(x).shape)",
            "",
        ]
    )


def numpy_code(spec: Any, in_shape: Sequence[int], weights: str = "weights.safetensors") -> str:
    """A script that builds the spec in the NumPy engine and loads safetensors weights into it."""
    from convlens.analysis.geometry import analyze
    from convlens.spec import expand_spec, format_spec, parse_spec

    rows = analyze(spec, in_shape)
    # the expanded spec (activations written out) with activation=None builds exactly these rows
    expanded = format_spec(expand_spec(parse_spec(spec), len(in_shape)))
    shape = tuple(int(v) for v in in_shape)
    return "\n".join(
        [
            f'"""{format_spec(parse_spec(spec))} in the NumPy engine (convlens.scratch).',
            "",
            "Usage: python this_file.py [WEIGHTS.safetensors]  (the weights exported beside it)",
            '"""',
            "import sys",
            "",
            "import numpy as np",
            "from safetensors.numpy import load_file",
            "",
            "from convlens.scratch import build_scratch",
            "",
            f"SPEC = {expanded!r}",
            f"IN_SHAPE = {shape!r}  # {_AXES.get(len(shape), 'features')}",
            "",
            "net = build_scratch(SPEC, IN_SHAPE, activation=None)",
            f'net.load_state_dict(load_file(sys.argv[1] if len(sys.argv) > 1 else "{weights}"))',
            "",
            'if __name__ == "__main__":',
            "    x = np.zeros((1, *IN_SHAPE))",
            f"    print(net.forward(x).shape)  # (1, {_shape(rows[-1].out_shape).replace('x', ', ')})",
            "",
        ]
    )
