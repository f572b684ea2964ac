"""TrainConfig: every training setting and its default, in one place.

The dataclass is the single home of defaults. The command-line flags of ``convlens train`` are
generated from its fields (``add_config_arguments``), a run saves it as JSON and TOML, and
``convlens train --config run.toml`` reads it back, so every run can be replayed.

Precedence when a run is assembled: dataclass defaults < recipe < ``--config`` file < flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, published as tomli before it joined the standard library in 3.11
    import tomli as tomllib

from convlens.errors import ConfigError

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "step", "cosine", "onecycle")
PRECISIONS = ("auto", "float32", "bfloat16", "float16")
AUTO_BOOL = ("auto", "on", "off")
TASKS = ("classification", "regression")


@dataclass(frozen=True)
class TrainConfig:
    # --- what is trained (recorded so that a saved config replays the run; fit() ignores them)
    model: str = field(default="", metadata={"help": "zoo model name or spec text"})
    data: str = field(default="", metadata={"help": "data set name (see `convlens data`)"})
    input: str = field(default="", metadata={"help": "CxHxW or CxL input shape for a spec"})
    recipe: str = field(default="", metadata={"help": "named recipe the run started from"})
    kwargs: str = field(
        default="", metadata={"help": "JSON keyword arguments for a FILE.py:NAME model"}
    )
    weights: str = field(
        default="", metadata={"help": "start from these weights (.pth/.safetensors; head replaced)"}
    )
    freeze: str = field(
        default="",
        metadata={"help": "keep fixed: 'backbone' (all but the head) or module prefixes a,b"},
    )
    # --- length
    epochs: float = field(
        default=10, metadata={"help": "passes over the training set (may be fractional)"}
    )
    batch_size: int = field(default=128, metadata={"help": "examples per optimiser step"})
    # --- optimiser
    optimizer: str = field(default="sgd", metadata={"choices": OPTIMIZERS})
    lr: float = field(default=0.05, metadata={"help": "peak learning rate"})
    momentum: float = field(default=0.9, metadata={"help": "SGD momentum (Adam: beta1)"})
    nesterov: bool = field(default=True, metadata={"help": "Nesterov momentum for SGD"})
    weight_decay: float = field(
        default=5e-4, metadata={"help": "L2 (SGD, Adam) or decoupled (AdamW)"}
    )
    # --- schedule; warm-up is linear from lr/25 (the one-cycle start of Smith & Topin, 2017)
    schedule: str = field(default="onecycle", metadata={"choices": SCHEDULES})
    warmup: float = field(default=0.2, metadata={"help": "fraction of training spent warming up"})
    step_every: float = field(
        default=0.0, metadata={"help": "step schedule: epochs per decay (0: a third of the run)"}
    )
    gamma: float = field(default=0.1, metadata={"help": "step schedule: factor per decay"})
    final_lr: float = field(
        default=0.0, metadata={"help": "cosine/onecycle end, as a fraction of lr"}
    )
    # --- loss and regularisation
    task: str = field(
        default="classification",
        metadata={
            "choices": TASKS,
            "help": "classification (cross-entropy, accuracy) or regression (squared error, RMSE)",
        },
    )
    label_smoothing: float = field(default=0.0, metadata={"help": "0 = hard targets"})
    grad_clip: float = field(default=0.0, metadata={"help": "max global gradient norm; 0 = off"})
    # --- augmentation of training batches (done on the device, a whole batch at once)
    whiten: bool = field(
        default=False,
        metadata={
            "help": "start the first convolution as fixed patch-whitening filters computed from "
            "the training images"
        },
    )
    flip: bool = field(default=False, metadata={"help": "random horizontal flips"})
    alternate_flip: bool = field(
        default=False,
        metadata={
            "help": "with flip: mirror a random half of the images in even epochs and the other "
            "half in odd ones, instead of each at random"
        },
    )
    crop: int = field(default=0, metadata={"help": "random translation by up to this many pixels"})
    tta: bool = field(
        default=False, metadata={"help": "test-time augmentation: average with the flipped input"}
    )
    # --- hardware
    device: str = field(
        default="auto", metadata={"help": "auto (cuda, mps, cpu), cpu, cuda, cuda:1, mps"}
    )
    precision: str = field(default="auto", metadata={"choices": PRECISIONS})
    channels_last: str = field(default="auto", metadata={"choices": AUTO_BOOL})
    compile: bool = field(default=False, metadata={"help": "torch.compile the model"})
    winograd: bool = field(
        default=False,
        metadata={
            "help": "in float32 on the CPU with batches of 64 or more, compute each 3x3 "
            "convolution of 32 or more input channels on a 6x6 or 7x7 map, and the 2x2 max-pool "
            "after it, by Winograd's F(6x6, 3x3)"
        },
    )
    cache_stem: str = field(
        default="auto",
        metadata={
            "choices": AUTO_BOOL,
            "help": "compute the frozen first layers (whiten's convolution, a pretrained "
            "network's frozen ones) once per training image and its mirror image, not at every "
            "step; auto: when each is then used at least twice, without crops or torchrun",
        },
    )
    threads: int = field(default=0, metadata={"help": "CPU threads; 0 = torch's default"})
    # --- reproducibility
    seed: int = field(default=0, metadata={"help": "seeds weights, data order and augmentation"})
    deterministic: bool = field(
        default=False, metadata={"help": "deterministic algorithms (bit-exact resume)"}
    )
    # --- evaluation, checkpoints and stopping
    eval_every: int = field(
        default=1, metadata={"help": "evaluate on the validation data every N epochs"}
    )
    eval_batch_size: int = field(default=1024, metadata={"help": "examples per evaluation batch"})
    monitor: str = field(
        default="val_acc", metadata={"help": "metric that picks the best checkpoint"}
    )
    patience: int = field(
        default=0, metadata={"help": "early stopping after N epochs without improvement; 0 = off"}
    )
    save_every: int = field(
        default=0, metadata={"help": "also save resume state every N steps; 0 = each epoch"}
    )
    verbose: int = field(
        default=1, metadata={"help": "0 silent, 1 progress bar, 2 one line per epoch"}
    )
    # TensorBoard event files in RUN_DIR/tensorboard beside metrics.jsonl (optional extra)
    tensorboard: bool = field(
        default=False, metadata={"help": "also log each epoch's metrics for TensorBoard"}
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise ConfigError(f"{f.name} must be one of {', '.join(choices)}, not {value!r}.")
        positive = ("epochs", "batch_size", "lr", "eval_every", "eval_batch_size")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive, not {getattr(self, name)!r}.")
        non_negative: tuple[str, ...] = ("momentum", "weight_decay", "label_smoothing", "grad_clip")
        non_negative += ("crop", "threads", "patience", "save_every", "step_every", "final_lr")
        for name in non_negative:
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be zero or positive, not {getattr(self, name)!r}.")
        if not 0 <= self.warmup < 1:
            raise ConfigError(f"warmup is a fraction of the run in [0, 1), not {self.warmup!r}.")
        if not 0 <= self.label_smoothing < 1:
            raise ConfigError(f"label_smoothing must be in [0, 1), not {self.label_smoothing!r}.")
        if self.task == "regression" and self.label_smoothing:
            raise ConfigError(
                f"label_smoothing={self.label_smoothing} softens class targets, which "
                "task='regression' does not have; set label_smoothing=0."
            )
        if self.tta and not self.flip:
            # measured: a Fashion-MNIST net trained without flips, 94% train accuracy, drops to
            # 83% test when its logits are averaged with those of the mirrored images
            raise ConfigError(
                "tta=True averages with mirrored inputs; use it with flip=True, or set tta=False."
            )
        if self.alternate_flip and not self.flip:
            raise ConfigError(
                "alternate_flip=True says how flip=True mirrors images; set flip=True as well."
            )
        if self.verbose not in (0, 1, 2):
            raise ConfigError(f"verbose must be 0, 1 or 2, not {self.verbose!r}.")

    # --- conversions ------------------------------------------------------------------------

    def replace(self, **changes: Any) -> TrainConfig:
        return from_dict({**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_toml(self) -> str:
        lines = ["# convlens training configuration; replay with `convlens train --config FILE`"]
        lines += [f"{name} = {_toml_value(value)}" for name, value in self.to_dict().items()]
        return "\n".join(lines) + "\n"


_TYPES: dict[str, type] = {"int": int, "float": float, "str": str, "bool": bool}


def _field_type(f: dataclasses.Field[Any]) -> type:
    return _TYPES[str(f.type)]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value)  # a TOML basic string has JSON's escapes


def from_dict(values: Mapping[str, Any], *, source: str = "configuration") -> TrainConfig:
    """Build a TrainConfig from plain values, checking names and types (ints pass as floats)."""
    known = {f.name: f for f in fields(TrainConfig)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(
            f"{source} has unknown setting {unknown[0]!r}; known: {', '.join(known)}."
        )
    clean: dict[str, Any] = {}
    for name, value in values.items():
        want = _field_type(known[name])
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise ConfigError(
                f"{source}: {name} must be {want.__name__}, not {type(value).__name__} {value!r}."
            )
        clean[name] = value
    return TrainConfig(**clean)


def read_config(path: str | Path) -> dict[str, Any]:
    """The settings stored in a TOML or JSON file (as saved with every run)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(
            f"cannot read config file {str(path)!r}: {err.strerror or err}."
        ) from None
    try:
        values = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"config file {str(path)!r} is not valid: {err}.") from None
    if not isinstance(values, dict):
        raise ConfigError(f"config file {str(path)!r} must hold a table of settings.")
    from_dict(values, source=str(path))  # check names and types now, with the file's name
    return values


# --- command-line flags ---------------------------------------------------------------------


def add_config_arguments(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """One flag per TrainConfig field; defaults are None so that only given flags override."""
    group = parser.add_argument_group("training settings (defaults from TrainConfig)")
    for f in fields(TrainConfig):
        if f.name in skip:
            continue
        flag = _flag(f.name)
        kind = _field_type(f)
        text = f.metadata.get("help", "")
        text = f"{text} (default: {f.default})" if text else f"default: {f.default}"
        if kind is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            group.add_argument(
                flag, type=kind, default=None, choices=f.metadata.get("choices"), help=text
            )


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


# ``name=value`` in an error text, for a TrainConfig field: a quoted string or a bare value that
# does not swallow the sentence's closing punctuation
_SETTING = re.compile(r"\b([a-z_]+)=('[^']*'|\"[^\"]*\"|[^\s,;)]*[^\s,;).])")


def as_flags(text: str) -> str:
    """An error text that names settings as ``grad_clip=1``, with the flags instead (--grad-clip 1).

    Library errors name TrainConfig fields, since a library user sets fields; the command line
    shows the same sentence in terms of the flags generated from those fields.
    """
    known = {f.name for f in fields(TrainConfig)}

    def flag(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2).strip("'\"")
        if name not in known:
            return match.group(0)
        if value in ("True", "False"):  # the boolean flags are --name / --no-name
            return _flag(name if value == "True" else f"no_{name}")
        return f"{_flag(name)} {value}"

    return _SETTING.sub(flag, text)


def flags_given(args: argparse.Namespace, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The TrainConfig settings that were given on the command line."""
    return {
        f.name: getattr(args, f.name)
        for f in fields(TrainConfig)
        if f.name not in skip and getattr(args, f.name, None) is not None
    }
