"""The CUDA path: data, augmentation and model on the GPU, bf16/fp16 autocast, NCCL ranks.

Run with ``pytest -m gpu tests/train/test_gpu.py`` on a machine with CUDA; skipped elsewhere.
"""

from __future__ import annotations

import pytest
import torch
from train_toydata import image_data

from convlens.build import build_model
from convlens.data.augment import Augment, augment_batch
from convlens.train import TrainConfig, evaluate, fit
from convlens.train.device import choose_hardware
from convlens.train.evaluation import logits_of

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

SPEC = "conv3x3x16-bn-pool2-fc64-fc3"


def test_auto_picks_the_gpu_and_a_reduced_precision():
    hw = choose_hardware(TrainConfig(), ndim=2)
    assert hw.device.type == "cuda"
    want = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    assert hw.precision == want and hw.channels_last


@pytest.mark.parametrize("precision", ["bfloat16", "float16", "float32"])
def test_memorises_random_labels_on_the_gpu(precision):
    if precision == "bfloat16" and not torch.cuda.is_bf16_supported():
        pytest.skip("this GPU has no bfloat16")
    # 48 random-label images can only be memorised: 100% means the whole step ran on the GPU
    data = image_data(n=48)
    torch.manual_seed(0)
    model = build_model(SPEC, data.in_shape)
    config = TrainConfig(
        epochs=80, batch_size=48, optimizer="adam", lr=3e-3, weight_decay=0, device="cuda",
        precision=precision, verbose=0,
    )  # fmt: skip
    history = fit(model, data, config)
    assert history.hardware.startswith("cuda")
    assert next(model.parameters()).device.type == "cuda"
    assert evaluate(model, data, config)["acc"] == 1.0


def test_augmented_training_keeps_everything_on_the_gpu():
    data = image_data(n=64)
    model = build_model(SPEC, data.in_shape)
    config = TrainConfig(epochs=2, batch_size=32, crop=2, flip=True, device="cuda", verbose=0)
    history = fit(model, data, config, val=data)
    assert all(torch.isfinite(torch.tensor(history["loss"])))
    assert history.hardware.startswith("cuda")


def test_gpu_logits_match_the_cpu_in_float32():
    data = image_data(n=16)
    torch.manual_seed(0)
    model = build_model(SPEC, data.in_shape).eval()
    cpu = logits_of(model, data.float_x(), choose_hardware(TrainConfig(device="cpu",
                    precision="float32"), 2))  # fmt: skip
    hw = choose_hardware(TrainConfig(device="cuda", precision="float32"), 2)
    gpu = logits_of(model.to(hw.device), data.float_x(device=hw.device), hw)
    torch.testing.assert_close(gpu.cpu(), cpu, atol=1e-2, rtol=0)  # TF32 convolutions


def test_augmentation_runs_on_the_device_of_its_generator():
    x = torch.randint(0, 256, (8, 3, 12, 12), dtype=torch.uint8, device="cuda")
    gen = torch.Generator("cuda").manual_seed(0)
    out = augment_batch(x, Augment(crop_padding=2, flip=True), gen)
    assert out.device.type == "cuda" and out.shape == x.shape and out.dtype == x.dtype


def test_the_matmul_peaks_are_measured_on_the_gpu():
    from convlens.train.profile import matmul_peaks

    peaks = matmul_peaks(size=1024, repeats=3, device="cuda")
    assert peaks.size == 1024 and peaks.float32 > 0 and peaks.bfloat16 > 0


def test_a_profile_on_the_gpu_takes_kernel_times_and_the_idle_rest():
    from convlens.train.profile import GPU_IDLE, profile_training

    p = profile_training("digits", "fast", warmup=2, steps=3, peaks=False, device="cuda")
    kinds = {k.kind: k.ms_per_step for k in p.kinds}
    assert p.gpu and p.cpu is None and p.hardware.startswith("cuda")
    assert GPU_IDLE in kinds and kinds.get("convolution forward", 0) > 0
    # the kernels' times and the idle rest make up the profiled step (more only where kernels
    # of one step overlap, which one stream does not do)
    assert sum(kinds.values()) == pytest.approx(p.profiled_step_ms, rel=0.02)


def test_the_peer_loop_trains_on_the_gpu_it_is_given():
    from convlens.train.bench import tutorial_fit

    data = image_data(n=64)
    model = build_model(SPEC, data.in_shape)
    config = TrainConfig(epochs=1, batch_size=32, device="cuda", verbose=0)
    result = tutorial_fit(model, data, data, config)
    assert next(model.parameters()).device.type == "cuda" and result.images_per_s > 0
    assert len(result.test_acc) == 1


def test_fused_adam_on_the_gpu_equals_torchs_fused_form():
    from torch import nn

    from convlens.train.optim import _groups, fused_runs, make_optimizer

    config = TrainConfig(optimizer="adamw", lr=0.05, momentum=0.85, weight_decay=0.05)
    torch.manual_seed(0)
    ours = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(64, 3)).cuda()
    theirs = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(64, 3)).cuda()
    theirs.load_state_dict(ours.state_dict())
    assert fused_runs(list(ours.parameters()))
    mine = make_optimizer(ours, config)
    ref = torch.optim.AdamW(_groups(theirs, config), lr=0.05, betas=(0.85, 0.999), fused=True)
    gen = torch.Generator("cuda").manual_seed(1)
    for _ in range(4):
        x = torch.randn(8, 1, 6, 6, device="cuda", generator=gen)
        for model, opt in ((ours, mine), (theirs, ref)):
            opt.zero_grad()
            model(x).square().mean().backward()
            opt.step()
    for a, b in zip(ours.state_dict().values(), theirs.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs for two NCCL ranks")
def test_two_nccl_ranks_match_one_gpu(tmp_path):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "distributed"))
    from ddp_worker import train
    from test_ddp import assert_same_weights, torchrun

    from convlens.train import load_checkpoint

    worker = Path(__file__).parents[1] / "distributed" / "ddp_worker.py"
    torchrun(2, str(worker), str(tmp_path / "ddp"), "--cuda")
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    single = train(tmp_path / "single", device="cuda").cpu()
    ddp = load_checkpoint(tmp_path / "ddp" / "last").model
    assert_same_weights(ddp.state_dict(), single.state_dict())
