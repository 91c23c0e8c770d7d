"""Questions 5 and 6 of exercises/05_unet.ipynb: a loss and a score from scratch (imported by
ex05_unet).

- ``q5`` ``soft_dice_loss(logits, targets, eps=1.0)``: 1 - the mean over classes of the soft
  Dice, ``(2 * sum(p * t) + eps) / (sum(p) + sum(t) + eps)`` with p = softmax over the classes
  and t = one-hot targets, summed over the batch and the pixels: exactly
  :func:`seglab.losses.dice_loss` with ``smooth=eps``, which computes the expected values and
  gradients.
- ``q6`` ``miou_from_confusion(confusion)``: the mean IoU of a (K, K) confusion matrix (rows
  true, columns predicted), ``diag / (row + column - diag)`` over the classes whose union is
  > 0, the convention of :func:`seglab.metrics.mean_iou_from_confusion`; a matrix that is not
  square 2-D, holds negative counts or is all zeros is refused with a ValueError (seglab
  returns its ``empty`` value, NaN, for the last).

The known mistakes (:class:`seglab.checks.Mistake`) are variants of the references with one
thing changed.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from seglab._check_values import describe
from seglab.checks import Case, Mistake, Question
from seglab.losses import dice_loss

__all__ = ["miou_from_confusion", "q5", "q6", "soft_dice_loss"]


# --------------------------------------------------------------------------- reference solutions


def soft_dice_loss(logits, targets, eps=1.0):
    """1 - mean over classes of the soft Dice; logits (B, K, H, W), targets (B, H, W) int64."""
    num_classes = logits.shape[1]
    probs = logits.softmax(dim=1)  # (B, K, H, W): probabilities, so there is a gradient
    onehot = F.one_hot(targets, num_classes)  # (B, H, W, K): the class axis comes last
    onehot = onehot.permute(0, 3, 1, 2).to(probs.dtype)  # (B, K, H, W), like probs
    dims = (0, 2, 3)  # sum over the batch and the pixels: one number per class
    intersection = (probs * onehot).sum(dims)  # (K,)
    total = probs.sum(dims) + onehot.sum(dims)  # (K,)
    dice = (2 * intersection + eps) / (total + eps)  # (K,)
    return 1 - dice.mean()


def miou_from_confusion(confusion):
    """Mean IoU of a (K, K) confusion matrix (rows: true class, columns: predicted class)."""
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(f"confusion must be a square (K, K) matrix, got shape {confusion.shape}")
    if (confusion < 0).any():
        raise ValueError("confusion holds negative counts; it counts pixels, so all are >= 0")
    if confusion.sum() == 0:
        raise ValueError("confusion is all zeros: no pixel was counted, so there is no score")
    hits = np.diag(confusion)  # true positives of each class
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - hits  # TP + FP + FN
    present = union > 0  # a class neither true nor predicted anywhere has no IoU
    return float((hits[present] / union[present]).mean())


# --------------------------------------------------------------------------- known mistakes


def _dice(logits, targets, eps=1.0, *, probs="softmax", onehot="permute", factor=2, **how):
    """soft_dice_loss with ``probs`` from ``"sigmoid"`` or ``"argmax"``, the one-hot
    ``"reshape"``d, another ``factor``, a Dice per image (``per_image=True``), ``eps`` fixed
    at 1.0 (``fixed_eps=True``) or the loss returned as a float (``item=True``)."""
    b, k, h, w = logits.shape
    p = {
        "softmax": lambda: logits.softmax(dim=1),
        "sigmoid": lambda: logits.sigmoid(),
        "argmax": lambda: F.one_hot(logits.argmax(1), k).permute(0, 3, 1, 2).float(),
    }[probs]()
    t = F.one_hot(targets, k)
    t = (t.reshape(b, k, h, w) if onehot == "reshape" else t.permute(0, 3, 1, 2)).to(p.dtype)
    eps = 1.0 if how.get("fixed_eps") else eps
    dims = (2, 3) if how.get("per_image") else (0, 2, 3)
    dice = (factor * (p * t).sum(dims) + eps) / (p.sum(dims) + t.sum(dims) + eps)
    loss = 1 - dice.mean()
    return loss.item() if how.get("item") else loss


_SOFT_DICE_MISTAKES = [
    Mistake(
        "Dice without the factor 2",
        partial(_dice, factor=1),
        "The intersection counts twice: 2 * sum(p * t), since sum(p) + sum(t) counts the "
        "overlap twice too; without it a perfect prediction scores 0.5.",
    ),
    Mistake(
        "the loss returned as a Python float (.item())",
        partial(_dice, item=True),
        "Return the tensor 1 - dice.mean(): loss.backward() needs it; .item() is for logging.",
    ),
    Mistake(
        "hard predictions (argmax) instead of probabilities",
        partial(_dice, probs="argmax"),
        "argmax has no gradient, so the model could not learn from this loss: use the "
        "probabilities p = logits.softmax(dim=1). That is what makes the Dice 'soft'.",
    ),
    Mistake(
        "the one-hot targets reshaped to (B, K, H, W) instead of permuted",
        partial(_dice, onehot="reshape"),
        "F.one_hot puts the class axis last, (B, H, W, K); reshape keeps the memory order and "
        "scrambles the pixels: move the axis with .permute(0, 3, 1, 2).",
    ),
    Mistake(
        "sigmoid instead of softmax",
        partial(_dice, probs="sigmoid"),
        "The classes of a pixel compete: p = logits.softmax(dim=1), whose K values sum to 1. "
        "A sigmoid scores each class on its own (for multi-label tasks).",
    ),
    Mistake(
        "a Dice per image, averaged over the batch",
        partial(_dice, per_image=True),
        "Sum over the batch and the pixels together, dims (0, 2, 3), as seglab.dice_loss "
        "does: one Dice per class for the whole batch, then the mean over the classes.",
    ),
    Mistake(
        "eps written as 1.0 in the code",
        partial(_dice, fixed_eps=True),
        "Use the argument eps (its default is 1.0) in the numerator and the denominator.",
    ),
]


def _miou(confusion, *, iou="iou", keep="union", absent="skip", check="all"):
    """miou_from_confusion with ``"dice"``, ``"double"`` (row + column), ``"recall"`` or
    ``"accuracy"`` instead of IoU; keeping the classes with a ``"row"`` > 0; absent classes
    as ``"zero"`` or ``"nan"``; or no checks (``check="none"``)."""
    confusion = np.asarray(confusion)
    if check == "all":
        miou_from_confusion(confusion)  # raises for a bad shape, negative counts, all zeros
    hits = np.diag(confusion)
    rows, columns = confusion.sum(axis=1), confusion.sum(axis=0)
    if iou == "accuracy":
        return float(hits.sum() / confusion.sum())
    union = {"dice": (rows + columns) / 2, "double": rows + columns, "recall": rows}.get(
        iou, rows + columns - hits
    )
    present = rows > 0 if keep == "row" else union > 0
    if absent == "zero":
        return float(np.where(present, hits / np.maximum(union, 1), 0.0).mean())
    if absent == "nan":
        with np.errstate(divide="ignore", invalid="ignore"):
            return float((hits / union).mean())
    return float((hits[present] / union[present]).mean())


_MIOU_MISTAKES = [
    Mistake(
        "a union of row + column, the true positives counted twice",
        partial(_miou, iou="double"),
        "The diagonal cell is in the row and in the column: union = row + column - diagonal.",
    ),
    Mistake(
        "the Dice score instead of IoU",
        partial(_miou, iou="dice"),
        "2 * diag / (row + column) is the Dice; IoU is diag / (row + column - diag).",
    ),
    Mistake(
        "the recall of each class (diagonal / row)",
        partial(_miou, iou="recall"),
        "Dividing by the row ignores the false positives (the column): IoU's union is "
        "row + column - diagonal.",
    ),
    Mistake(
        "the pixel accuracy (diagonal sum / total)",
        partial(_miou, iou="accuracy"),
        "Pixel accuracy lets a large class hide a small one: compute an IoU per class and "
        "average those.",
    ),
    Mistake(
        "absent classes counted as IoU 0",
        partial(_miou, absent="zero"),
        "A class with union 0 has no IoU (0 / 0): leave it out of the mean (union > 0).",
    ),
    Mistake(
        "a mean that includes the NaN of an absent class",
        partial(_miou, absent="nan"),
        "0 / 0 gives NaN and one NaN makes the mean NaN: keep only the classes with union > 0.",
    ),
    Mistake(
        "a mean over the classes present in the truth (row > 0)",
        partial(_miou, keep="row"),
        "A class predicted but never true has IoU 0 and counts: keep the classes whose union, "
        "not whose row, is > 0.",
    ),
    Mistake(
        "no check of the matrix's shape",
        partial(_miou, check="none"),
        "Check confusion.ndim == 2 and shape[0] == shape[1] first, and raise a ValueError "
        "that names the shape.",
    ),
]


# --------------------------------------------------------------------------- q5: soft Dice


def _dice_args(b: int, k: int, h: int, w: int, seed: int, confident: bool = False):
    """(logits (B, K, H, W) requiring grad, targets (B, H, W) int64), the same on every call."""

    def args() -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(seed)
        if confident:  # class 1 in the last column, class 0 elsewhere; logits +-20
            targets = (torch.arange(w) >= w - 1).long().expand(b, h, w).clone()
            logits = 40.0 * F.one_hot(targets, k).permute(0, 3, 1, 2).float() - 20.0
        else:
            targets = torch.randint(0, k, (b, h, w), generator=g)
            if b > 1:  # the images differ in what they hold: per-image Dice is not the same
                targets[0] = torch.where(targets[0] == k - 1, 0, targets[0])
            logits = 1.5 * torch.randn(b, k, h, w, generator=g)
        return logits.requires_grad_(True), targets

    return args


def _verify_dice(eps: float):
    def verify(got: object, logits: torch.Tensor, targets: torch.Tensor) -> str | None:
        if not isinstance(got, torch.Tensor):
            return (
                f"the loss came back as {describe(got)}: return the tensor itself (no .item(), "
                "no float()), so that loss.backward() can reach the logits"
            )
        if got.ndim != 0:
            return f"the loss has shape {tuple(got.shape)}: it is one number, 1 - dice.mean()"
        fresh = logits.detach().clone().requires_grad_(True)
        want = dice_loss(fresh, targets, fresh.shape[1], smooth=eps)
        (want_grad,) = torch.autograd.grad(want, fresh)
        value, expected = float(got.detach()), float(want.detach())
        if abs(value - expected) > 1e-5:
            return (
                f"the loss is {value:.6f}, but 1 - the mean over classes of the soft Dice is "
                f"{expected:.6f}"
            )
        if got.grad_fn is None:
            return (
                "the loss has no gradient (its grad_fn is None): a training step could not "
                "change the model. Keep every step differentiable: softmax probabilities, "
                "not argmax, and no .detach() or .item()"
            )
        try:
            (grad,) = torch.autograd.grad(got, logits)
        except RuntimeError as exc:
            return f"the loss does not depend on the logits: {describe(exc)}"
        if not torch.allclose(grad, want_grad, rtol=1e-4, atol=1e-6):
            return "the value is right, but the gradient with respect to the logits is not"
        return None

    return verify


def _dice_case(description: str, args, why: str, eps: float | None = None, sanity=False) -> Case:
    return Case(
        description,
        args,
        verify=_verify_dice(1.0 if eps is None else eps),
        expect_text=f"seglab.losses.dice_loss(logits, targets, K, smooth={eps or 1.0}): a scalar "
        "tensor with a gradient",
        why=why,
        kwargs={} if eps is None else {"eps": eps},
        sanity=sanity,
    )


q5 = Question(
    "q5",
    "the soft-Dice loss",
    [
        _dice_case(
            "one 4x4 image, 2 classes, a confident and right prediction (logits +-20)",
            _dice_args(1, 2, 4, 4, seed=0, confident=True),
            why=(
                "each class's Dice is (2 * sum(p * t) + eps) / (sum(p) + sum(t) + eps): 1 when "
                "p equals t, so the loss is 0. It must be a tensor with a gradient."
            ),
        ),
        _dice_case(
            "one 3x5 image, 3 classes, uncertain logits",
            _dice_args(1, 3, 3, 5, seed=1),
            why=(
                "p = softmax over the class axis (dim=1): the probabilities of a pixel sum to "
                "1, so the classes compete."
            ),
        ),
        _dice_case(
            "a batch of 2 images of 4x4, 3 classes",
            _dice_args(2, 3, 4, 4, seed=2),
            why=(
                "the sums run over the batch and the pixels together (dims 0, 2, 3): one Dice "
                "per class for the whole batch, then the mean over the classes."
            ),
        ),
        _dice_case(
            "eps=0.5, class 2 absent from the targets",
            _dice_args(1, 3, 4, 4, seed=3),
            eps=0.5,
            why="eps is an argument: use it, in the numerator and in the denominator.",
        ),
        _dice_case(
            "a batch of 3 images of 2x6, 4 classes",
            _dice_args(3, 4, 2, 6, seed=4),
            why="the same formula for any batch, size and number of classes.",
            sanity=True,
        ),
    ],
    arg_names=("logits", "targets"),
    hints=[
        "p = logits.softmax(dim=1); t = F.one_hot(targets, K), whose class axis comes last: "
        "move it to axis 1 with .permute(0, 3, 1, 2). Sum p * t, p and t over dims (0, 2, 3).",
        "dice = (2 * (p * t).sum(dims) + eps) / (p.sum(dims) + t.sum(dims) + eps) is one number "
        "per class; return 1 - dice.mean(), a tensor (no .item()).",
    ],
    solution=soft_dice_loss,
    mistakes=_SOFT_DICE_MISTAKES,
    on_pass=(
        "This is seglab.dice_loss(logits, targets, K, smooth=eps), the Dice half of "
        "seglab.train's loss='ce+dice'."
    ),
)


# --------------------------------------------------------------------------- q6: mIoU

_ABSENT = np.array([[5, 1, 0], [2, 4, 0], [0, 0, 0]])  # class 2: neither true nor predicted
_PREDICTED_ONLY = np.array([[4, 0, 1], [1, 3, 1], [0, 0, 0]])  # class 2: predicted, never true
_EVALUATION = np.array(
    [[51200, 310, 95, 40], [420, 8100, 12, 0], [150, 30, 2950, 70], [60, 0, 45, 1300]]
)

q6 = Question(
    "q6",
    "mIoU from a confusion matrix",
    [
        Case(
            "a 2x2 matrix worked by hand, [[3, 1], [2, 4]]",
            (np.array([[3, 1], [2, 4]]),),
            expected=(3 / 6 + 4 / 7) / 2,
            why=(
                "IoU of class 0: 3 / (4 + 5 - 3) = 0.5 (its row, its column, the diagonal "
                "counted once); of class 1: 4 / (6 + 5 - 4) = 0.571; mIoU = their mean."
            ),
        ),
        Case(
            "class 2 neither true nor predicted anywhere (its union is 0)",
            (_ABSENT,),
            expected=(5 / 8 + 4 / 7) / 2,
            why="a class with union 0 has no IoU (0 / 0): leave it out of the mean.",
        ),
        Case(
            "class 2 predicted but never true",
            (_PREDICTED_ONLY,),
            expected=(4 / 6 + 3 / 5 + 0) / 3,
            why=(
                "a class that is predicted but never true has union > 0 and IoU 0: it counts "
                "(the model was wrong about it). Keep the classes whose union is > 0."
            ),
        ),
        Case(
            "a 4x4 matrix from a real evaluation (large counts)",
            (_EVALUATION,),
            expected=float(
                np.mean(
                    np.diag(_EVALUATION)
                    / (_EVALUATION.sum(0) + _EVALUATION.sum(1) - np.diag(_EVALUATION))
                )
            ),
            why="the same formula for any number of classes.",
            sanity=True,
        ),
        Case(
            "a 3x1 matrix (not square)",
            (np.array([[3], [1], [2]]),),
            raises=ValueError,
            why="rows and columns are the same classes: check the shape and say what it was.",
        ),
        Case(
            "a 1-D array of 3 counts",
            (np.array([3, 1, 2]),),
            raises=ValueError,
            why="check confusion.ndim == 2 before reading shape[1].",
        ),
        Case(
            "a matrix with a negative count",
            (np.array([[3, -1], [2, 4]]),),
            raises=ValueError,
            why="a confusion matrix counts pixels: a negative entry means it was built wrong.",
        ),
        Case(
            "an all-zero 3x3 matrix (nothing counted)",
            (np.zeros((3, 3), dtype=np.int64),),
            raises=ValueError,
            why=(
                "with nothing counted there is nothing to score: raise a ValueError rather "
                "than return NaN or 0, which would look like a (terrible) score."
            ),
        ),
    ],
    arg_names=("confusion",),
    hints=[
        "np.diag(confusion) holds the true positives; confusion.sum(axis=1) the true pixels of "
        "each class (rows), confusion.sum(axis=0) the predicted ones (columns).",
        "union = rows + columns - diagonal; keep the classes with union > 0 and return "
        "float((diag[keep] / union[keep]).mean()). Check the shape, the sign and the total "
        "first.",
    ],
    solution=miou_from_confusion,
    mistakes=_MIOU_MISTAKES,
    on_pass=(
        "seglab.metrics.mean_iou_from_confusion has the same convention; for an all-zero "
        "matrix it returns its `empty` value (NaN by default) instead of raising."
    ),
)
