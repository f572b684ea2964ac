"""The torchrun environment, read without starting any process."""

from __future__ import annotations

import pytest
import torch

from convlens.errors import ConfigError
from convlens.train.distributed import (
    World,
    batch_stats,
    broadcast_text,
    current_world,
    launch,
    local_batch_size,
    require_group,
    shard_batch,
    world_from_environment,
)


def test_torchrun_variables_make_a_world():
    env = {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"}
    assert world_from_environment(env) == World(rank=3, world_size=4, local_rank=1)
    assert not World(3, 4, 1).is_main and World(0, 4, 0).is_main
    assert world_from_environment({}) is None  # not started by torchrun


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RANK": "x", "WORLD_SIZE": "2"}, "must be integers"),
        ({"RANK": "2", "WORLD_SIZE": "2"}, "must lie in 0..WORLD_SIZE-1"),
    ],
)
def test_bad_torchrun_variables_are_one_sentence(env, message):
    with pytest.raises(ConfigError, match=message):
        world_from_environment(env)


def test_the_global_batch_must_split_evenly():
    assert local_batch_size(128, World(0, 4, 0)) == 32
    with pytest.raises(ConfigError, match="multiple of 3"):
        local_batch_size(128, World(0, 3, 0))


def test_one_process_is_left_alone(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    with launch() as world:
        assert world == World() == current_world()
    x, y = torch.arange(8.0).view(4, 2), torch.arange(4)
    xb, yb, augment = shard_batch(x, y, None, torch.Generator())
    assert xb is x and yb is y and augment is None
    assert batch_stats(torch.tensor(0.5), torch.tensor(3)) == (0.5, 3.0)
    assert broadcast_text("runs/x") == "runs/x"


def test_torchrun_without_a_group_is_refused(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    with pytest.raises(ConfigError, match="has not joined the process group"):
        require_group()
