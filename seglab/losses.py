"""Losses for per-pixel classification, and the target checks that run before them.

Training a segmentation network scores every pixel as a classification::

    logits = model(images)                   # (B, K, H, W): one score per class and pixel
    loss = F.cross_entropy(logits, targets)  # targets (B, H, W) int64 class ids in [0, K)

:func:`compute_loss` is that line for the losses :func:`seglab.train.train` accepts by name
(:data:`LOSSES`): ``"ce"``, pixel-wise cross-entropy, and ``"ce+dice"``, which adds
:func:`dice_loss`, the soft (differentiable) Dice that helps small classes. Both leave out the
pixels whose target is ``ignore_index`` (255 in Pascal VOC): the loss is the one the same
batch would give with those pixels cut out.

:func:`check_target` runs **before any loss**. The classic mistake - 0/255 PNG masks used as
class ids - otherwise ends in ``IndexError: Target 255 is out of bounds`` on the CPU, or a
"device-side assert triggered" on a GPU that poisons the whole CUDA context; here it is a
``ValueError`` that names the values and the fix.

The training and evaluation loops that use these live in :mod:`seglab.train`, which also
re-exports every name defined here.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from seglab._util import check_int, summarize_values

#: Names accepted by the ``loss`` argument of :func:`compute_loss` and ``seglab.train``.
LOSSES = ("ce", "ce+dice")

LossArg = str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


# --------------------------------------------------------------------------- checks


def check_target(
    logits: torch.Tensor | tuple[int, ...], target: object, ignore_index: int | None = None
) -> torch.Tensor:
    """Check a batch of targets against the logits, before any loss sees them.

    Arguments:
      logits (torch.Tensor | tuple): (B, K, H, W) model output, K = number of classes - or
        just its shape, to check the targets before running the model.
      target: (B, H, W) integer class ids in [0, K), or ``ignore_index``.
      ignore_index (int | None): a value marking unlabelled pixels (255 in Pascal VOC).

    Returns:
      torch.Tensor: the target as int64 (integer and bool targets are converted; that loses
      nothing), on its own device.

    Raises:
      TypeError: the target is not a tensor, or holds floats ("target.long()").
      ValueError: shapes disagree (both are named), or class ids lie outside [0, K) - with the
        values found and the likely fix (0/255 masks: ``(mask > 0).long()`` or
        ``ignore_index=255``).
    """
    if not isinstance(target, torch.Tensor):
        raise TypeError(
            f"targets must be a torch.Tensor of int64 class ids, got {type(target).__name__}; "
            "convert a numpy label map with torch.from_numpy(labels).long()."
        )
    if target.dtype.is_floating_point or target.dtype.is_complex:
        raise TypeError(
            f"targets must be int64 class ids: target.long() (got dtype {target.dtype}). "
            "Cross-entropy reads each target pixel as the index of its class, not a score."
        )
    lshape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else tuple(logits)
    tshape = tuple(target.shape)
    if len(lshape) != 4:
        raise ValueError(f"logits must be 4-D (B, K, H, W), got shape {lshape}.")
    expected = (lshape[0], *lshape[2:])
    if tshape != expected:
        if tshape == (lshape[0], 1, *lshape[2:]):
            fix = "drop the channel axis with target.squeeze(1)"
        elif tshape == lshape:
            fix = "this looks one-hot; take class ids with target.argmax(1)"
        elif target.ndim == 3 and tshape[0] == lshape[0]:
            fix = (
                "resize the label maps like the images (nearest neighbour, never bilinear, "
                "so ids stay whole), or pad/crop both the same way"
            )
        else:
            fix = "targets must hold one class id per pixel, (B, H, W)"
        raise ValueError(
            f"logits have shape {lshape} (B, K, H, W) but targets {tshape}; expected targets "
            f"{expected}: {fix}."
        )
    target = target.long()
    k = lshape[1]
    valid = (target >= 0) & (target < k)
    if ignore_index is not None:
        valid |= target == ignore_index
    if not bool(valid.all()):
        bad = target[~valid]
        if bool((bad == 255).any()):
            fix = (
                "if these are 0/255 masks, map 255 to 1: target = (mask > 0).long(); if 255 "
                "means 'unlabelled', pass ignore_index=255"
            )
        elif bool((bad < 0).any()):
            fix = "class ids are >= 0; to skip unlabelled pixels pass their value as ignore_index"
        else:
            fix = (
                f"build the model with num_classes={int(bad.max()) + 1}, or remap the labels "
                f"to 0..{k - 1}"
            )
        ignoring = "" if ignore_index is None else f" (ignore_index={ignore_index})"
        found = summarize_values(bad, brackets=False)
        raise ValueError(
            f"targets hold class ids {found} outside [0, {k}): the model outputs {k} "
            f"classes{ignoring}. Fix: {fix}."
        )
    return target


def _check_ignore_index(ignore_index: object) -> int | None:
    if ignore_index is None:
        return None
    return check_int(ignore_index, "ignore_index", hint="Pass an int or None, e.g. 255.")


def _check_num_classes(num_classes: object, logits: torch.Tensor | tuple[int, ...]) -> int:
    shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else tuple(logits)
    k = shape[1]
    if num_classes is not None and num_classes != k:
        raise ValueError(
            f"num_classes={num_classes!r} but the model outputs {k} classes (logits "
            f"{shape}): pass num_classes={k}, or build the model with num_classes={num_classes}."
        )
    return k


def _check_loss(loss: object) -> LossArg:
    if callable(loss) or loss in LOSSES:
        return loss
    raise ValueError(
        f"loss must be one of {', '.join(repr(n) for n in LOSSES)} or a function "
        f"(logits, target) -> scalar, got {loss!r}."
    )


# --------------------------------------------------------------------------- losses


def dice_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    num_classes: int,
    ignore_index: int | None = None,
    *,
    smooth: float = 1.0,
) -> torch.Tensor:
    """Soft multi-class Dice loss: ``1 - mean over classes k of Dice_k``.

    With p = softmax(logits) and t = one-hot(target), summed over the batch and all pixels
    that are not ignored::

        Dice_k = (2 * sum(p_k * t_k) + smooth) / (sum(p_k) + sum(t_k) + smooth)

    Soft, because probabilities replace the 0/1 prediction, so it has a gradient. Every class
    counts the same however few pixels it has (unlike cross-entropy, dominated by the
    background). ``smooth`` keeps a class absent from the batch finite: it then scores about
    1 when the model predicts none of it and less the more it predicts.

    Arguments:
      logits (torch.Tensor): (B, K, H, W) float, raw scores (before softmax).
      target (torch.Tensor): (B, H, W) integer class ids in [0, K), or ``ignore_index``.
      num_classes (int): K; must equal ``logits.shape[1]``.
      ignore_index (int | None): target value of pixels to leave out.
      smooth (float): >= 0, added to numerator and denominator.

    Returns:
      torch.Tensor: a scalar in [0, 1] (0 = perfect), differentiable w.r.t. ``logits``.
    """
    ignore_index = _check_ignore_index(ignore_index)
    if not isinstance(logits, torch.Tensor) or not logits.dtype.is_floating_point:
        got = logits.dtype if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise TypeError(f"logits must be a float tensor (B, K, H, W), got {got}.")
    if logits.ndim == 4:
        _check_num_classes(num_classes, logits)
    target = check_target(logits, target, ignore_index)
    if not smooth >= 0:
        raise ValueError(f"smooth must be >= 0, got {smooth!r}; the usual value is 1.0.")
    probs = logits.softmax(dim=1)  # (B, K, H, W)
    if ignore_index is None:
        valid = torch.ones_like(target, dtype=torch.bool)  # (B, H, W)
    else:
        valid = target != ignore_index
    safe = torch.where(valid, target, torch.zeros_like(target))  # ignored pixels -> class 0 ...
    onehot = F.one_hot(safe, num_classes).permute(0, 3, 1, 2).to(probs.dtype)  # (B, K, H, W)
    mask = valid.unsqueeze(1).to(probs.dtype)  # (B, 1, H, W)  ... then masked out here
    probs, onehot = probs * mask, onehot * mask
    dims = (0, 2, 3)  # sum over batch and pixels, one number per class
    intersection = (probs * onehot).sum(dims)  # (K,)
    cardinality = probs.sum(dims) + onehot.sum(dims)  # (K,)
    dice = (2 * intersection + smooth) / (cardinality + smooth)  # (K,)
    return 1 - dice.mean()


def compute_loss(
    logits: torch.Tensor,
    target: object,
    loss: LossArg = "ce",
    *,
    num_classes: int | None = None,
    ignore_index: int | None = None,
) -> torch.Tensor:
    """The training loss of one batch, after :func:`check_target`.

    Arguments:
      logits (torch.Tensor): (B, K, H, W) float.
      target: (B, H, W) integer class ids.
      loss: ``"ce"`` (pixel-wise cross-entropy, mean over the pixels not ignored),
        ``"ce+dice"`` (cross-entropy + :func:`dice_loss`, equal weights), or a function
        ``(logits, target) -> scalar tensor``.
      num_classes (int | None): checked against ``logits.shape[1]`` when given.
      ignore_index (int | None): target value of pixels to leave out.

    Returns:
      torch.Tensor: a scalar.
    """
    k = _check_num_classes(num_classes, logits)
    target = check_target(logits, target, ignore_index)
    if callable(loss):
        return loss(logits, target)
    # -100 is cross_entropy's own default: no real label is negative (check_target made sure)
    ce = F.cross_entropy(
        logits, target, ignore_index=-100 if ignore_index is None else ignore_index
    )
    if loss == "ce":
        return ce
    if loss == "ce+dice":
        return ce + dice_loss(logits, target, k, ignore_index)
    _check_loss(loss)
    raise AssertionError("unreachable")  # pragma: no cover
