"""Known mistakes of exercises/08_scaling_out.ipynb, written as code.

Each list holds :class:`seglab.checks.Mistake` objects for one question of
:mod:`seglab.exercises.ex08_scaling_out`: a wrong implementation, what to call it in a message
and the fix. When a learner's function fails and gave the same results as one of them on every
case run so far, the check names it. The wrong implementations are variants of the reference
solutions with one thing changed; they reuse the references' input checks, imported when
called because the question module imports this one.
"""

from __future__ import annotations

import math
from functools import partial

import torch

from seglab.checks import Mistake

__all__ = ["ALL_REDUCE_MEAN", "PER_RANK_BATCH", "RANK_INDICES", "SCALED_LR"]


def _reference():
    from seglab.exercises import ex08_scaling_out

    return ex08_scaling_out


# --------------------------------------------------------------------------- q1: rank_indices


def _order(n_items, shuffle, seed, epoch):
    if not shuffle:
        return list(range(n_items))
    return torch.randperm(n_items, generator=torch.Generator().manual_seed(seed + epoch)).tolist()


def _shard(
    n_items,
    rank,
    world_size,
    shuffle=False,
    seed=0,
    epoch=0,
    *,
    pad="cycle",
    split="stride",
    seeded="epoch",
):
    """Variants of rank_indices (how it pads, splits and seeds), with its input checks."""
    _reference().rank_indices(n_items, rank, world_size)  # its checks, nothing else
    if seeded == "seed":
        order = _order(n_items, shuffle, seed, 0)
    elif seeded == "rank":
        order = _order(n_items, shuffle, seed + rank, epoch)
    else:
        order = _order(n_items, shuffle, seed, epoch)
    per_rank = math.ceil(n_items / world_size)
    total = per_rank * world_size
    if pad == "none":
        padded = order
    elif pad == "once":
        padded = order + order[: total - n_items]
    else:
        padded = [order[i % n_items] for i in range(total)]
    if split == "blocks":
        return padded[rank * per_rank : (rank + 1) * per_rank]
    return padded[rank::world_size]


RANK_INDICES = [
    Mistake(
        "contiguous blocks, padded[rank * per_rank:(rank + 1) * per_rank]",
        partial(_shard, split="blocks"),
        "DistributedSampler strides: rank r takes indices r, r + world_size, r + 2 * "
        "world_size, ... of the padded order, padded[rank::world_size].",
    ),
    Mistake(
        "no padding (ranks get different numbers of indices)",
        partial(_shard, pad="none"),
        "Pad the order to ceil(n_items / world_size) * world_size indices by repeating it from "
        "the start. Without padding one rank runs a step fewer; under DDP the others then "
        "wait for it in the gradient all-reduce, and the job hangs.",
    ),
    Mistake(
        "a padding that repeats the order at most once",
        partial(_shard, pad="once"),
        "With fewer items than ranks, one repetition is not enough: repeat as often as "
        "needed, padded[i] = order[i % n_items].",
    ),
    Mistake(
        "a shuffle seeded by the rank",
        partial(_shard, seeded="rank"),
        "Every rank must shuffle the same way (seed + epoch, never the rank): with a different "
        "order on each rank the strided slices overlap, and some items are never seen.",
    ),
    Mistake(
        "a shuffle seeded with seed alone, without the epoch",
        partial(_shard, seeded="seed"),
        "Seed the generator with seed + epoch, as DistributedSampler does once "
        "sampler.set_epoch(epoch) is called: with seed alone every epoch has the same order.",
    ),
]


# --------------------------------------------------------------------------- q2: per_rank_batch


def _per_rank(global_batch, world_size, *, divide="exact", bools=False):
    """Variants of per_rank_batch: how it divides, whether bools get through."""
    for name, value in [("global_batch", global_batch), ("world_size", world_size)]:
        if not isinstance(value, int) or (isinstance(value, bool) and not bools):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")
    if divide == "true":
        return global_batch / world_size
    if divide == "floor":
        return global_batch // world_size
    return _reference().per_rank_batch(int(global_batch), int(world_size))


PER_RANK_BATCH = [
    Mistake(
        "a true division, global_batch / world_size",
        partial(_per_rank, divide="true"),
        "A batch size is a whole number: after checking that it divides exactly, return "
        "global_batch // world_size (an int).",
    ),
    Mistake(
        "a floor division that quietly drops samples",
        partial(_per_rank, divide="floor"),
        "30 // 4 = 7 trains on 28 samples a step while the command line says 30. When "
        "global_batch % world_size is not 0, raise a ValueError naming the nearest multiples "
        "of world_size (28 or 32).",
    ),
    Mistake(
        "an isinstance(value, int) check, which lets True and False through",
        partial(_per_rank, bools=True),
        "bool is a subclass of int (True + True == 2): refuse it first, "
        "isinstance(value, bool) or not isinstance(value, int).",
    ),
]


# --------------------------------------------------------------------------- q3: scaled_lr


def _lr(base_lr, base_batch, global_batch, *, rule="linear", nan_check=True):
    """Variants of scaled_lr: the rule, and a value check of base_lr that NaN passes."""
    _reference().scaled_lr(1.0, base_batch, global_batch)  # its checks of the batches
    if isinstance(base_lr, bool) or not isinstance(base_lr, (int, float)):
        raise TypeError(f"base_lr must be a number, got {base_lr!r}")
    if not (math.isfinite(base_lr) and base_lr > 0) if nan_check else base_lr <= 0:
        raise ValueError(f"base_lr must be a positive, finite number, got {base_lr}")
    if rule == "inverse":
        return base_lr * base_batch / global_batch
    if rule == "sqrt":
        return base_lr * math.sqrt(global_batch / base_batch)
    if rule == "floor":
        return base_lr * (global_batch // base_batch)
    return base_lr * global_batch / base_batch


SCALED_LR = [
    Mistake(
        "the inverse ratio, base_lr * base_batch / global_batch",
        partial(_lr, rule="inverse"),
        "A larger batch averages the gradient over more samples, so each step is less noisy "
        "and can be larger: multiply by global_batch / base_batch.",
    ),
    Mistake(
        "the square-root rule, base_lr * sqrt(global_batch / base_batch)",
        partial(_lr, rule="sqrt"),
        "The square-root rule is used with Adam-like optimizers; the linear rule asked for here "
        "multiplies by global_batch / base_batch itself.",
    ),
    Mistake(
        "an integer ratio, global_batch // base_batch",
        partial(_lr, rule="floor"),
        "384 // 256 is 1, not 1.5: divide with /, base_lr * global_batch / base_batch.",
    ),
    Mistake(
        "a check base_lr <= 0, which NaN passes",
        partial(_lr, nan_check=False),
        "Every comparison with NaN is False, so NaN <= 0 lets it through: test "
        "not (math.isfinite(base_lr) and base_lr > 0).",
    ),
]


# --------------------------------------------------------------------------- q4: all_reduce_mean


def _reduce(grads, *, divide="ranks", source="all", in_place=False):
    """Variants of all_reduce_mean (its checks, then how it sums and divides)."""
    _reference().all_reduce_mean(grads)  # its checks
    n = len(grads) if divide == "ranks" else len(grads[0]) if divide == "tensors" else 1
    means = []
    for i in range(len(grads[0])):
        if source == "rank 0":
            means.append(grads[0][i].clone())
            continue
        total = grads[0][i] if in_place else grads[0][i].clone()
        for g in grads[1:]:
            total += g[i]  # in place: into rank 0's tensor when it was not cloned
        means.append(total / n)
    return [[m.clone() for m in means] for _ in grads]


ALL_REDUCE_MEAN = [
    Mistake(
        "an all-reduce that sums without dividing by the number of ranks",
        partial(_reduce, divide="none"),
        "DDP averages: divide the sum by len(grads), the world size. A sum makes every step "
        "world_size times larger, as if the learning rate were.",
    ),
    Mistake(
        "a mean that divides by the number of gradients per rank, len(grads[0])",
        partial(_reduce, divide="tensors"),
        "Average over the ranks: divide by len(grads), the number of ranks.",
    ),
    Mistake(
        "rank 0's gradients copied to every rank (a broadcast, not an all-reduce)",
        partial(_reduce, source="rank 0"),
        "Every rank's data must count: average the gradients of all ranks.",
    ),
    Mistake(
        "a sum that adds into rank 0's tensors in place",
        partial(_reduce, in_place=True),
        "total = grads[0][i] is rank 0's tensor itself, and += changes it: start from a copy, "
        "grads[0][i].clone(), or let sum(...) or torch.stack(...).mean(0) make a new tensor.",
    ),
]
