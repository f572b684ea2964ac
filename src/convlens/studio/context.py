"""What one studio server was started with, and the little it remembers between requests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from convlens.studio.training import Trainer


@dataclass
class Studio:
    runs_root: Path  # where runs are listed and new ones are created (resolved)
    run: str | None = None  # the run given at start, as a run id
    data: str | None = None  # the --data given at start (a name, or a path)
    data_path: Path | None = None  # that data when it is a path: the only files it may read
    data_options: dict[str, Any] = field(default_factory=dict)  # how to read it (size=, ...)
    token: str | None = None  # required in every request when not on loopback
    report: bool = True  # write report.html at the end of a studio run, as `convlens train` does
    trainer: Trainer = field(init=False)
    models: dict[tuple, Any] = field(default_factory=dict)  # loaded models, by source
    zoo: list[dict[str, Any]] | None = None
    datasets: list[str] | None = None
    zoo_ready: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.trainer = Trainer(self.runs_root, report=self.report)

    def load_catalog(self) -> dict[str, Any]:
        """The zoo (name, parameters, input shape) and the data set names. Both import torch, a
        few seconds on a busy machine, so the server runs this in the background at start."""
        if self.zoo is None:
            from convlens.data.catalog import list_datasets
            from convlens.models.registry import list_models, model_info

            names = list(list_datasets())
            self.datasets = names + ([self.data] if self.data and self.data not in names else [])

            rows = []
            for name in list_models():
                info = model_info(name)
                rows.append({"name": name, "params": info.params, "in_shape": list(info.in_shape)})
            self.zoo = rows
            self.zoo_ready.set()
        return {"zoo": self.zoo, "datasets": self.datasets}

    def default_data(self) -> str:
        return self.data or "fashion-mnist"

    def options_for(self, data: str) -> dict[str, Any]:
        """How to read ``data``: the flags the studio was started with for its own data path,
        nothing for a named data set."""
        if self.data_path is None or not self.data_options:
            return {}
        try:
            same = Path(data).resolve() == self.data_path
        except (OSError, ValueError):
            same = False
        return dict(self.data_options) if same else {}
