"""One training at a time, in a child process, streamed to any number of pages.

The child does what ``convlens train`` does (the same data loading, model building and ``fit``
call with a run directory), so a run started here is an ordinary run directory: ``convlens eval``,
``viz``, ``report`` and ``train --resume`` work on it. It is a fresh interpreter because a server
process that has answered inspect requests trains about 30% slower in a thread of its own
(benchmarks/RESULTS.md, 2026-12-03); in a process of its own the run is as fast as
``convlens train``. ``fit``'s ``on_step`` and ``on_epoch`` hooks send events (JSON text) through a
queue; a thread of the server puts them in an ``EventLog``, and each page's event stream reads the
log from the start, so a page that connects mid-run first receives everything so far. Pause,
resume, stop and learning-rate requests go the other way, to a ``TrainControl`` in the child that
applies them between two steps; stopping the server stops the run the same way, leaving its
resume state. A regression run (``task="regression"`` on a
.csv or .npz) streams its RMSE where a classifier streams accuracy, and no confusion matrix.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from convlens.errors import ConfigError, ConvlensError
from convlens.studio.security import Busy

STEP_EVENTS_PER_S = 10  # step events are thinned to this rate: a curve needs no more
CONFUSION_EXAMPLES = 2_000  # test examples scored for each epoch's confusion matrix


@dataclass
class EventLog:
    """Events of one run, in order; readers poll ``since(n)`` for the ones after the n-th."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, data: dict[str, Any]) -> None:
        with self.lock:
            self.events.append((name, data))

    def close(self) -> None:
        with self.lock:
            self.closed = True

    def since(self, n: int) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        with self.lock:
            return self.events[n:], self.closed


def resolve_config(body: dict[str, Any]) -> Any:
    """TrainConfig from a request: defaults < recipe < the request's fields (as `convlens train`)."""
    from convlens.train.config import from_dict
    from convlens.train.recipes import get_recipe

    values = {k: v for k, v in body.items() if v is not None}
    values["verbose"] = 0  # the page shows progress; nothing goes to the server's terminal
    if values.get("recipe"):
        if not values.get("data"):
            raise ConfigError("a recipe is chosen per data set; pick the data first.")
        entry = get_recipe(values["data"], values["recipe"])
        values = {"model": entry.model, **entry.settings, **values}
    config = from_dict(values, source="the training request")
    if not config.model:
        raise ConfigError("name a model or spec to train, or pick the recipe 'fast'.")
    if not config.data:
        raise ConfigError("name the data set to train on.")
    return config


def run_name(config: Any) -> str:
    model = config.model if len(config.model) <= 24 else "spec"
    data = Path(config.data).name or "data"
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{data}-{model}")
    return f"{safe}-{time.strftime('%Y%m%d-%H%M%S')}"


class Trainer:
    """The server's one training slot."""

    def __init__(self, runs_root: Path, *, report: bool = True) -> None:
        self.runs_root = runs_root
        self.report = report
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.control: Any = None
        self.run_dir: Path | None = None
        self.log: EventLog | None = None
        self.state = "idle"  # idle | running | paused | stopped | done | failed

    # --- requests ---------------------------------------------------------------------------

    def start(self, config: Any, data_options: dict[str, Any] | None = None) -> Path:
        """Start ``config`` in a child process; ``data_options`` say how the user's own data is
        read (``load_dataset``'s options: size, channels, skip_bad, ...)."""
        import multiprocessing

        with self.lock:
            if self.thread is not None and self.thread.is_alive():
                raise Busy(
                    f"a training is already running ({self.run_dir.name if self.run_dir else ''}); "
                    "stop it or wait for it to finish before starting another."
                )
            out = self.runs_root / run_name(config)
            suffix = 1
            while out.exists():
                suffix += 1
                out = self.runs_root / f"{run_name(config)}-{suffix}"
            out.mkdir(parents=True)
            context = multiprocessing.get_context("spawn")  # never fork a threaded server
            self.run_dir, self.log = out, EventLog()
            self.control = _ChildControl(context)
            self._set_state("running")
            self.thread = threading.Thread(
                target=self._train,
                args=(config, out, self.log, self.control, dict(data_options or {})),
                daemon=True,
                name="convlens-studio-training",
            )  # fmt: skip
            self.thread.start()
            return out

    def pause(self) -> str:
        if self._active():
            self.control.pause()
            self._set_state("paused")
        return self.state

    def resume(self) -> str:
        if self._active():
            self.control.resume()
            self._set_state("running")
        return self.state

    def stop(self) -> str:
        if self._active():
            self.control.stop()
            self.control.resume()  # a paused run must wake up to stop
        return self.state

    def set_lr(self, lr: Any) -> str:
        if not self._active():
            raise ConfigError("no training is running, so there is no learning rate to change.")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)):
            raise ConfigError(f"the learning rate must be a positive number, not {lr!r}.")
        self.control.set_lr(float(lr))
        return self.state

    def shutdown(self, timeout: float = 120.0) -> None:
        """Stop a running training and wait until its resume state is written."""
        if self._active():
            self.stop()
        if self.thread is not None:
            self.thread.join(timeout)

    def owns(self, path: Path) -> bool:
        return self.run_dir is not None and path.resolve() == self.run_dir.resolve()

    # --- the thread -------------------------------------------------------------------------

    def _active(self) -> bool:
        return self.thread is not None and self.thread.is_alive() and self.control is not None

    def _set_state(self, state: str) -> None:
        self.state = state
        if self.log is not None:
            self.log.add("state", {"state": state})

    def _train(
        self, config: Any, out: Path, log: EventLog, control: Any, options: dict[str, Any]
    ) -> None:
        try:
            stopped = self._relay(config, out, log, control, options)
            self._set_state("stopped" if stopped else "done")
            if self.report and not stopped:
                _write_report(out)
        except ConvlensError as err:
            log.add("error", {"error": str(err)})
            self._set_state("failed")
        except Exception as err:  # the page must hear of any failure, not wait forever
            log.add("error", {"error": f"training failed: {type(err).__name__}: {err}"})
            self._set_state("failed")
        finally:
            if self.state == "failed":
                with contextlib.suppress(OSError):  # a run that failed before writing anything
                    out.rmdir()  # leaves no empty folder behind (rmdir refuses a full one)
            log.add("done", {"run": out.name})
            log.close()

    def _relay(
        self,
        config: Any,
        out: Path,
        log: EventLog,
        control: _ChildControl,
        options: dict[str, Any],
    ) -> bool:
        """Run the training in a child process and log its events; True when it was stopped."""
        events = control.context.Queue()
        # not a daemon: loading a folder of images starts worker processes of its own
        child = control.context.Process(
            target=_child, args=(json.dumps(asdict(config)), json.dumps(options), str(out), events,
                                 control.commands, os.getpid()),
            name="convlens-studio-training",
        )  # fmt: skip
        child.start()
        try:
            while True:
                try:
                    kind, data = json.loads(events.get(timeout=0.5))
                except queue.Empty:
                    if not child.is_alive():
                        raise ConvlensError(
                            f"the training process ended without a result (exit code "
                            f"{child.exitcode}); the run directory keeps what it wrote."
                        ) from None
                    continue
                if kind == "result":
                    return bool(data["stopped"])
                if kind == "error":
                    raise ConvlensError(data["error"])
                log.add(kind, data)
        finally:
            child.join(timeout=60)
            if child.is_alive():
                child.terminate()


class _ChildControl:
    """Pause, resume, stop and the learning rate, sent to the child's ``TrainControl``."""

    def __init__(self, context: Any) -> None:
        self.context = context
        self.commands = context.Queue()

    def pause(self) -> None:
        self.commands.put(json.dumps(["pause", None]))

    def resume(self) -> None:
        self.commands.put(json.dumps(["resume", None]))

    def stop(self) -> None:
        self.commands.put(json.dumps(["stop", None]))

    def set_lr(self, lr: float) -> None:
        from convlens.train import TrainControl

        TrainControl().set_lr(lr)  # the same checks, and the same sentence, before it travels
        self.commands.put(json.dumps(["lr", lr]))


def _child(
    config_json: str, options_json: str, out: str, events: Any, commands: Any, parent: int
) -> None:
    """The training process: ``fit`` with the studio's hooks, its events sent as JSON text."""
    from convlens.train import TrainControl
    from convlens.train.config import from_dict

    def send(kind: str, data: dict[str, Any]) -> None:
        events.put(json.dumps([kind, data]))

    control = TrainControl()
    threading.Thread(
        target=_obey, args=(commands, control, parent), daemon=True, name="convlens-commands"
    ).start()
    try:
        config = from_dict(json.loads(config_json), source="the training request")
        history = _fit(config, Path(out), send, control, json.loads(options_json))
        send("result", {"stopped": history.stopped})
    except ConvlensError as err:
        send("error", {"error": str(err)})
    except Exception as err:  # the page must hear of any failure, not wait forever
        send("error", {"error": f"training failed: {type(err).__name__}: {err}"})


def _obey(commands: Any, control: Any, parent: int) -> None:
    """Apply the server's requests; stop the run when the server process is gone."""
    while True:
        try:
            name, value = json.loads(commands.get(timeout=1.0))
        except queue.Empty:
            if os.getppid() != parent:
                control.stop()
                return
            continue
        if name == "lr":
            control.set_lr(value)
        else:
            getattr(control, name)()


def _fit(config: Any, out: Path, send: Any, control: Any, options: dict[str, Any]) -> Any:
    """What ``convlens train`` does with the config, with ``on_step`` and ``on_epoch`` events;
    ``options`` say how the user's own data is read."""
    from convlens.data import load_dataset
    from convlens.train import fit
    from convlens.train.recipes import make_model

    read: dict[str, Any] = {"task": "regression"} if config.task == "regression" else {}
    read.update(options)
    train = load_dataset(config.data, "train", seed=config.seed, **read)
    test = load_dataset(config.data, "test", seed=config.seed, **read)
    model = make_model(
        config.model, tuple(train.in_shape), train.num_outputs, config.input, config.seed
    )
    probe = _EpochProbe(model, test)
    last_sent = [0.0]

    def on_step(info: Any) -> None:
        now = time.perf_counter()
        if now - last_sent[0] >= 1.0 / STEP_EVENTS_PER_S:
            last_sent[0] = now
            send("step", {
                "step": info.step, "epoch": info.epoch, **_step_scores(info),
                "lr": info.lr, "images_per_s": info.images_per_s,
            })  # fmt: skip

    def on_epoch(record: dict[str, Any]) -> None:
        send("epoch", {**record, **probe()})

    return fit(
        model, train, config, val=test, test=test, run_dir=out,
        on_step=on_step, on_epoch=on_epoch, control=control,
        on_note=lambda text: send("note", {"text": text}),
    )  # fmt: skip


def _step_scores(info: Any) -> dict[str, Any]:
    """A step's loss and accuracy; a regression step has no accuracy (JSON null) but an RMSE."""
    if math.isnan(info.accuracy):
        return {"loss": info.loss, "accuracy": None, "rmse": math.sqrt(info.loss)}
    return {"loss": info.loss, "accuracy": info.accuracy}


class _EpochProbe:
    """What a page shows after each epoch besides the record: confusion matrix, per-class
    accuracy (on the first ``CONFUSION_EXAMPLES`` test examples) and the first conv's filters."""

    def __init__(self, model: Any, test: Any) -> None:
        self.model, self.test = model, test
        n = min(len(test), CONFUSION_EXAMPLES)
        self.x, self.y = test.float_x()[:n], test.y[:n]

    def __call__(self) -> dict[str, Any]:
        import torch

        if self.test.task == "regression":  # no classes to confuse; the filters still change
            return {"filters": first_filters(self.model)}
        from convlens.torchutil import eval_mode
        from convlens.train.evaluation import confusion_matrix

        model = self.model
        device = next(model.parameters()).device
        with eval_mode(model), torch.inference_mode():
            pred = torch.cat([
                model(self.x[i : i + 500].to(device)).argmax(1).cpu()
                for i in range(0, len(self.x), 500)
            ])  # fmt: skip
        cm = confusion_matrix(self.y, pred, self.test.num_classes)
        per_class = (cm.diag().float() / cm.sum(1).clamp(min=1)).tolist()
        return {
            "confusion": cm.tolist(),
            "per_class": per_class,
            "confusion_examples": len(self.y),
            "filters": first_filters(model),
        }


def first_filters(model: Any) -> dict[str, Any] | None:
    """The first convolution's weights, scaled together into [-1, 1] (0 stays 0)."""
    from torch import nn

    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d)):
            w = module.weight.detach().float().cpu()
            if w.dim() == 3:
                w = w.unsqueeze(2)  # 1-D kernels as one-row pictures
            scale = float(w.abs().max()) or 1.0
            return {"shape": list(w.shape), "values": (w / scale).tolist()}
    return None


def _write_report(run_dir: Path) -> None:
    """report.html, as `convlens train` writes it; a failure leaves the run itself intact."""
    try:
        from convlens.report import write_report

        write_report(run_dir)
    except Exception:  # the run is done and usable; a missing page is not a failed run
        pass
