"""Questions of exercises/01_masks_and_metrics.ipynb: IoU and Dice from scratch, then robust.

- ``q1`` ``binary_iou(pred, target)``: IoU = |A ∩ B| / |A ∪ B| of two binary masks.
- ``q2`` ``binary_dice(pred, target)``: Dice = 2 |A ∩ B| / (|A| + |B|).
- ``q3`` ``robust_iou(pred, target)``: the same IoU, with the edge cases handled the way
  :func:`seglab.metrics.iou` does: None -> TypeError, different shapes -> ValueError (no
  silent broadcasting), both masks empty -> 1.0 instead of 0/0.

The reference functions below are what ``q1.solution()`` and friends print; the tests check
that they pass their own questions and match the solution notebook.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import numpy as np

from seglab.checks import Case, Mistake, Question

__all__ = ["binary_dice", "binary_iou", "q1", "q2", "q3", "robust_iou"]


# --------------------------------------------------------------------------- reference solutions


def binary_iou(pred, target):
    """IoU of two binary masks of the same shape (bool or 0/1), as a float."""
    pred = np.asarray(pred, dtype=bool)
    target = np.asarray(target, dtype=bool)
    intersection = np.logical_and(pred, target).sum()
    union = np.logical_or(pred, target).sum()
    return float(intersection / union)


def binary_dice(pred, target):
    """Dice coefficient of two binary masks of the same shape (bool or 0/1), as a float."""
    pred = np.asarray(pred, dtype=bool)
    target = np.asarray(target, dtype=bool)
    intersection = np.logical_and(pred, target).sum()
    return float(2 * intersection / (pred.sum() + target.sum()))


def robust_iou(pred, target):
    """IoU that refuses None and mismatched shapes, and scores two empty masks 1.0."""
    if pred is None or target is None:
        raise TypeError("pred and target must be arrays, got None; pass a binary mask.")
    pred = np.asarray(pred, dtype=bool)
    target = np.asarray(target, dtype=bool)
    if pred.shape != target.shape:
        raise ValueError(
            f"pred has shape {pred.shape} but target has shape {target.shape}; "
            "they must match pixel for pixel."
        )
    union = np.logical_or(pred, target).sum()
    if union == 0:
        return 1.0  # nothing to find and nothing found: a perfect answer
    return float(np.logical_and(pred, target).sum() / union)


# --------------------------------------------------------------------------- test masks


def _mask(rows: list[str]) -> np.ndarray:
    """A bool mask drawn with '#' (True) and '.' (False), one string per row."""
    return np.array([[c == "#" for c in row] for row in rows], dtype=bool)


# pred has 3 pixels, target 2, they share 1: IoU = 1/4, Dice = 2/5
_PRED = _mask(["##.", "#..", "..."])
_TARGET = _mask(["#..", "...", "..#"])
# pred strictly inside target: 2 of 4 pixels. IoU = 2/4, Dice = 4/6
_INSIDE = _mask(["....", ".##.", "....", "...."])
_AROUND = _mask(["....", ".##.", ".##.", "...."])
_DISJOINT_A = _mask(["##..", "##..", "....", "...."])
_DISJOINT_B = _mask(["....", "....", "..##", "..##"])
_EMPTY = np.zeros((3, 3), dtype=bool)


def _disc(size: int, cy: float, cx: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r**2


_DISC_A = _disc(32, 14.0, 13.0, 8.0)
_DISC_B = _disc(32, 17.0, 18.0, 9.0)


def _count_iou(a: np.ndarray, b: np.ndarray) -> float:
    """An independent IoU (a Python loop over pixels), for the expected values."""
    inter = union = 0
    for x, y in zip(a.ravel().tolist(), b.ravel().tolist(), strict=True):
        inter += x and y
        union += x or y
    return inter / union


def _count_dice(a: np.ndarray, b: np.ndarray) -> float:
    iou = _count_iou(a, b)
    return 2 * iou / (1 + iou)


_UNION_WHY = (
    "the union counts every pixel that is in pred OR in target once; pixels in both are "
    "not counted twice."
)


def _regular_cases(metric, name: str, sanity: tuple[str, ...] = ()) -> list[Case]:
    """The ordinary cases shared by q1 (IoU) and q2 (Dice): no edge case among them. The
    cases named in ``sanity`` are marked as such (no known wrong answer fails them first)."""
    cases = [
        Case("identical masks", (_PRED, _PRED.copy()), expected=1.0, why="a perfect match."),
        Case(
            "pred lies inside target (2 of target's 4 pixels)",
            (_INSIDE, _AROUND),
            expected=metric(_INSIDE, _AROUND),
            why="a prediction inside the object is not perfect: it misses half of it.",
        ),
        Case(
            "target lies inside pred (pred is twice too big)",
            (_AROUND, _INSIDE),
            expected=metric(_AROUND, _INSIDE),
            why="the metric is symmetric: too big is as wrong as too small.",
        ),
        Case(
            "pred has 3 pixels, target 2, one pixel in common",
            (_PRED, _TARGET),
            expected=metric(_PRED, _TARGET),
            why=f"{name}; count the pixels in the drawing."
            + (" " + _UNION_WHY if name.startswith("IoU") else ""),
        ),
        Case("masks that do not touch", (_DISJOINT_A, _DISJOINT_B), expected=0.0),
        Case(
            "the same masks as 0/1 uint8 arrays instead of bool",
            (_PRED.astype(np.uint8), _TARGET.astype(np.uint8)),
            expected=metric(_PRED, _TARGET),
            why=(
                "with integers, pred + target is 2 where both are 1, so summing it counts "
                "the intersection twice; turn the masks into bool first (mask.astype(bool))."
            ),
        ),
        Case(
            "two overlapping discs on a 32x32 grid",
            (_DISC_A, _DISC_B),
            expected=metric(_DISC_A, _DISC_B),
        ),
    ]
    unknown = set(sanity) - {c.description for c in cases}
    if unknown:
        raise ValueError(f"no case named {sorted(unknown)}")
    return [replace(c, sanity=c.description in sanity) for c in cases]


# --------------------------------------------------------------------------- known mistakes


def _by_counts(formula: Callable[[int, int, int, int], float]) -> Callable[..., float]:
    """A metric computed by ``formula(intersection, union, |pred|, |target|)`` on bool masks."""

    def metric(pred, target):
        pred, target = np.asarray(pred, dtype=bool), np.asarray(target, dtype=bool)
        i, u = np.logical_and(pred, target).sum(), np.logical_or(pred, target).sum()
        return float(formula(i, u, pred.sum(), target.sum()))

    return metric


def _integer_sums(pred, target):
    """IoU from (pred * target).sum() / (pred + target).sum(): right for bool, not for 0/1."""
    pred, target = np.asarray(pred), np.asarray(target)
    return float((pred * target).sum() / (pred + target).sum())


def _robust(
    pred,
    target,
    *,
    none=("pred", "target"),
    shapes="shape",
    error=ValueError,
    empty="union",
    score=1.0,
):
    """Variants of robust_iou: which None checks, how shapes are compared (``"shape"``,
    ``"size"`` or ``"none"``), which error, and when (``"union"``, ``"pred"``, ``"target"``
    empty, or ``"never"``) the empty score is returned."""
    if (pred is None and "pred" in none) or (target is None and "target" in none):
        raise TypeError("pred or target is None")
    pred, target = np.asarray(pred, dtype=bool), np.asarray(target, dtype=bool)
    if (shapes == "shape" and pred.shape != target.shape) or (
        shapes == "size" and pred.size != target.size
    ):
        raise error(f"shapes {pred.shape} and {target.shape} differ")
    union = np.logical_or(pred, target).sum()
    empty_now = {"union": union == 0, "pred": not pred.any(), "target": not target.any()}
    if empty != "never" and empty_now[empty]:
        return score
    return float(np.logical_and(pred, target).sum() / union)


_BOOL_FIRST = "convert both with np.asarray(mask, dtype=bool) first."
_OVER_UNION = "Divide by the union, np.logical_or(pred, target).sum()"

_IOU_MISTAKES = [
    Mistake(
        "intersection / (|pred| + |target|), a union that counts the shared pixels twice",
        _by_counts(lambda i, u, p, t: i / (p + t)),
        "The union counts a pixel that is in both masks once: np.logical_or(pred, "
        "target).sum(), not pred.sum() + target.sum().",
    ),
    Mistake(
        "precision, intersection / |pred|",
        _by_counts(lambda i, u, p, t: i / p),
        f"{_OVER_UNION}: a prediction that lies inside the object is not perfect.",
    ),
    Mistake(
        "recall, intersection / |target|",
        _by_counts(lambda i, u, p, t: i / t),
        f"{_OVER_UNION}: a prediction larger than the object is not perfect.",
    ),
    Mistake(
        "integer division, intersection // union",
        _by_counts(lambda i, u, p, t: i // u),
        "Use /, true division: // rounds every IoU below 1 down to 0.",
    ),
    Mistake(
        "intersection / the larger mask's size",
        _by_counts(lambda i, u, p, t: i / max(p, t)),
        f"{_OVER_UNION}: when the masks only overlap, the union is larger than either mask.",
    ),
    Mistake(
        "sums of 0/1 integer masks, (pred * target).sum() / (pred + target).sum()",
        _integer_sums,
        f"On integers pred + target is 2 where both masks are 1: {_BOOL_FIRST}",
    ),
]

_DICE_MISTAKES = [
    Mistake(
        "Dice without the factor 2",
        _by_counts(lambda i, u, p, t: i / (p + t)),
        "Multiply the intersection by 2: 2 * |pred AND target| / (|pred| + |target|); "
        "without it two identical masks score 0.5.",
    ),
    Mistake(
        "IoU, intersection / union",
        _by_counts(lambda i, u, p, t: i / u),
        "Dice divides twice the intersection by the two mask sizes added up, "
        "2 * |A ∩ B| / (|A| + |B|), not by the union.",
    ),
    Mistake(
        "2 * intersection / union",
        _by_counts(lambda i, u, p, t: 2 * i / u),
        "Divide by |pred| + |target|, the two sizes added up, not by the union: with the "
        "union, two identical masks score 2.",
    ),
    Mistake(
        "an intersection that is the smaller mask's size",
        _by_counts(lambda i, u, p, t: 2 * min(p, t) / (p + t)),
        "np.minimum(pred.sum(), target.sum()) is the smaller size, not the overlap: count "
        "the pixels in both masks, np.logical_and(pred, target).sum().",
    ),
]

_EMPTY_FIX = "Only two empty masks (a union of 0) are a perfect answer: "
_ROBUST_MISTAKES = [
    Mistake(
        "a score of 0.0 for two empty masks",
        partial(_robust, score=0.0),
        "Nothing to find and nothing found is a perfect answer: return 1.0 when the union "
        "is 0, as seglab.iou does.",
    ),
    Mistake(
        "0 / 0 for two empty masks (nan)",
        partial(_robust, empty="never"),
        "0 / 0 is nan: test `if union == 0: return 1.0` before dividing.",
    ),
    Mistake(
        "1.0 whenever pred is empty",
        partial(_robust, empty="pred"),
        _EMPTY_FIX + "a missed object scores 0.",
    ),
    Mistake(
        "1.0 whenever target is empty",
        partial(_robust, empty="target"),
        _EMPTY_FIX + "a prediction where there is no object scores 0.",
    ),
    Mistake(
        "a TypeError for masks of different shapes",
        partial(_robust, error=TypeError),
        "Masks of the right kind with the wrong shape are a wrong value: raise ValueError "
        "(TypeError is for None, the wrong kind of thing).",
    ),
    Mistake(
        "numpy's broadcasting, with no shape check",
        partial(_robust, shapes="none"),
        "Compare pred.shape with target.shape and raise ValueError when they differ.",
    ),
    Mistake(
        "a check of the number of pixels (pred.size) instead of the shape",
        partial(_robust, shapes="size"),
        "A (1, 3, 3) array has as many pixels as a (3, 3) mask: compare the shapes.",
    ),
    Mistake(
        "no None check (np.asarray(None) is a 0-d array, then a shape error)",
        partial(_robust, none=()),
        "Check `pred is None or target is None` first and raise TypeError.",
    ),
    Mistake(
        "a None check of pred only",
        partial(_robust, none=("pred",)),
        "Check target for None as well: `if pred is None or target is None`.",
    ),
]


# --------------------------------------------------------------------------- questions

q1 = Question(
    "q1",
    "IoU from scratch",
    _regular_cases(
        _count_iou,
        "IoU = |pred AND target| / |pred OR target|",
        sanity=("masks that do not touch", "two overlapping discs on a 32x32 grid"),
    ),
    arg_names=("pred", "target"),
    hints=[
        "Count pixels: the intersection is where both masks are True "
        "(np.logical_and), the union where at least one is (np.logical_or). "
        ".sum() of a bool array counts its True values.",
        "Convert both masks with np.asarray(mask, dtype=bool) first, so 0/1 integers "
        "behave like bools; then return float(intersection / union).",
    ],
    solution=binary_iou,
    mistakes=_IOU_MISTAKES,
    on_pass="seglab.iou computes the same number (and refuses 0/255 masks).",
)

q2 = Question(
    "q2",
    "Dice from scratch",
    _regular_cases(
        _count_dice,
        "Dice = 2 |pred AND target| / (|pred| + |target|)",
        sanity=(
            "target lies inside pred (pred is twice too big)",
            "masks that do not touch",
            "two overlapping discs on a 32x32 grid",
        ),
    ),
    arg_names=("pred", "target"),
    hints=[
        "Dice doubles the intersection and divides by the two mask sizes added up: "
        "2 * |A ∩ B| / (|A| + |B|).",
        "With pred and target as bool arrays: 2 * np.logical_and(pred, target).sum() / "
        "(pred.sum() + target.sum()).",
    ],
    solution=binary_dice,
    mistakes=_DICE_MISTAKES,
    on_pass="Dice = 2 IoU / (1 + IoU): it ranks predictions exactly like IoU.",
)

q3 = Question(
    "q3",
    "IoU that handles the edge cases",
    [
        Case(
            "pred has 3 pixels, target 2, one in common",
            (_PRED, _TARGET),
            expected=0.25,
            sanity=True,
        ),
        Case(
            "both masks empty (no object in the image, none predicted)",
            (_EMPTY, _EMPTY.copy()),
            expected=1.0,
            why=(
                "the union is 0, so intersection / union is 0 / 0. Nothing to find and "
                "nothing found is a perfect answer: return 1.0 (as seglab.iou does) instead "
                "of nan or a ZeroDivisionError."
            ),
        ),
        Case(
            "pred empty, target not",
            (_EMPTY, _TARGET),
            expected=0.0,
            why="missing the object entirely is the worst score, not a special case.",
        ),
        Case(
            "target empty, pred not",
            (_TARGET, _EMPTY),
            expected=0.0,
            why="a prediction where there is no object scores 0.",
        ),
        Case(
            "pred is 3x3, target is 3x4",
            (_PRED, np.zeros((3, 4), dtype=bool)),
            raises=ValueError,
            why="masks of different sizes cannot be compared pixel by pixel.",
        ),
        Case(
            "pred is 3x3, target is one row of 3 (numpy would broadcast it silently)",
            (_PRED, _TARGET[0]),
            raises=ValueError,
            why=(
                "numpy broadcasts a (3,) array against a (3, 3) one without a word, giving "
                "a wrong score. Compare pred.shape with target.shape yourself."
            ),
        ),
        Case(
            "pred is 3x3, target is 1x3x3 (a SAM mask that was not squeezed)",
            (_PRED, _TARGET[None]),
            raises=ValueError,
            why="a (1, H, W) array is not an (H, W) mask; the caller should squeeze it.",
        ),
        Case(
            "pred is None",
            (None, _TARGET),
            raises=TypeError,
            why=(
                "None is the wrong kind of thing, not a wrong value: raise TypeError. "
                "(np.asarray(None, dtype=bool) is False, a silent wrong answer.)"
            ),
        ),
        Case("target is None", (_TARGET, None), raises=TypeError),
    ],
    arg_names=("pred", "target"),
    hints=[
        "Check the inputs before computing anything, in this order: None (TypeError), "
        "then shapes (ValueError), then the empty union (return 1.0).",
        "`if pred is None or target is None: raise TypeError(...)`; after converting to "
        "bool arrays, `if pred.shape != target.shape: raise ValueError(...)`; and "
        "`if union == 0: return 1.0`. Give every error a message that says what was passed.",
    ],
    solution=robust_iou,
    mistakes=_ROBUST_MISTAKES,
    on_pass="These are the rules of seglab.iou; its `empty=` argument chooses the empty score.",
)
