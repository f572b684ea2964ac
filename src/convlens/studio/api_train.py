"""/api/train*, /api/runs and the event stream of a run.

A run started by this server streams from its ``EventLog``; any other run directory (``convlens
train`` in a terminal, torchrun on another machine writing to a shared folder) is followed by
tailing its ``metrics.jsonl``, which ``fit`` rewrites atomically after every epoch.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from convlens.errors import ConfigError
from convlens.studio import runs
from convlens.studio.context import Studio
from convlens.studio.security import check_data, run_path

POLL_S = 0.05  # how often a stream looks for new events of a studio run
TAIL_S = 0.5  # how often it looks at another run's metrics.jsonl


def _is_data_name(name: str) -> bool:
    from convlens.data.catalog import entry
    from convlens.errors import DataError

    try:
        entry(name)
    except DataError:
        return False
    return True


def start(studio: Studio, body: dict[str, Any]) -> dict[str, Any]:
    from convlens.studio.training import resolve_config

    values = dict(body)
    data = values.get("data") or studio.default_data()
    if not isinstance(data, str):
        raise ConfigError("data must be a data set name or the path the studio was started with.")
    values["data"] = check_data(data, _is_data_name, studio.data_path)
    config = resolve_config(values)
    out = studio.trainer.start(config, studio.options_for(values["data"]))
    return {"run": runs.run_id(studio.runs_root, out), "dir": str(out)}


def control(action: str) -> Any:
    def handler(studio: Studio, body: dict[str, Any]) -> dict[str, Any]:
        trainer = studio.trainer
        if action == "set_lr":
            return {"state": trainer.set_lr(body.get("lr")), "lr": body.get("lr")}
        return {"state": getattr(trainer, action)()}

    return handler


def list_runs(studio: Studio, _body: dict[str, Any]) -> list[dict[str, Any]]:
    trainer = studio.trainer
    return [
        runs.run_row(studio.runs_root, path, trainer.state if trainer.owns(path) else None)
        for path in runs.find_runs(studio.runs_root)
    ]


def run_detail(studio: Studio, run: str) -> dict[str, Any]:
    path = run_path(studio.runs_root, run)
    detail = runs.run_detail(path)
    detail["run"] = run
    return detail


def compare(studio: Studio, a: str | None, b: str | None) -> dict[str, Any]:
    if not a or not b:
        raise ConfigError("give two runs to compare: ?a=RUN&b=RUN.")
    return {"a": run_detail(studio, a), "b": run_detail(studio, b)}


# --- the event stream -------------------------------------------------------------------------


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


async def events(studio: Studio, run: str, is_disconnected: Any) -> AsyncIterator[str]:
    """Server-Sent Events of one run, from its first event; ends with ``done``."""
    path = run_path(studio.runs_root, run)
    trainer = studio.trainer
    if trainer.owns(path) and trainer.log is not None:
        log, sent = trainer.log, 0
        while True:
            new, closed = log.since(sent)
            for name, data in new:
                yield sse(name, data)
            sent += len(new)
            if closed and not new:
                return
            if await is_disconnected():
                return
            await asyncio.sleep(POLL_S)
    async for chunk in _tail(path, is_disconnected):
        yield chunk


async def _tail(path: Any, is_disconnected: Any) -> AsyncIterator[str]:
    """Follow a run this server did not start, as its metrics.jsonl grows."""
    sent = 0
    state = None
    while True:
        records = runs.read_records(path)
        for record in records[sent:]:
            yield sse("epoch", record)
        sent = max(sent, len(records))
        config = runs.read_json(path / "config.json") or {}
        now = runs.file_state(path, config, records)
        if now != state:
            state = now
            yield sse("state", {"state": now})
        if now != "running":  # finished, or left behind long ago: nothing more will come
            yield sse("done", {"run": path.name})
            return
        if await is_disconnected():
            return
        await asyncio.sleep(TAIL_S)
