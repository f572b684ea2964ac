"""The MNIST-1D networks: a conv net against a fully connected net on 40-point signals.

* Greydanus & Kobak, "Scaling Down Deep Learning with MNIST-1D", ICML 2024 (arXiv 2011.14439),
  and the ``mnist1d`` repository's ``models.py``: the CNN has three Conv1d layers with 25 channels
  (kernel 5 stride 2 padding 1, then kernel 3 stride 2 padding 1 twice) and a linear layer on the
  25 x 5 = 125 features: 150 + 1,900 + 1,900 + 1,260 = 5,210 parameters. The MLP has two hidden
  layers of 100: 4,100 + 10,100 + 1,010 = 15,210.
* Prince, "Understanding Deep Learning", MIT Press 2023, section 10.5 and its notebook 10.5:
  three Conv1d layers with 15 channels, kernel 3, stride 2, no padding (40 -> 19 -> 9 -> 4), then a
  linear layer on 15 x 4 = 60 features: 60 + 690 + 690 + 610 = 2,050 parameters. Its fully
  connected comparison keeps the same number of hidden units per layer (19 x 15 = 285,
  9 x 15 = 135, 4 x 15 = 60): 11,685 + 38,610 + 8,160 + 610 = 59,065 parameters.

All four take a (1, 40) signal (channels x length); the MLPs flatten it first. Each is one row of
``NETS``: spec text whose ``{width}`` is the builder's width option and ``{n}`` the class count.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from convlens.build import build_model
from convlens.models.registry import register_model

_LENGTH = 40
_GK = "Greydanus & Kobak 2024 (arXiv 2011.14439); github.com/greydanus/mnist1d models.py"
_UDL = "Prince, Understanding Deep Learning (2023), section 10.5"


@dataclass(frozen=True)
class Net:
    name: str
    spec: str  # the whole network; the fc layers are sized by what the layers before leave
    width: tuple[str, int] | None  # the builder's keyword for {width} and its default
    description: str
    source: str
    params: int  # at the default width and 10 classes, counted in the module docstring


NETS: tuple[Net, ...] = (
    Net("mnist1d_cnn",
        "conv1d5x{width}s2p1-relu-conv1d3x{width}s2p1-relu-conv1d3x{width}s2p1-relu-fc{n}",
        ("channels", 25),
        "Greydanus & Kobak's MNIST-1D CNN: 3 Conv1d layers of 25 channels + fc", _GK, 5_210),
    Net("mnist1d_mlp", "flatten-fc{width}-relu-fc{width}-relu-fc{n}", ("hidden", 100),
        "Greydanus & Kobak's MNIST-1D MLP: 40-100-100-10, ReLU", _GK, 15_210),
    Net("udl_cnn", "conv1d3x{width}s2-relu-conv1d3x{width}s2-relu-conv1d3x{width}s2-relu-fc{n}",
        ("channels", 15),
        "Prince's MNIST-1D CNN: 3 Conv1d layers of 15 channels, kernel 3, stride 2 + fc",
        _UDL + " and notebook 10.5", 2_050),
    Net("udl_fc", "flatten-fc285-relu-fc135-relu-fc60-relu-fc{n}", None,
        "Prince's fully connected comparison: 40-285-135-60-10 (the CNN's hidden units)",
        _UDL, 59_065),
)  # fmt: skip


def _register(net: Net) -> None:
    def build(num_classes: int, in_channels: int, **option: Any):
        """Input C x ``length`` (40 by default)."""
        keyword, default = net.width or ("", None)
        spec = net.spec.format(width=option.get(keyword, default), n=num_classes)
        return build_model(spec, (in_channels, option.get("length", _LENGTH)))

    # the zoo lists a builder's keyword options from its signature: name the width option as the
    # sources do (channels of each conv, units of each hidden layer)
    keyword_only = inspect.Parameter.KEYWORD_ONLY
    options = ([net.width] if net.width else []) + [("length", _LENGTH)]
    parameters = list(inspect.signature(build).parameters.values())[:2]
    parameters += [inspect.Parameter(k, keyword_only, default=v) for k, v in options]
    build.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    build.__name__ = net.name
    register_model(
        net.name, family="mnist1d", in_shape=(1, _LENGTH), num_classes=10,
        description=net.description, source=net.source, params=net.params,
    )(build)  # fmt: skip


for _net in NETS:
    _register(_net)
