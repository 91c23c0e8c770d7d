"""Question q4 of exercises/08_scaling_out.ipynb, ``all_reduce_mean(grads)``: the gradients every
rank holds after DistributedDataParallel's all-reduce. Kept apart from
:mod:`seglab.exercises.ex08_scaling_out` (which re-exports it) so that each module stays short.
"""

from __future__ import annotations

from typing import cast

import torch

from seglab._check_values import num
from seglab.checks import Case, Question
from seglab.exercises import _ex08_mistakes as mistakes

__all__ = ["all_reduce_mean", "q4"]


# --------------------------------------------------------------------------- reference solution


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
