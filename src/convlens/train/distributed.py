"""Several processes, one run: DistributedDataParallel under torchrun.

``torchrun --nproc_per_node=N -m convlens train ...`` starts N copies of the program with
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` in their environment (and ``MASTER_ADDR`` /
``MASTER_PORT`` for the rendezvous). ``launch()`` reads them, joins the process group (gloo on
the CPU, NCCL on CUDA, where each process takes the GPU numbered by its ``LOCAL_RANK``) and
leaves it again at the end, also when the run fails.

How the work is split, so that W processes compute exactly what one process computes:

- every rank holds the whole (in-memory) training set and draws the same permutation from the
  same seeded generator, so all ranks agree on each *global* batch of ``config.batch_size``;
- the global batch is augmented as a whole (the random draws are those of a single process), and
  rank r then trains on its slice r of W equal slices, ``batch_size / W`` examples;
- DDP averages the gradients over the ranks. The loss is a mean over the batch, so the average of
  W shard means of equal size is the mean over the global batch: the same gradient, the same step;
- the loss and the number of correct predictions are summed over ranks once per step, so every
  rank reports, stops on a non-finite loss and picks the best epoch exactly as one process would.

Two layers depend on how a batch is split, as in any DDP run. Batch normalisation normalises each
rank's slice with that slice's statistics (per-worker BN, as Goyal et al., 2017, "Accurate, Large
Minibatch SGD", train with), and DDP copies rank 0's running statistics to all ranks. Dropout
draws its masks from torch's generator, seeded alike on every rank, so the ranks' slices get the
same masks. Because the schedule, the data order and the saved state are all global, a run can
stop with one world size and resume with another.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from convlens.errors import ConfigError

# the variables torchrun sets for every process it starts (torch.distributed.run's docs)
_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class World:
    """This process's place among the processes of one run."""

    rank: int = 0  # 0 .. world_size - 1, over all machines
    world_size: int = 1
    local_rank: int = 0  # index on this machine: picks the GPU

    @property
    def is_main(self) -> bool:
        """Rank 0 alone prints, writes checkpoints and reports."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1


def world_from_environment(env: dict[str, str] | None = None) -> World | None:
    """The World that torchrun describes in the environment, or None outside torchrun."""
    env = dict(os.environ) if env is None else env
    if "WORLD_SIZE" not in env:
        return None
    try:
        rank, size = int(env.get("RANK", "0")), int(env["WORLD_SIZE"])
        local = int(env.get("LOCAL_RANK", "0"))
    except ValueError:
        values = ", ".join(f"{k}={env.get(k)!r}" for k in _ENV)
        raise ConfigError(f"the torchrun variables must be integers, not {values}.") from None
    if not 0 <= rank < size:
        raise ConfigError(f"RANK={rank} must lie in 0..WORLD_SIZE-1 (WORLD_SIZE={size}).")
    return World(rank, size, local)


def current_world() -> World:
    """The World of the joined process group, or a single process when there is none."""
    if dist.is_available() and dist.is_initialized():
        local = int(os.environ.get("LOCAL_RANK", "0"))
        return World(dist.get_rank(), dist.get_world_size(), local)
    return World()


def is_main() -> bool:
    return current_world().is_main


def backend() -> str:
    """gloo for CPU tensors and, where CUDA exists, NCCL for CUDA tensors (routed by device)."""
    return "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"


@contextmanager
def launch() -> Iterator[World]:
    """Join torchrun's process group for the duration of a ``with`` block.

    Outside torchrun (or with one process) nothing is joined and the block runs as a single
    process. A group that is already joined is used as it is and left for its owner to close.
    On CUDA each process takes the GPU numbered by its LOCAL_RANK, so ``--device cuda`` (or
    ``auto``) means "my GPU".
    """
    world = world_from_environment()
    if world is None or not world.is_distributed or not dist.is_available():
        yield current_world()
        return
    if dist.is_initialized():
        yield current_world()
        return
    if torch.cuda.is_available():
        if world.local_rank >= torch.cuda.device_count():
            raise ConfigError(
                f"LOCAL_RANK {world.local_rank} has no GPU ({torch.cuda.device_count()} visible); "
                "start at most one process per GPU with --nproc_per_node."
            )
        torch.cuda.set_device(world.local_rank)
    dist.init_process_group(backend=backend())
    try:
        yield current_world()
        # the block ended on every rank: leave the group together. A rank that tore its gloo
        # connections down while rank 0 was still writing the run's files aborted ("terminate
        # called without an active exception") in 7 of 84 interrupted two-rank runs of
        # tests/distributed/ddp_worker.py; with the barrier, 0 of 50
        dist.barrier()
    finally:
        dist.destroy_process_group()


def require_group() -> None:
    """Refuse to train W independent copies under torchrun when no group was joined."""
    world = world_from_environment()
    joined = dist.is_available() and dist.is_initialized()
    if world is not None and world.is_distributed and not joined:
        raise ConfigError(
            f"this process was started by torchrun (WORLD_SIZE={world.world_size}) but has not "
            "joined the process group; call fit() inside `with convlens.train.distributed.launch():`."
        )


def local_batch_size(batch_size: int, world: World) -> int:
    if batch_size % world.world_size:
        raise ConfigError(
            f"the batch size {batch_size} must divide evenly among {world.world_size} processes; "
            f"use a multiple of {world.world_size}."
        )
    return batch_size // world.world_size


def wrap_model(model: nn.Module, device: torch.device) -> nn.Module:
    """The model wrapped in DistributedDataParallel when a group is joined, else as it is."""
    if not current_world().is_distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if device.type != "cuda":
        return DistributedDataParallel(model)
    mine = torch.cuda.current_device()  # launch() set it from LOCAL_RANK
    if device.index is not None and device.index != mine:
        raise ConfigError(
            f"under torchrun each process trains on the GPU of its LOCAL_RANK (cuda:{mine}), "
            f"not {device}; use device='cuda'."
        )
    return DistributedDataParallel(model, device_ids=[mine])


def shard_batch(
    xb: torch.Tensor,
    yb: torch.Tensor,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor, Callable[[torch.Tensor, torch.Generator], Any] | None]:
    """This rank's slice of a global batch, and the augmentation still to apply to it.

    Distributed, the whole global batch is augmented here first, so that the generator advances
    exactly as in a single process; the slice is returned with nothing left to augment.
    """
    world = current_world()
    if not world.is_distributed:
        return xb, yb, augment
    if augment is not None:
        xb = augment(xb, generator)
    size = local_batch_size(xb.shape[0], world)
    part = slice(world.rank * size, (world.rank + 1) * size)
    return xb[part], yb[part], None


def batch_stats(loss: torch.Tensor, correct: torch.Tensor) -> tuple[float, float]:
    """The batch's mean loss and correct count over all ranks (one all-reduce; equal shards)."""
    world = current_world()
    if not world.is_distributed:
        return loss.item(), float(correct)
    both = torch.stack([loss.detach().float(), correct.detach().float()])
    dist.all_reduce(both)
    return float(both[0]) / world.world_size, float(both[1])


def broadcast_text(text: str) -> str:
    """Rank 0's ``text`` on every rank (e.g. a run directory named after the time).

    Sent as bytes in a tensor rather than with ``broadcast_object_list``, which pickles.
    """
    if not current_world().is_distributed:
        return text
    data = torch.tensor(list(text.encode("utf-8")), dtype=torch.uint8)
    size = torch.tensor([data.numel()], dtype=torch.int64)
    dist.broadcast(size, src=0)
    buffer = data if current_world().is_main else torch.empty(int(size), dtype=torch.uint8)
    dist.broadcast(buffer, src=0)
    return bytes(buffer.tolist()).decode("utf-8")


@contextmanager
def quiet_unless_main() -> Iterator[None]:
    """Silence stdout and stderr on ranks other than 0, so a run reads as one process.

    An error still reaches the terminal: it leaves the block before it is reported.
    """
    if current_world().is_main:
        yield
        return
    with open(os.devnull, "w") as null, redirect_stdout(null), redirect_stderr(null):
        yield
