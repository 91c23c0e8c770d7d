"""Known wrong answers to exercises/01_masks_and_metrics.ipynb: IoU, Dice, robust IoU."""

from __future__ import annotations

import numpy as np
from _wrong_answers import as_bool as _b
from _wrong_answers import wrong

# ---- ex01 q1: IoU

_OVERLAP_TWICE = "intersection / (|pred| + |target|), a union that counts the shared pixels twice"


@wrong("ex01_masks.q1", "target lies inside pred", "recall, intersection / |target|")
def iou_divides_by_the_target_only(pred, target):
    return float((_b(pred) & _b(target)).sum() / _b(target).sum())


@wrong("ex01_masks.q1", "pred lies inside target", "precision, intersection / |pred|")
def iou_divides_by_the_prediction_only(pred, target):
    pred = _b(pred)
    return float(np.count_nonzero(pred & _b(target)) / np.count_nonzero(pred))


@wrong("ex01_masks.q1", "identical masks", _OVERLAP_TWICE)
def iou_union_counts_the_overlap_twice(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() / (pred.sum() + target.sum()))


@wrong("ex01_masks.q1", "identical masks")
def iou_off_by_one_in_the_union(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() / ((pred | target).sum() + 1))


@wrong(
    "ex01_masks.q1",
    "0/1 uint8 arrays instead of bool",
    "sums of 0/1 integer masks, (pred * target).sum() / (pred + target).sum()",
)
def iou_adds_integer_masks(pred, target):
    pred, target = np.asarray(pred), np.asarray(target)
    inter = (pred * target).sum()
    return float(inter / (pred + target).sum())


@wrong("ex01_masks.q1", "0/1 uint8 arrays instead of bool")
def iou_indexes_one_mask_with_the_other(pred, target):
    pred, target = np.asarray(pred), np.asarray(target)
    inter = pred[target].sum()  # with bool masks: the pixels of pred where target is True
    return float(inter / (pred.sum() + target.sum() - inter))


@wrong("ex01_masks.q1", "pred lies inside target", "integer division, intersection // union")
def iou_integer_division(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() // (pred | target).sum())


@wrong("ex01_masks.q1", "pred lies inside target", "precision, intersection / |pred|")
def iou_recall_by_another_name(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() / min(pred.sum(), target.sum()))


@wrong("ex01_masks.q1", "pred has 3 pixels, target 2", "intersection / the larger mask's size")
def iou_divides_by_the_larger_mask(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() / max(pred.sum(), target.sum()))


# ---- ex01 q2: Dice


@wrong("ex01_masks.q2", "identical masks", "2 * intersection / union")
def dice_over_the_union(pred, target):
    pred, target = _b(pred), _b(target)
    return float(2 * (pred & target).sum() / (pred | target).sum())


@wrong("ex01_masks.q2", "identical masks", "Dice without the factor 2")
def dice_without_the_two(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() / (pred.sum() + target.sum()))


@wrong("ex01_masks.q2", "pred lies inside target", "IoU, intersection / union")
def dice_is_really_iou(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() / (pred | target).sum())


@wrong("ex01_masks.q2", "identical masks")
def dice_counts_agreeing_background(pred, target):
    pred, target = _b(pred), _b(target)
    return float(2 * (pred == target).sum() / (pred.sum() + target.sum()))


@wrong("ex01_masks.q2", "pred lies inside target")
def dice_integer_division(pred, target):
    pred, target = _b(pred), _b(target)
    return float(2 * (pred & target).sum() // (pred.sum() + target.sum()))


@wrong(
    "ex01_masks.q2",
    "pred has 3 pixels, target 2",
    "an intersection that is the smaller mask's size",
)
def dice_minimum_of_the_sums(pred, target):
    pred, target = _b(pred), _b(target)
    inter = np.minimum(pred.sum(), target.sum())  # meant np.minimum(pred, target).sum()
    return float(2 * inter / (pred.sum() + target.sum()))


@wrong("ex01_masks.q2", "0/1 uint8 arrays instead of bool")
def dice_indexes_one_mask_with_the_other(pred, target):
    pred, target = np.asarray(pred), np.asarray(target)
    return float(2 * pred[target].sum() / (pred.sum() + target.sum()))


# ---- ex01 q3: robust IoU


def _robust_iou(pred, target, *, check_target=True, empty=None):
    if pred is None or (check_target and target is None):
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    if pred.shape != target.shape:
        raise ValueError(f"shapes {pred.shape} and {target.shape} differ")
    union = (pred | target).sum()
    if empty is not None and empty(pred, target):
        return 1.0
    return 1.0 if union == 0 else float((pred & target).sum() / union)


@wrong("ex01_masks.q3", "both masks empty", "0 / 0 for two empty masks (nan)")
def robust_iou_divides_by_zero(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    if pred.shape != target.shape:
        raise ValueError(f"shapes {pred.shape} and {target.shape} differ")
    return float((pred & target).sum() / (pred | target).sum())


@wrong("ex01_masks.q3", "both masks empty", "a score of 0.0 for two empty masks")
def robust_iou_scores_empty_as_zero(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    if pred.shape != target.shape:
        raise ValueError(f"shapes {pred.shape} and {target.shape} differ")
    union = (pred | target).sum()
    return 0.0 if union == 0 else float((pred & target).sum() / union)


@wrong("ex01_masks.q3", "both masks empty")
def robust_iou_python_division(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    if pred.shape != target.shape:
        raise ValueError(f"shapes {pred.shape} and {target.shape} differ")
    return int((pred & target).sum()) / int((pred | target).sum())


@wrong("ex01_masks.q3", "pred empty, target not", "1.0 whenever pred is empty")
def robust_iou_perfect_when_nothing_is_predicted(pred, target):
    return _robust_iou(pred, target, empty=lambda p, t: not p.any())


@wrong("ex01_masks.q3", "target empty, pred not", "1.0 whenever target is empty")
def robust_iou_perfect_when_there_is_no_object(pred, target):
    return _robust_iou(pred, target, empty=lambda p, t: t.sum() == 0)


@wrong(
    "ex01_masks.q3",
    "numpy would broadcast it silently",
    "numpy's broadcasting, with no shape check",
)
def robust_iou_trusts_broadcasting(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    union = (pred | target).sum()
    return 1.0 if union == 0 else float((pred & target).sum() / union)


@wrong(
    "ex01_masks.q3",
    "1x3x3 (a SAM mask that was not squeezed)",
    "a check of the number of pixels (pred.size) instead of the shape",
)
def robust_iou_compares_sizes_not_shapes(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    if pred.size != target.size:
        raise ValueError(f"sizes {pred.size} and {target.size} differ")
    union = (pred | target).sum()
    return 1.0 if union == 0 else float((pred & target).sum() / union)


@wrong(
    "ex01_masks.q3",
    "pred is None",
    "no None check (np.asarray(None) is a 0-d array, then a shape error)",
)
def robust_iou_lets_none_become_a_shape_error(pred, target):
    pred, target = _b(pred), _b(target)  # np.asarray(None, bool) is a 0-d False
    if pred.shape != target.shape:
        raise ValueError(f"shapes {pred.shape} and {target.shape} differ")
    union = (pred | target).sum()
    return 1.0 if union == 0 else float((pred & target).sum() / union)


@wrong("ex01_masks.q3", "target is None", "a None check of pred only")
def robust_iou_checks_only_pred_for_none(pred, target):
    return _robust_iou(pred, target, check_target=False)


@wrong("ex01_masks.q3", "pred is 3x3, target is 3x4", "a TypeError for masks of different shapes")
def robust_iou_raises_type_error_for_shapes(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    if pred.shape != target.shape:
        raise TypeError(f"shapes {pred.shape} and {target.shape} differ")
    union = (pred | target).sum()
    return 1.0 if union == 0 else float((pred & target).sum() / union)
