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

Training (``seglab.train``) needs three more collectives: :func:`all_sum` (every rank's
numbers added up, so that every rank reports the same loss and confusion matrix),
:func:`any_rank` (stop on every rank when one wants to stop) and :func:`broadcast_object` (rank
0 reads a checkpoint, every rank gets it: the output folder need exist on rank 0's machine
only). :func:`active` says whether there is a group to talk to at all.
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

__all__ = [
    "DistInfo",
    "active",
    "all_sum",
    "any_rank",
    "average_gradients",
    "barrier",
    "broadcast_object",
    "gather_objects",
    "process_group",
    "shard",
    "world_info",
]


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
    here is destroyed on the way out, after a barrier when the block ends normally, at once
    when it raises. Destroying it stops its threads (see
    :func:`_import_what_would_pin_the_group`), unless the caller still holds an object that
    uses it, such as a ``DistributedDataParallel`` model: drop those inside the block.
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
    _import_what_would_pin_the_group()
    dist.init_process_group(chosen)
    try:
        yield world_info()
    except BaseException:
        dist.destroy_process_group()  # no barrier: the other ranks may never reach one
        raise
    dist.barrier()  # every rank has finished its last collective before any disconnects
    dist.destroy_process_group()


def _import_what_would_pin_the_group() -> None:
    """Import ``torch.distributed.nn`` while no process group exists.

    ``torch.distributed.nn.functional`` binds ``group.WORLD`` as a default argument the first
    time it is imported, and ``torch._dynamo`` (so ``torchvision``, so SAM) imports it. Imported
    *after* ``init_process_group``, it would hold the group, and gloo's worker threads with it,
    past ``destroy_process_group()`` until the interpreter exits. A worker thread that then
    drops its last finished work (and the tensors it holds) needs the GIL while Python is
    shutting down, and the process aborts with "terminate called without an active
    exception" after it has done all its work: seen under load at the end of two-rank
    labelling and training. Imported now, it binds None, and ``destroy_process_group()``
    joins the threads while Python still runs.
    """
    import torch.distributed.nn  # noqa: F401


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


def broadcast_object(obj: T, src: int = 0) -> T:
    """Rank ``src``'s ``obj`` (any picklable value), on every rank; the others pass a
    placeholder (e.g. None). A collective call. With one process it returns ``obj``."""
    if not (dist.is_available() and dist.is_initialized()):
        return obj
    box: list[object] = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]  # type: ignore[return-value]


def active() -> bool:
    """True when a process group with more than one process is initialised: collectives talk."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _collective_device() -> torch.device:
    """Where a tensor must live for this group's backend: nccl reduces CUDA tensors only."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def all_sum(tensor: torch.Tensor) -> torch.Tensor:
    """The element-wise sum of ``tensor`` over all ranks, on every rank (a new tensor on
    ``tensor``'s device; ``tensor`` itself is unchanged). One process: a copy of ``tensor``.

    A collective call: every rank must reach it with a tensor of the same shape and dtype.
    Sum float64 or int64 tensors when the result must not depend on the number of ranks
    beyond rounding (a float32 sum of many losses loses digits).
    """
    out = tensor.detach().clone()
    if not active():
        return out
    moved = out.to(_collective_device())
    dist.all_reduce(moved, op=dist.ReduceOp.SUM)
    return moved.to(tensor.device)


def barrier() -> None:
    """Wait until every rank has reached this call (a collective call); one process: return.

    For "rank 0 prepares, the others then use it": rank 0 calls it after writing, the others
    before reading.
    """
    if active():
        dist.barrier()


def any_rank(flag: bool) -> bool:
    """True on every rank when ``flag`` is true on at least one (a collective call).

    For decisions that all ranks must take together, such as stopping early: a rank that
    leaves the training loop alone would leave the others waiting in their next all-reduce.
    """
    if not active():
        return bool(flag)
    return bool(all_sum(torch.tensor([int(bool(flag))], dtype=torch.int64)).item() > 0)


def average_gradients(params: list[torch.Tensor], extra: list[float]) -> list[float]:
    """Replace each gradient by its mean over the ranks; return ``extra`` summed over the ranks.

    One all-reduce carries the gradients (zeros where a rank left a parameter unused, so that
    every rank updates the same parameters) and the ``extra`` numbers, so that every rank takes
    the same step and the same decisions.
    """
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1).float() for g in grads] + [torch.tensor(extra).to(grads[0])])
    total = all_sum(flat)
    world = world_info().world_size
    i = 0
    for p in params:
        p.grad = (total[i : i + p.numel()] / world).view_as(p).to(p.dtype)
        i += p.numel()
    return total[i:].tolist()
