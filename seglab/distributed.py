"""The few torch.distributed calls that seglab's command lines share, in one place.

``torchrun --nproc-per-node N -m seglab.label ...`` starts N copies of the same program. Each
copy reads its place from environment variables that torchrun sets (``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``) and joins a *process group*; from then on
collective calls (all-reduce, all-gather, barrier) work across the copies. Run without torchrun,
the same program is one process and every function here does the one-process thing, so one code
path serves a laptop, a GPU box and a cluster.

Typical use::

    with process_group() as dist_info:         # joins the group when torchrun started us
        mine = shard(all_images, dist_info)    # this rank's share, every rank a different one
        failures = [...]                       # do the work
        everyone = gather_objects(failures)    # all ranks' lists, on every rank
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")

__all__ = ["DistInfo", "gather_objects", "process_group", "shard", "world_info"]


@dataclass(frozen=True)
class DistInfo:
    """Where this process stands in the job.

    Attributes:
      rank: 0 .. world_size - 1, this process's number across all machines.
      world_size: how many processes the job has (1 without torchrun).
      local_rank: this process's number on its own machine (picks its GPU).
      backend: ``"gloo"`` (CPU) or ``"nccl"`` (CUDA), or ``""`` for a single process.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def is_main(self) -> bool:
        """True on rank 0, the one process that logs, shows progress and writes checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when several processes take part (a process group is initialised)."""
        return self.world_size > 1


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(
            f"environment variable {name}={value!r} is not an integer; torchrun sets it for you - "
            "unset it to run a single process."
        ) from None


def world_info() -> DistInfo:
    """This process's place, from an initialised process group or torchrun's variables."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(
            dist.get_rank(),
            dist.get_world_size(),
            _env_int("LOCAL_RANK", 0),
            str(dist.get_backend()),
        )
    return DistInfo(_env_int("RANK", 0), _env_int("WORLD_SIZE", 1), _env_int("LOCAL_RANK", 0), "")


@contextmanager
def process_group(backend: str | None = None) -> Iterator[DistInfo]:
    """Join torchrun's process group for the ``with`` block (or do nothing for one process).

    Arguments:
      backend (str | None): ``"gloo"`` or ``"nccl"``; None picks nccl when CUDA is available,
        otherwise gloo (the CPU backend).

    Yields:
      DistInfo: this process's rank and the world size.

    A group that was already initialised (by a caller) is used and left open; one initialised
    here is destroyed on the way out, also when the block raises.
    """
    if dist.is_available() and dist.is_initialized():
        yield world_info()
        return
    info = world_info()
    if info.world_size <= 1:
        yield info
        return
    if not dist.is_available():
        raise RuntimeError(
            "WORLD_SIZE > 1 but this torch build has no torch.distributed; install a regular "
            "torch wheel or run a single process."
        )
    chosen = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    if chosen not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo' or 'nccl', got {chosen!r}")
    if chosen == "nccl":
        torch.cuda.set_device(info.local_rank)
    dist.init_process_group(chosen)
    try:
        yield world_info()
    finally:
        dist.destroy_process_group()


def shard(items: Sequence[T], info: DistInfo | None = None) -> list[T]:
    """This rank's share of ``items``: every world_size-th item from position ``rank``.

    Round-robin, so that shares differ by at most one item and a sorted list of files spreads
    its large and small ones across ranks. Every item lands on exactly one rank.
    """
    info = info or world_info()
    return list(items[info.rank :: info.world_size])


def gather_objects(obj: T) -> list[T]:
    """Every rank's ``obj`` (any picklable value), in rank order, on every rank.

    A collective call: every rank must reach it, which also makes it a barrier. With one
    process it returns ``[obj]``.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return [obj]
    out: list[T | None] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out  # type: ignore[return-value]
