"""Training through the studio: the event stream, pause/resume/stop/lr, one run at a time, and a
run directory that `convlens train --resume` continues."""

from __future__ import annotations

import time

import numpy as np
from studio_api_client import client, events, synthetic_npz

SPEC = "conv3x3x4-pool2-fc2"
TRAIN = {"model": SPEC, "epochs": 4, "batch_size": 32, "lr": 0.01, "optimizer": "adam",
         "device": "cpu", "schedule": "constant"}  # fmt: skip


def _wait(c, state: str, timeout: float = 60.0) -> None:
    start = time.monotonic()
    while c.studio.trainer.state != state:
        assert time.monotonic() - start < timeout, f"still {c.studio.trainer.state}"
        time.sleep(0.02)


def _step_count(c) -> int:
    return sum(n == "step" for n, _ in c.studio.trainer.log.since(0)[0])


def _wait_for_step(c, after: int = 0, timeout: float = 60.0) -> None:
    start = time.monotonic()
    while _step_count(c) <= after:
        assert time.monotonic() - start < timeout, "no training step yet"
        time.sleep(0.01)


def test_stream_of_a_tiny_seeded_run(tmp_path):
    data = synthetic_npz(tmp_path / "halves.npz")
    with client(tmp_path / "runs", data=str(data), data_path=data) as c:
        started = c.post("/api/train", json={**TRAIN, "data": str(data)}).json()
        stream = events(c, started["run"])
        listed = c.get("/api/runs").json()
        detail = c.get(f"/api/runs/{started['run']}").json()
    names = [name for name, _ in stream]
    assert names[-1] == "done" and "error" not in names
    epochs = [data for name, data in stream if name == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]  # in order, none lost
    assert epochs[-1]["loss"] < epochs[0]["loss"]
    assert len(epochs[-1]["confusion"]) == 2 and len(epochs[-1]["per_class"]) == 2
    assert epochs[-1]["filters"]["shape"] == [4, 1, 3, 3]
    assert np.abs(np.array(epochs[-1]["filters"]["values"])).max() == 1.0
    steps = [data for name, data in stream if name == "step"]
    assert steps and all(s["step"] > 0 for s in steps)
    assert [d["state"] for n, d in stream if n == "state"][-1] == "done"
    # an ordinary run directory, listed with its sizes
    run_dir = tmp_path / "runs" / started["run"]
    for name in ("config.json", "metrics.jsonl", "last.safetensors", "state.json"):
        assert (run_dir / name).is_file(), name
    row = next(r for r in listed if r["run"] == started["run"])
    assert row["state"] == "done" and row["epochs_done"] == 4
    assert row["params"] == (3 * 3 * 1 + 1) * 4 + (4 * 3 * 3 + 1) * 2  # 8x8 -> 6x6 -> 3x3
    assert [r["epoch"] for r in detail["history"]] == [1, 2, 3, 4]
    assert detail["classes"] == ["left", "right"] and detail["spec"]


def test_a_second_start_is_refused_and_controls_work(tmp_path):
    data = synthetic_npz(tmp_path / "halves.npz", n=2048)
    slow = {**TRAIN, "epochs": 200, "warmup": 0.0, "data": str(data)}
    with client(tmp_path / "runs", data_path=data) as c:
        run = c.post("/api/train", json=slow).json()["run"]
        second = c.post("/api/train", json=slow)
        assert second.status_code == 409 and "already running" in second.json()["error"]
        assert c.post("/api/train/pause").json() == {"state": "paused"}
        assert c.post("/api/train/lr", json={"lr": 0.005}).json()["state"] == "paused"
        assert c.post("/api/train/lr", json={"lr": -1}).status_code == 400
        seen = _step_count(c)
        assert c.post("/api/train/resume").json() == {"state": "running"}
        _wait_for_step(c, after=seen)
        c.post("/api/train/stop")
        _wait(c, "stopped")
        stream = events(c, run)
    states = [d["state"] for n, d in stream if n == "state"]
    assert states[:3] == ["running", "paused", "running"] and states[-1] == "stopped"
    lrs = [d["lr"] for n, d in stream if n == "step"]
    assert lrs and lrs[-1] == 0.005  # set while paused, used from the next step on
    assert (tmp_path / "runs" / run / "state.json").is_file()


def test_stopped_run_resumes_with_convlens_train(tmp_path):
    from convlens.cli import main

    data = synthetic_npz(tmp_path / "halves.npz", n=2048)
    with client(tmp_path / "runs", data_path=data) as c:
        run = c.post("/api/train", json={**TRAIN, "epochs": 3, "data": str(data)}).json()["run"]
        _wait_for_step(c)
        c.post("/api/train/stop")
        _wait(c, "stopped")
    run_dir = tmp_path / "runs" / run
    code = main(["train", "--resume", "--out", str(run_dir), "--no-report", "--verbose", "0"])
    assert code == 0
    from convlens.studio.runs import read_records

    assert [r["epoch"] for r in read_records(run_dir)] == [1, 2, 3]


def test_follows_a_run_it_did_not_start(tmp_path):
    import json

    run_dir = tmp_path / "runs" / "elsewhere"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps({"model": SPEC, "data": "x", "epochs": 2}))
    records = [{"epoch": 1, "loss": 0.9}, {"epoch": 2, "loss": 0.5}]
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    with client(tmp_path / "runs") as c:
        stream = events(c, "elsewhere")
        listed = c.get("/api/runs").json()
    assert [d for n, d in stream if n == "epoch"] == records
    assert stream[-1][0] == "done"
    assert listed[0]["run"] == "elsewhere" and listed[0]["state"] == "done"


def test_bad_settings_are_refused_before_anything_starts(tmp_path):
    with client(tmp_path / "runs") as c:
        unknown = c.post("/api/train", json={"model": SPEC, "data": "digits", "epochz": 1})
        wrong = c.post("/api/train", json={"model": SPEC, "data": "digits", "lr": "fast"})
        good = c.post("/api/train", json={"data": "digits", "recipe": "good"})  # Fashion-MNIST's
        nothing = c.post("/api/train/pause").json()
    assert unknown.status_code == 400 and "epochz" in unknown.json()["error"]
    assert wrong.status_code == 400 and "lr" in wrong.json()["error"]
    assert good.status_code == 400
    assert (
        good.json()["error"]
        == "recipe 'good' has no entry for 'digits'; it exists for fashion-mnist."
    )
    assert nothing == {"state": "idle"}


def _photo_folder(root):
    """Two classes of RGB pictures of two sizes (bright left or right half) and one file that is
    no picture: a folder that reads only with size= and skip_bad=."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for k, name in enumerate(("left", "right")):
        (root / name).mkdir(parents=True)
        for i in range(24):
            h, w = (12, 12) if i % 2 else (16, 10)
            a = rng.integers(0, 60, (h, w, 3)).astype(np.uint8)
            half = slice(0, w // 2) if k == 0 else slice(w // 2, w)
            a[:, half] += 150
            Image.fromarray(a).save(root / name / f"{i}.png")
    (root / "left" / "notes.png").write_text("not a picture")
    return root


def test_the_studio_reads_its_folder_with_the_flags_it_was_started_with(tmp_path):
    folder = _photo_folder(tmp_path / "photos")
    options = {"size": "8x8", "skip_bad": True}
    with client(tmp_path / "runs", data=str(folder), data_path=folder.resolve(),
                data_options=options) as c:  # fmt: skip
        started = c.post("/api/train", json={**TRAIN, "data": str(folder)}).json()
        stream = events(c, started["run"])
        shown = c.post("/api/inspect", json={"run": started["run"], "example": 0})
    names = [name for name, _ in stream]
    assert "error" not in names, stream
    run_dir = tmp_path / "runs" / started["run"]
    import json

    meta = json.loads((run_dir / "last.json").read_text())
    assert meta["in_shape"] == [3, 8, 8] and meta["data_options"]["size"] == "8x8"
    assert shown.status_code == 200, shown.text  # the run's test pictures, read the same way


def test_without_its_flags_the_folder_fails_and_leaves_no_empty_run(tmp_path):
    folder = _photo_folder(tmp_path / "photos")
    with client(tmp_path / "runs", data=str(folder), data_path=folder.resolve()) as c:
        started = c.post("/api/train", json={**TRAIN, "data": str(folder)}).json()
        stream = events(c, started["run"])
    errors = [data["error"] for name, data in stream if name == "error"]
    assert len(errors) == 1 and "notes.png is not an image Pillow can read" in errors[0]
    assert not (tmp_path / "runs" / started["run"]).exists()


def test_a_remark_about_the_model_reaches_the_page(tmp_path):
    data = synthetic_npz(tmp_path / "halves.npz")
    with client(tmp_path / "runs", data=str(data), data_path=data) as c:
        body = {**TRAIN, "model": SPEC + "-softmax", "epochs": 1, "data": str(data)}
        started = c.post("/api/train", json=body).json()
        stream = events(c, started["run"])
    notes = [d["text"] for name, d in stream if name == "note"]
    assert len(notes) == 1 and notes[0].startswith("the model's outputs are already probabilities")
    names = [name for name, _ in stream]
    assert names.index("note") < names.index("epoch")  # said as training starts
