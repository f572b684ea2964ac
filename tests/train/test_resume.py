"""A run killed with SIGKILL and resumed ends with the same weights as one that never stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import torch
from train_toydata import image_data

from convlens.build import build_model
from convlens.train import StepInfo, TrainConfig, fit, load_checkpoint

# float32 on the CPU with deterministic algorithms: bit-exact replay is then a fair demand.
# The model has dropout (global RNG), the run uses flips and crops (data generator) and AdamW
# (optimiser buffers), so every piece of state that resume restores is exercised.
SPEC = "conv3x3x8-bn-pool2-dropout0.25-fc3"
CONFIG = dict(
    epochs=3, batch_size=16, optimizer="adamw", lr=3e-3, flip=True, crop=1, save_every=3,
    precision="float32", device="cpu", deterministic=True, threads=1, verbose=0,
)  # fmt: skip
KILL_AT = 13  # mid-epoch 2 (8 steps an epoch), one step after a save at step 12

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import torch
    sys.path.insert(0, {here!r})
    from train_toydata import image_data
    from convlens.build import build_model
    from convlens.train import TrainConfig, fit

    def kill(info):
        if info.step == {kill_at}:
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no finally blocks

    torch.manual_seed(0)
    model = build_model({spec!r}, (1, 12, 12))
    fit(model, image_data(), TrainConfig(**{config!r}), run_dir={run_dir!r}, on_step=kill)
    """
)


def _train(run_dir: Path, resume: bool = False) -> torch.nn.Module:
    torch.manual_seed(0)
    model = build_model(SPEC, (1, 12, 12))
    fit(model, image_data(), TrainConfig(**CONFIG), run_dir=run_dir, resume=resume)
    return model


def test_sigkill_then_resume_gives_bit_identical_weights(tmp_path):
    reference = _train(tmp_path / "whole")

    killed = tmp_path / "killed"
    code = SCRIPT.format(
        here=str(Path(__file__).parent),
        kill_at=KILL_AT,
        spec=SPEC,
        config=CONFIG,
        run_dir=str(killed),
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert (killed / "state.json").exists()

    resumed = _train(killed, resume=True)
    for key, value in reference.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key
    # the checkpoint the resumed run wrote last holds the same weights too
    last = load_checkpoint(killed / "last")
    assert torch.equal(last.model.conv1.weight, reference.conv1.weight)


def test_resume_after_an_epoch_boundary_matches_too(tmp_path):
    reference = _train(tmp_path / "whole")

    def stop(info: StepInfo) -> None:
        if info.step == 8:  # the end of epoch 1: state is saved right after this hook
            raise KeyboardInterrupt

    torch.manual_seed(0)
    model = build_model(SPEC, (1, 12, 12))
    fit(model, image_data(), TrainConfig(**CONFIG), run_dir=tmp_path / "cut", on_step=stop)
    resumed = _train(tmp_path / "cut", resume=True)
    for key, value in reference.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key
