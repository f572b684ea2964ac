from __future__ import annotations

import pytest

from convlens.errors import ConfigError
from convlens.train.config import TrainConfig, from_dict, read_config
from convlens.train.optim import WARMUP_START, lr_factor


def test_toml_and_json_round_trip(tmp_path):
    config = TrainConfig(
        model="conv5x5x6-fc10", data="mnist", lr=0.1, flip=True, crop=2, epochs=2.5
    )
    (tmp_path / "run.toml").write_text(config.to_toml())
    (tmp_path / "run.json").write_text(config.to_json())
    assert from_dict(read_config(tmp_path / "run.toml")) == config
    assert from_dict(read_config(tmp_path / "run.json")) == config


def test_a_partial_toml_keeps_the_other_defaults(tmp_path):
    (tmp_path / "run.toml").write_text("lr = 1\noptimizer = 'adam'\n")
    config = from_dict(read_config(tmp_path / "run.toml"))
    assert config.lr == 1.0 and config.optimizer == "adam"
    assert config.batch_size == TrainConfig().batch_size


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lrate = 1\n", "unknown setting 'lrate'"),
        ("lr = 'fast'\n", "lr must be float, not str"),
        ("batch_size = 1.5\n", "batch_size must be int"),
        ("optimizer = 'rmsprop'\n", "optimizer must be one of sgd, adam, adamw"),
        ("lr = -1\n", "lr must be positive"),
        ("lr = \n", "is not valid"),
    ],
)
def test_bad_config_files_name_the_problem(tmp_path, text, message):
    (tmp_path / "run.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        from_dict(read_config(tmp_path / "run.toml"))


def test_schedules_by_hand():
    c = TrainConfig(epochs=10, warmup=0.2, final_lr=0.0)
    total, per_epoch = 100, 10
    # warm-up: linear from 1/25 to 1 over the first 20 steps
    assert lr_factor(c, 0, total, per_epoch) == pytest.approx(WARMUP_START)
    assert lr_factor(c, 10, total, per_epoch) == pytest.approx(
        WARMUP_START + (1 - WARMUP_START) / 2
    )
    assert lr_factor(c, 20, total, per_epoch) == pytest.approx(1.0)
    # one-cycle: then a straight line to final_lr at step 100; halfway (step 60) is 0.5
    assert lr_factor(c, 60, total, per_epoch) == pytest.approx(0.5)
    cos = c.replace(schedule="cosine", warmup=0.0)
    assert lr_factor(cos, 50, total, per_epoch) == pytest.approx(0.5)  # cos(pi/2) = 0
    assert lr_factor(cos, 0, total, per_epoch) == pytest.approx(1.0)
    step = c.replace(schedule="step", warmup=0.0, step_every=3.0, gamma=0.1)
    assert lr_factor(step, 29, total, per_epoch) == pytest.approx(1.0)  # epoch 2.9
    assert lr_factor(step, 30, total, per_epoch) == pytest.approx(0.1)  # epoch 3
    assert lr_factor(step, 65, total, per_epoch) == pytest.approx(0.01)  # epoch 6.5
    assert lr_factor(c.replace(schedule="constant", warmup=0.0), 77, total, per_epoch) == 1.0


def test_test_time_flips_need_training_flips():
    # the library names the fields; `convlens train` says the same with flags (test_cli.py)
    with pytest.raises(ConfigError, match=r"use it with flip=True, or set tta=False\.$"):
        TrainConfig(tta=True)
    assert TrainConfig(tta=True, flip=True).tta


def test_alternating_flips_need_flips():
    with pytest.raises(ConfigError, match=r"set flip=True as well\.$"):
        TrainConfig(alternate_flip=True)
    assert TrainConfig(alternate_flip=True, flip=True).alternate_flip


@pytest.mark.parametrize(
    ("text", "flags"),
    [
        ("clip gradients (grad_clip=1).", "clip gradients (--grad-clip 1)."),
        ("now lr=0.05; or", "now --lr 0.05; or"),
        ("use it with flip=True, or set tta=False.", "use it with --flip, or set --no-tta."),
        ("use device='cuda:1'.", "use --device cuda:1."),
        ("label_smoothing=0.1, eval_batch_size=64", "--label-smoothing 0.1, --eval-batch-size 64"),
        ("x=3 and layer=conv1 are not settings", "x=3 and layer=conv1 are not settings"),
    ],
)
def test_error_texts_name_fields_and_the_cli_says_them_as_flags(text, flags):
    from convlens.train.config import as_flags

    assert as_flags(text) == flags


def test_the_hardware_line_counts_threads_in_words():
    import torch

    from convlens.train.device import Hardware

    cpu = torch.device("cpu")
    assert Hardware(cpu, "float32", True, 1).describe() == "cpu float32, channels-last, 1 thread"
    assert Hardware(cpu, "bfloat16", False, 2).describe() == "cpu bfloat16, 2 threads"
    assert Hardware(torch.device("cuda"), "bfloat16", True, 8).describe() == (
        "cuda bfloat16, channels-last"
    )
