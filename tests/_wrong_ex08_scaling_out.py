"""Known wrong answers to exercises/08_scaling_out.ipynb: a rank's shard, the per-rank batch,
the scaled learning rate, the gradients after the all-reduce."""

from __future__ import annotations

import math
import random

import torch
from _wrong_answers import wrong

# ---- ex08 q1: one rank's share of the data


def _checks(n_items, rank, world_size, *, types=True, world=True, low_rank=True, high_rank=True):
    """rank_indices' input checks, each of which a wrong answer may leave out."""
    if types:
        for name, value in [("n_items", n_items), ("rank", rank), ("world_size", world_size)]:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int, got {value!r}")
    if world and world_size < 1:
        raise ValueError(f"world_size must be at least 1, got {world_size}")
    if (low_rank and rank < 0) or (high_rank and rank >= world_size):
        raise ValueError(f"rank must be in 0..{world_size - 1}, got {rank}")


def _order(n_items, shuffle, seed, epoch):
    if not shuffle:
        return list(range(n_items))
    return torch.randperm(n_items, generator=torch.Generator().manual_seed(seed + epoch)).tolist()


def _strided(order, rank, world_size):
    per_rank = math.ceil(len(order) / world_size)
    padded = [order[i % len(order)] for i in range(per_rank * world_size)]
    return padded[rank::world_size]


@wrong(
    "ex08_scaling_out.q1",
    "10 items on 2 ranks, rank 1",
    "contiguous blocks, padded[rank * per_rank:(rank + 1) * per_rank]",
)
def shard_in_contiguous_blocks(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size)
    order = _order(n_items, shuffle, seed, epoch)
    per_rank = math.ceil(n_items / world_size)
    padded = [order[i % n_items] for i in range(per_rank * world_size)]
    return padded[rank * per_rank : (rank + 1) * per_rank]


@wrong("ex08_scaling_out.q1", "10 items on 2 ranks, rank 1")
def shard_as_a_tensor(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size)
    return torch.tensor(_strided(_order(n_items, shuffle, seed, epoch), rank, world_size))


@wrong(
    "ex08_scaling_out.q1",
    "10 items on 4 ranks, rank 2",
    "no padding (ranks get different numbers of indices)",
)
def shard_without_padding(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size)
    if n_items < 0:
        raise ValueError(f"n_items must be 0 or more, got {n_items}")
    return _order(n_items, shuffle, seed, epoch)[rank::world_size]


@wrong(
    "ex08_scaling_out.q1",
    "2 items on 5 ranks, rank 4",
    "a padding that repeats the order at most once",
)
def shard_padded_once(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size)
    if n_items < 0:
        raise ValueError(f"n_items must be 0 or more, got {n_items}")
    order = _order(n_items, shuffle, seed, epoch)
    total = math.ceil(n_items / world_size) * world_size
    padded = order + order[: total - n_items]  # DistributedSampler's first branch only
    return padded[rank::world_size]


@wrong("ex08_scaling_out.q1", "an empty dataset (0 items)")
def shard_refusing_an_empty_dataset(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size)
    if n_items <= 0:
        raise ValueError(f"n_items must be positive, got {n_items}")
    return _strided(_order(n_items, shuffle, seed, epoch), rank, world_size)


@wrong("ex08_scaling_out.q1", "shuffled with seed 0 in epoch 0", "a shuffle seeded by the rank")
def shard_shuffled_per_rank(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size)
    if n_items < 0:
        raise ValueError(f"n_items must be 0 or more, got {n_items}")
    return _strided(_order(n_items, shuffle, seed + rank, epoch), rank, world_size)


@wrong("ex08_scaling_out.q1", "shuffled with seed 0 in epoch 0")
def shard_shuffled_by_the_random_module(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size)
    if n_items < 0:
        raise ValueError(f"n_items must be 0 or more, got {n_items}")
    order = list(range(n_items))
    if shuffle:
        random.Random(seed + epoch).shuffle(order)  # a fine shuffle, but not torch's
    return _strided(order, rank, world_size)


@wrong("ex08_scaling_out.q1", "shuffled with seed 0 in epoch 0")
def shard_padded_then_shuffled(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size)
    if n_items < 0:
        raise ValueError(f"n_items must be 0 or more, got {n_items}")
    per_rank = math.ceil(n_items / world_size)
    padded = [i % max(n_items, 1) for i in range(per_rank * world_size)]
    if shuffle:
        g = torch.Generator().manual_seed(seed + epoch)
        padded = [padded[j] for j in torch.randperm(len(padded), generator=g).tolist()]
    return padded[rank::world_size]


@wrong(
    "ex08_scaling_out.q1",
    "shuffled with seed 0 in epoch 1",
    "a shuffle seeded with seed alone, without the epoch",
)
def shard_shuffled_the_same_every_epoch(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size)
    if n_items < 0:
        raise ValueError(f"n_items must be 0 or more, got {n_items}")
    return _strided(_order(n_items, shuffle, seed, 0), rank, world_size)


@wrong("ex08_scaling_out.q1", "world_size 0")
def shard_without_any_check(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    return _strided(_order(n_items, shuffle, seed, epoch), rank, world_size)  # 0 ranks: / 0


@wrong("ex08_scaling_out.q1", "rank 4 with world_size 4")
def shard_without_a_rank_check(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size, low_rank=False, high_rank=False)
    return _strided(_order(n_items, shuffle, seed, epoch), rank, world_size)


@wrong("ex08_scaling_out.q1", "rank -1 with world_size 4")
def shard_checking_rank_against_world_size_only(
    n_items, rank, world_size, shuffle=False, seed=0, epoch=0
):
    _checks(n_items, rank, world_size, low_rank=False)
    return _strided(_order(n_items, shuffle, seed, epoch), rank, world_size)


@wrong("ex08_scaling_out.q1", "n_items -1")
def shard_without_a_count_check(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size)
    return _strided(_order(n_items, shuffle, seed, epoch), rank, world_size)  # range(-1): []


@wrong("ex08_scaling_out.q1", "n_items 10.0")
def shard_without_type_checks(n_items, rank, world_size, shuffle=False, seed=0, epoch=0):
    _checks(n_items, rank, world_size, types=False)
    if n_items < 0:
        raise ValueError(f"n_items must be 0 or more, got {n_items}")
    return _strided(_order(n_items, shuffle, seed, epoch), rank, world_size)  # range(10.0)


@wrong("ex08_scaling_out.q1", "rank '1'")
def shard_checking_the_type_of_n_items_only(
    n_items, rank, world_size, shuffle=False, seed=0, epoch=0
):
    if not isinstance(n_items, int):
        raise TypeError(f"n_items must be an int, got {n_items!r}")
    _checks(n_items, rank, world_size, types=False)  # 0 <= '1': Python's TypeError, no name
    if n_items < 0:
        raise ValueError(f"n_items must be 0 or more, got {n_items}")
    return _strided(_order(n_items, shuffle, seed, epoch), rank, world_size)


# ---- ex08 q2: the batch of each process


def _batch_checks(global_batch, world_size, *, types="strict", sign=True, world=True):
    """per_rank_batch's checks; types: "strict", "int" (bools pass), "number" (floats pass),
    "global" (world_size unchecked), "none"."""
    named = [("global_batch", global_batch), ("world_size", world_size)]
    for name, value in named:
        if types == "none" or (types == "global" and name == "world_size"):
            continue
        if types == "number":
            bad = not isinstance(value, (int, float))
        elif types == "int":
            bad = not isinstance(value, int)
        else:
            bad = isinstance(value, bool) or not isinstance(value, int)
        if bad:
            raise TypeError(f"{name} must be an int, got {value!r}")
    if sign and global_batch <= 0:
        raise ValueError(f"global_batch must be positive, got {global_batch}")
    if world and world_size <= 0:
        raise ValueError(f"world_size must be positive, got {world_size}")


def _split(global_batch, world_size, message="{g} on {w}: use {lo} or {hi}"):
    if global_batch % world_size:
        lo = global_batch // world_size * world_size
        raise ValueError(message.format(g=global_batch, w=world_size, lo=lo, hi=lo + world_size))
    return global_batch // world_size


@wrong("ex08_scaling_out.q2", "a global batch of 32 on 4")
def per_rank_batch_times_world_size(global_batch, world_size):
    _batch_checks(global_batch, world_size)
    return global_batch * world_size  # the per-GPU convention turned around


@wrong(
    "ex08_scaling_out.q2", "a global batch of 32 on 4", "a true division, global_batch / world_size"
)
def per_rank_batch_by_true_division(global_batch, world_size):
    _batch_checks(global_batch, world_size)
    _split(global_batch, world_size)
    return global_batch / world_size


@wrong("ex08_scaling_out.q2", "a global batch of 30", "a floor division that quietly drops samples")
def per_rank_batch_by_floor_division(global_batch, world_size):
    _batch_checks(global_batch, world_size)
    return global_batch // world_size


@wrong("ex08_scaling_out.q2", "a global batch of 30")
def per_rank_batch_rounded_up(global_batch, world_size):
    _batch_checks(global_batch, world_size)
    return -(-global_batch // world_size)  # 8 per rank: 32 a step, not the 30 asked for


@wrong("ex08_scaling_out.q2", "a global batch of 30")
def per_rank_batch_with_a_vague_error(global_batch, world_size):
    _batch_checks(global_batch, world_size)
    return _split(global_batch, world_size, "the global batch is not divisible")


@wrong("ex08_scaling_out.q2", "a global batch of 30")
def per_rank_batch_suggesting_one_size(global_batch, world_size):
    _batch_checks(global_batch, world_size)
    return _split(global_batch, world_size, "global batch {g} on {w} processes: use {hi}")


@wrong("ex08_scaling_out.q2", "a global batch of 0")
def per_rank_batch_without_a_sign_check(global_batch, world_size):
    _batch_checks(global_batch, world_size, sign=False)
    return _split(global_batch, world_size)


@wrong("ex08_scaling_out.q2", "a global batch of -8")
def per_rank_batch_refusing_zero_only(global_batch, world_size):
    _batch_checks(global_batch, world_size, sign=False)
    if global_batch == 0:
        raise ValueError("global_batch is 0")
    return _split(global_batch, world_size)


@wrong("ex08_scaling_out.q2", "world_size 0")
def per_rank_batch_without_a_world_size_check(global_batch, world_size):
    _batch_checks(global_batch, world_size, world=False)
    return _split(global_batch, world_size)  # 8 % 0: ZeroDivisionError


@wrong("ex08_scaling_out.q2", "world_size -2")
def per_rank_batch_refusing_world_size_zero_only(global_batch, world_size):
    _batch_checks(global_batch, world_size, world=False)
    if world_size == 0:
        raise ValueError("world_size is 0")
    return _split(global_batch, world_size)


@wrong("ex08_scaling_out.q2", "global_batch '32'")
def per_rank_batch_without_type_checks(global_batch, world_size):
    _batch_checks(global_batch, world_size, types="none")  # '32' <= 0: Python's TypeError
    return _split(global_batch, world_size)


@wrong("ex08_scaling_out.q2", "global_batch 32.0")
def per_rank_batch_taking_any_number(global_batch, world_size):
    _batch_checks(global_batch, world_size, types="number")
    return _split(global_batch, world_size)


@wrong(
    "ex08_scaling_out.q2",
    "global_batch True",
    "an isinstance(value, int) check, which lets True and False through",
)
def per_rank_batch_taking_bools(global_batch, world_size):
    _batch_checks(global_batch, world_size, types="int")
    return _split(global_batch, world_size)


@wrong("ex08_scaling_out.q2", "world_size None")
def per_rank_batch_checking_the_global_batch_only(global_batch, world_size):
    _batch_checks(global_batch, world_size, types="global")  # None <= 0: Python's TypeError
    return _split(global_batch, world_size)


# ---- ex08 q3: the learning rate for a larger batch


def _lr_checks(base_lr, base_batch, global_batch, *, types="strict", lr="finite", batches=2):
    """scaled_lr's checks; types "strict", "number" (float batches pass), "int" (bools pass),
    "none"; lr "finite", "le0" (NaN passes), "gt0" (infinity passes), "none"; batches: how
    many of (base_batch, global_batch) are checked for their sign."""
    if types != "none":
        if isinstance(base_lr, bool) or not isinstance(base_lr, (int, float)):
            raise TypeError(f"base_lr must be a number, got {base_lr!r}")
        for name, value in [("base_batch", base_batch), ("global_batch", global_batch)]:
            bad = {
                "strict": isinstance(value, bool) or not isinstance(value, int),
                "number": not isinstance(value, (int, float)),
                "int": not isinstance(value, int),
            }[types]
            if bad:
                raise TypeError(f"{name} must be an int, got {value!r}")
    refused = {
        "finite": lambda v: not (math.isfinite(v) and v > 0),
        "le0": lambda v: v <= 0,
        "gt0": lambda v: not v > 0,
        "none": lambda v: False,
    }[lr]
    if refused(base_lr):
        raise ValueError(f"base_lr must be a positive, finite number, got {base_lr}")
    for name, value in [("base_batch", base_batch), ("global_batch", global_batch)][:batches]:
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value}")


@wrong(
    "ex08_scaling_out.q3",
    "a base lr of 0.1 for a batch of 256, on a global batch of 1024",
    "the inverse ratio, base_lr * base_batch / global_batch",
)
def lr_scaled_the_wrong_way(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch)
    return base_lr * base_batch / global_batch


@wrong(
    "ex08_scaling_out.q3",
    "a base lr of 0.1 for a batch of 256, on a global batch of 1024",
    "the square-root rule, base_lr * sqrt(global_batch / base_batch)",
)
def lr_by_the_square_root_rule(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch)
    return base_lr * math.sqrt(global_batch / base_batch)


@wrong("ex08_scaling_out.q3", "a base lr of 0.1 for a batch of 256, on a global batch of 1024")
def lr_times_the_global_batch(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch)
    return base_lr * global_batch  # forgot the base batch


@wrong(
    "ex08_scaling_out.q3",
    "on a global batch of 384",
    "an integer ratio, global_batch // base_batch",
)
def lr_with_an_integer_ratio(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch)
    return base_lr * (global_batch // base_batch)


@wrong("ex08_scaling_out.q3", "base_batch 0")
def lr_without_value_checks(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch, lr="none", batches=0)
    return base_lr * global_batch / base_batch  # / 0: ZeroDivisionError


@wrong("ex08_scaling_out.q3", "global_batch 0")
def lr_checking_the_base_batch_only(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch, lr="none", batches=1)
    return base_lr * global_batch / base_batch


@wrong("ex08_scaling_out.q3", "a negative base lr")
def lr_checking_the_batches_only(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch, lr="none")
    return base_lr * global_batch / base_batch


@wrong("ex08_scaling_out.q3", "a base lr of NaN", "a check base_lr <= 0, which NaN passes")
def lr_letting_nan_through(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch, lr="le0")
    return base_lr * global_batch / base_batch


@wrong("ex08_scaling_out.q3", "a base lr of infinity")
def lr_letting_infinity_through(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch, lr="gt0")
    return base_lr * global_batch / base_batch


@wrong("ex08_scaling_out.q3", "base_lr '0.1'")
def lr_without_type_checks(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch, types="none")  # isfinite('0.1'): TypeError
    return base_lr * global_batch / base_batch


@wrong("ex08_scaling_out.q3", "base_batch 256.0")
def lr_taking_float_batches(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch, types="number")
    return base_lr * global_batch / base_batch


@wrong("ex08_scaling_out.q3", "global_batch True")
def lr_taking_bool_batches(base_lr, base_batch, global_batch):
    _lr_checks(base_lr, base_batch, global_batch, types="int")
    return base_lr * global_batch / base_batch


# ---- ex08 q4: the gradients after the all-reduce


def _grad_checks(grads, *, counts=True, shapes=True, shape_message=None):
    """all_reduce_mean's checks, each of which a wrong answer may leave out."""
    if not isinstance(grads, list):
        raise TypeError(f"grads must be a list, got {type(grads).__name__}")
    if not grads:
        raise ValueError("grads is empty: no ranks")
    for rank, tensors in enumerate(grads):
        if counts and len(tensors) != len(grads[0]):
            raise ValueError(f"rank {rank} has {len(tensors)} gradients, rank 0 {len(grads[0])}")
        for index, tensor in enumerate(tensors):
            if shapes and index < len(grads[0]) and tensor.shape != grads[0][index].shape:
                raise ValueError(shape_message or f"rank {rank}, gradient {index}: shape")


def _means(grads, divide_by):
    return [sum(g[i] for g in grads) / divide_by for i in range(len(grads[0]))]


@wrong(
    "ex08_scaling_out.q4",
    "2 ranks, each with a weight",
    "an all-reduce that sums without dividing by the number of ranks",
)
def all_reduce_sum(grads):
    _grad_checks(grads)
    return [_means(grads, 1) for _ in grads]


@wrong(
    "ex08_scaling_out.q4",
    "2 ranks, each with a weight",
    "rank 0's gradients copied to every rank (a broadcast, not an all-reduce)",
)
def all_reduce_keeping_rank_0(grads):
    _grad_checks(grads)
    return [[t.clone() for t in grads[0]] for _ in grads]


@wrong(
    "ex08_scaling_out.q4",
    "2 ranks, each with a weight",
    "a sum that adds into rank 0's tensors in place",
)
def all_reduce_into_rank_0(grads):
    _grad_checks(grads)
    means = []
    for i in range(len(grads[0])):
        total = grads[0][i]  # rank 0's own tensor, not a copy
        for g in grads[1:]:
            total += g[i]
        means.append(total / len(grads))
    return [[m.clone() for m in means] for _ in grads]


@wrong("ex08_scaling_out.q4", "2 ranks, each with a weight")
def all_reduce_returning_one_list(grads):
    _grad_checks(grads)
    return _means(grads, len(grads))  # the means, but not one list per rank


@wrong("ex08_scaling_out.q4", "2 ranks, each with a weight")
def all_reduce_stacking_each_rank(grads):
    _grad_checks(grads)
    stacked = torch.stack([torch.stack(tensors) for tensors in grads])  # (2, 3) and (2,): no
    return [list(stacked.mean(0)) for _ in grads]


@wrong(
    "ex08_scaling_out.q4",
    "4 ranks of 2 samples each",
    "a mean that divides by the number of gradients per rank, len(grads[0])",
)
def all_reduce_dividing_by_the_gradient_count(grads):
    _grad_checks(grads)
    return [_means(grads, len(grads[0])) for _ in grads]


@wrong("ex08_scaling_out.q4", "no ranks")
def all_reduce_without_checks(grads):
    return [_means(grads, len(grads)) for _ in grads]  # grads[0]: IndexError


@wrong("ex08_scaling_out.q4", "grads None")
def all_reduce_refusing_none_as_empty(grads):
    if not grads:  # None is "empty" too: a ValueError where a TypeError is due
        raise ValueError("grads is empty: no ranks")
    _grad_checks(grads)
    return [_means(grads, len(grads)) for _ in grads]


@wrong("ex08_scaling_out.q4", "rank 3 has 1 gradient")
def all_reduce_by_zip(grads):
    _grad_checks(grads, counts=False, shapes=False)
    means = [sum(ts) / len(grads) for ts in zip(*grads, strict=False)]  # stops at the shortest
    return [[m.clone() for m in means] for _ in grads]


@wrong("ex08_scaling_out.q4", "rank 2's gradient 1 has shape")
def all_reduce_without_a_shape_check(grads):
    _grad_checks(grads, shapes=False)
    return [_means(grads, len(grads)) for _ in grads]  # (4,) + (3, 4) broadcasts


@wrong("ex08_scaling_out.q4", "rank 2's gradient 1 has shape")
def all_reduce_with_a_nameless_shape_error(grads):
    _grad_checks(grads, shape_message="the gradients' shapes differ")
    return [_means(grads, len(grads)) for _ in grads]
