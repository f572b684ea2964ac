"""One output value of a convolution layer, worked out: the input window, the kernel and the sum.

CNN Explainer's detail view, for any model: pick a conv layer, a channel and a position, and see
the values of the layer's input under the kernel there (padding included), the kernel itself, the
sum of their products and the bias. Their total equals the layer's output at that position (before
any activation), which ``conv_cell`` checks against the real forward pass rather than assuming.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from convlens.errors import ConfigError
from convlens.torchutil import eval_mode
from convlens.viz.layers import find_conv


@dataclass(frozen=True)
class ConvCell:
    layer: str
    channel: int
    index: tuple[int, int]  # (y, x) in the layer's output map
    window: torch.Tensor  # (C_in / groups, KH, KW) values of the padded input under the kernel
    kernel: torch.Tensor  # (C_in / groups, KH, KW)
    bias: float
    products_sum: float  # Σ window · kernel
    output: float  # the layer's output there, products_sum + bias


def _padded(module: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    if not isinstance(module.padding, tuple):  # "same" or "valid" written as text
        raise ConfigError(f"the cell view needs numeric padding, not {module.padding!r}")
    ph, pw = module.padding
    mode = "constant" if module.padding_mode == "zeros" else module.padding_mode
    return F.pad(x, (pw, pw, ph, ph), mode=mode) if (ph or pw) else x


def conv_cell(
    model: nn.Module, x: torch.Tensor, layer: str, channel: int, index: tuple[int, int]
) -> ConvCell:
    """The arithmetic behind output ``(channel, y, x)`` of the 2-D conv ``layer`` for input ``x``."""
    name, module = find_conv(model, layer)
    if not isinstance(module, nn.Conv2d):
        raise ConfigError(
            f"the cell view shows 2-D convolutions; {name!r} is a {type(module).__name__}"
        )
    seen: dict[str, torch.Tensor] = {}
    pre = module.register_forward_pre_hook(lambda _m, inputs: seen.__setitem__("in", inputs[0]))
    post = module.register_forward_hook(lambda _m, _i, out: seen.__setitem__("out", out))
    try:
        with eval_mode(model), torch.no_grad():
            model(x if x.dim() == 4 else x.unsqueeze(0))
    finally:
        pre.remove()
        post.remove()
    out = seen["out"][0]
    y, x0 = index
    if not 0 <= channel < out.shape[0]:
        raise ConfigError(f"layer {name!r} has channels 0 to {out.shape[0] - 1}, not {channel}")
    if not (0 <= y < out.shape[1] and 0 <= x0 < out.shape[2]):
        raise ConfigError(
            f"position ({y}, {x0}) is outside layer {name!r}'s {out.shape[1]}x{out.shape[2]} map"
        )
    padded = _padded(module, seen["in"][0].float())
    (kh, kw), (sh, sw), (dh, dw) = module.kernel_size, module.stride, module.dilation
    per_group = module.out_channels // module.groups
    c_in = module.in_channels // module.groups
    first = (channel // per_group) * c_in
    rows = torch.arange(kh) * dh + y * sh
    cols = torch.arange(kw) * dw + x0 * sw
    window = padded[first : first + c_in][:, rows][:, :, cols]
    kernel = module.weight[channel].detach().float()
    bias = float(module.bias[channel].detach()) if module.bias is not None else 0.0
    products_sum = float((window * kernel).sum())
    return ConvCell(
        name, channel, (y, x0), window, kernel, bias, products_sum, float(out[channel, y, x0])
    )
