"""fit(): the training loop, with the whole data set on the device.

The loop follows the fast-training records for small image sets (Keller Jordan's airbench,
tysam-code's hlb-CIFAR10): the training set is one normalised float tensor on the device, each
epoch is one ``randperm``, batches are index gathers, augmentation is batched, and the forward pass
runs under autocast. A tutorial loop with a per-sample Dataset and a DataLoader spends most of its
time in Python per image; this one spends it in the convolutions.

Run directory (when ``run_dir`` is given), files that other parts of convlens read:
    config.json, config.toml          the TrainConfig, to replay the run
    metrics.jsonl, metrics.csv        one record per epoch
    last.safetensors + last.json      weights and metadata after the latest epoch
    best.safetensors + best.json      weights of the best epoch by ``config.monitor``
    state.safetensors + state.json    everything ``resume=True`` needs to continue exactly
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convlens.errors import ConfigError, TrainingError
from convlens.train import distributed
from convlens.train.checkpoint import atomic_write_text, save_checkpoint
from convlens.train.config import TrainConfig
from convlens.train.device import Hardware, choose_hardware
from convlens.train.evaluation import logits_of, metrics_from_logits
from convlens.train.optim import lr_factor, make_optimizer, set_lr
from convlens.train.progress import ProgressDisplay
from convlens.train.state import RunState, load_state, save_state


@dataclass
class History:
    """Per-epoch metrics, like Keras's ``History``: ``history["val_acc"]`` is a list by epoch."""

    records: list[dict[str, Any]] = field(default_factory=list)
    best: dict[str, Any] | None = None  # the record with the best monitored metric
    test: dict[str, Any] | None = None  # metrics on the test data after training
    stopped: str = "completed"  # completed | early_stopping | interrupted
    hardware: str = ""  # device, precision, layout and threads that were used
    run_dir: Path | None = None

    @property
    def history(self) -> dict[str, list[Any]]:
        keys = dict.fromkeys(k for r in self.records for k in r)
        return {k: [r.get(k) for r in self.records] for k in keys}

    def __getitem__(self, key: str) -> list[Any]:
        return self.history[key]


def _monitor_better(name: str, value: float, best: float | None) -> bool:
    if best is None or math.isnan(best):
        return not math.isnan(value)
    return value < best if name.endswith("loss") else value > best


def _augmenter(
    config: TrainConfig,
) -> Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None:
    if not (config.flip or config.crop):
        return None
    from convlens.data.augment import Augment, augment_batch

    cfg = Augment(crop_padding=config.crop, flip=config.flip)
    return lambda x, gen: augment_batch(x, cfg, gen)


def _write_metrics(run_dir: Path, records: list[dict[str, Any]]) -> None:
    import json

    atomic_write_text(run_dir / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    keys = list(dict.fromkeys(k for r in records for k in r))
    rows = [",".join(keys)] + [
        ",".join("" if r.get(k) is None else str(r[k]) for k in keys) for r in records
    ]
    atomic_write_text(run_dir / "metrics.csv", "\n".join(rows) + "\n")


def training_flops(model: nn.Module, in_shape: tuple[int, ...]) -> float | None:
    """FLOPs to train on one example: 3 x forward MACs (forward, input grads, weight grads) x 2.

    The MACs come from the summary's trace, run here as one real forward pass of a single zero
    example in eval mode (no state changes): on an existing model that costs milliseconds, where
    the meta-device trace would first import torch's meta kernels (about half a second).
    """
    try:
        from convlens.analysis.trace import trace_rows

        rows, error = trace_rows(getattr(model, "_orig_mod", model), in_shape, meta=False)
        return None if error is not None else 6.0 * float(sum(r.macs for r in rows))
    except Exception:  # any module the trace cannot follow: the rate is simply not reported
        return None


def fit(
    model: nn.Module,
    data: Any,
    config: TrainConfig | None = None,
    *,
    val: Any = None,
    test: Any = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
) -> History:
    """Train ``model`` on ``data`` (a TensorData) and return its History.

    ``val`` is evaluated every ``config.eval_every`` epochs and picks the best checkpoint; ``test``
    is evaluated once at the end. With ``run_dir`` the run writes its checkpoints and metrics there,
    and ``resume=True`` continues from its ``state`` files. ``on_step(step)`` is called after every
    optimiser step (a hook for tests and callers that want to stop a run from outside).
    """
    previous = torch.are_deterministic_algorithms_enabled()
    try:
        return _fit(model, data, config, val, test, run_dir, resume, on_step)
    finally:
        torch.use_deterministic_algorithms(previous)  # the setting is global; leave it as found


def _fit(
    model: nn.Module,
    data: Any,
    config: TrainConfig | None,
    val: Any,
    test: Any,
    run_dir: str | Path | None,
    resume: bool,
    on_step: Callable[[int], None] | None,
) -> History:
    config = config or TrainConfig()
    run_path = Path(run_dir) if run_dir is not None else None
    if resume and run_path is None:
        raise ConfigError("resume needs the run directory of the run to continue.")
    distributed.require_group()
    world = distributed.current_world()  # one process, or this rank of a torchrun group
    if len(data) == 0:
        raise ConfigError(f"the training data {data.name!r} ({data.split}) is empty.")
    if config.deterministic:
        torch.use_deterministic_algorithms(True)
    if not resume:
        torch.manual_seed(config.seed)  # dropout masks; resume restores the generator instead
    hw = choose_hardware(config, len(data.in_shape) - 1)
    model.to(hw.device)
    if hw.channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    net: nn.Module = distributed.wrap_model(model, hw.device)  # DDP when a group is joined
    net = torch.compile(net) if config.compile else net  # type: ignore[assignment]

    x, y = data.float_x(device=hw.device), data.y.to(hw.device)
    val_x = val.float_x(device=hw.device) if val is not None else None
    n = x.shape[0]
    batch_size = min(config.batch_size, n)
    distributed.local_batch_size(batch_size, world)  # batch_size is global: W equal shards
    steps_per_epoch = n // batch_size  # the ragged last batch is dropped: tiny batches upset BN
    total_steps = max(1, round(config.epochs * steps_per_epoch))
    num_epochs = math.ceil(total_steps / steps_per_epoch)
    augment = _augmenter(config)
    flops_per_example = training_flops(model, tuple(data.in_shape))

    optimizer = make_optimizer(model, config)
    scaler = torch.amp.GradScaler(hw.device.type) if hw.precision == "float16" else None
    generator = torch.Generator(hw.device).manual_seed(config.seed)
    state = RunState(model, optimizer, generator, scaler)
    history = History(hardware=hw.describe(), run_dir=run_path)
    sums = {"loss": 0.0, "correct": 0.0, "seen": 0}  # this epoch's running totals
    best_value: float | None = None
    since_best = 0
    if run_path is not None:
        if world.is_main:  # the other ranks of a distributed run only read the run directory
            run_path.mkdir(parents=True, exist_ok=True)
            atomic_write_text(run_path / "config.json", config.to_json())
            atomic_write_text(run_path / "config.toml", config.to_toml())
        if resume:
            extra = load_state(run_path / "state", state)
            history.records = extra["records"]
            sums = extra["sums"]
            best_value, since_best = extra["best_value"], extra["since_best"]
            history.best = extra["best"]

    def checkpoint(name: str, record: dict[str, Any] | None) -> None:
        assert run_path is not None
        if not world.is_main:
            return
        save_checkpoint(
            run_path / name, model, config=config, data=data, step=state.step,
            epoch=record["epoch"] if record else state.epoch, metrics=record,
        )  # fmt: skip

    def save_resume_state() -> None:
        if run_path is not None and world.is_main:
            extra = {"records": history.records, "sums": sums, "best_value": best_value}
            extra.update(since_best=since_best, best=history.best, config=config.to_dict())
            save_state(run_path / "state", state, extra)

    lr = config.lr
    final_val_logits: torch.Tensor | None = None
    display = ProgressDisplay(config.verbose if world.is_main else 0, num_epochs)
    board = None  # TensorBoard event files, written by rank 0 only
    if config.tensorboard and run_path is not None and world.is_main:
        from convlens.train.tensorboard import TensorBoardLog

        board = TensorBoardLog(run_path)
    ranks = f" x {world.world_size} processes" if world.is_distributed else ""
    display.message(f"training on {hw.describe()}{ranks}: {n:,} examples, {total_steps:,} steps")
    model.train()
    try:
        while state.step < total_steps:
            epoch = state.epoch
            first = epoch * steps_per_epoch
            last = min(first + steps_per_epoch, total_steps)
            if state.order is None or state.step == first:
                state.order = torch.randperm(n, generator=generator, device=hw.device)
            display.start_epoch(epoch, last - first, state.step - first)
            start, start_step = time.perf_counter(), state.step
            while state.step < last:
                i = state.step - first
                index = state.order[i * batch_size : (i + 1) * batch_size]
                lr = config.lr * lr_factor(config, state.step, total_steps, steps_per_epoch)
                set_lr(optimizer, lr)
                xb, yb, aug = distributed.shard_batch(x[index], y[index], augment, state.generator)
                loss, correct = _train_step(net, xb, yb, state, hw, config, aug)
                state.step += 1
                if not math.isfinite(loss):
                    where = (
                        f" {run_path / 'last'}"
                        if run_path and (run_path / "last.json").exists()
                        else ""
                    )
                    raise TrainingError(
                        f"the loss became {loss} at step {state.step} (epoch {epoch + 1}); lower the "
                        f"learning rate (now {lr:.3g}) or clip gradients (--grad-clip 1)"
                        + (f"; the last good checkpoint is{where}." if where else ".")
                    )
                sums["loss"] += loss * len(index)
                sums["correct"] += correct
                sums["seen"] += len(index)
                if on_step is not None:
                    on_step(state.step)
                if config.save_every and state.step % config.save_every == 0 and state.step < last:
                    save_resume_state()
                if config.verbose == 1 and (state.step % 10 == 0 or state.step == last):
                    rate = (state.step - start_step) * batch_size / (time.perf_counter() - start)
                    seen = max(sums["seen"], 1)
                    display.update(
                        state.step - first, sums["loss"] / seen, sums["correct"] / seen, rate
                    )
            seconds = time.perf_counter() - start
            seen = max(sums["seen"], 1)
            record: dict[str, Any] = {"epoch": epoch + 1, "step": state.step}
            record.update(loss=sums["loss"] / seen, acc=sums["correct"] / seen, lr=lr, time=seconds)
            record["images_per_s"] = (state.step - start_step) * batch_size / max(seconds, 1e-9)
            if flops_per_example:
                record["flops_per_s"] = record["images_per_s"] * flops_per_example
            if val_x is not None and (
                (epoch + 1) % config.eval_every == 0 or state.step == total_steps
            ):
                logits = logits_of(net, val_x, hw, config.eval_batch_size, config.tta)
                final_val_logits = logits if state.step == total_steps else None
                scores = metrics_from_logits(logits, val.y, val.num_classes, full=False)
                record.update(val_loss=scores["loss"], val_acc=scores["acc"])
            history.records.append(record)
            sums = {"loss": 0.0, "correct": 0.0, "seen": 0}
            state.epoch += 1
            monitor = config.monitor if config.monitor in record else "loss"
            improved = monitor in record and _monitor_better(monitor, record[monitor], best_value)
            if improved:
                best_value, since_best, history.best = record[monitor], 0, record
            else:
                since_best += 1
            if run_path is not None and world.is_main:
                _write_metrics(run_path, history.records)
                if board is not None:
                    board.log(record)
                if improved:
                    checkpoint("best", record)
                checkpoint("last", record)
            save_resume_state()
            display.end_epoch(record)
            if config.patience and since_best >= config.patience and state.step < total_steps:
                history.stopped = "early_stopping"
                display.message(f"early stopping: no better {monitor} for {since_best} epochs")
                break
    except KeyboardInterrupt:
        display.close()
        history.stopped = "interrupted"
        if run_path is not None:
            save_resume_state()
            checkpoint("last", history.records[-1] if history.records else None)
        display.message("interrupted: state saved" + (f" in {run_path}" if run_path else ""))
        return history
    finally:
        display.close()
        if board is not None:
            board.close()
    if test is not None:
        if test is val and final_val_logits is not None:
            logits = final_val_logits  # the same data, just scored by the same weights
        else:
            logits = logits_of(
                net, test.float_x(device=hw.device), hw, config.eval_batch_size, config.tta
            )
        history.test = metrics_from_logits(logits, test.y, test.num_classes)
    return history


def _train_step(
    net: nn.Module,
    xb: torch.Tensor,
    yb: torch.Tensor,
    state: RunState,
    hw: Hardware,
    config: TrainConfig,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None,
) -> tuple[float, float]:
    """One optimiser step; returns the batch's mean loss and its number of correct predictions."""
    if augment is not None:
        xb = augment(xb, state.generator)
    if hw.channels_last:
        xb = xb.contiguous(memory_format=torch.channels_last)
    with hw.autocast():
        logits = net(xb)
    loss = F.cross_entropy(logits.float(), yb, label_smoothing=config.label_smoothing)
    # the global batch's mean loss and correct count (summed over ranks under DDP), so that every
    # rank agrees on skipping a non-finite step
    value, correct = distributed.batch_stats(loss, (logits.argmax(1) == yb).sum())
    if not math.isfinite(value):
        return value, 0.0  # nothing is applied: the weights stay those of the last good step
    optimizer = state.optimizer
    optimizer.zero_grad(set_to_none=True)
    if state.scaler is not None:
        state.scaler.scale(loss).backward()
        state.scaler.unscale_(optimizer)
    else:
        loss.backward()
    if config.grad_clip:
        nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
    if state.scaler is not None:
        state.scaler.step(optimizer)
        state.scaler.update()
    else:
        optimizer.step()
    return value, correct
