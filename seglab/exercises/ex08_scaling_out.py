"""Questions of exercises/08_scaling_out.ipynb: what torchrun's processes compute, in one.

- ``q1`` ``rank_indices(n_items, rank, world_size, shuffle=False, seed=0, epoch=0)``: the
  dataset indices that ``torch.utils.data.DistributedSampler`` gives one rank: the order
  (``range`` or, shuffled, ``torch.randperm`` from a ``torch.Generator`` seeded with
  ``seed + epoch``, the same on every rank), padded by repeating it from the start to
  ``ceil(n_items / world_size) * world_size`` (every rank takes the same number of steps), then
  every ``world_size``-th index from ``rank`` on. Checked against DistributedSampler itself.
- ``q2`` ``per_rank_batch(global_batch, world_size)``: the batch each process loads. A global
  batch that does not split evenly is a ValueError naming both numbers and the nearest global
  batches that would (28 or 32 for 30 on 4); a batch or world size of 0 or less is a
  ValueError, one that is not an int (a bool, a float, a string from the command line) a
  TypeError.
- ``q3`` ``scaled_lr(base_lr, base_batch, global_batch)``: the linear scaling rule (Goyal et
  al., 2017, "Accurate, Large Minibatch SGD"): ``base_lr * global_batch / base_batch``. A
  learning rate that is not a positive finite number (NaN included) or a batch of 0 or less is
  a ValueError; a learning rate that is not a number or a batch that is not an int, a
  TypeError.
- ``q4`` ``all_reduce_mean(grads)``: one list of gradient tensors per rank in, the gradients
  every rank holds after DistributedDataParallel's all-reduce out (the mean over ranks, one
  new list per rank, the inputs unchanged). No ranks is a ValueError, ``None`` a TypeError,
  ranks holding different numbers or shapes of gradients a ValueError naming the rank and
  the index. One case checks that the mean of the per-rank gradients of each rank's mean loss
  is the gradient of the whole batch's mean loss (a linear model, equal shards). (In
  :mod:`seglab.exercises._ex08_all_reduce`.)

Every check runs in one process on the CPU, in milliseconds: no process group, no torchrun.
An error case lists what the error's message must name (``Case.mentions``): the argument, or
the numbers that fix the call.
"""

from __future__ import annotations

import math
from typing import cast

import torch
from torch.utils.data import Dataset, DistributedSampler

from seglab._util import is_int
from seglab.checks import Case, Question
from seglab.exercises import _ex08_mistakes as mistakes
from seglab.exercises._ex08_all_reduce import all_reduce_mean, q4

__all__ = ["all_reduce_mean", "per_rank_batch", "q1", "q2", "q3", "q4", "rank_indices", "scaled_lr"]


# --------------------------------------------------------------------------- reference solutions


def rank_indices(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    """The indices of ``n_items`` that DistributedSampler gives ``rank`` of ``world_size``."""
    for name, value in [("n_items", n_items), ("rank", rank), ("world_size", world_size)]:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}.")
    if world_size < 1:
        raise ValueError(f"world_size must be at least 1 (one process), got {world_size}.")
    if not 0 <= rank < world_size:
        raise ValueError(
            f"rank must be in 0..{world_size - 1} for world_size {world_size}, got {rank}."
        )
    if n_items < 0:
        raise ValueError(f"n_items must be 0 or more, got {n_items}.")
    if shuffle:  # one order for all ranks: seeded by seed + epoch, never by the rank
        generator = torch.Generator().manual_seed(seed + epoch)
        order = torch.randperm(n_items, generator=generator).tolist()
    else:
        order = list(range(n_items))
    per_rank = math.ceil(n_items / world_size)  # every rank takes the same number of steps
    padded = [order[i % n_items] for i in range(per_rank * world_size)]  # repeat from the start
    return padded[rank::world_size]  # rank r takes r, r + world_size, r + 2 * world_size, ...


def per_rank_batch(global_batch, world_size):
    """The batch each of ``world_size`` processes loads so that one step uses ``global_batch``."""
    for name, value in [("global_batch", global_batch), ("world_size", world_size)]:
        if isinstance(value, bool) or not isinstance(value, int):  # True is an int in Python
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}.")
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}.")
    if global_batch % world_size:
        below = global_batch // world_size * world_size
        nearest = f"{below} or {below + world_size}" if below else f"{world_size}"
        raise ValueError(
            f"a global batch of {global_batch} does not split evenly over {world_size} "
            f"processes: use a multiple of {world_size}, e.g. {nearest}."
        )
    return global_batch // world_size


def scaled_lr(base_lr, base_batch, global_batch):
    """The linear scaling rule: the learning rate grows in proportion to the global batch."""
    if isinstance(base_lr, bool) or not isinstance(base_lr, (int, float)):
        raise TypeError(f"base_lr must be a number, got {type(base_lr).__name__} {base_lr!r}.")
    if not (math.isfinite(base_lr) and base_lr > 0):  # NaN > 0 is False: NaN is refused too
        raise ValueError(f"base_lr must be a positive, finite number, got {base_lr}.")
    for name, value in [("base_batch", base_batch), ("global_batch", global_batch)]:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}.")
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}.")
    return base_lr * global_batch / base_batch


# --------------------------------------------------------------------------- q1: DistributedSampler


def _sampler(n_items: int, rank: int, world_size: int, shuffle: bool, seed: int, epoch: int):
    """What torch's own DistributedSampler gives ``rank`` (no process group needed)."""
    dataset = cast("Dataset[int]", range(n_items))  # the sampler needs only len()
    sampler: DistributedSampler[int] = DistributedSampler(
        dataset, num_replicas=world_size, rank=rank, shuffle=shuffle, seed=seed
    )
    sampler.set_epoch(epoch)
    return list(sampler)


def _indices_case(
    description: str,
    args: tuple[int, int, int],
    why: str = "",
    *,
    shuffle: bool = False,
    seed: int = 0,
    epoch: int = 0,
    sanity: bool = False,
) -> Case:
    n_items, rank, world_size = args
    expected = _sampler(n_items, rank, world_size, shuffle, seed, epoch)
    per_rank = math.ceil(n_items / world_size)

    def verify(got: object, *_given: object) -> str | None:
        if isinstance(got, torch.Tensor):
            return "a torch tensor: return a list of ints (tensor.tolist())"
        if not isinstance(got, list):
            return f"return a list of ints, not a {type(got).__name__}"
        if not all(is_int(i) for i in got):
            return "every index must be an int"
        if len(got) != per_rank:
            return (
                f"{len(got)} indices for rank {rank}; every rank gets ceil({n_items} / "
                f"{world_size}) = {per_rank}"
            )
        return None if [int(i) for i in got] == expected else ""

    kwargs: dict[str, object] = {"shuffle": True, "seed": seed, "epoch": epoch} if shuffle else {}
    return Case(
        description,
        args,
        verify=verify,
        expect_text=f"{expected}, what DistributedSampler gives rank {rank}",
        why=why,
        kwargs=kwargs,
        sanity=sanity,
    )


def _sampler_grid() -> list[Case]:
    """Many small shardings, each compared with DistributedSampler itself."""
    cases = []
    for n_items in (1, 5, 16):
        for world_size in (1, 3, 8):
            for rank in range(world_size):
                for shuffle in (False, True):
                    seed, epoch = (n_items, world_size) if shuffle else (0, 0)
                    order = f", shuffled (seed {seed}, epoch {epoch})" if shuffle else ""
                    cases.append(
                        _indices_case(
                            f"as DistributedSampler: {n_items} items, world_size {world_size}, "
                            f"rank {rank}{order}",
                            (n_items, rank, world_size),
                            shuffle=shuffle,
                            seed=seed,
                            epoch=epoch,
                            sanity=True,
                        )
                    )
    return cases


q1 = Question(
    "q1",
    "one rank's share of the data",
    [
        _indices_case(
            "10 items on 2 ranks, rank 1, in order",
            (10, 1, 2),
            "rank r takes every world_size-th index starting at r: 1, 3, 5, 7, 9.",
        ),
        _indices_case(
            "10 items on 4 ranks, rank 2, in order",
            (10, 2, 4),
            "10 items do not split over 4 ranks: every rank gets ceil(10 / 4) = 3, so the "
            "order is padded to 12 by repeating its start (0, 1) before striding.",
        ),
        _indices_case(
            "2 items on 5 ranks, rank 4, in order",
            (2, 4, 5),
            "with fewer items than ranks the padding repeats the order several times: "
            "[0, 1, 0, 1, 0], and rank 4 takes the last 0.",
        ),
        _indices_case(
            "an empty dataset (0 items) on 3 ranks, rank 0",
            (0, 0, 3),
            "an empty dataset gives every rank nothing, [], as DistributedSampler does; it is "
            "no error.",
        ),
        _indices_case(
            "10 items on 3 ranks, rank 1, shuffled with seed 0 in epoch 0",
            (10, 1, 3),
            "shuffle with torch.randperm(n_items, generator=g), g = torch.Generator()."
            "manual_seed(seed + epoch): every rank computes the same permutation, then pads and "
            "strides it.",
            shuffle=True,
        ),
        _indices_case(
            "10 items on 3 ranks, rank 1, shuffled with seed 0 in epoch 1",
            (10, 1, 3),
            "the epoch is part of the seed (seed + epoch): a new order every epoch.",
            shuffle=True,
            epoch=1,
        ),
        Case(
            "world_size 0",
            (10, 0, 0),
            raises=ValueError,
            mentions=(("world_size", "world size"),),
            why="a job has at least one process: refuse world_size < 1 with a ValueError.",
        ),
        Case(
            "rank 4 with world_size 4 (the ranks are 0 to 3)",
            (10, 4, 4),
            raises=ValueError,
            mentions=("rank",),
            why="ranks count from 0: rank must be in 0 .. world_size - 1. padded[4::4] is "
            "quietly empty, and that rank would wait forever for the others.",
        ),
        Case(
            "rank -1 with world_size 4",
            (10, -1, 4),
            raises=ValueError,
            mentions=("rank",),
            why="a negative rank is no rank; padded[-1::4] quietly takes the last index.",
        ),
        Case(
            "n_items -1",
            (-1, 0, 2),
            raises=ValueError,
            mentions=(("n_items", "n items"),),
            why="a dataset has 0 or more items: refuse a negative count with a ValueError.",
        ),
        Case(
            "n_items 10.0, a float",
            (10.0, 0, 2),
            raises=TypeError,
            mentions=(("n_items", "n items"),),
            why="a number of items is an int: check the type first and name the argument "
            "(Python's own error, 'float object cannot be interpreted as an integer', does not).",
        ),
        Case(
            "rank '1', a string, as os.environ['RANK'] gives it",
            (10, "1", 2),
            raises=TypeError,
            mentions=("rank",),
            why="environment variables are strings: refuse a rank that is not an int with a "
            "TypeError that says so (the fix: int(os.environ['RANK'])).",
        ),
        *_sampler_grid(),
    ],
    hints=[
        "Three steps: the order (list(range(n_items)), or torch.randperm(n_items, "
        "generator=torch.Generator().manual_seed(seed + epoch)).tolist() when shuffling), the "
        "padding to per_rank * world_size indices with per_rank = math.ceil(n_items / "
        "world_size), then padded[rank::world_size].",
        "Padding that works even with fewer items than ranks: padded = [order[i % n_items] for "
        "i in range(per_rank * world_size)]. Check the types first (isinstance(value, bool) or "
        "not isinstance(value, int) -> TypeError), then world_size >= 1, 0 <= rank < "
        "world_size and n_items >= 0 (ValueError), each message naming the argument.",
    ],
    solution=rank_indices,
    arg_names=["n_items", "rank", "world_size"],
    mistakes=mistakes.RANK_INDICES,
    on_pass="Your shards match torch.utils.data.DistributedSampler's; python -m seglab.train "
    "uses that sampler and calls its set_epoch(epoch) every epoch.",
)


# --------------------------------------------------------------------------- q2: the batch per rank


q2 = Question(
    "q2",
    "the batch of each process",
    [
        Case(
            "a global batch of 32 on 4 processes",
            (32, 4),
            expected=8,
            why="each process loads global_batch / world_size samples a step; one step of "
            "all processes together uses the whole global batch.",
        ),
        Case(
            "a global batch of 30 on 4 processes",
            (30, 4),
            raises=ValueError,
            mentions=("30", "4", "28", "32"),
            why="30 samples do not split over 4 processes. Say so, with both numbers, and "
            "compute the fix: the nearest global batches that do split, 28 and 32.",
        ),
        Case(
            "a global batch of 6 on 8 processes",
            (6, 8),
            raises=ValueError,
            mentions=("6", "8"),
            why="fewer samples than processes: the smallest global batch that splits is 8.",
            sanity=True,
        ),
        Case(
            "a global batch of 0 on 4 processes",
            (0, 4),
            raises=ValueError,
            mentions=(("global_batch", "global batch"),),
            why="0 % 4 == 0, yet a batch of 0 trains nothing: refuse global_batch <= 0.",
        ),
        Case(
            "a global batch of -8 on 4 processes",
            (-8, 4),
            raises=ValueError,
            mentions=(("global_batch", "global batch"),),
            why="a negative batch divides too (-8 // 4 == -2): refuse every global_batch <= 0, "
            "not only 0.",
        ),
        Case(
            "a global batch of 8 on world_size 0",
            (8, 0),
            raises=ValueError,
            mentions=(("world_size", "world size"),),
            why="a job has at least one process; 8 % 0 is Python's ZeroDivisionError, which "
            "does not say which argument is wrong.",
        ),
        Case(
            "a global batch of 8 on world_size -2",
            (8, -2),
            raises=ValueError,
            mentions=(("world_size", "world size"),),
            why="8 % -2 == 0 and 8 // -2 == -4: refuse every world_size <= 0, not only 0.",
        ),
        Case(
            "global_batch '32', a string, as sys.argv gives it",
            ("32", 4),
            raises=TypeError,
            mentions=(("global_batch", "global batch"),),
            why="command-line arguments are strings: check the type first and name the "
            "argument (Python's own TypeError for '32' <= 0 does not).",
        ),
        Case(
            "global_batch 32.0, a float",
            (32.0, 4),
            raises=TypeError,
            mentions=(("global_batch", "global batch"),),
            why="a batch is a whole number of samples: refuse floats, even 32.0 "
            "(isinstance(value, int) is False for them).",
        ),
        Case(
            "global_batch True, a bool, on 1 process",
            (True, 1),
            raises=TypeError,
            mentions=(("global_batch", "global batch"),),
            why="True is an int in Python (True == 1): refuse bools before testing for int.",
        ),
        Case(
            "world_size None, as os.environ.get('WORLD_SIZE') gives outside torchrun",
            (32, None),
            raises=TypeError,
            mentions=(("world_size", "world size"),),
            why="check every argument's type, world_size too, and name it.",
        ),
    ],
    hints=[
        "For each argument: isinstance(value, bool) or not isinstance(value, int) -> "
        "TypeError; value <= 0 -> ValueError. Then global_batch % world_size must be 0; return "
        "global_batch // world_size.",
        "The nearest valid global batches: below = global_batch // world_size * world_size "
        "and below + world_size (only the latter when below is 0). Put global_batch, "
        "world_size and both of them in the message.",
    ],
    solution=per_rank_batch,
    arg_names=["global_batch", "world_size"],
    mistakes=mistakes.PER_RANK_BATCH,
    on_pass="python -m seglab.train --batch-size is the global batch and is checked the same way "
    "(seglab/train_cli.py).",
)


# --------------------------------------------------------------------------- q3: the learning rate


_NAMES_LR = (("base_lr", "base lr", "learning rate"),)
_NAMES_BASE = (("base_batch", "base batch"),)
_NAMES_GLOBAL = (("global_batch", "global batch"),)

q3 = Question(
    "q3",
    "the learning rate for a larger batch",
    [
        Case(
            "a base lr of 0.1 for a batch of 256, on a global batch of 1024",
            (0.1, 256, 1024),
            expected=0.4,
            why="the linear scaling rule: a global batch k times larger gets a learning rate k "
            "times larger, base_lr * global_batch / base_batch.",
        ),
        Case(
            "a base lr of 0.1 for a batch of 256, on a global batch of 384",
            (0.1, 256, 384),
            expected=0.15,
            why="384 is 1.5 times 256, so the learning rate is 1.5 times 0.1: the ratio need "
            "not be a whole number.",
        ),
        Case(
            "a base lr of 0.001 for a batch of 64, on a global batch of 16",
            (0.001, 64, 16),
            expected=0.00025,
            why="a smaller global batch gets a smaller learning rate, by the same rule.",
            sanity=True,
        ),
        Case(
            "a base lr of 1, an int, for a batch of 32, on a global batch of 64",
            (1, 32, 64),
            expected=2.0,
            why="an int learning rate is a number too.",
            sanity=True,
        ),
        Case(
            "base_batch 0",
            (0.1, 0, 256),
            raises=ValueError,
            mentions=_NAMES_BASE,
            why="a batch of 0 samples has no learning rate; dividing by it is Python's "
            "ZeroDivisionError, which does not say which argument is wrong.",
        ),
        Case(
            "global_batch 0",
            (0.1, 256, 0),
            raises=ValueError,
            mentions=_NAMES_GLOBAL,
            why="a learning rate of 0 trains nothing: refuse a global batch of 0 or less.",
        ),
        Case(
            "a negative base lr, -0.1",
            (-0.1, 256, 1024),
            raises=ValueError,
            mentions=_NAMES_LR,
            why="a negative learning rate climbs the loss: refuse base_lr <= 0.",
        ),
        Case(
            "a base lr of NaN",
            (math.nan, 256, 1024),
            raises=ValueError,
            mentions=_NAMES_LR,
            why="NaN <= 0 is False, like every comparison with NaN: test "
            "not (math.isfinite(base_lr) and base_lr > 0).",
        ),
        Case(
            "a base lr of infinity",
            (math.inf, 256, 1024),
            raises=ValueError,
            mentions=_NAMES_LR,
            why="infinity > 0 is True but trains nothing: refuse it with math.isfinite.",
        ),
        Case(
            "base_lr '0.1', a string, as a config file gives it",
            ("0.1", 256, 1024),
            raises=TypeError,
            mentions=_NAMES_LR,
            why="check the type first and name the argument: Python's own TypeError for "
            "'0.1' <= 0 does not say that base_lr was a string.",
        ),
        Case(
            "base_batch 256.0, a float",
            (0.1, 256.0, 1024),
            raises=TypeError,
            mentions=_NAMES_BASE,
            why="a batch is a whole number of samples: refuse floats, even 256.0.",
        ),
        Case(
            "global_batch True, a bool",
            (0.1, 256, True),
            raises=TypeError,
            mentions=_NAMES_GLOBAL,
            why="True is an int in Python (True == 1): refuse bools before testing for int.",
        ),
    ],
    hints=[
        "The rule is one line: base_lr * global_batch / base_batch. Before it, check the types "
        "(base_lr an int or float, the batches ints, no bools: TypeError) and the values "
        "(all positive, base_lr finite: ValueError), each message naming the argument.",
        "not (math.isfinite(base_lr) and base_lr > 0) refuses 0, negatives, NaN and infinity "
        "at once.",
    ],
    solution=scaled_lr,
    arg_names=["base_lr", "base_batch", "global_batch"],
    mistakes=mistakes.SCALED_LR,
    on_pass="Goyal et al. (2017) pair the rule with a few epochs of warm-up from the base rate; "
    "with Adam(W) a smaller increase (the square root) is a common start.",
)
