"""Segmentation metrics: IoU, Dice, pixel accuracy, confusion matrix, mean IoU.

Two families, one module:

- **Binary masks** (one object versus background) — :func:`iou` and :func:`dice` compare a
  predicted mask with a ground-truth mask. A mask holds bool, 0/1 integers or 0./1. floats; any
  other value (0/255 PNG masks, probabilities, logits, label maps) is refused with the fix in the
  message, because a metric that silently treats 255 as "true" or 0.4 as "false" gives a wrong
  answer that looks right.
- **Label maps** (one class id per pixel, e.g. the argmax of a U-Net) — :func:`pixel_accuracy`,
  :func:`confusion_matrix`, :func:`per_class_iou` and :func:`mean_iou`. Class ids are integers in
  ``[0, num_classes)``; pixels whose *target* equals ``ignore_index`` (255 in Pascal VOC) are left
  out of every count. For a score over a whole dataset, add up the :func:`confusion_matrix` of
  every batch and pass the sum to :func:`iou_from_confusion` or :func:`mean_iou_from_confusion`.

The formulas, for a predicted set of pixels A and a true set B::

    IoU  = |A ∩ B| / |A ∪ B|            (Jaccard index, "intersection over union")
    Dice = 2 |A ∩ B| / (|A| + |B|)      (F1 score of the pixels)
    Dice = 2 IoU / (1 + IoU)            so both rank predictions in the same order

Inputs and outputs, for every function here:

- ``pred`` and ``target`` are ``numpy.ndarray`` or ``torch.Tensor`` of the **same shape**, with any
  number of axes (HxW, NxHxW, ...). All pixels of all images are **pooled** into one count: for a
  batch (N, H, W) you get the IoU of the whole batch, not the average of N per-image IoUs (take
  ``np.mean([iou(p, t) for p, t in zip(preds, targets)])`` for that).
- Tensors are counted with torch on their own device (CPU, CUDA or MPS; no copy to the CPU).
  A numpy array paired with a tensor is moved to the tensor's device. Only the integer counts
  leave the device, and the final divisions happen in float64 on the CPU, so numpy and torch
  inputs give **identical** results.
- Scores come back as Python ``float``; :func:`confusion_matrix` and :func:`per_class_iou` return
  numpy arrays (int64 and float64).
- Everything is vectorised (``bincount`` on ``target * num_classes + pred``); there is no Python
  loop over pixels.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import torch

from seglab._util import check_int, is_real, summarize_values, tensor_to_numpy

Array = np.ndarray | torch.Tensor

_TORCH_INT_OK = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


# --------------------------------------------------------------------------- input checks


def _check_array(x: object, name: str) -> Array:
    """Return ``x`` as a numpy array or a detached tensor, or raise with the fix."""
    if x is None:
        raise TypeError(
            f"{name} is None. Pass a numpy array or a torch tensor; if it came from a function, "
            "check that the function returns its result."
        )
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.dtype.is_complex:
            raise TypeError(f"{name} has complex dtype {x.dtype}; masks and labels are real.")
        if not (x.dtype == torch.bool or x.is_floating_point() or x.dtype in _TORCH_INT_OK):
            x = x.to(torch.int64)  # uint16/32/64 have few torch kernels; values are unchanged
    elif isinstance(x, np.ndarray):
        if x.dtype.kind not in "biuf":
            raise TypeError(
                f"{name} has dtype {x.dtype}, which is not a mask or label dtype. Use bool, "
                "integer or float values (e.g. np.asarray(mask, dtype=bool))."
            )
        if x.dtype.kind == "u" and x.dtype.itemsize > 1:
            x = x.astype(np.int64)  # torch has no kernels for uint16/32/64 on every version
    else:
        raise TypeError(
            f"{name} must be a numpy array or a torch tensor, got {type(x).__name__}. "
            f"Convert it first, e.g. np.asarray({name})."
        )
    if x.ndim == 0:
        raise ValueError(
            f"{name} is a scalar ({_to_numpy(x).item()!r}), not a mask. Pass the HxW array; "
            "did you pass a score instead of a mask?"
        )
    if _size(x) == 0:
        raise ValueError(
            f"{name} is empty (shape {tuple(x.shape)}): there are no pixels to compare. "
            "Check the slicing or loading that produced it."
        )
    return x


def _size(x: Array) -> int:
    return x.numel() if isinstance(x, torch.Tensor) else x.size


def _to_numpy(x: Array) -> np.ndarray:
    return tensor_to_numpy(x) if isinstance(x, torch.Tensor) else x


def _count(x: Array) -> int:
    """Number of true (non-zero) elements, as a Python int."""
    if isinstance(x, torch.Tensor):
        return int(torch.count_nonzero(x))
    return int(np.count_nonzero(x))


def _distinct(x: Array) -> np.ndarray:
    """Sorted distinct values of x (error messages only, so a copy to the CPU is fine)."""
    return np.unique(_to_numpy(x))


def _extra_axes(big: tuple[int, ...], small: tuple[int, ...]) -> list[int]:
    """Axes of ``big`` whose removal leaves ``small``."""
    if len(big) != len(small) + 1:
        return []
    return [i for i in range(len(big)) if big[:i] + big[i + 1 :] == small]


def _shape_hint(a: tuple[int, ...], b: tuple[int, ...], an: str, bn: str, labels: bool) -> str:
    """A likely cause of a shape mismatch, phrased as the fix."""
    for big, small, name in ((a, b, an), (b, a, bn)):
        axes = _extra_axes(big, small)
        if not axes:
            continue
        i = 1 if (labels and len(big) == 4 and 1 in axes) else axes[0]
        size = big[i]
        if size == 1:
            sam = " (did you forget to squeeze the 1xHxW SAM mask?)" if i == 0 else ""
            return (
                f" {name} has an extra axis of size 1 at position {i}{sam}: "
                f"use {name}.squeeze({i})."
            )
        if i == len(big) - 1 and size in (3, 4):
            return (
                f" {name} ends with {size} channels, like an RGB(A) image: take one channel, "
                f"{name}[..., 0], or load the file as grayscale."
            )
        if labels:
            return (
                f" {name} looks like per-class scores with {size} classes on axis {i}: take the "
                f"most likely class per pixel, {name}.argmax({i})."
            )
        if i == 0:
            return (
                f" {name} holds {size} masks (SAM's multimask output is 3xHxW): pick one, e.g. "
                f"{name}[scores.argmax()], and compare the masks one at a time."
            )
        return f" {name} has one axis more than the other (axis {i}, size {size})."
    if len(a) == len(b) and len(a) >= 2 and a[:-2] == b[:-2] and a[-2:] == b[-2:][::-1]:
        return (
            " Height and width look swapped: arrays are (H, W), rows first, while PIL's .size "
            "is (W, H)."
        )
    if len(a) == len(b):
        return (
            " Did you forget to resize? Resize one to the other's size with nearest-neighbour "
            "interpolation (SamPredictor.predict returns masks at the image size; its low-res "
            "logits are 256x256)."
        )
    return " They must have exactly the same shape."


def _pair(pred: object, target: object, labels: bool) -> tuple[Array, Array]:
    """Check both inputs, put them on one backend and device, and check their shapes match."""
    p = _check_array(pred, "pred")
    t = _check_array(target, "target")
    p_torch, t_torch = isinstance(p, torch.Tensor), isinstance(t, torch.Tensor)
    if p_torch and t_torch and p.device != t.device:
        raise ValueError(
            f"pred is on {p.device} and target on {t.device}; put them on one device, "
            "e.g. target = target.to(pred.device)."
        )
    if p_torch and not t_torch:
        t = torch.as_tensor(np.ascontiguousarray(t), device=p.device)
    elif t_torch and not p_torch:
        p = torch.as_tensor(np.ascontiguousarray(p), device=t.device)
    a, b = tuple(p.shape), tuple(t.shape)
    if a != b:
        raise ValueError(
            f"pred has shape {a} but target has shape {b}; they must match pixel for pixel."
            + _shape_hint(a, b, "pred", "target", labels)
        )
    return p, t


def _is_float(x: Array) -> bool:
    return x.is_floating_point() if isinstance(x, torch.Tensor) else x.dtype.kind == "f"


def _is_bool(x: Array) -> bool:
    return x.dtype == torch.bool if isinstance(x, torch.Tensor) else x.dtype.kind == "b"


def _as_bool(x: Array, name: str) -> Array:
    """A binary mask as bool, or a ValueError naming the values found and the fix."""
    if _is_bool(x):
        return x
    if bool(((x == 0) | (x == 1)).all()):
        return x != 0
    values = _distinct(x)
    msg = (
        f"{name} is not a binary mask: it holds the values {summarize_values(values)} "
        f"(dtype {x.dtype}), but a binary mask holds only 0/1, 0./1. or False/True. "
    )
    if _is_float(x):
        if np.isnan(values).any():
            msg += "It contains NaN: check the computation that produced it."
        elif values.min() >= 0 and values.max() <= 1:
            msg += f"It looks like probabilities: threshold it, e.g. {name} > 0.5."
        else:
            msg += (
                f"It looks like logits or scores: threshold it, e.g. {name} > 0 for logits "
                f"(SAM's mask_threshold is 0.0) or {name} > 0.5 for probabilities."
            )
    elif set(values.tolist()) <= {0, 255}:
        msg += f"It looks like a 0/255 image mask (e.g. from a PNG): use {name} > 0."
    else:
        msg += (
            f"It looks like a label map with several classes: select one class with "
            f"{name} == k, or compare all classes with mean_iou."
        )
    raise ValueError(msg)


def _as_labels(x: Array, name: str) -> Array:
    """A label map as int64, or a ValueError when float values are not whole numbers."""
    if _is_bool(x):
        return x.to(torch.int64) if isinstance(x, torch.Tensor) else x.astype(np.int64)
    if _is_float(x):
        if isinstance(x, torch.Tensor):
            bad = ~torch.isfinite(x) | (x != torch.floor(x)) | (x.abs() > 2**31)
        else:
            bad = ~np.isfinite(x) | (x != np.floor(x)) | (np.abs(x) > 2**31)
        if bool(bad.any()):
            raise ValueError(
                f"{name} is a float label map (dtype {x.dtype}) with values that are not class "
                f"ids: {summarize_values(x[bad])}. Class ids are whole numbers. If these "
                f"are per-class scores or probabilities, take the most likely class, "
                f"{name}.argmax(1) for (N, C, H, W) or {name}.argmax(0) for (C, H, W); if the "
                "map was resized, use nearest-neighbour interpolation so ids stay whole."
            )
    if isinstance(x, torch.Tensor):
        return x.to(torch.int64)
    return x.astype(np.int64, copy=False)


def _check_empty_value(empty: object) -> float:
    if not is_real(empty):
        raise TypeError(
            f"empty must be a number in [0, 1] or float('nan'), got {type(empty).__name__} "
            f"{empty!r}."
        )
    value = float(empty)
    if not (math.isnan(value) or 0.0 <= value <= 1.0):
        raise ValueError(
            f"empty must be in [0, 1] or float('nan'), got {value!r}: it stands in for a score."
        )
    return value


def _labels_pair(
    pred: object, target: object, ignore_index: int | None
) -> tuple[Array, Array, Array | None, int | None]:
    """Validated 1-D int64 pred and target, and the mask of pixels to count (None: all).

    Ignored pixels are masked rather than removed: boolean indexing copies, and is slow on the
    CPU in torch, while a mask costs one comparison.
    """
    if ignore_index is not None:
        ignore_index = check_int(ignore_index, "ignore_index", hint="Pass e.g. ignore_index=255.")
    p, t = _pair(pred, target, labels=True)
    p, t = _as_labels(p, "pred").reshape(-1), _as_labels(t, "target").reshape(-1)
    keep = None if ignore_index is None else t != ignore_index
    return p, t, keep, ignore_index


def _check_range(
    x: Array, keep: Array | None, name: str, num_classes: int, ignore_index: int | None
) -> None:
    bad = (x < 0) | (x >= num_classes)
    if keep is not None:
        bad &= keep
    n_bad = _count(bad)
    if n_bad == 0:
        return
    values = _distinct(x[bad])
    found = set(values.tolist())
    low, high = min(found), max(found)
    if ignore_index is not None and ignore_index in found:
        hint = (
            f"ignore_index={ignore_index} skips pixels where the *target* is {ignore_index}, "
            f"but {name} holds it where the target is a real class: map those pixels to a class."
        )
    elif ignore_index is None and found == {255} and num_classes <= 2:
        hint = (
            f"If this is a 0/255 mask used as class ids, map 255 -> 1 with {name} > 0 (and "
            "num_classes=2). If 255 marks void pixels (Pascal VOC), pass ignore_index=255."
        )
    elif ignore_index is None and 255 in found:
        hint = "If 255 marks void pixels (Pascal VOC), pass ignore_index=255."
    elif ignore_index is None and low < 0:
        hint = f"If {low} marks unlabelled pixels, pass ignore_index={low}."
    elif high >= num_classes:
        hint = (
            f"Class ids count from 0: for ids up to {high} pass num_classes={high + 1}, "
            f"or remap the ids to 0..{num_classes - 1}."
        )
    else:
        hint = f"Class ids cannot be negative: remap them to 0..{num_classes - 1}."
    raise ValueError(
        f"{name} has class ids outside [0, {num_classes}) (num_classes={num_classes}): "
        f"{summarize_values(values)} at {n_bad} pixel(s). {hint}"
    )


# --------------------------------------------------------------------------- binary masks


def _binary_counts(pred: object, target: object) -> tuple[int, int, int]:
    """(|A ∩ B|, |A|, |B|) for two validated binary masks."""
    p, t = _pair(pred, target, labels=False)
    p, t = _as_bool(p, "pred"), _as_bool(t, "target")
    return _count(p & t), _count(p), _count(t)


def iou(pred: Array, target: Array, *, empty: float = 1.0) -> float:
    """Intersection over union (Jaccard index) of two binary masks.

    ``IoU = |A ∩ B| / |A ∪ B|`` where A is the set of predicted pixels and B the true ones.
    1.0 is a perfect match, 0.0 means no overlap. All axes are pooled: an (N, H, W) batch is
    one set of N*H*W pixels.

    Arguments:
      pred (np.ndarray | torch.Tensor): predicted mask, any shape (e.g. HxW), values bool, 0/1
        integers or 0./1. floats. Threshold probabilities or logits first (``prob > 0.5``,
        ``logits > 0``).
      target (np.ndarray | torch.Tensor): true mask, same shape and rules as ``pred``.
      empty (float): the value when both masks are empty (|A ∪ B| = 0). Default 1.0: nothing
        to find and nothing found is a perfect answer. Pass ``float('nan')`` to leave such
        images out of an ``np.nanmean`` over many images, or 0.0 to count them as failures.

    Returns:
      float: a Python float in [0, 1], or ``empty``.

    Raises:
      TypeError: an input is None, not an array/tensor, or of a non-numeric dtype.
      ValueError: the shapes differ (the message names both and a likely fix), a mask holds
        values other than 0/1 (the message names them), or a mask has no pixels.
    """
    empty = _check_empty_value(empty)
    inter, n_pred, n_target = _binary_counts(pred, target)
    union = n_pred + n_target - inter
    return empty if union == 0 else inter / union


def dice(pred: Array, target: Array, *, empty: float = 1.0) -> float:
    """Dice coefficient (pixel F1 score) of two binary masks.

    ``Dice = 2 |A ∩ B| / (|A| + |B|) = 2 IoU / (1 + IoU)``. Dice is never below IoU and rewards
    partial overlap more (IoU 0.5 is Dice 0.667). Inputs, pooling and ``empty`` as in
    :func:`iou`.

    Arguments:
      pred (np.ndarray | torch.Tensor): predicted mask, bool / 0-1 integers / 0.-1. floats.
      target (np.ndarray | torch.Tensor): true mask, same shape as ``pred``.
      empty (float): the value when both masks are empty; default 1.0.

    Returns:
      float: a Python float in [0, 1], or ``empty``.

    Raises:
      TypeError, ValueError: as :func:`iou`.
    """
    empty = _check_empty_value(empty)
    inter, n_pred, n_target = _binary_counts(pred, target)
    total = n_pred + n_target
    return empty if total == 0 else 2 * inter / total


# --------------------------------------------------------------------------- label maps


def pixel_accuracy(
    pred: Array, target: Array, *, ignore_index: int | None = None, empty: float = math.nan
) -> float:
    """Fraction of pixels whose predicted class equals the true class.

    Beware: with 95 % background, predicting "all background" scores 0.95. Use
    :func:`mean_iou` to see how each class fares.

    Arguments:
      pred (np.ndarray | torch.Tensor): predicted class ids, any shape (HxW, NxHxW, ...),
        integer or bool dtype (floats are accepted when every value is a whole number).
      target (np.ndarray | torch.Tensor): true class ids, same shape.
      ignore_index (int | None): pixels where ``target == ignore_index`` are not counted.
      empty (float): the value when no pixel is left to count (all ignored); default NaN.

    Returns:
      float: a Python float in [0, 1], or ``empty``.

    Raises:
      TypeError, ValueError: bad inputs, as in :func:`confusion_matrix` (no range check here:
        there is no ``num_classes``).
    """
    empty = _check_empty_value(empty)
    p, t, keep, _ = _labels_pair(pred, target, ignore_index)
    correct = cast(Array, p == t)  # elementwise: a bool array or tensor, as p and t
    if keep is None:
        n = _size(t)
    else:
        correct &= keep
        n = _count(keep)
    return empty if n == 0 else _count(correct) / n


def confusion_matrix(
    pred: Array, target: Array, num_classes: int, *, ignore_index: int | None = None
) -> np.ndarray:
    """Count pixels per (true class, predicted class) pair.

    ``cm[i, j]`` is the number of pixels whose **true** class is i and **predicted** class is j:
    rows are true classes, columns predicted ones (the same convention as
    ``sklearn.metrics.confusion_matrix``). The diagonal holds the correct pixels; row sums are
    the true class sizes, column sums the predicted ones. Confusion matrices of several batches
    add up: sum them and pass the total to :func:`iou_from_confusion` for a dataset-wide IoU.

    Arguments:
      pred (np.ndarray | torch.Tensor): predicted class ids in [0, num_classes), any shape,
        integer or bool dtype (floats only when every value is a whole number).
      target (np.ndarray | torch.Tensor): true class ids, same shape; may also hold
        ``ignore_index``.
      num_classes (int): number of classes K, background included.
      ignore_index (int | None): pixels where ``target == ignore_index`` are dropped from both
        inputs before counting (255 for Pascal VOC's void border). ``pred`` may not hold it
        where the target is a real class.

    Returns:
      np.ndarray: (K, K) int64 counts, on the CPU.

    Raises:
      TypeError: an input is None or not an array/tensor; ``num_classes`` or ``ignore_index``
        is not an int.
      ValueError: shapes differ; a float map holds non-integer values; a class id lies outside
        [0, num_classes) — the message names the values, whether they are in pred or target,
        and a likely fix (e.g. 0/255 masks used as class ids: map 255 -> 1).
    """
    num_classes = check_int(num_classes, "num_classes", hint="Pass e.g. num_classes=3.")
    if num_classes < 1:
        raise ValueError(
            f"num_classes must be at least 1, got {num_classes}. Count the background too."
        )
    p, t, keep, ignore_index = _labels_pair(pred, target, ignore_index)
    _check_range(t, keep, "target", num_classes, ignore_index)
    _check_range(p, keep, "pred", num_classes, ignore_index)
    bins = num_classes * num_classes
    index = t * num_classes + p  # one bin per (true, predicted) pair, in [0, K*K)
    if isinstance(index, torch.Tensor):
        if keep is not None:
            keep_t = cast(torch.Tensor, keep)  # a tensor, as index is (both from _labels_pair)
            index = torch.where(keep_t, index, bins)  # ignored pixels go to a spare last bin
        counts = torch.bincount(index, minlength=bins + 1).cpu().numpy()
    else:
        if keep is not None:
            index = np.where(keep, index, bins)
        counts = np.bincount(index, minlength=bins + 1)
    return counts[:bins].astype(np.int64, copy=False).reshape(num_classes, num_classes)


def iou_from_confusion(cm: np.ndarray, *, ignore_index: int | None = None) -> np.ndarray:
    """Per-class IoU from a confusion matrix (rows true, columns predicted).

    For class k: ``IoU_k = cm[k, k] / (row_k + col_k - cm[k, k])`` (true positives over true
    positives + false negatives + false positives). A class absent from both the prediction and
    the target (union 0) gets NaN, so ``np.nanmean`` leaves it out.

    Arguments:
      cm (np.ndarray): (K, K) non-negative integer counts, e.g. a sum of
        :func:`confusion_matrix` results over a dataset.
      ignore_index (int | None): the ``ignore_index`` the counts were made with; when it is a
        class id in [0, K), that class gets NaN, as in :func:`per_class_iou`.

    Returns:
      np.ndarray: (K,) float64 IoU per class, NaN where the class never appears.

    Raises:
      TypeError: ``cm`` is not a numpy array of integers; ``ignore_index`` not an int.
      ValueError: ``cm`` is not square 2-D, or holds negative counts.
    """
    if not isinstance(cm, np.ndarray) or cm.dtype.kind not in "iu":
        raise TypeError(
            f"cm must be an integer numpy array from confusion_matrix, got {type(cm).__name__}"
            + (f" of dtype {cm.dtype}" if isinstance(cm, np.ndarray) else "")
            + ". Pass confusion_matrix(pred, target, num_classes)."
        )
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1] or cm.shape[0] == 0:
        raise ValueError(f"cm must be a non-empty square (K, K) matrix, got shape {cm.shape}.")
    if (cm < 0).any():
        raise ValueError("cm holds negative counts; a confusion matrix counts pixels (>= 0).")
    tp = np.diag(cm).astype(np.float64)
    union = cm.sum(axis=0) + cm.sum(axis=1) - np.diag(cm)
    out = np.full(cm.shape[0], np.nan)
    present = union > 0
    out[present] = tp[present] / union[present]
    if ignore_index is not None:
        ignore_index = check_int(ignore_index, "ignore_index", hint="Pass e.g. ignore_index=255.")
        if 0 <= ignore_index < len(out):
            out[ignore_index] = np.nan
    return out


def mean_iou_from_confusion(
    cm: np.ndarray, *, ignore_index: int | None = None, empty: float = math.nan
) -> float:
    """The mIoU of a confusion matrix: the mean of :func:`iou_from_confusion` over the classes
    present. Sum the :func:`confusion_matrix` of every batch and pass the total for a dataset's
    mIoU (``seglab.train.evaluate`` does); ``mean_iou(pred, target, K)`` equals
    ``mean_iou_from_confusion(confusion_matrix(pred, target, K))``.

    Arguments and Raises: as :func:`iou_from_confusion`; ``empty`` as in :func:`mean_iou`.

    Returns:
      float: a Python float in [0, 1], or ``empty`` when no class is present.
    """
    empty = _check_empty_value(empty)
    per_class = iou_from_confusion(cm, ignore_index=ignore_index)
    present = ~np.isnan(per_class)
    return empty if not present.any() else float(per_class[present].mean())


def per_class_iou(
    pred: Array, target: Array, num_classes: int, *, ignore_index: int | None = None
) -> np.ndarray:
    """IoU of every class, treating each class as a binary mask ``labels == k``.

    Arguments:
      pred, target, num_classes, ignore_index: as in :func:`confusion_matrix`.

    Returns:
      np.ndarray: (num_classes,) float64; entry k is the IoU of class k, **NaN** when class k
      is in neither pred nor target (nothing to score), and NaN for class ``ignore_index``
      when it lies in [0, num_classes). A class predicted but absent from the target scores
      0.0 (all false positives), and so does a true class never predicted.

    Raises:
      TypeError, ValueError: as :func:`confusion_matrix`.
    """
    cm = confusion_matrix(pred, target, num_classes, ignore_index=ignore_index)
    return iou_from_confusion(cm, ignore_index=ignore_index)


def mean_iou(
    pred: Array,
    target: Array,
    num_classes: int,
    *,
    ignore_index: int | None = None,
    empty: float = math.nan,
) -> float:
    """Mean over classes of the per-class IoU (mIoU), the standard semantic-segmentation score.

    Each class weighs the same, however many pixels it has, so a model that ignores a small
    class is punished (unlike :func:`pixel_accuracy`). Classes absent from both pred and target
    are left out of the mean (see :func:`per_class_iou`); pixels are pooled over all axes.

    Arguments:
      pred, target, num_classes, ignore_index: as in :func:`confusion_matrix`.
      empty (float): the value when no class is present at all, i.e. every pixel is ignored;
        default NaN (there is nothing to score; ``np.nanmean`` over images skips it).

    Returns:
      float: a Python float in [0, 1], or ``empty``.

    Raises:
      TypeError, ValueError: as :func:`confusion_matrix`.

    Example:
      >>> target = np.array([[0, 0, 1, 1]])
      >>> pred = np.array([[0, 1, 1, 1]])
      >>> per_class_iou(pred, target, 3)  # class 0: 1/2, class 1: 2/3, class 2: absent
      array([0.5       , 0.66666667,        nan])
      >>> round(mean_iou(pred, target, 3), 4)  # (1/2 + 2/3) / 2
      0.5833
    """
    empty = _check_empty_value(empty)
    cm = confusion_matrix(pred, target, num_classes, ignore_index=ignore_index)
    return mean_iou_from_confusion(cm, ignore_index=ignore_index, empty=empty)
