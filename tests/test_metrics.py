"""Tests for seglab.metrics.

Three kinds of evidence:

1. hand-worked examples, with the arithmetic in the comments;
2. an independent reference: scikit-learn (jaccard_score, f1_score, confusion_matrix) on random
   inputs, and a naive pure-Python pixel loop for mean IoU with ignore_index;
3. properties (hypothesis): 0 <= IoU <= Dice <= 1, Dice = 2 IoU / (1 + IoU), symmetry,
   IoU(a, a) = 1, numpy and torch give identical numbers.

Then every documented edge case and error message.
"""

from __future__ import annotations

import doctest
import math
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from seglab import metrics
from seglab.metrics import (
    confusion_matrix,
    dice,
    iou,
    iou_from_confusion,
    mean_iou,
    mean_iou_from_confusion,
    per_class_iou,
    pixel_accuracy,
)


@pytest.fixture(scope="module")
def sklearn_metrics():
    """scikit-learn's metrics (the dev extra), the independent reference; only these tests skip."""
    return pytest.importorskip("sklearn.metrics")


LABEL_FUNCS = [
    pytest.param(lambda p, t, **kw: pixel_accuracy(p, t, **kw), id="pixel_accuracy"),
    pytest.param(lambda p, t, **kw: confusion_matrix(p, t, 3, **kw), id="confusion_matrix"),
    pytest.param(lambda p, t, **kw: per_class_iou(p, t, 3, **kw), id="per_class_iou"),
    pytest.param(lambda p, t, **kw: mean_iou(p, t, 3, **kw), id="mean_iou"),
]
BINARY_FUNCS = [pytest.param(iou, id="iou"), pytest.param(dice, id="dice")]
ALL_FUNCS = BINARY_FUNCS + LABEL_FUNCS


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- hand-worked


def test_iou_and_dice_hand_worked() -> None:
    pred = np.array(
        [
            [1, 1, 0],
            [1, 0, 0],
            [0, 0, 0],
        ]
    )
    target = np.array(
        [
            [1, 0, 0],
            [1, 1, 0],
            [0, 0, 0],
        ]
    )
    # A ∩ B = {(0,0), (1,0)} -> 2;  |A| = 3, |B| = 3;  A ∪ B = 3 + 3 - 2 = 4
    # IoU = 2 / 4 = 0.5;  Dice = 2 * 2 / (3 + 3) = 2/3 = 2 * 0.5 / (1 + 0.5)
    assert iou(pred, target) == 0.5
    assert dice(pred, target) == pytest.approx(2 / 3, abs=1e-15)
    assert isinstance(iou(pred, target), float) and isinstance(dice(pred, target), float)


def test_identical_and_disjoint_masks() -> None:
    a = np.array([[True, False], [False, False]])
    b = np.array([[False, True], [False, False]])
    assert iou(a, a) == 1.0 and dice(a, a) == 1.0
    assert iou(a, b) == 0.0 and dice(a, b) == 0.0


def test_batch_is_pooled_not_averaged_per_image() -> None:
    pred = np.zeros((2, 4, 4), dtype=bool)
    target = np.zeros((2, 4, 4), dtype=bool)
    pred[0, :2, :2] = target[0, :2, :2] = True  # image 0: 4 pixels, perfect (IoU 1)
    pred[1, 3, 3] = True  # image 1: one false positive, empty target (IoU 0)
    # pooled: intersection 4, union 5 -> 0.8 (the per-image mean would be (1 + 0) / 2 = 0.5)
    assert iou(pred, target) == 0.8
    assert np.mean([iou(p, t) for p, t in zip(pred, target, strict=True)]) == 0.5


def test_label_metrics_hand_worked() -> None:
    target = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    # rows = true class, cols = predicted:
    #   true 0 -> predicted 0, 1      row 0 = [1, 1, 0]
    #   true 1 -> predicted 1, 1      row 1 = [0, 2, 0]
    #   true 2 -> predicted 2, 0      row 2 = [1, 0, 1]
    expected = np.array([[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    cm = confusion_matrix(pred, target, 3)
    np.testing.assert_array_equal(cm, expected)
    assert cm.dtype == np.int64 and cm.shape == (3, 3)
    # IoU_k = tp / (row + col - tp):
    #   class 0: 1 / (2 + 2 - 1) = 1/3;  class 1: 2 / (2 + 3 - 2) = 2/3
    #   class 2: 1 / (2 + 1 - 1) = 1/2
    per_class = per_class_iou(pred, target, 3)
    np.testing.assert_allclose(per_class, [1 / 3, 2 / 3, 1 / 2], rtol=0, atol=1e-15)
    assert per_class.dtype == np.float64
    # mean = (1/3 + 2/3 + 1/2) / 3 = 0.5;  accuracy = 4 correct of 6
    assert mean_iou(pred, target, 3) == pytest.approx(0.5, abs=1e-15)
    assert pixel_accuracy(pred, target) == pytest.approx(4 / 6, abs=1e-15)
    assert isinstance(mean_iou(pred, target, 3), float)
    assert isinstance(pixel_accuracy(pred, target), float)


def test_ignore_index_hand_worked() -> None:
    # Pascal-VOC style: 255 is the void border; those pixels count for nothing, whatever pred says
    target = np.array([[0, 0, 255], [1, 1, 255]])
    pred = np.array([[0, 1, 1], [1, 1, 0]])
    # kept pixels: (t, p) = (0, 0), (0, 1), (1, 1), (1, 1)
    cm = confusion_matrix(pred, target, 2, ignore_index=255)
    np.testing.assert_array_equal(cm, [[1, 1], [0, 2]])
    # class 0: 1 / (2 + 1 - 1) = 1/2;  class 1: 2 / (2 + 3 - 2) = 2/3
    np.testing.assert_allclose(
        per_class_iou(pred, target, 2, ignore_index=255), [1 / 2, 2 / 3], atol=1e-15
    )
    assert pixel_accuracy(pred, target, ignore_index=255) == 0.75  # 3 of the 4 kept pixels
    assert mean_iou(pred, target, 2, ignore_index=255) == pytest.approx((1 / 2 + 2 / 3) / 2)


def test_miou_from_a_summed_confusion_matrix_is_mean_iou_of_everything() -> None:
    rng = np.random.default_rng(3)
    preds = rng.integers(0, 4, size=(3, 6, 7))
    targets = rng.integers(0, 4, size=(3, 6, 7))
    targets[0, 0] = 255
    cm = sum(
        confusion_matrix(p, t, 4, ignore_index=255) for p, t in zip(preds, targets, strict=True)
    )
    assert mean_iou_from_confusion(cm, ignore_index=255) == mean_iou(
        preds, targets, 4, ignore_index=255
    )
    expected = iou_from_confusion(cm)
    expected[1] = np.nan  # an ignore_index that is a class id scores NaN, as in per_class_iou
    np.testing.assert_array_equal(iou_from_confusion(cm, ignore_index=1), expected)
    assert math.isnan(mean_iou_from_confusion(np.zeros((2, 2), np.int64)))
    assert mean_iou_from_confusion(np.zeros((2, 2), np.int64), empty=0.0) == 0.0
    with pytest.raises(TypeError, match="ignore_index must be an int, got float"):
        iou_from_confusion(cm, ignore_index=1.0)


def test_other_ious_in_seglab_equal_metrics_iou() -> None:
    """IoU is defined once, here; the batched torch IoU used in mini-SAM training
    (seglab.sam.interactive.mask_iou) must agree with it (its empty case is 0.0)."""
    pytest.importorskip("segment_anything")
    from seglab.sam.interactive import mask_iou

    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 3, 9, 11, generator=gen)  # (K, M, H, W)
    gt = torch.rand(4, 9, 11, generator=gen) > 0.6  # (K, H, W)
    valid = torch.rand(4, 9, 11, generator=gen) > 0.2
    logits[1, 2] = -1.0  # an empty prediction ...
    gt[1] = False  # ... of an empty object
    for v in (None, valid):
        got = mask_iou(logits, gt, v)
        assert got.shape == (4, 3)
        for k in range(4):
            for m in range(3):
                pred, true = logits[k, m] > 0, gt[k]
                if v is not None:
                    pred, true = pred & v[k], true & v[k]
                assert got[k, m].item() == pytest.approx(iou(pred, true, empty=0.0), abs=1e-6)


def test_absent_class_is_nan_and_left_out_of_the_mean() -> None:
    target = np.array([0, 0, 1, 1])
    pred = np.array([0, 0, 1, 1])
    per_class = per_class_iou(pred, target, 4)
    # classes 2 and 3 are in neither map: nothing to score -> NaN, excluded from the mean
    assert per_class[:2].tolist() == [1.0, 1.0]
    assert np.isnan(per_class[2:]).all()
    assert mean_iou(pred, target, 4) == 1.0


def test_class_predicted_but_not_true_scores_zero() -> None:
    target = np.array([0, 0, 0, 0])
    pred = np.array([0, 0, 0, 2])
    # class 0: 3 / (4 + 3 - 3) = 3/4; class 1 absent (NaN); class 2: 0 / (0 + 1 - 0) = 0
    per_class = per_class_iou(pred, target, 3)
    assert per_class[0] == 0.75 and np.isnan(per_class[1]) and per_class[2] == 0.0
    assert mean_iou(pred, target, 3) == pytest.approx(0.375)


def test_ignore_index_inside_the_class_range_drops_that_class() -> None:
    target = np.array([0, 0, 1, 2])
    pred = np.array([1, 0, 1, 0])
    # target pixels of class 0 are ignored -> kept (t, p): (1, 1), (2, 0)
    # class 0's row is empty; a pred of 0 where the target is 2 still counts as an error for 2
    np.testing.assert_array_equal(
        confusion_matrix(pred, target, 3, ignore_index=0), [[0, 0, 0], [0, 1, 0], [1, 0, 0]]
    )
    per_class = per_class_iou(pred, target, 3, ignore_index=0)
    assert np.isnan(per_class[0])  # the ignored class is never scored
    assert per_class[1] == 1.0 and per_class[2] == 0.0
    assert mean_iou(pred, target, 3, ignore_index=0) == 0.5


def test_module_docstring_examples_run() -> None:
    result = doctest.testmod(metrics, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- vs scikit-learn


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("fill", [0.05, 0.5, 0.9])
def test_iou_dice_match_sklearn(seed: int, fill: float, sklearn_metrics) -> None:
    g = rng(seed)
    shape = tuple(g.integers(1, 40, size=g.integers(1, 4)))
    pred = g.random(shape) < fill
    target = g.random(shape) < fill
    pred.flat[0] = True  # never both empty: sklearn's convention there differs (0 + a warning)
    assert iou(pred, target) == pytest.approx(
        sklearn_metrics.jaccard_score(target.ravel(), pred.ravel()), abs=1e-12
    )
    assert dice(pred, target) == pytest.approx(
        sklearn_metrics.f1_score(target.ravel(), pred.ravel()), abs=1e-12
    )


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("num_classes", [2, 5, 21])
def test_label_metrics_match_sklearn(seed: int, num_classes: int, sklearn_metrics) -> None:
    g = rng(seed)
    target = g.integers(0, num_classes, size=(3, 17, 23))
    # a decent prediction: right 70 % of the time, so every cell of the matrix gets exercised
    pred = np.where(g.random(target.shape) < 0.7, target, g.integers(0, num_classes, target.shape))
    labels = list(range(num_classes))
    y_true, y_pred = target.ravel(), pred.ravel()

    cm = confusion_matrix(pred, target, num_classes)
    np.testing.assert_array_equal(
        cm, sklearn_metrics.confusion_matrix(y_true, y_pred, labels=labels)
    )
    assert pixel_accuracy(pred, target) == pytest.approx(
        sklearn_metrics.accuracy_score(y_true, y_pred), abs=1e-12
    )
    per_class = per_class_iou(pred, target, num_classes)
    present = np.isin(labels, np.union1d(y_true, y_pred))  # in pred or target
    np.testing.assert_array_equal(np.isnan(per_class), ~present)
    reference = sklearn_metrics.jaccard_score(
        y_true, y_pred, labels=labels, average=None, zero_division=0
    )
    np.testing.assert_allclose(per_class[present], reference[present], rtol=0, atol=1e-12)
    present_labels = [k for k in labels if present[k]]
    assert mean_iou(pred, target, num_classes) == pytest.approx(
        sklearn_metrics.jaccard_score(y_true, y_pred, labels=present_labels, average="macro"),
        abs=1e-12,
    )


def naive_mean_iou(pred: np.ndarray, target: np.ndarray, num_classes: int, ignore_index: int):
    """Textbook pixel loop: per class, count intersection and union among non-ignored pixels."""
    inter = [0] * num_classes
    union = [0] * num_classes
    for p, t in zip(pred.ravel().tolist(), target.ravel().tolist(), strict=True):
        if t == ignore_index:
            continue
        for k in range(num_classes):
            in_p, in_t = p == k, t == k
            inter[k] += in_p and in_t
            union[k] += in_p or in_t
    scores = [inter[k] / union[k] for k in range(num_classes) if union[k] > 0]
    return sum(scores) / len(scores) if scores else math.nan


@pytest.mark.parametrize("seed", range(8))
def test_mean_iou_with_ignore_index_matches_a_naive_loop(seed: int) -> None:
    g = rng(seed)
    num_classes = int(g.integers(2, 6))
    target = g.integers(0, num_classes, size=(2, 9, 11))
    target[g.random(target.shape) < 0.2] = 255  # void pixels
    pred = g.integers(0, num_classes, size=target.shape)
    assert mean_iou(pred, target, num_classes, ignore_index=255) == pytest.approx(
        naive_mean_iou(pred, target, num_classes, 255), abs=1e-12
    )


def test_confusion_matrices_of_batches_add_up_to_the_pooled_one() -> None:
    g = rng(3)
    target = g.integers(0, 4, size=(6, 10, 10))
    pred = g.integers(0, 4, size=(6, 10, 10))
    total = confusion_matrix(pred[:2], target[:2], 4) + confusion_matrix(pred[2:], target[2:], 4)
    np.testing.assert_array_equal(total, confusion_matrix(pred, target, 4))
    np.testing.assert_array_equal(iou_from_confusion(total), per_class_iou(pred, target, 4))


# --------------------------------------------------------------------------- numpy vs torch


def _all_results(pred, target, num_classes: int) -> list:
    out = [
        confusion_matrix(pred, target, num_classes, ignore_index=255),
        per_class_iou(pred, target, num_classes, ignore_index=255),
        mean_iou(pred, target, num_classes, ignore_index=255),
        pixel_accuracy(pred, target, ignore_index=255),
    ]
    bp, bt = pred == 1, target == 1
    out += [iou(bp, bt), dice(bp, bt)]
    return out


@pytest.mark.parametrize("seed", range(4))
def test_numpy_and_torch_give_identical_results(seed: int) -> None:
    g = rng(seed)
    target = g.integers(0, 4, size=(2, 13, 7))
    target[g.random(target.shape) < 0.1] = 255
    pred = g.integers(0, 4, size=target.shape)
    reference = _all_results(pred, target, 4)
    variants = {
        "torch": (torch.from_numpy(pred), torch.from_numpy(target)),
        "torch uint8": (torch.from_numpy(pred).to(torch.uint8), torch.from_numpy(target).byte()),
        "numpy pred, torch target": (pred, torch.from_numpy(target)),
        "torch pred, numpy target": (torch.from_numpy(pred), target),
    }
    for name, (p, t) in variants.items():
        for ours, ref in zip(_all_results(p, t, 4), reference, strict=True):
            if isinstance(ref, np.ndarray):
                assert isinstance(ours, np.ndarray), name
                np.testing.assert_array_equal(ours, ref, err_msg=name)
            else:
                assert type(ours) is float, name
                assert ours == ref, name


def test_torch_tensors_that_require_grad_are_accepted() -> None:
    probs = torch.tensor([[0.9, 0.2], [0.7, 0.1]], requires_grad=True)
    target = torch.tensor([[1, 0], [0, 0]])
    assert iou(probs > 0.5, target) == 0.5  # 1 shared pixel of a union of 2
    labels = torch.tensor([[1.0, 0.0], [1.0, 0.0]], requires_grad=True)
    assert pixel_accuracy(labels, target) == 0.75


def test_tensors_on_different_devices_are_refused() -> None:
    a = torch.zeros(2, 2, dtype=torch.bool)
    b = torch.zeros(2, 2, dtype=torch.bool, device="meta")
    with pytest.raises(
        ValueError, match=r"pred is on cpu and target on meta.*\.to\(pred\.device\)"
    ):
        iou(a, b)


@pytest.mark.gpu
def test_gpu_tensors_match_numpy() -> None:
    if torch.cuda.is_available():
        device = "cuda"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        device = "mps"
    else:
        pytest.skip("no CUDA or MPS device")
    g = rng(0)
    target = g.integers(0, 5, size=(4, 64, 64))
    target[g.random(target.shape) < 0.1] = 255
    pred = g.integers(0, 5, size=target.shape)
    on_gpu = (torch.from_numpy(pred).to(device), torch.from_numpy(target).to(device))
    for ours, ref in zip(_all_results(*on_gpu, 5), _all_results(pred, target, 5), strict=True):
        np.testing.assert_array_equal(ours, ref)


def test_non_contiguous_inputs() -> None:
    g = rng(1)
    target = g.integers(0, 3, size=(8, 9))
    pred = g.integers(0, 3, size=(8, 9))
    expected = confusion_matrix(pred.T.copy(), target.T.copy(), 3)
    np.testing.assert_array_equal(confusion_matrix(pred.T, target.T, 3), expected)
    np.testing.assert_array_equal(confusion_matrix(torch.from_numpy(pred).T, target.T, 3), expected)
    np.testing.assert_array_equal(confusion_matrix(pred[::-1], target[::-1], 3), expected)


# --------------------------------------------------------------------------- properties

masks = hnp.arrays(
    dtype=np.bool_, shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=8)
)


@st.composite
def mask_pairs(draw):
    a = draw(masks)
    b = draw(hnp.arrays(dtype=np.bool_, shape=a.shape))
    return a, b


@settings(max_examples=150, deadline=None)
@given(mask_pairs())
def test_iou_dice_properties(pair) -> None:
    a, b = pair
    i, d = iou(a, b), dice(a, b)
    assert 0.0 <= i <= d <= 1.0
    assert d == pytest.approx(2 * i / (1 + i), abs=1e-12)
    assert iou(b, a) == i and dice(b, a) == d  # symmetric
    assert iou(a, a) == 1.0 and dice(a, a) == 1.0  # also when a is empty (default empty=1)
    assert iou(torch.from_numpy(a), torch.from_numpy(b)) == i


@st.composite
def label_pairs(draw):
    num_classes = draw(st.integers(1, 6))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=8))
    ids = hnp.arrays(np.int64, shape, elements=st.integers(0, num_classes - 1))
    return draw(ids), draw(ids), num_classes


@settings(max_examples=100, deadline=None)
@given(label_pairs())
def test_label_metric_properties(case) -> None:
    pred, target, num_classes = case
    cm = confusion_matrix(pred, target, num_classes)
    assert cm.sum() == pred.size
    np.testing.assert_array_equal(
        cm.sum(axis=1), np.bincount(target.ravel(), minlength=num_classes)
    )
    np.testing.assert_array_equal(cm.T, confusion_matrix(target, pred, num_classes))
    m = mean_iou(pred, target, num_classes)
    assert 0.0 <= m <= 1.0  # at least one class is present, so never NaN here
    assert mean_iou(target, target, num_classes) == 1.0
    assert pixel_accuracy(pred, target) == pytest.approx(np.trace(cm) / pred.size)
    for k in range(num_classes):  # per-class IoU is the binary IoU of "labels == k"
        expected = iou(pred == k, target == k, empty=math.nan)
        got = per_class_iou(pred, target, num_classes)[k]
        assert (math.isnan(expected) and math.isnan(got)) or got == expected


# --------------------------------------------------------------------------- edge cases: empty


def test_both_masks_empty() -> None:
    z = np.zeros((4, 4), dtype=bool)
    assert iou(z, z) == 1.0 and dice(z, z) == 1.0  # nothing to find, nothing found
    assert math.isnan(iou(z, z, empty=float("nan")))
    assert math.isnan(dice(z, z, empty=math.nan))
    assert iou(z, z, empty=0.0) == 0.0
    # one empty, the other not: a genuine 0, never the `empty` value
    one = z.copy()
    one[0, 0] = True
    assert iou(one, z) == 0.0 and iou(z, one, empty=math.nan) == 0.0 and dice(z, one) == 0.0
    # nan lets nanmean skip empty images
    scores = [iou(p, t, empty=math.nan) for p, t in [(one, one), (z, z)]]
    assert np.nanmean(scores) == 1.0


@pytest.mark.parametrize("bad", [2.0, -0.5, 1])
def test_empty_value_out_of_range(bad) -> None:
    z = np.zeros(3, dtype=bool)
    if bad == 1:
        assert iou(z, z, empty=bad) == 1.0  # ints in [0, 1] are fine
        return
    with pytest.raises(ValueError, match=re.escape(repr(float(bad)))):
        iou(z, z, empty=bad)


@pytest.mark.parametrize("bad", ["nan", None, True])
def test_empty_value_of_wrong_type(bad) -> None:
    z = np.zeros(3, dtype=bool)
    with pytest.raises(TypeError, match="empty must be a number"):
        dice(z, z, empty=bad)


def test_all_pixels_ignored() -> None:
    target = np.full((2, 3), 255)
    pred = np.zeros((2, 3), dtype=np.int64)
    np.testing.assert_array_equal(confusion_matrix(pred, target, 2, ignore_index=255), 0)
    assert np.isnan(per_class_iou(pred, target, 2, ignore_index=255)).all()
    assert math.isnan(mean_iou(pred, target, 2, ignore_index=255))
    assert mean_iou(pred, target, 2, ignore_index=255, empty=0.0) == 0.0
    assert math.isnan(pixel_accuracy(pred, target, ignore_index=255))
    assert pixel_accuracy(pred, target, ignore_index=255, empty=1.0) == 1.0


def test_torch_all_pixels_ignored() -> None:
    target = torch.full((2, 3), 255)
    assert math.isnan(mean_iou(torch.zeros(2, 3, dtype=torch.long), target, 2, ignore_index=255))


# --------------------------------------------------------------------------- edge cases: dtypes

BINARY_DTYPES = [
    np.bool_,
    np.uint8,
    np.int32,
    np.int64,
    np.uint16,
    np.float16,
    np.float32,
    np.float64,
]
TORCH_BINARY_DTYPES = [
    torch.bool,
    torch.uint8,
    torch.int8,
    torch.int32,
    torch.int64,
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.float64,
]


def _binary_example() -> tuple[np.ndarray, np.ndarray]:
    pred = np.array([[1, 1, 0], [0, 1, 0]], dtype=bool)
    target = np.array([[1, 0, 0], [0, 1, 1]], dtype=bool)
    return pred, target  # intersection 2, union 4 -> IoU 0.5, Dice 2*2/(3+3) = 2/3


@pytest.mark.parametrize("dtype", BINARY_DTYPES, ids=str)
def test_binary_numpy_dtypes_agree(dtype) -> None:
    pred, target = _binary_example()
    assert iou(pred.astype(dtype), target.astype(dtype)) == 0.5
    assert dice(pred.astype(dtype), target) == pytest.approx(2 / 3, abs=1e-15)


@pytest.mark.parametrize("dtype", TORCH_BINARY_DTYPES, ids=str)
def test_binary_torch_dtypes_agree(dtype) -> None:
    pred, target = _binary_example()
    p = torch.from_numpy(pred).to(dtype)
    assert iou(p, torch.from_numpy(target).to(dtype)) == 0.5
    assert dice(p, target) == pytest.approx(2 / 3, abs=1e-15)


@pytest.mark.parametrize(
    "convert",
    [
        lambda x: x,
        lambda x: x.astype(np.uint8),
        lambda x: x.astype(np.int32),
        lambda x: x.astype(np.float32),  # whole-number floats are accepted as class ids
        lambda x: torch.from_numpy(x).to(torch.int16),
        lambda x: torch.from_numpy(x).to(torch.float64),
    ],
    ids=["int64", "uint8", "int32", "float32", "torch int16", "torch float64"],
)
def test_label_dtypes_agree(convert) -> None:
    target = np.array([0, 0, 1, 1, 2, 2])
    pred = np.array([0, 1, 1, 1, 2, 0])
    np.testing.assert_array_equal(
        confusion_matrix(convert(pred), convert(target), 3), confusion_matrix(pred, target, 3)
    )


def test_bool_label_maps_are_classes_0_and_1() -> None:
    pred = np.array([True, False, True])
    target = np.array([1, 0, 0])
    np.testing.assert_array_equal(confusion_matrix(pred, target, 2), [[1, 1], [0, 1]])


def test_inputs_are_not_modified() -> None:
    pred = np.array([[0.0, 1.0], [1.0, 1.0]])
    target = np.array([[0, 255], [1, 1]])
    before = (pred.copy(), target.copy())
    mean_iou(pred, target, 2, ignore_index=255)
    iou(pred, target == 1)
    np.testing.assert_array_equal(pred, before[0])
    np.testing.assert_array_equal(target, before[1])


# --------------------------------------------------------------------------- errors: types


@pytest.mark.parametrize("func", ALL_FUNCS)
@pytest.mark.parametrize("which", ["pred", "target"])
def test_none_is_a_type_error(func, which) -> None:
    ok = np.zeros((2, 2), dtype=np.int64)
    args = (None, ok) if which == "pred" else (ok, None)
    with pytest.raises(TypeError, match=rf"{which} is None"):
        func(*args)


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_non_array_is_a_type_error_with_the_fix(func) -> None:
    with pytest.raises(TypeError, match=r"got list\. Convert it first, e\.g\. np\.asarray\(pred\)"):
        func([[0, 1]], np.zeros((1, 2), dtype=np.int64))


@pytest.mark.parametrize(
    "bad",
    [np.array(["a", "b"]), np.array([1 + 2j, 0j]), np.array([None, 1], dtype=object)],
    ids=["str", "complex", "object"],
)
def test_non_numeric_dtypes_are_type_errors(bad) -> None:
    with pytest.raises(TypeError, match=re.escape(str(bad.dtype))):
        iou(bad, np.zeros(2, dtype=bool))
    with pytest.raises(TypeError, match="complex"):
        iou(torch.zeros(2, dtype=torch.complex64), torch.zeros(2, dtype=torch.bool))


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_empty_arrays_are_value_errors(func) -> None:
    z = np.zeros((0, 5), dtype=np.int64)
    with pytest.raises(ValueError, match=r"pred is empty \(shape \(0, 5\)\)"):
        func(z, z)
    with pytest.raises(ValueError, match=r"target is empty \(shape \(3, 0\)\)"):
        func(np.zeros(3, dtype=np.int64), torch.zeros(3, 0, dtype=torch.long))


def test_scalar_is_not_a_mask() -> None:
    with pytest.raises(ValueError, match=r"pred is a scalar \(0\.9\).*score instead of a mask"):
        iou(np.array(0.9), np.zeros((2, 2), dtype=bool))


@pytest.mark.parametrize("bad", [0, -3])
def test_num_classes_must_be_positive(bad) -> None:
    with pytest.raises(ValueError, match=rf"num_classes must be at least 1, got {bad}"):
        confusion_matrix(np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64), bad)


@pytest.mark.parametrize("bad", [2.0, True, "3", None])
def test_num_classes_must_be_an_int(bad) -> None:
    with pytest.raises(TypeError, match="num_classes must be an int"):
        mean_iou(np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64), bad)


@pytest.mark.parametrize("bad", [255.0, "255"])
def test_ignore_index_must_be_an_int(bad) -> None:
    with pytest.raises(TypeError, match=r"ignore_index must be an int.*ignore_index=255"):
        pixel_accuracy(np.zeros(2, dtype=np.int64), np.zeros(2, dtype=np.int64), ignore_index=bad)


def test_numpy_integer_arguments_are_accepted() -> None:
    t = np.array([0, 1, 255])
    assert mean_iou(t, t, np.int64(2), ignore_index=np.uint8(255)) == 1.0


# --------------------------------------------------------------------------- errors: shapes


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_shape_mismatch_names_both_shapes(func) -> None:
    with pytest.raises(ValueError, match=r"pred has shape \(4, 5\) but target has shape \(6, 7\)"):
        func(np.zeros((4, 5), dtype=np.int64), np.zeros((6, 7), dtype=np.int64))


@pytest.mark.parametrize(
    ("pred_shape", "target_shape", "hint"),
    [
        (
            (1, 4, 5),
            (4, 5),
            r"pred has an extra axis of size 1.*1xHxW SAM mask.*pred\.squeeze\(0\)",
        ),
        ((4, 5), (1, 4, 5), r"target has an extra axis .*target\.squeeze\(0\)"),
        ((4, 5, 1), (4, 5), r"pred\.squeeze\(2\)"),
        ((3, 4, 5), (4, 5), r"SAM's multimask output is 3xHxW.*pred\[scores\.argmax\(\)\]"),
        ((4, 5), (4, 5, 3), r"RGB\(A\) image.*target\[\.\.\., 0\]"),
        ((5, 4), (4, 5), r"Height and width look swapped"),
        ((64, 64), (256, 256), r"forget to resize.*nearest-neighbour"),
    ],
)
def test_binary_shape_mismatch_hints(pred_shape, target_shape, hint) -> None:
    with pytest.raises(ValueError, match=hint):
        iou(np.zeros(pred_shape, dtype=bool), np.zeros(target_shape, dtype=bool))


@pytest.mark.parametrize(
    ("pred_shape", "target_shape", "hint"),
    [
        ((2, 3, 4, 5), (2, 4, 5), r"pred looks like per-class scores with 3 classes.*argmax\(1\)"),
        ((3, 4, 5), (4, 5), r"pred looks like per-class scores .*argmax\(0\)"),
        ((2, 4, 5), (2, 1, 4, 5), r"target\.squeeze\(1\)"),
    ],
)
def test_label_shape_mismatch_hints(pred_shape, target_shape, hint) -> None:
    with pytest.raises(ValueError, match=hint):
        mean_iou(torch.zeros(pred_shape), torch.zeros(target_shape, dtype=torch.long), 3)


# --------------------------------------------------------------------------- errors: values


@pytest.mark.parametrize(
    ("bad", "values", "fix"),
    [
        (np.array([[0, 255], [255, 0]], dtype=np.uint8), r"\[0, 255\]", r"use target > 0"),
        (np.array([[0.1, 0.9], [0.5, 0.0]]), r"\[0, 0\.1, 0\.5, 0\.9\]", r"target > 0\.5"),
        (np.array([[-2.5, 3.0], [0.0, 1.0]]), r"\[-2\.5, 0, 1, 3\]", r"target > 0 for logits"),
        (np.array([[0, 1], [2, 3]]), r"\[0, 1, 2, 3\]", r"target == k"),
        (np.array([[0.0, np.nan], [1.0, 1.0]]), r"nan", r"contains NaN"),
        (torch.tensor([[0, 255], [255, 0]], dtype=torch.uint8), r"\[0, 255\]", r"target > 0"),
        (torch.tensor([[0.2, 0.7]], dtype=torch.bfloat16), r"0\.2", r"target > 0\.5"),
    ],
    ids=["0/255", "probabilities", "logits", "label map", "nan", "torch 0/255", "bf16 probs"],
)
def test_non_binary_values_are_named_with_the_fix(bad, values, fix) -> None:
    pred = np.zeros(tuple(bad.shape), dtype=bool)
    for func in (iou, dice):
        with pytest.raises(ValueError, match=r"target is not a binary mask") as info:
            func(pred, bad)
        assert re.search(values, str(info.value)), str(info.value)
        assert re.search(fix, str(info.value)), str(info.value)


def test_non_binary_message_lists_only_the_first_few_values() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1, 2, 3, 4, 5, \.\.\. \(100 distinct values\)\]"):
        iou(np.arange(100), np.zeros(100, dtype=bool))


def test_non_binary_pred_is_named_as_pred() -> None:
    with pytest.raises(ValueError, match=r"pred is not a binary mask.*pred > 0"):
        dice(np.array([0, 255]), np.array([0, 1]))


@pytest.mark.parametrize(
    ("pred", "target", "kwargs", "message"),
    [
        # a 0/255 PNG mask used as class ids
        (
            [0, 1],
            [0, 255],
            {},
            r"target has class ids outside \[0, 2\).*\[255\] at 1 pixel.*"
            r"map 255 -> 1 with target > 0",
        ),
        ([0, 255], [0, 1], {}, r"pred has class ids outside \[0, 2\).*\[255\]"),
        # VOC-style void border forgotten
        ([0, 1, 2], [0, 1, 255], {"nc": 21}, r"target .*\[255\].*ignore_index=255"),
        ([0, 1, 2], [0, -1, 2], {"nc": 3}, r"target .*\[-1\].*ignore_index=-1"),
        # off by one: ids 1..3 with num_classes=3
        ([1, 2, 3], [1, 2, 3], {"nc": 3}, r"target .*\[3\].*pass num_classes=4"),
        ([0, 5, 7, 5], [0, 1, 1, 1], {"nc": 3}, r"pred .*\[5, 7\] at 3 pixel"),
        # pred predicts the ignore value where the target has a real class
        (
            [0, 255],
            [0, 1],
            {"ignore_index": 255},
            r"pred has class ids .*\[255\].*where the \*target\* is 255",
        ),
    ],
)
def test_out_of_range_class_ids(pred, target, kwargs, message) -> None:
    kwargs = dict(kwargs)
    num_classes = kwargs.pop("nc", 2)
    for func in (confusion_matrix, per_class_iou, mean_iou):
        with pytest.raises(ValueError, match=message):
            func(np.array(pred), np.array(target), num_classes, **kwargs)
    with pytest.raises(ValueError, match=message):  # same check on the torch path
        confusion_matrix(torch.tensor(pred), torch.tensor(target), num_classes, **kwargs)


def test_ignored_target_pixels_may_hold_any_value_and_any_prediction() -> None:
    target = np.array([0, 1, 255, 255])
    pred = np.array([0, 1, 0, 1])
    assert mean_iou(pred, target, 2, ignore_index=255) == 1.0


@pytest.mark.parametrize(
    "bad",
    [np.array([0.0, 1.5, 2.0]), torch.tensor([0.0, 0.25, 1.0]), np.array([0.0, np.inf, 1.0])],
    ids=["numpy 1.5", "torch 0.25", "inf"],
)
def test_float_label_maps_with_non_integer_values(bad) -> None:
    target = np.array([0, 1, 2])
    for func in (
        lambda p: confusion_matrix(p, target, 3),
        lambda p: mean_iou(p, target, 3),
        lambda p: pixel_accuracy(p, target),
    ):
        with pytest.raises(ValueError, match=r"pred is a float label map.*argmax\(1\)"):
            func(bad)


def test_iou_from_confusion_validates_its_input() -> None:
    with pytest.raises(TypeError, match="integer numpy array"):
        iou_from_confusion(np.eye(2))
    with pytest.raises(TypeError, match="got list"):
        iou_from_confusion([[1, 0], [0, 1]])
    with pytest.raises(ValueError, match=r"square \(K, K\).*\(2, 3\)"):
        iou_from_confusion(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="negative"):
        iou_from_confusion(np.array([[1, -1], [0, 1]]))
    np.testing.assert_array_equal(iou_from_confusion(np.array([[2, 0], [0, 0]])), [1.0, np.nan])
