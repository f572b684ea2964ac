"""Run directories as the studio lists, shows and follows them.

A run directory is whatever ``fit`` leaves (see ``convlens.train.loop``): ``config.json``,
``metrics.jsonl`` with one record per epoch, and ``last``/``best`` checkpoints. Nothing here needs
the run to have been started by the studio: a run of ``convlens train``, or of torchrun on another
machine writing to a shared folder, is read from the same files, and ``follow`` tails its
``metrics.jsonl`` as records appear, the way TensorBoard follows its logs.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from convlens.studio.security import inside

MAX_DEPTH = 3  # runs folders are shallow; a deep walk of a home directory helps no one
# a run whose files were written less than this many seconds ago (or than three of its epochs)
# counts as running when this server did not start it
RECENT_S = 60.0


def is_run_dir(path: Path) -> bool:
    return (path / "config.json").is_file() and (
        (path / "metrics.jsonl").is_file() or (path / "last.json").is_file()
    )


def find_runs(root: Path) -> list[Path]:
    """Every run directory under ``root`` (``root`` itself included), newest first."""
    found: list[Path] = []

    def walk(folder: Path, depth: int) -> None:
        if is_run_dir(folder):
            found.append(folder)
            return
        if depth >= MAX_DEPTH:
            return
        try:
            children = sorted(p for p in folder.iterdir() if p.is_dir())
        except OSError:
            return
        for child in children:
            if inside(root, child):  # a symlink out of the folder is not followed
                walk(child, depth + 1)

    if root.is_dir():
        walk(root, 0)
    return sorted(found, key=lambda p: _mtime(p), reverse=True)


def run_id(root: Path, path: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix() or "."


def _mtime(path: Path) -> float:
    times = [
        f.stat().st_mtime for f in (path / "metrics.jsonl", path / "config.json") if f.exists()
    ]
    return max(times, default=0.0)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def read_records(path: Path) -> list[dict[str, Any]]:
    """The epoch records of ``metrics.jsonl``; a line still being written is skipped."""
    try:
        text = (path / "metrics.jsonl").read_text(encoding="utf-8")
    except OSError:
        return []
    records = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def best_record(records: list[dict[str, Any]], monitor: str) -> dict[str, Any] | None:
    scored = [r for r in records if isinstance(r.get(monitor), (int, float))]
    scored = [r for r in scored if not math.isnan(r[monitor])]
    if not scored:
        return records[-1] if records else None
    pick = min if monitor.endswith(("loss", "rmse")) else max
    return pick(scored, key=lambda r: r[monitor])


def file_state(path: Path, config: dict[str, Any], records: list[dict[str, Any]]) -> str:
    """done | running | unknown, judged from the files alone."""
    epochs = config.get("epochs")
    if (
        isinstance(epochs, (int, float))
        and records
        and records[-1].get("epoch", 0) >= math.ceil(epochs)
    ):
        return "done"
    last_time = max((r.get("time") or 0 for r in records[-1:]), default=0)
    if time.time() - _mtime(path) < max(RECENT_S, 3 * float(last_time or 0)):
        return "running"
    return "unknown"


def checkpoint_meta(path: Path) -> dict[str, Any]:
    for name in ("best", "last"):
        meta = read_json(path / f"{name}.json")
        if meta is not None:
            return meta
    return {}


_SIZE_CACHE: dict[tuple[str, str], tuple[int | None, int | None]] = {}


def params_and_macs(meta: dict[str, Any]) -> tuple[int | None, int | None]:
    """Parameters and MACs of a checkpoint's model (a spec by arithmetic; a zoo model by trace)."""
    model, in_shape = meta.get("model"), meta.get("in_shape")
    if not model or not in_shape:
        return None, None
    key = (str(model), json.dumps([in_shape, meta.get("model_kwargs"), meta.get("num_classes")]))
    if key not in _SIZE_CACHE:
        from convlens.analysis.summary import summarize

        try:
            if meta.get("kind") == "spec":
                summary = summarize(str(model), tuple(in_shape), activation=None)
            else:
                from convlens.train.checkpoint import rebuild_model

                summary = summarize(rebuild_model(meta), tuple(in_shape))
            _SIZE_CACHE[key] = (summary.total_params, summary.total_macs)
        except Exception:  # a model this version cannot rebuild: the sizes are simply unknown
            _SIZE_CACHE[key] = (None, None)
    return _SIZE_CACHE[key]


def run_row(root: Path, path: Path, live_state: str | None = None) -> dict[str, Any]:
    """One line of the runs list."""
    config = read_json(path / "config.json") or {}
    records = read_records(path)
    meta = checkpoint_meta(path)
    params, macs = params_and_macs(meta)
    monitor = str(config.get("monitor") or "val_acc")
    if config.get("task") == "regression" and monitor.endswith("acc"):
        monitor = monitor[: -len("acc")] + "loss"  # as fit picks a regression run's best epoch
    return {
        "run": run_id(root, path),
        "dir": str(path),
        "model": config.get("model"),
        "data": config.get("data"),
        "epochs_done": records[-1].get("epoch", len(records)) if records else 0,
        "best": best_record(records, monitor),
        "state": live_state or file_state(path, config, records),
        "params": params,
        "macs": macs,
    }


def run_detail(path: Path) -> dict[str, Any]:
    """Everything the compare and train panels show about one run."""
    config = read_json(path / "config.json") or {}
    meta = checkpoint_meta(path)
    params, macs = params_and_macs(meta)
    detail: dict[str, Any] = {
        "config": config,
        "history": read_records(path),
        "classes": meta.get("classes") or [],
        "params": params,
        "macs": macs,
        "in_shape": meta.get("in_shape"),
    }
    detail["spec" if meta.get("kind") == "spec" else "model"] = meta.get("model") or config.get(
        "model"
    )
    return detail
