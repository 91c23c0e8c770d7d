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
  is the gradient of the whole batch's mean loss (a linear model, equal shards).

Every check runs in one process on the CPU, in milliseconds: no process group, no torchrun.
An error case lists what the error's message must name (``Case.mentions``): the argument, or
the numbers that fix the call.
"""

from __future__ import annotations

import math
from typing import cast

import torch
from torch.utils.data import Dataset, DistributedSampler

from seglab._check_values import num
from seglab._util import is_int
from seglab.checks import Case, Question
from seglab.exercises import _ex08_mistakes as mistakes

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


def all_reduce_mean(grads):
    """The gradients every rank holds after DDP's all-reduce: the mean over the ranks."""
    if not isinstance(grads, (list, tuple)):
        raise TypeError(f"grads must be a list of per-rank lists, got {type(grads).__name__}.")
    if len(grads) == 0:
        raise ValueError("grads is empty: pass one list of gradients per rank (at least one).")
    first = grads[0]
    for rank, tensors in enumerate(grads):
        if len(tensors) != len(first):
            raise ValueError(
                f"rank {rank} has {len(tensors)} gradients but rank 0 has {len(first)}: "
                "every rank must hold the same model."
            )
        for index, (mine, reference) in enumerate(zip(tensors, first, strict=True)):
            if mine.shape != reference.shape:
                raise ValueError(
                    f"rank {rank}, gradient {index}: shape {tuple(mine.shape)} but rank 0's "
                    f"is {tuple(reference.shape)}."
                )
    world_size = len(grads)
    means = [sum(g[i] for g in grads) / world_size for i in range(len(first))]  # new tensors
    return [[m.clone() for m in means] for _ in range(world_size)]  # the same on every rank


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


# --------------------------------------------------------------------------- q4: the all-reduce


def _tensor(seed: int, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _two_ranks() -> tuple[list[list[torch.Tensor]]]:
    """2 ranks, each with a weight (2, 3) and a bias (2,)."""
    return ([[_tensor(10 * r, 2, 3), _tensor(10 * r + 1, 2)] for r in range(2)],)


_SAMPLES, _RANKS = 8, 4


def _linear_batch() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A linear model y = x @ w.T + b (no BatchNorm) and a batch of 8 samples."""
    g = torch.Generator().manual_seed(8)
    x, y = torch.randn(_SAMPLES, 3, generator=g), torch.randn(_SAMPLES, 2, generator=g)
    w, b = torch.randn(2, 3, generator=g), torch.randn(2, generator=g)
    return x, y, w, b


def _gradients(x, y, w, b) -> list[torch.Tensor]:
    """The gradients of the mean squared error of the samples (x, y) for the weights w, b."""
    w, b = w.clone().requires_grad_(), b.clone().requires_grad_()
    loss = ((x @ w.T + b - y) ** 2).mean()  # the mean over this batch's samples
    return list(torch.autograd.grad(loss, [w, b]))


def _linear_ranks() -> tuple[list[list[torch.Tensor]]]:
    """4 ranks of 2 samples each: each rank's gradients of its own mean loss."""
    x, y, w, b = _linear_batch()
    per = _SAMPLES // _RANKS
    return (
        [
            _gradients(x[r * per : (r + 1) * per], y[r * per : (r + 1) * per], w, b)
            for r in range(_RANKS)
        ],
    )


def _difference(got: torch.Tensor, expected: torch.Tensor) -> str | None:
    """None when two float32 gradients agree up to rounding; otherwise the first difference."""
    if got.dtype != expected.dtype:
        return f"dtype {got.dtype} instead of {expected.dtype} (keep the gradients' dtype)"
    close = torch.isclose(got.detach().cpu(), expected, rtol=1e-5, atol=1e-5)
    if bool(close.all()):
        return None
    first = tuple(int(i) for i in torch.nonzero(~close)[0])
    return (
        f"{int((~close).sum())} of {close.numel()} values differ; the first at "
        f"{list(first)}: expected {num(expected[first].item())}, got "
        f"{num(got[first].item())}"
    )


def _describe_mismatch(got: object, expected: list) -> str | None:
    """None when ``got`` is one list per rank holding the expected tensors."""
    if not isinstance(got, (list, tuple)):
        return f"expected a list with one list of tensors per rank, got {type(got).__name__}"
    if got and all(isinstance(t, torch.Tensor) for t in got):
        return (
            f"a list of {len(got)} tensors: return one list per rank ({len(expected)} lists), "
            "since every rank ends with its own copy of the mean"
        )
    if len(got) != len(expected):
        return f"{len(got)} lists for {len(expected)} ranks: return one list per rank"
    for rank, (mine, theirs) in enumerate(zip(got, expected, strict=True)):
        if not isinstance(mine, (list, tuple)) or len(mine) != len(theirs):
            return f"rank {rank} should get a list of {len(theirs)} tensors"
        for index, (tensor, reference) in enumerate(zip(mine, theirs, strict=True)):
            where = f"rank {rank}, gradient {index}"
            if not isinstance(tensor, torch.Tensor):
                return f"{where} is a {type(tensor).__name__}, not a torch tensor"
            if tensor.shape != reference.shape:
                return f"{where} has shape {tuple(tensor.shape)}, not {tuple(reference.shape)}"
            differs = _difference(tensor, reference)
            if differs is not None:
                return f"{where} is not the mean over the ranks: {differs}"
    return None


def _mean_case(
    description: str, build, why: str, *, full_batch: bool = False, sanity=False
) -> Case:
    def verify(got: object, *_given: object) -> str | None:
        expected = all_reduce_mean(build()[0])
        problem = _describe_mismatch(got, expected)
        if problem is not None or not full_batch:
            return problem
        x, y, w, b = _linear_batch()
        whole = _gradients(x, y, w, b)
        for rank, tensors in enumerate(cast("list[list[torch.Tensor]]", got)):
            for index, (tensor, reference) in enumerate(zip(tensors, whole, strict=True)):
                differs = _difference(tensor, reference)
                if differs is not None:
                    return f"rank {rank}, gradient {index} is not the whole batch's: {differs}"
        return None

    expect_text = "on every rank, the mean over the ranks of each gradient, as new tensors"
    if full_batch:
        expect_text = "on every rank, the gradient of the mean loss over all 8 samples"
    return Case(description, build, verify=verify, expect_text=expect_text, why=why, sanity=sanity)


def _ranks_with(rank: int, index: int, shape: tuple[int, ...] | None) -> tuple[list]:
    """4 ranks of two gradients, (5, 3) and (4,); at (rank, index) a tensor of another shape,
    or, when shape is None, rank ``rank`` holding one gradient fewer."""
    ranks = [[_tensor(10 * r, 5, 3), _tensor(10 * r + 1, 4)] for r in range(4)]
    if shape is None:
        ranks[rank] = ranks[rank][:1]
    else:
        ranks[rank][index] = _tensor(99, *shape)
    return (ranks,)


q4 = Question(
    "q4",
    "the gradients after the all-reduce",
    [
        _mean_case(
            "2 ranks, each with a weight (2, 3) and a bias (2,)",
            _two_ranks,
            "after the all-reduce every rank holds the same gradients, the mean over the "
            "ranks, each a new tensor; the ranks' own gradients are left as they were.",
        ),
        _mean_case(
            "4 ranks of 2 samples each, a linear model's gradients of each rank's mean loss",
            _linear_ranks,
            "each rank's loss is the mean over its 2 samples; the mean over the 4 ranks of "
            "their gradients is the gradient of the mean over all 8 samples. Divide by the "
            "number of ranks.",
            full_batch=True,
        ),
        _mean_case(
            "1 rank",
            lambda: ([[_tensor(1, 3), _tensor(2, 2, 2)]],),
            "one rank: the mean is its own gradients.",
            sanity=True,
        ),
        Case(
            "no ranks, an empty list",
            ([],),
            raises=ValueError,
            why="a job has at least one rank: refuse an empty list with a ValueError that "
            "says so (grads[0] would raise IndexError, len(grads) a ZeroDivisionError).",
        ),
        Case(
            "grads None",
            (None,),
            raises=TypeError,
            why="None is no list at all: a TypeError. `if not grads` is True for None too, so "
            "test the type before the length.",
        ),
        Case(
            "4 ranks; rank 3 has 1 gradient, the others 2",
            lambda: _ranks_with(3, 1, None),
            raises=ValueError,
            mentions=("3",),
            why="every rank runs the same model, so they hold the same number of gradients; "
            "zip(*grads) would quietly drop the extra ones. Name the rank that differs.",
        ),
        Case(
            "4 ranks; rank 2's gradient 1 has shape (3, 4), the others' (4,)",
            lambda: _ranks_with(2, 1, (3, 4)),
            raises=ValueError,
            mentions=("2", "1"),
            why="(4,) + (3, 4) broadcasts to (3, 4) without a word: compare the shapes and "
            "name the rank and the index of the gradient that differs.",
        ),
    ],
    hints=[
        "Check first: a list (TypeError otherwise), not empty (ValueError), then every rank "
        "with as many gradients as rank 0, each of the same shape (ValueError naming the rank "
        "and the index). Then, for each index i, the mean over the ranks of grads[r][i].",
        "sum(g[i] for g in grads) / len(grads) makes a new tensor (it starts from 0 + ...). "
        "Return [[m.clone() for m in means] for _ in grads]: one list per rank.",
    ],
    solution=all_reduce_mean,
    arg_names=["grads"],
    mistakes=mistakes.ALL_REDUCE_MEAN,
    on_pass="The mean of 4 ranks' gradients of their mean losses was the gradient of the whole "
    "batch's mean loss: that is why DDP with a global batch trains like one process (BatchNorm "
    "aside: each rank normalises with its own samples' statistics).",
)
