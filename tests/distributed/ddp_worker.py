"""One rank of a small distributed run (started by torchrun from test_ddp.py), or the same run in
one process: ``python ddp_worker.py OUT_DIR [STOP_AT_STEP] [--resume] [--cuda] [--winograd]``.

The model has neither batch norm nor dropout, the two layers whose result depends on how a batch is
split, so W ranks with B/W examples each must take the same steps as one process with B.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from convlens.build import build_model
from convlens.data.tensors import TensorData
from convlens.train import StepInfo, TrainConfig, fit
from convlens.train.distributed import launch

SPEC = "conv3x3x6-pool2-fc24-fc3"
# SGD with momentum, a warm-up schedule, weight decay, flips and crops: every part that carries
# state from step to step; float32 so that the only differences are the order of additions.
CONFIG = TrainConfig(
    epochs=3, batch_size=16, lr=0.05, flip=True, crop=2, seed=3,
    device="cpu", precision="float32", channels_last="off", verbose=0,
)  # fmt: skip


def toy_data(n: int = 96) -> TensorData:
    g = torch.Generator().manual_seed(1)
    x = torch.randint(0, 256, (n, 1, 10, 10), generator=g, dtype=torch.uint8)
    y = torch.randint(0, 3, (n,), generator=g)
    return TensorData("noise", "train", x, y, ("a", "b", "c"), (0.5,), (0.29,))


def make_model() -> torch.nn.Module:
    torch.manual_seed(CONFIG.seed)
    return build_model(SPEC, (1, 10, 10))


def train(
    out: Path, *, stop_at: int = 0, resume: bool = False, device: str = "cpu", batch_size: int = 16
) -> torch.nn.Module:
    """Train (or continue) the run in ``out``; ``stop_at`` interrupts it after that step, as
    Ctrl-C would, and fit saves the resume state."""

    def on_step(info: StepInfo) -> None:
        if info.step == stop_at:
            raise KeyboardInterrupt

    model = make_model()
    data = toy_data()
    config = CONFIG.replace(device=device, batch_size=batch_size)
    fit(model, data, config, val=data, run_dir=out, resume=resume, on_step=on_step)
    return model


# --winograd: 32 channels on 6x6 maps, convolution, ReLU, max-pool: the pair that winograd fuses
# from 64 examples per process (a global batch of 128 over two ranks)
WINOGRAD_SPEC = "conv3x3x32p1-conv3x3x32p1-pool2-fc3"


def train_winograd(out: Path) -> tuple[torch.nn.Module, str]:
    """The --winograd run: its model and the hardware line its History reports."""
    g = torch.Generator().manual_seed(2)
    x = torch.randint(0, 256, (256, 1, 6, 6), generator=g, dtype=torch.uint8)
    y = torch.randint(0, 3, (256,), generator=g)
    data = TensorData("noise", "train", x, y, ("a", "b", "c"), (0.5,), (0.29,))
    torch.manual_seed(CONFIG.seed)
    model = build_model(WINOGRAD_SPEC, (1, 6, 6))
    config = CONFIG.replace(epochs=2, batch_size=128, crop=0, winograd=True)
    history = fit(model, data, config, run_dir=out)
    return model, history.hardware


if __name__ == "__main__":
    torch.set_num_threads(1)
    # TF32 would round each rank's convolutions differently from a single process's
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    out_dir = Path(sys.argv[1])
    stop = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else 0
    with launch():
        device = "cuda" if "--cuda" in sys.argv else "cpu"
        if "--winograd" in sys.argv:
            print(train_winograd(out_dir)[1])
        else:
            train(out_dir, stop_at=stop, resume="--resume" in sys.argv, device=device)
