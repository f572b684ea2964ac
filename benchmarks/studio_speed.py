"""How fast the studio answers, beside its goals (issue 15), on this machine.

    python benchmarks/studio_speed.py [--data mnist1d] [--repeats 50]

1. spec-table update: server time of POST /api/spec for a 20-layer spec, p95 (goal <= 30 ms);
2. inspect redraw: POST /api/inspect for a LeNet-sized model and a drawing, p95 (goal <= 50 ms);
   it computes the forward pass, every feature map, saliency, guided backprop, Grad-CAM and
   occlusion;
3. page ready: from starting `convlens studio` until GET / and GET /api/info both answer
   (goal <= 1 s);
4. streaming cost: images/s of `convlens train --recipe fast` against the same recipe trained
   through a real `convlens studio` server (after 50 inspect requests) with its event stream read
   over HTTP, taken in turn for several rounds (a run of a few seconds varies by 20% from one to
   the next on a shared machine), medians compared (goal: the studio at most 5% slower).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SPEC20 = "-".join(["conv3x3x16p1", "bn", "relu"] * 6 + ["gap", "fc10"])  # 20 layers
LENET = "conv5x5x6-pool2-conv5x5x16-pool2-fc120-fc84-fc10"


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def timed_posts(client, path: str, body: dict, repeats: int) -> list[float]:
    client.post(path, json=body)  # the first call imports and caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        r = client.post(path, json=body)
        times.append(1000 * (time.perf_counter() - start))
        assert r.status_code == 200, r.text
    return times


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_ready(runs: Path) -> float:
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "convlens", "studio", str(runs), "--port", str(port), "--no-browser"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while True:
            try:
                for path in ("/", "/api/info"):
                    urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5).read()
                return time.perf_counter() - start
            except OSError:
                time.sleep(0.01)
    finally:
        proc.terminate()
        proc.wait()


# `convlens train` as a user starts it: without the OpenMP setting that `convlens studio` makes
CLI_ENV = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}


def cli_rate(data: str, out: Path) -> float:
    subprocess.run(
        [sys.executable, "-m", "convlens", "train", "--data", data, "--recipe", "fast", "--out",
         str(out), "--no-report", "--verbose", "0"],
        check=True, stdout=subprocess.DEVNULL, env=CLI_ENV,
    )  # fmt: skip
    return mean_rate(out)


def mean_rate(run: Path) -> float:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return statistics.mean(r["images_per_s"] for r in records)


def post(base: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=300) as answer:
        return json.loads(answer.read())


def studio_rate(base: str, data: str) -> float:
    """Train the recipe through a running studio and read its whole event stream over HTTP."""
    run = post(base, "/api/train", {"data": data, "recipe": "fast"})
    with urllib.request.urlopen(f"{base}/api/runs/{run['run']}/events", timeout=300) as stream:
        for _ in stream:
            pass
    return mean_rate(Path(run["dir"]))


def streaming_cost(runs: Path, data: str, rounds: int) -> None:
    """A real `convlens studio` (uvicorn, its own process) that has answered 50 inspect requests,
    as after a student's drawing, trains in turn with `convlens train`."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "convlens", "studio", str(runs), "--port", str(port), "--no-browser"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/info", timeout=5).read()
                break
            except OSError:
                time.sleep(0.05)
        drawing = [
            [1.0 if 8 < c < 14 and 4 < r < 24 else 0.0 for c in range(28)] for r in range(28)
        ]
        for _ in range(50):
            post(base, "/api/inspect", {"spec": LENET, "input": "1x28x28", "pixels": drawing})
        clis, streams = [], []
        for i in range(rounds):  # in turn, so that drift affects both alike
            clis.append(cli_rate(data, runs / f"cli{i}"))
            streams.append(studio_rate(base, data))
    finally:
        server.terminate()
        server.wait()
    cli, streamed = statistics.median(clis), statistics.median(streams)
    each = ", ".join(f"{s / c:.2f}" for s, c in zip(streams, clis))
    print(f"{'convlens train images/s, median':<34}{cli:>14.0f}")
    print(f"{'studio + event stream, median':<34}{streamed:>14.0f}")
    print(f"{'studio / train (goal >= 0.95)':<34}{streamed / cli:>14.3f}")
    print(f"each round's ratio: {each}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="mnist1d", help="data set of the streaming comparison")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--no-training", action="store_true", help="skip the streaming part")
    parser.add_argument("--rounds", type=int, default=5, help="training rounds of each kind")
    args = parser.parse_args()

    from starlette.testclient import TestClient

    from convlens.studio.context import Studio
    from convlens.studio.server import create_app

    print(f"CPU threads: {os.cpu_count()}; figures vary with the machine's load")
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        runs.mkdir()
        ready = page_ready(runs)
        studio = Studio(runs.resolve(), report=False)
        with TestClient(create_app(studio, warm=False), base_url="http://127.0.0.1") as client:
            spec = timed_posts(
                client, "/api/spec", {"spec": SPEC20, "input": "3x32x32"}, args.repeats
            )
            drawing = [
                [1.0 if 8 < c < 14 and 4 < r < 24 else 0.0 for c in range(28)] for r in range(28)
            ]
            body = {"spec": LENET, "input": "1x28x28", "pixels": drawing}
            inspect = timed_posts(client, "/api/inspect", body, args.repeats)
            print(f"{'measure':<34}{'this machine':>14}{'goal':>10}{'ratio':>8}")
            rows = [("spec table, 20 layers, p95 (ms)", p95(spec), 30.0),
                    ("inspect redraw, LeNet, p95 (ms)", p95(inspect), 50.0),
                    ("page ready after start (s)", ready, 1.0)]  # fmt: skip
            for name, value, goal in rows:
                print(f"{name:<34}{value:>14.2f}{goal:>10.2f}{value / goal:>8.2f}")
        if not args.no_training:
            streaming_cost(runs, args.data, args.rounds)


if __name__ == "__main__":
    main()
