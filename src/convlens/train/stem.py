"""The frozen first layers of a network, computed once per training image instead of at every step.

When a network's leading layers learn nothing (the fixed patch-whitening convolution of
``whiten``; the frozen layers of a pretrained network being fine-tuned), an image gives them the
same output at every epoch: transfer-learning tutorials compute a frozen feature extractor's
outputs once for that reason. ``StemTable`` does it inside ``fit``: the outputs of the frozen
prefix (the *stem*) for every training image, and for its mirror image when the run trains with
flips, are computed before the first step and kept on the device; each step gathers its batch's
rows, the same random choice of mirrored images that the augmentation makes, and runs the rest of
the network. The rows are what the step would compute: the same layers under the same autocast,
so only the convolution's blocking over a different batch can change a last bit.

A layer belongs to the stem when it is a convolution whose parameters all have ``requires_grad``
off, a pooling layer, or an element-wise activation (the same in training and evaluation); batch
norm (batch statistics in training) and dropout end it. Crops and shifts are not stored, so a run
that crops computes every layer at every step.

Measured with the Fashion-MNIST `fast` network (whitened conv1 and pool1 the stem, bf16
channels-last, batch 128, AVX512-BF16 EPYC, 2 threads, 2026-12-07; benchmarks/RESULTS.md): a step
1.08-1.09x faster in alternating rounds (20.45 against 18.88 ms, 21.23 against 19.40 ms), the same
losses and accuracies to the last digit, and a table of 2 x 60,000 images (753 MB in bf16) built
in 1.2-1.9 s, so that it pays only from the second use of each row (``worth_it``); end to end, six
epochs gained less than the machine's drift. A head trained on frozen VGG-like features (four
convolutions, ReLUs and pools in the stem; 2,000 3x32x32 images, 5 epochs) took 1.9-2.0 s
against 4.3-4.8 s, the same final loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from convlens.errors import ConfigError

# layers whose output depends on their input alone, in training as in evaluation
_ELEMENTWISE = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.Identity,
    nn.Hardswish, nn.Hardtanh, nn.Softplus, nn.Mish,
)  # fmt: skip
_POOLS = (
    nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d, nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d,
)  # fmt: skip
_CONVS = (nn.Conv1d, nn.Conv2d)

MAX_BYTES = 2 << 30  # the largest table kept: 2 GiB
MIN_PASSES = 2.0  # each row used at least this often on average before a table is worth its build
CHUNK = 256  # images per forward pass while the table is built


def stem_length(net: nn.Module) -> int:
    """How many leading layers of ``net`` (an ``nn.Sequential``) form a frozen stem: frozen
    convolutions, pooling and element-wise activations, at least one of them a convolution; 0
    when the network starts otherwise or is not a Sequential."""
    if not isinstance(net, nn.Sequential):
        return 0
    length, convs = 0, 0
    for layer in net:
        if isinstance(layer, _CONVS) and not any(p.requires_grad for p in layer.parameters()):
            convs += 1
        elif not isinstance(layer, _ELEMENTWISE + _POOLS):
            break
        length += 1
    return min(length, len(net) - 1) if convs else 0  # frozen throughout: nothing to train


def worth_it(
    config_value: str,
    steps: int,
    batch_size: int,
    rows: int,
    row_bytes: int,
    limit: int = MAX_BYTES,
) -> bool:
    """Whether a run of ``steps`` steps of ``batch_size`` should build a table of ``rows`` rows:
    "on" whenever it fits ``limit`` bytes, "auto" when besides each row is used ``MIN_PASSES``
    times on average, "off" never."""
    if config_value == "off" or rows * row_bytes > limit:
        return False
    return config_value == "on" or steps * batch_size >= MIN_PASSES * rows


def memory_limit(device: torch.device) -> int:
    """The most bytes a table may take on ``device``: ``MAX_BYTES``, and on a CUDA device at most
    a quarter of the memory free there (the training itself needs the rest)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return min(MAX_BYTES, free // 4)
    return MAX_BYTES


class StemTable:
    """The stem's outputs for every training image (``rows[0]``) and, with ``mirrored``, for its
    mirror image (``rows[1]``), and the rest of the network that each step runs."""

    def __init__(
        self,
        stem: nn.Module,
        rest: nn.Module,
        x: torch.Tensor,
        *,
        mirrored: bool,
        autocast: torch.autocast,
        channels_last: bool,
    ) -> None:
        self.stem, self.rest = stem, rest
        self.count, self.sides = len(x), 1 + mirrored
        self._versions = self._state()
        self.channels_last = channels_last and x.dim() == 4
        with torch.no_grad(), autocast:
            first = self._forward(x[:1])
            shape = (self.sides * self.count, *first.shape[1:])
            layout = torch.channels_last if self.channels_last else torch.contiguous_format
            # row side * count + i: image i, mirrored when side is 1; each row one block of
            # memory in the layout the network runs in
            self.rows = torch.empty(shape, dtype=first.dtype, device=first.device,
                                    memory_format=layout)  # fmt: skip
            for side in range(self.sides):
                for start in range(0, self.count, CHUNK):
                    chunk = x[start : start + CHUNK]
                    at = side * self.count + start
                    self.rows[at : at + len(chunk)] = self._forward(
                        chunk.flip(-1) if side else chunk
                    )

    def _state(self) -> list[tuple[bool, int]]:
        return [(p.requires_grad, p._version) for p in self.stem.parameters()]

    def current(self) -> bool:
        """Whether the stem is as the table was built from: still frozen (a callback may unfreeze
        it to fine-tune) and its weights not changed in place (``load_state_dict``, an edit)."""
        return self._state() == self._versions

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.stem(x)

    @property
    def nbytes(self) -> int:
        return self.rows.numel() * self.rows.element_size()

    def batch(self, index: torch.Tensor, mirror: torch.Tensor | None = None) -> torch.Tensor:
        """The stem's outputs for the images ``index``, mirrored where ``mirror`` (bool) is True."""
        if mirror is not None:
            if self.sides == 1:
                raise ConfigError("this stem table was built without the mirrored images.")
            index = index + self.count * mirror.to(index.dtype)
        rows = self.rows[index]
        return rows.contiguous(memory_format=torch.channels_last) if self.channels_last else rows


def split(net: nn.Module, length: int) -> tuple[nn.Sequential, nn.Sequential]:
    """``net``'s first ``length`` layers and the others, as two Sequentials sharing its modules."""
    assert isinstance(net, nn.Sequential) and 0 < length < len(net)
    return net[:length], net[length:]  # type: ignore[return-value]


def stem_note(names: Sequence[str]) -> str:
    """What a run's hardware line adds when a stem table is used: the layers, or the first and
    the last of more than three."""
    if not names:
        return ""
    layers = (
        " + ".join(names) if len(names) <= 3 else f"{names[0]} to {names[-1]} ({len(names)} layers)"
    )
    return f", {layers} computed once per image"
