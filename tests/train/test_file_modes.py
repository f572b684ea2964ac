"""Every file of a run, its report and an ONNX export get the user's umask, as a plain open()
would give them: 0o666 less the umask (0o644 under umask 022, 0o600 under 077)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from train_toydata import image_data

from convlens.build import build_model
from convlens.fileio import atomic_write_text
from convlens.train import TrainConfig, fit


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("umask", "expected"), [(0o022, 0o644), (0o077, 0o600)])
def test_run_files_report_and_onnx_get_the_users_umask(tmp_path, umask, expected):
    pytest.importorskip("onnxruntime")
    from convlens.export import export_onnx
    from convlens.report import write_report

    old = os.umask(umask)
    try:
        model = build_model("conv3x3x4-pool2-fc3", (1, 12, 12))
        config = TrainConfig(epochs=1, batch_size=64, verbose=0, precision="float32")
        fit(model, image_data(), config, val=image_data(seed=1), run_dir=tmp_path / "run")
        report = write_report(tmp_path / "run", examples=0)
        onnx = tmp_path / "model.onnx"
        export_onnx(model, onnx, (1, 12, 12), dynamo=False)
    finally:
        os.umask(old)
    files = sorted(p for p in (tmp_path / "run").iterdir() if p.is_file())
    assert {p.name for p in files} >= {"config.json", "metrics.jsonl", "best.safetensors"}
    assert report in files
    assert {p.name: oct(_mode(p)) for p in [*files, onnx]} == {
        p.name: oct(expected) for p in [*files, onnx]
    }


def test_reading_the_umask_never_clears_it(tmp_path, monkeypatch):
    """os.umask(0) to read the umask, even for a moment, lets a file that another thread
    creates meanwhile be written with mode 0o666; the umask is read without changing it."""
    status = Path("/proc/self/status")
    if not status.is_file() or "Umask:" not in status.read_text():
        pytest.skip("this system does not show the umask in /proc/self/status")
    real_umask = os.umask
    set_to: list[int] = []

    def watched(mask: int) -> int:
        set_to.append(mask)
        return real_umask(mask)

    old = real_umask(0o027)
    try:
        monkeypatch.setattr(os, "umask", watched)
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        real_umask(old)
    assert set_to == []  # the umask was never changed, not even to be read
    assert _mode(tmp_path / "a.txt") == 0o640
