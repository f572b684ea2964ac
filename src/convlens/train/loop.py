"""fit(): the training loop, with the whole data set on the device.

The loop follows the fast-training records for small image sets (Keller Jordan's airbench,
tysam-code's hlb-CIFAR10): the training set is one normalised float tensor on the device, each
epoch is one ``randperm``, batches are index gathers, augmentation is batched, and the forward pass
runs under autocast. A tutorial loop with a per-sample Dataset and a DataLoader spends most of its
time in Python per image; this one spends it in the convolutions.

It reads top to bottom like nanoGPT's: ``fit`` prepares a ``Run`` (``run.py``) once, then trains
one epoch at a time (``_train_epoch`` returns the epoch's record), closes each epoch
(``_close_epoch``: best and patience, files, checkpoints) and finally scores the test data.

``config.task`` says what is learnt. A classifier minimises the cross-entropy and its records hold
``loss`` and ``acc`` (``val_loss`` and ``val_acc`` on evaluation epochs). A regression model
(float targets) minimises the mean squared error and its records hold ``loss`` (the MSE) and
``rmse`` (``val_loss`` and ``val_rmse``); a monitored accuracy then means the matching loss. Both
also hold ``epoch``, ``step``, ``lr``, ``time``, ``images_per_s`` and, when known, ``flops_per_s``.

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
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn
from torch.profiler import record_function

from convlens.data.augment import (
    Augment,
    alternating_flips,
    augment_batch,
    flip_batch,
    mirrored_in,
    random_mirror,
)
from convlens.data.tensors import as_data
from convlens.errors import ConfigError, TrainingError
from convlens.fileio import atomic_write_text
from convlens.torchutil import eval_mode
from convlens.train import distributed
from convlens.train.callbacks import StepInfo, TrainControl
from convlens.train.checkpoint import save_checkpoint
from convlens.train.config import TrainConfig
from convlens.train.device import Hardware, choose_hardware, synchronize
from convlens.train.evaluation import (
    logits_of,
    metrics_from_logits,
    outputs_for_targets,
    scoring_record,
)
from convlens.train.optim import make_optimizer, set_lr
from convlens.train.progress import ProgressDisplay
from convlens.train.run import (
    Best,
    EpochClock,
    History,
    Hooks,
    Run,
    Stopped,
    Totals,
    schedule_steps,
)
from convlens.train.state import RunState, load_state, save_state
from convlens.train.stem import (
    StemTable,
    memory_limit,
    split,
    stem_length,
    stem_note,
    worth_it,
)
from convlens.train.winograd import winograd_note, winograd_runs_on, winograd_view

# --- fit --------------------------------------------------------------------------------------


def fit(
    model: nn.Module,
    data: Any,
    config: TrainConfig | None = None,
    *,
    val: Any = None,
    test: Any = None,
    run_dir: str | Path | None = None,
    resume: bool = False,
    on_step: Callable[[StepInfo], None] | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
    control: TrainControl | None = None,
    on_note: Callable[[str], None] | None = None,
) -> History:
    """Train ``model`` on ``data`` (a TensorData, or an ``(x, y)`` pair used as given) and return
    its History.

    ``val`` is evaluated every ``config.eval_every`` epochs and picks the best checkpoint; ``test``
    is evaluated once at the end. With ``run_dir`` the run writes its checkpoints and metrics there,
    and ``resume=True`` continues from its ``state`` files. ``on_step(StepInfo)`` is called after
    every optimiser step, ``on_epoch(record)`` after each epoch's validation, ``on_note(text)``
    with each remark about the model made as training starts (outputs that are already
    probabilities, more outputs than classes; also printed unless ``verbose=0``), and ``control``
    (a ``TrainControl``) pauses, resumes, stops or re-rates the run from another thread.
    """
    previous = torch.are_deterministic_algorithms_enabled()
    config = config or TrainConfig()
    data, val, test = (as_data(d, config.task, split) for d, split in
                       ((data, "train"), (val, "val"), (test, "test")))  # fmt: skip
    try:
        hooks = Hooks(on_step, on_epoch, control, on_note)
        run = _prepare(model, data, config, val, test, run_dir, resume, hooks)
        return _train(run)
    finally:
        # the setting is global; leave it as found (and set it only on a change: the call imports
        # torch._dynamo, about 1.4 s)
        if torch.are_deterministic_algorithms_enabled() != previous:
            torch.use_deterministic_algorithms(previous)


def _train(run: Run) -> History:
    """Epoch after epoch until the last step, early stopping, Ctrl-C or a stop request."""
    config, world = run.config, run.world
    display = run.display = ProgressDisplay(config.verbose if world.is_main else 0, run.num_epochs)
    if config.tensorboard and run.run_path is not None and world.is_main:
        from convlens.train.tensorboard import TensorBoardLog

        run.board = TensorBoardLog(run.run_path)
    ranks = f" x {world.world_size} processes" if world.is_distributed else ""
    notes = winograd_note(run.history.winograd) + stem_note(run.history.stem)
    for note in run.notes:
        display.message(f"note: {note}")
        if run.hooks.on_note is not None and world.is_main:
            run.hooks.on_note(note)
    display.message(
        f"training on {run.hw.describe()}{ranks}{notes}: {len(run.x):,} examples, "
        f"{run.total_steps:,} steps"
    )
    run.model.train()
    try:
        while run.state.step < run.total_steps:
            record = _train_epoch(run)
            _validate(run, record)
            if _close_epoch(run, record):
                break
    except (KeyboardInterrupt, Stopped) as why:
        _end_early(run, "stopped" if isinstance(why, Stopped) else "interrupted")
    finally:
        display.close()
        if run.board is not None:
            run.board.close()
    if run.test is not None and not run.history.stopped:
        run.history.test = _final_test(run)
    return run.history


# --- prepare ----------------------------------------------------------------------------------


def _prepare(
    model: nn.Module,
    data: Any,
    config: TrainConfig,
    val: Any,
    test: Any,
    run_dir: str | Path | None,
    resume: bool,
    hooks: Hooks,
) -> Run:
    """Check the inputs, put model and data on the device, build the optimiser, restore state."""
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
    x = data.float_x(device=hw.device)
    if config.whiten:  # before _place: a DDP wrapper must see the layer already frozen
        from convlens.train.whiten import freeze_first_conv, whiten_first_conv

        if resume:
            freeze_first_conv(model)  # the whitened weights come back with the saved state
        else:
            whiten_first_conv(model, x)
    batch_size = min(config.batch_size, len(x))
    local = distributed.local_batch_size(batch_size, world)  # batch_size is global: W shards
    net, fused = _place(model, hw, config, (local, *data.in_shape))
    notes = _check_task(model, config, hw, x, (data, val, test))
    steps_per_epoch, total_steps = schedule_steps(config, len(x))  # as --resume counts them
    optimizer = make_optimizer(model, config)
    scaler = torch.amp.GradScaler(hw.device.type) if hw.precision == "float16" else None
    generator = torch.Generator(hw.device).manual_seed(config.seed)
    run = Run(
        config=config, model=model, net=net, hw=hw, world=world, data=data, val=val, test=test,
        x=x, y=data.y.to(hw.device),
        val_x=val.float_x(device=hw.device) if val is not None else None,
        batch_size=batch_size, steps_per_epoch=steps_per_epoch,
        total_steps=total_steps,
        state=RunState(model, optimizer, generator, scaler),
        history=History(
            hardware=hw.describe() + winograd_note(fused), winograd=tuple(fused),
            run_dir=run_path,
        ),
        hooks=hooks,
        run_path=run_path, augment=_augmenter(config),
        flips=alternating_flips(len(x), config.seed).to(hw.device) if config.alternate_flip else None,
        flops_per_example=training_flops(model, tuple(data.in_shape)), notes=notes,
    )  # fmt: skip
    if run_path is not None:
        _open_run_dir(run, resume)
    # from the weights the steps start with: a resumed run's whitened filters come with its state
    run.stem, names = _stem_table(net, x, config, hw, world, total_steps, batch_size)
    run.history.stem = tuple(names)
    run.history.hardware += stem_note(names)
    run.lr = run.lr_at(max(run.state.step - 1, 0))
    return run


def _place(
    model: nn.Module, hw: Hardware, config: TrainConfig, batch_shape: tuple[int, ...]
) -> tuple[nn.Module, list[str]]:
    """Move the model to the device; return what runs forward (the Winograd view, DDP-wrapped,
    compiled) and the convolutions that run by Winograd's algorithm for batches of
    ``batch_shape``."""
    model.to(hw.device)
    if hw.channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    net: nn.Module = model
    fused: list[str] = []
    if config.winograd and winograd_runs_on(hw):
        net, fused = winograd_view(model, batch_shape)  # shares the model's parameters
    net = distributed.wrap_model(net, hw.device)  # DDP when a group is joined
    return (torch.compile(net) if config.compile else net), fused  # type: ignore[return-value]


def _stem_table(
    net: nn.Module,
    x: torch.Tensor,
    config: TrainConfig,
    hw: Hardware,
    world: distributed.World,
    total_steps: int,
    batch_size: int,
) -> tuple[StemTable | None, list[str]]:
    """The frozen stem's outputs for every training image (``convlens.train.stem``) and the stem's
    layer names, where ``config.cache_stem`` asks for them and the run can use them: one process,
    no compilation, no crops (flips are kept as a second row per image)."""
    if config.cache_stem == "off" or config.crop or world.is_distributed or config.compile:
        return None, []
    length = stem_length(net)
    if not length:
        return None, []
    stem, rest = split(net, length)
    mirrored = config.flip or config.alternate_flip
    with torch.no_grad(), hw.autocast():  # one row, to size the table before building it
        row = stem(x[:1])
    rows = len(x) * (1 + mirrored)
    limit = memory_limit(hw.device)
    if not worth_it(config.cache_stem, total_steps, batch_size, rows, row[0].nbytes, limit):
        return None, []
    table = StemTable(
        stem, rest, x, mirrored=mirrored, autocast=hw.autocast(), channels_last=hw.channels_last
    )
    return table, [name for name, _ in list(net.named_children())[:length]]


def _check_task(
    model: nn.Module, config: TrainConfig, hw: Hardware, x: torch.Tensor, datas: tuple[Any, ...]
) -> list[str]:
    """Refuse data of the other task, and a model with the wrong number of outputs (found by one
    forward pass of one training example in eval mode, before any training); a note when a
    classifier's outputs are already probabilities, which the cross-entropy would take as
    logits."""
    for d in (d for d in datas if d is not None):
        if getattr(d, "task", "classification") == config.task:
            continue
        if config.task == "regression":
            raise ConfigError(
                f"task='regression' needs float targets, but {d.name!r} ({d.split}) holds class "
                "labels; read the data with task='regression' too."
            )
        raise ConfigError(
            f"{d.name!r} ({d.split}) holds float regression targets; train it with "
            "task='regression'."
        )
    with eval_mode(model), torch.no_grad(), hw.autocast():
        out = model(x[:1]).float()
    if config.task == "regression":
        outputs_for_targets(out, datas[0].y[:1])
        return []
    k = datas[0].num_classes
    if out.dim() != 2 or out.shape[1] < k:
        have = f"{out.shape[1]}" if out.dim() == 2 else f"outputs of shape {tuple(out.shape[1:])}"
        raise ConfigError(
            f"{datas[0].name!r} has {k} classes, so the model needs {k} outputs per example, but "
            f"it gives {have} (a spec ends with fc{k})."
        )
    notes = []
    if out.shape[1] > k:
        notes.append(
            f"the model has {out.shape[1]} outputs and {datas[0].name!r} {k} classes: outputs "
            f"{k} to {out.shape[1] - 1} never get a target (a spec for this data ends with fc{k})"
        )
    if bool((out >= 0).all()) and torch.allclose(out.sum(1), torch.ones(len(out)), atol=2e-2):
        notes.append(
            "the model's outputs are already probabilities (a softmax at its end); the "
            "cross-entropy loss applies its own softmax, so training is slowed: drop the last "
            "softmax and the outputs are logits"
        )
    return notes


def _augmenter(
    config: TrainConfig,
) -> Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None:
    flip = config.flip and not config.alternate_flip  # alternating flips are applied in _step
    if not (flip or config.crop):
        return None
    cfg = Augment(crop_padding=config.crop, flip=flip)
    return lambda x, gen: augment_batch(x, cfg, gen)


def _open_run_dir(run: Run, resume: bool) -> None:
    """Write the config beside the run (rank 0) and, to resume, restore the saved state."""
    assert run.run_path is not None
    if run.world.is_main:  # the other ranks of a distributed run only read the run directory
        run.run_path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run.run_path / "config.json", run.config.to_json())
        atomic_write_text(run.run_path / "config.toml", run.config.to_toml())
    if not resume:
        return
    extra = load_state(run.run_path / "state", run.state)
    run.history.records = extra["records"]
    run.history.best = extra["best"]
    run.totals = Totals(**extra["sums"])
    run.best = Best(extra["best_value"], extra["since_best"])
    run.lr_scale = extra.get("lr_scale", 1.0)


def training_flops(model: nn.Module, in_shape: tuple[int, ...]) -> float | None:
    """FLOPs to train on one example: 3 x forward MACs (forward, input grads, weight grads) x 2.

    The MACs come from the summary's trace, run here as one real forward pass of a single zero
    example in eval mode (no state changes): on an existing model that costs milliseconds, where
    the meta-device trace would first import torch's meta kernels (about half a second). The
    per-layer rule for conv and linear layers stands in for PyTorch's FLOP counter, whose first
    use imports torch._dynamo (about 1 s of every run's start-up): a conv net's MACs are the
    same, and a functional call the rule does not see only lowers the reported rate.
    """
    try:
        from convlens.analysis.trace import trace_rows

        rows, error = trace_rows(
            getattr(model, "_orig_mod", model), in_shape, meta=False, flop_counter=False
        )
        return None if error is not None else 6.0 * float(sum(r.macs for r in rows))
    except Exception:  # any module the trace cannot follow: the rate is simply not reported
        return None


# --- one epoch --------------------------------------------------------------------------------


def _train_epoch(run: Run) -> dict[str, Any]:
    """Train the rest of the current epoch and return its record (training metrics, speed)."""
    state = run.state
    first = state.epoch * run.steps_per_epoch
    last = min(first + run.steps_per_epoch, run.total_steps)
    if state.order is None or state.step == first:
        state.order = torch.randperm(len(run.x), generator=state.generator, device=run.hw.device)
    assert run.display is not None
    run.display.start_epoch(state.epoch, last - first, state.step - first)
    epoch = EpochClock(first, last, state.step, time.perf_counter())
    while state.step < last:
        _obey_control(run)
        _step(run, epoch)
    synchronize(run.hw.device)  # a GPU may still be running the last steps: they count here
    seconds = time.perf_counter() - epoch.start_time
    seen = max(run.totals.seen, 1)
    record: dict[str, Any] = {"epoch": state.epoch + 1, "step": state.step}
    loss = run.totals.loss / seen
    if run.config.task == "regression":
        record.update(loss=loss, rmse=math.sqrt(loss), lr=run.lr)
    else:
        record.update(loss=loss, acc=run.totals.correct / seen, lr=run.lr)
    record["time"] = seconds
    record["images_per_s"] = (state.step - epoch.start_step) * run.batch_size / max(seconds, 1e-9)
    if run.flops_per_example:
        record["flops_per_s"] = record["images_per_s"] * run.flops_per_example
    return record


def _obey_control(run: Run) -> None:
    """Between two steps: wait while paused, end on stop, take a new learning rate."""
    control = run.hooks.control
    if control is None:
        return
    if control.wait_while_paused():
        raise Stopped
    lr = control.take_lr()
    if lr is not None:
        # the schedule keeps its shape from here on, scaled so that this step runs at ``lr``
        run.lr_scale = 1.0
        scheduled = run.lr_at(run.state.step)
        run.lr_scale = lr / scheduled if scheduled > 0 else lr / run.config.lr


def _step(run: Run, epoch: EpochClock) -> None:
    """One optimiser step on the next batch of the epoch's order, then the callbacks."""
    state, config = run.state, run.config
    assert state.order is not None and run.display is not None
    i = state.step - epoch.first
    index = state.order[i * run.batch_size : (i + 1) * run.batch_size]
    run.lr = run.lr_at(state.step)
    set_lr(state.optimizer, run.lr)
    if run.stem is not None and not run.stem.current():
        run.stem = None  # unfrozen or changed since: every layer runs at every step from here on
    with record_function("convlens.batch"):  # named for `convlens bench --profile`
        if run.stem is not None:  # the frozen first layers' outputs, chosen as flips choose
            xb, yb, aug = run.stem.batch(index, _mirror(run, index)), run.y[index], None
        else:
            xb = run.x[index]
            if run.flips is not None:  # this epoch's half of the examples, mirrored
                xb = flip_batch(xb, mirrored_in(run.flips[index], state.epoch))
            xb, yb, aug = distributed.shard_batch(xb, run.y[index], run.augment, state.generator)
    net = run.stem.rest if run.stem is not None else run.net
    loss, correct = _train_step(net, xb, yb, state, run.hw, config, aug)
    state.step += 1
    if not math.isfinite(loss):
        raise TrainingError(_non_finite_message(run, loss))
    run.totals.loss += loss * len(index)
    run.totals.correct += correct
    run.totals.seen += len(index)
    rate = epoch.images_per_s(state.step, run.batch_size)
    regression = config.task == "regression"
    if run.hooks.on_step is not None:
        fraction = state.step / run.steps_per_epoch
        accuracy = math.nan if regression else correct / len(index)
        run.hooks.on_step(StepInfo(state.step, fraction, loss, accuracy, run.lr, rate))
    if config.save_every and state.step % config.save_every == 0 and state.step < epoch.last:
        _save_resume_state(run)
    if config.verbose == 1 and (state.step % 10 == 0 or state.step == epoch.last):
        seen = max(run.totals.seen, 1)
        done = state.step - epoch.first
        acc = None if regression else run.totals.correct / seen
        run.display.update(done, run.totals.loss / seen, acc, rate)


def _mirror(run: Run, index: torch.Tensor) -> torch.Tensor | None:
    """Which of the batch's images its step mirrors: this epoch's alternating half, a random
    draw as the augmentation makes it (the same generator, so a run with a stem table sees the
    same images as one without), or none."""
    if run.flips is not None:
        return mirrored_in(run.flips[index], run.state.epoch)
    if run.config.flip:
        return random_mirror(len(index), run.state.generator, run.hw.device)
    return None


def _non_finite_message(run: Run, loss: float) -> str:
    """What to do about a NaN or infinite loss; settings are named by their TrainConfig field."""
    last = run.run_path / "last.json" if run.run_path is not None else None
    where = (
        f"; the last good checkpoint is {last.with_suffix('')}" if last and last.exists() else ""
    )
    return (
        f"the loss became {loss} at step {run.state.step} (epoch {run.state.epoch + 1}); lower "
        f"the learning rate (now lr={run.lr:.3g}) or clip gradients (grad_clip=1){where}."
    )


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
    with record_function("convlens.batch"):
        if augment is not None:
            xb = augment(xb, state.generator)
        if hw.channels_last:
            xb = xb.contiguous(memory_format=torch.channels_last)
    with hw.autocast():
        logits = net(xb)
    loss, hits = _loss(logits, yb, config)
    optimizer = state.optimizer
    # GradScaler's annotations name torch's Optimizer; it uses only param_groups and step()
    scaled = cast(Any, optimizer)
    optimizer.zero_grad(set_to_none=True)
    if state.scaler is not None:
        state.scaler.scale(loss).backward()
    else:
        loss.backward()
    # the global batch's mean loss and correct count (summed over ranks under DDP), so that every
    # rank agrees on skipping a non-finite step; read once the backward is queued, so that a GPU
    # works through it while the host waits, rather than idling while the host queues it
    value, correct = distributed.batch_stats(loss, hits)
    if not math.isfinite(value):
        return value, 0.0  # nothing is applied: the weights stay those of the last good step
    if state.scaler is not None:
        state.scaler.unscale_(scaled)
    if config.grad_clip:
        nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
    if state.scaler is not None:
        state.scaler.step(scaled)
        state.scaler.update()
    else:
        optimizer.step()
    return value, correct


def _loss(
    logits: torch.Tensor, yb: torch.Tensor, config: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch's mean loss and its number of correct predictions (none for regression)."""
    if config.task == "regression":
        out = outputs_for_targets(logits.float(), yb)
        return F.mse_loss(out, yb), torch.zeros((), device=yb.device)
    loss = F.cross_entropy(logits.float(), yb, label_smoothing=config.label_smoothing)
    return loss, (logits.argmax(1) == yb).sum()


# --- closing an epoch and the run -------------------------------------------------------------


def _validate(run: Run, record: dict[str, Any]) -> None:
    """Add val_loss and val_acc (regression: val_rmse) to the record on evaluation epochs and at
    the end of the run."""
    at_end = run.state.step == run.total_steps
    due = (run.state.epoch + 1) % run.config.eval_every == 0 or at_end
    if run.val_x is None or not due:
        return
    config = run.config
    logits = logits_of(run.net, run.val_x, run.hw, config.eval_batch_size, config.tta)
    run.final_val_logits = logits if at_end else None
    scores = metrics_from_logits(logits, run.val.y, run.val.num_classes, full=False)
    second = "rmse" if config.task == "regression" else "acc"
    record.update({"val_loss": scores["loss"], f"val_{second}": scores[second]})


def _close_epoch(run: Run, record: dict[str, Any]) -> bool:
    """Keep the record, track the best epoch, write files; return True to stop early."""
    config, history = run.config, run.history
    history.records.append(record)
    run.totals = Totals()
    run.state.epoch += 1
    monitor = _monitor(config, record)
    improved = run.best.update(monitor, record[monitor])
    if improved:
        history.best = record
    if run.run_path is not None and run.world.is_main:
        _write_metrics(run.run_path, history.records)
        if run.board is not None:
            run.board.log(record)
        if improved:
            _checkpoint(run, "best", record)
        _checkpoint(run, "last", record)
    _save_resume_state(run)
    assert run.display is not None
    run.display.end_epoch(record)
    if run.hooks.on_epoch is not None:
        run.hooks.on_epoch(dict(record))
    patience = config.patience
    if patience and run.best.since >= patience and run.state.step < run.total_steps:
        history.outcome = "early_stopping"
        run.display.message(f"early stopping: no better {monitor} for {run.best.since} epochs")
        return True
    return False


def _monitor(config: TrainConfig, record: dict[str, Any]) -> str:
    """The record key that picks the best epoch: ``config.monitor`` where the record has it.

    A regression run has no accuracy: a monitored accuracy means the matching loss instead.
    """
    name = config.monitor
    if config.task == "regression" and name.endswith("acc"):
        name = name[: -len("acc")] + "loss"
    return name if name in record else "loss"


def _write_metrics(run_dir: Path, records: list[dict[str, Any]]) -> None:
    import json

    atomic_write_text(run_dir / "metrics.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    keys = list(dict.fromkeys(k for r in records for k in r))
    rows = [",".join(keys)] + [
        ",".join("" if r.get(k) is None else str(r[k]) for k in keys) for r in records
    ]
    atomic_write_text(run_dir / "metrics.csv", "\n".join(rows) + "\n")


def _checkpoint(run: Run, name: str, record: dict[str, Any] | None) -> None:
    if run.run_path is None or not run.world.is_main:
        return
    save_checkpoint(
        run.run_path / name, run.model, config=run.config, data=run.data, step=run.state.step,
        epoch=record["epoch"] if record else run.state.epoch, metrics=record,
        scoring=scoring_record(run.config, run.hw, run.history.winograd),
    )  # fmt: skip


def _save_resume_state(run: Run) -> None:
    if run.run_path is None or not run.world.is_main:
        return
    extra = {
        "records": run.history.records,
        "sums": asdict(run.totals),
        "best_value": run.best.value,
        "since_best": run.best.since,
        "best": run.history.best,
        "config": run.config.to_dict(),
        "lr_scale": run.lr_scale,
    }
    save_state(run.run_path / "state", run.state, extra)


def _end_early(run: Run, outcome: str) -> None:
    """Ctrl-C or a stop request: keep a resumable state and the last weights, then return."""
    assert run.display is not None
    run.display.close()
    run.history.outcome, run.history.stopped = outcome, True
    if run.run_path is not None:
        _save_resume_state(run)
        _checkpoint(run, "last", run.history.records[-1] if run.history.records else None)
    where = f" in {run.run_path}" if run.run_path else ""
    run.display.message(f"{outcome}: state saved{where}")


def _final_test(run: Run) -> dict[str, Any]:
    """Full metrics (per class, confusion) on the test data with the final weights."""
    test, config = run.test, run.config
    if test is run.val and run.final_val_logits is not None:
        logits = run.final_val_logits  # the same data, already scored by the same weights
    else:
        x = test.float_x(device=run.hw.device)
        logits = logits_of(run.net, x, run.hw, config.eval_batch_size, config.tta)
    return metrics_from_logits(logits, test.y, test.num_classes)
