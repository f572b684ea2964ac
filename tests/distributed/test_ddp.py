"""Two processes with gloo on the CPU take the same steps as one process with the same global batch.

The runs are started the way a user starts them, with torchrun (``python -m torch.distributed.run``),
so the environment variables, the process group and rank 0's file writing are all exercised.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from ddp_worker import CONFIG, WINOGRAD_SPEC, make_model, train, train_winograd

from convlens.build import build_model
from convlens.train import load_checkpoint

HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def torchrun(nproc: int, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={nproc}"]
    command += ["--master_addr=127.0.0.1", f"--master_port={_free_port()}"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE)}
    result = subprocess.run(
        command + list(args), capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def assert_same_weights(
    a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], rtol: float = 1e-5, atol: float = 1e-6
) -> None:
    assert a.keys() == b.keys()
    for key in a:
        # float32 sums in another order (two shard means averaged vs one mean): ~1e-7 relative
        torch.testing.assert_close(a[key], b[key], rtol=rtol, atol=atol, msg=key)


def test_two_gloo_ranks_match_one_process(tmp_path):
    torchrun(2, str(HERE / "ddp_worker.py"), str(tmp_path / "ddp"))
    single = train(tmp_path / "single")
    ddp = load_checkpoint(tmp_path / "ddp" / "last").model
    assert_same_weights(ddp.state_dict(), single.state_dict())
    # the comparison can fail: training moved the weights, and one process with the per-rank
    # batch of 8 (instead of the global 16) ends somewhere else
    untrained = make_model().state_dict()
    assert max((untrained[k] - single.state_dict()[k]).abs().max() for k in untrained) > 1e-2
    other = train(tmp_path / "half", batch_size=8).state_dict()
    assert max((other[k] - single.state_dict()[k]).abs().max() for k in other) > 1e-2
    # rank 0 reports the global batch's loss and accuracy: the same records as one process
    ddp_records = [json.loads(s) for s in (tmp_path / "ddp" / "metrics.jsonl").open()]
    one_records = [json.loads(s) for s in (tmp_path / "single" / "metrics.jsonl").open()]
    assert [r["step"] for r in ddp_records] == [r["step"] for r in one_records] == [6, 12, 18]
    for a, b in zip(ddp_records, one_records, strict=True):
        assert a["acc"] == b["acc"] and a["val_acc"] == b["val_acc"]
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-5)


def test_two_ranks_with_winograd_match_one_process(tmp_path):
    result = torchrun(2, str(HERE / "ddp_worker.py"), str(tmp_path / "ddp"), "--winograd")
    assert "Winograd F(6x6, 3x3) for conv2" in result.stdout  # 64 examples per rank: fused
    single, hardware = train_winograd(tmp_path / "single")
    assert "Winograd F(6x6, 3x3) for conv2" in hardware
    ddp = load_checkpoint(tmp_path / "ddp" / "last").model
    # one thread on 128 examples against two ranks on 64 each: the batched products of the
    # Winograd layer (and oneDNN's convolutions) sum in another order, and on a CPU with AVX-512
    # one step's gradients then differ by up to 6e-6 relative, the weights after these 4 steps
    # by up to 2e-4 (conv2); an error in averaging the ranks' gradients would be of order 1
    assert_same_weights(ddp.state_dict(), single.state_dict(), rtol=1e-3, atol=1e-5)
    torch.manual_seed(CONFIG.seed)  # the weights both runs started from
    untrained = build_model(WINOGRAD_SPEC, (1, 6, 6)).state_dict()
    moved = max((untrained[k] - single.state_dict()[k]).abs().max() for k in untrained)
    assert moved > 1e-2


@pytest.mark.slow
def test_a_run_stopped_with_two_ranks_resumes_in_one_and_back(tmp_path):
    # stopped mid-epoch (step 8 of 18) on two ranks, continued in one process: the same weights as
    # an uninterrupted run; then the other way round, stopped in one and finished on two
    run = tmp_path / "run"
    torchrun(2, str(HERE / "ddp_worker.py"), str(run), "8")
    assert json.loads((run / "state.json").read_text())["step"] == 8
    resumed = train(run, resume=True)
    single = train(tmp_path / "single")
    assert_same_weights(resumed.state_dict(), single.state_dict())

    back = tmp_path / "back"
    train(back, stop_at=8)
    torchrun(2, str(HERE / "ddp_worker.py"), str(back), "--resume")
    finished = load_checkpoint(back / "last").model
    assert_same_weights(finished.state_dict(), single.state_dict())


@pytest.mark.slow
def test_convlens_train_under_torchrun_prints_once_and_writes_one_run(tmp_path):
    # the command of the README: two ranks, one run directory (named by rank 0), one report
    out = tmp_path / "run"
    result = torchrun(
        2, "-m", "convlens", "train", "mnist1d_cnn", "--data", "mnist1d", "--epochs", "1",
        "--batch-size", "100", "--device", "cpu", "--verbose", "2", "--out", str(out),
        "--no-report", "--tensorboard",
    )  # fmt: skip
    assert result.stdout.count("test accuracy") == 1
    assert result.stderr.count("epoch 1/1") == 1
    records = [json.loads(s) for s in (out / "metrics.jsonl").open()]
    assert [r["step"] for r in records] == [40]  # 4,000 training examples / 100 per global batch
    assert any((out / "tensorboard").iterdir())
    assert json.loads((out / "config.json").read_text())["batch_size"] == 100


@pytest.mark.slow
def test_a_bad_setting_under_torchrun_ends_every_rank_with_one_sentence(tmp_path):
    # 15 examples per global batch cannot be split over 2 ranks: both ranks stop at once (no
    # rank is left waiting in a collective), leave the process group and exit with code 2
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2"]
    command += ["--master_addr=127.0.0.1", f"--master_port={_free_port()}", "-m", "convlens"]
    command += ["train", "mnist1d_cnn", "--data", "mnist1d", "--batch-size", "15", "--device"]
    command += ["cpu", "--out", str(tmp_path / "run")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode != 0
    # rank 0 alone prints the CLI's one line; torchrun then reports the first rank to exit, with
    # code 2 (whichever rank is still tearing down its process group then gets torchrun's SIGTERM)
    lines = [line for line in result.stderr.splitlines() if "must divide evenly" in line]
    assert len(lines) == 1 and lines[0].startswith("convlens train: error:")
    assert re.search(r"exitcode\s*: 2\b", result.stderr)
    assert not (tmp_path / "run" / "last.json").exists()
