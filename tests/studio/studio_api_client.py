"""A TestClient on a studio app, for the API tests (not a test module itself)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

import warnings

with warnings.catch_warnings():  # starlette 1.x prefers httpx2; httpx is what the extras install
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from convlens.studio.context import Studio
from convlens.studio.server import create_app

LOCAL = "http://127.0.0.1"


@contextmanager
def client(runs: Path, **options) -> Iterator[TestClient]:
    """A client of a studio serving ``runs``; ``options`` go to Studio (token, data_path, ...)."""
    studio = Studio(runs.resolve(), report=False, **options)
    with TestClient(create_app(studio, warm=False), base_url=LOCAL) as c:
        c.studio = studio  # type: ignore[attr-defined]
        yield c


def events(c: TestClient, run: str, **params) -> list[tuple[str, dict]]:
    """Every event of a run's stream, in order, until the server ends it."""
    out = []
    with c.stream("GET", f"/api/runs/{run}/events", params=params) as response:
        assert response.status_code == 200
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                out.append((name, json.loads(line[len("data: ") :])))
    return out


def synthetic_npz(path: Path, n: int = 256, seed: int = 0) -> Path:
    """Two classes of 1x8x8 pictures a small CNN separates at once: a bright left or right half."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.integers(0, 60, (n, 8, 8)).astype(np.uint8)
    for i, label in enumerate(y):
        x[i, :, :4] += 150 if label == 0 else 0
        x[i, :, 4:] += 150 if label == 1 else 0
    np.savez(path, x_train=x, y_train=y, x_test=x[:64], y_test=y[:64],
             class_names=np.array(["left", "right"]))  # fmt: skip
    return path
