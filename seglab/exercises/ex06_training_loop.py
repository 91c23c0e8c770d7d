"""Questions of exercises/06_training_loop.ipynb: find the bugs in a training loop.

- ``q1`` ``train_one_epoch(model, loader, optimizer)``: one epoch of cross-entropy training
  that really trains: ``model.train()`` first (validation may have left the model in eval
  mode), ``zero_grad`` before ``backward`` (not between ``backward`` and ``step``), and the
  epoch's loss as a Python float, the mean over scenes (a smaller last batch weighs less).
- ``q2`` ``evaluate_miou(model, loader, num_classes)``: the mean IoU of a whole split, from
  one confusion matrix summed over all batches (not the mean of per-batch scores), with the
  model in eval mode (BatchNorm's running statistics, not the batch's) and no gradients;
  classes that appear neither in the labels nor in the predictions are left out.

The models are tiny (a few hundred parameters) so every check runs in milliseconds on a CPU.
A "loader" here is any iterable of (images (B, 3, H, W) float32, labels (B, H, W) int64)
batches, such as a ``torch.utils.data.DataLoader`` or a list of pairs.
"""

from __future__ import annotations

import copy
import functools
import math
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from seglab.checks import Case, Question

__all__ = ["evaluate_miou", "q1", "q2", "train_one_epoch"]


# --------------------------------------------------------------------------- reference solutions


def train_one_epoch(model, loader, optimizer):
    """One epoch of training; returns the mean cross-entropy per scene as a float."""
    model.train()  # BatchNorm uses batch statistics and updates its running ones
    total, seen = 0.0, 0
    for images, labels in loader:
        logits = model(images)  # (B, K, H, W)
        loss = F.cross_entropy(logits, labels)  # the mean over the batch's pixels
        optimizer.zero_grad()  # clear the previous batch's gradients first
        loss.backward()
        optimizer.step()
        total += loss.item() * len(images)  # .item(): a float, no graph kept alive
        seen += len(images)
    return total / seen


def evaluate_miou(model, loader, num_classes):
    """Mean IoU over every batch of ``loader``, from one summed confusion matrix."""
    model.eval()  # BatchNorm uses its running statistics and leaves them alone
    confusion = torch.zeros(num_classes, num_classes, dtype=torch.long)  # rows: truth
    with torch.no_grad():
        for images, labels in loader:
            predicted = model(images).argmax(dim=1)  # (B, H, W): the class axis is 1
            pairs = labels.flatten() * num_classes + predicted.flatten()
            confusion += torch.bincount(pairs, minlength=num_classes**2).reshape(
                num_classes, num_classes
            )
    hits = confusion.diag().double()
    union = confusion.sum(0) + confusion.sum(1) - confusion.diag()
    present = union > 0  # a class nobody saw or predicted has no IoU
    return (hits[present] / union[present]).mean().item()


# --------------------------------------------------------------------------- test models and data

_SIZE = 8  # scenes are 8 x 8 pixels


class _Tiny(nn.Module):
    """A 1x1 convolution and BatchNorm: enough to show every mistake of a training loop."""

    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, num_classes, kernel_size=1)
        self.norm = nn.BatchNorm2d(num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.conv(x))

    def __repr__(self) -> str:
        return "TinyModel(conv 1x1 + BatchNorm)"


def _scenes(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 3, (n, _SIZE, _SIZE), generator=g)
    images = F.one_hot(labels, 3).permute(0, 3, 1, 2).float()  # the class, as a colour
    return images + 0.8 * torch.randn(images.shape, generator=g), labels


def _batches(images: torch.Tensor, labels: torch.Tensor, sizes: list[int]) -> list:
    out, start = [], 0
    for size in sizes:
        out.append((images[start : start + size], labels[start : start + size]))
        start += size
    return out


def _training_setup(eval_mode: bool = False, sizes: tuple[int, ...] = (4, 4, 2)) -> tuple:
    """(model, loader, optimizer), the same every time it is called."""
    torch.manual_seed(0)
    model = _Tiny()
    if eval_mode:
        model.eval()  # as validation leaves it
    loader = _batches(*_scenes(sum(sizes), seed=1), list(sizes))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    return model, loader, optimizer


def _verify_epoch(setup, returned, model, loader, optimizer) -> str | None:
    """Compare the learner's epoch with the reference epoch from the same start."""
    ref_model, ref_loader, ref_optimizer = setup()
    start = copy.deepcopy(ref_model.state_dict())
    expected_loss = train_one_epoch(ref_model, ref_loader, ref_optimizer)
    state, ref_state = model.state_dict(), ref_model.state_dict()
    weights = [k for k in ref_state if not k.startswith("norm.running") and "batches" not in k]
    if all(torch.equal(state[k], start[k]) for k in weights):
        return (
            "the model's weights did not change at all: the gradients never reached "
            "optimizer.step(). Is zero_grad() called between backward() and step()? It "
            "must come before backward()"
        )
    if torch.equal(state["norm.running_mean"], start["norm.running_mean"]):
        return (
            "BatchNorm's running statistics did not change: the model was trained in eval "
            "mode. Call model.train() at the start of the epoch (validation leaves the model "
            "in eval mode)"
        )
    if not all(torch.allclose(state[k], ref_state[k], atol=1e-5) for k in weights):
        return (
            "the weights after the epoch differ from one correct epoch's from the same start: "
            "each batch needs exactly zero_grad(), forward, loss, backward(), step(), in that "
            "order, once"
        )
    if isinstance(returned, torch.Tensor):
        return "the loss is a tensor: return a Python float (loss.item() for each batch)"
    if not isinstance(returned, float):
        return f"the loss should be a float, not {type(returned).__name__}"
    if abs(returned - expected_loss) > 1e-5:
        batch_mean = _mean_of_batch_losses(setup)
        if abs(returned - batch_mean) < 1e-5:
            return (
                f"{returned:.4f} is the mean of the batches' losses; the last batch is "
                f"smaller, so weigh each batch by its size: the mean per scene is "
                f"{expected_loss:.4f}"
            )
        return f"the mean loss per scene is {expected_loss:.4f}, not {returned:.4f}"
    return None


def _mean_of_batch_losses(setup) -> float:
    model, loader, optimizer = setup()
    model.train()
    losses = []
    for images, labels in loader:
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)


def _eval_setup(sizes: tuple[int, ...], num_classes: int = 3, seed: int = 2) -> tuple:
    """(model, loader, num_classes): a trained-looking model with non-trivial running stats."""
    torch.manual_seed(seed)
    model = _Tiny(num_classes)
    bias = cast(torch.Tensor, model.conv.bias)  # set: Conv2d(bias=True)
    running_mean = cast(torch.Tensor, model.norm.running_mean)  # set: track_running_stats
    running_var = cast(torch.Tensor, model.norm.running_var)
    with torch.no_grad():  # the colour channel of a class predicts it, with some confusion
        model.conv.weight.copy_(torch.eye(num_classes, 3)[:, :, None, None] * 2.0)
        bias.zero_()
        running_mean.copy_(torch.linspace(-0.5, 0.5, num_classes))
        running_var.fill_(2.0)
        if num_classes > 3:  # the classes after 2 never occur and are never predicted
            bias[3:] = -100.0
    model.train()  # left in train mode, as after training
    images, labels = _scenes(sum(sizes), seed=seed)
    return model, _batches(images, labels, list(sizes)), num_classes


def _verify_eval(setup, returned, model, loader, num_classes) -> str | None:
    ref_model, ref_loader, k = setup()
    before = copy.deepcopy(ref_model.state_dict())
    expected = evaluate_miou(ref_model, ref_loader, k)
    if isinstance(returned, torch.Tensor):
        return "the mean IoU is a tensor: return a Python float (.item())"
    if not isinstance(returned, float):
        return f"the mean IoU should be a float, not {type(returned).__name__}"
    if not torch.equal(model.state_dict()["norm.running_mean"], before["norm.running_mean"]):
        return (
            "BatchNorm's running statistics changed: the model predicted in train mode. Call "
            "model.eval() first (and predict inside torch.no_grad())"
        )
    if not math.isfinite(returned):
        return (
            f"the mean IoU is {returned}: a class that is neither in the labels nor predicted "
            "has IoU 0 / 0; leave such classes out of the mean"
        )
    if abs(returned - expected) > 1e-6:
        with_absent = expected * _present_classes(setup) / num_classes
        if abs(returned - with_absent) < 1e-6:
            return (
                f"{returned:.4f} counts a class that never occurs (IoU 0 / 0) as 0; leave it "
                f"out of the mean: {expected:.4f}"
            )
        per_batch = _mean_of_batch_mious(setup)
        if abs(returned - per_batch) < 1e-6:
            return (
                f"{returned:.4f} is the mean of the batches' mIoUs; sum one confusion matrix "
                f"over all batches, then compute the IoUs once: {expected:.4f}"
            )
        return f"the mean IoU of the whole split is {expected:.4f}, not {returned:.4f}"
    return None


def _present_classes(setup) -> int:
    """How many classes occur in the labels or the predictions of ``setup``'s split."""
    model, loader, k = setup()
    model.eval()
    seen = torch.zeros(k, dtype=torch.bool)
    with torch.no_grad():
        for images, labels in loader:
            seen[labels.unique()] = True
            seen[model(images).argmax(dim=1).unique()] = True
    return int(seen.sum())


def _mean_of_batch_mious(setup) -> float:
    model, loader, k = setup()
    return sum(evaluate_miou(model, [batch], k) for batch in loader) / len(loader)


# --------------------------------------------------------------------------- questions


def _training_case(description: str, why: str, expect_text: str, **setup: Any) -> Case:
    make = functools.partial(_training_setup, **setup)
    return Case(
        description,
        make,
        verify=functools.partial(_verify_epoch, make),
        expect_text=expect_text,
        why=why,
    )


def _eval_case(description: str, why: str, sizes: tuple[int, ...], num_classes: int = 3) -> Case:
    make = functools.partial(_eval_setup, sizes, num_classes)
    return Case(
        description,
        make,
        verify=functools.partial(_verify_eval, make),
        expect_text="the mean IoU of all scenes together, as a float, running statistics untouched",
        why=why,
    )


q1 = Question(
    "q1",
    "a training epoch that trains",
    [
        _training_case(
            "a tiny model in train mode, 10 scenes in two batches of 5 (SGD, lr 0.5)",
            "each batch: forward, loss, zero_grad(), backward(), step(). zero_grad() clears "
            "the previous batch's gradients; between backward() and step() it throws away "
            "the gradients that step() needs.",
            "the weights of one correct epoch, and its mean loss as a float",
            sizes=(5, 5),
        ),
        _training_case(
            "the same model arriving in eval mode, as validation leaves it",
            "in eval mode BatchNorm normalises with its running statistics and never updates "
            "them; a training epoch starts with model.train().",
            "BatchNorm's running statistics updated, as in one correct epoch",
            eval_mode=True,
            sizes=(5, 5),
        ),
        _training_case(
            "10 scenes in batches of 4, 4 and 2",
            "F.cross_entropy gives a batch's mean; the epoch's mean per scene weighs each "
            "batch's loss by its number of scenes.",
            "the mean loss per scene (the batch of 2 weighs half as much as a batch of 4)",
            sizes=(4, 4, 2),
        ),
    ],
    hints=[
        "Start with model.train(). In the loop: logits = model(images); loss = "
        "F.cross_entropy(logits, labels); then optimizer.zero_grad(), loss.backward(), "
        "optimizer.step().",
        "Keep a running total of loss.item() * len(images) and a count of scenes; return "
        "total / count.",
    ],
    solution=train_one_epoch,
    arg_names=["model", "loader", "optimizer"],
    on_pass="This loop is the heart of seglab.train (read it in seglab/train.py).",
)

q2 = Question(
    "q2",
    "the mean IoU of a whole split",
    [
        _eval_case(
            "a model left in train mode after training, 12 scenes in one batch",
            "BatchNorm in train mode normalises with the batch's own statistics (different "
            "predictions) and overwrites its running statistics: evaluate after model.eval().",
            sizes=(12,),
        ),
        _eval_case(
            "12 scenes in batches of 8 and 4",
            "the mean of per-batch scores weighs a batch of 4 like a batch of 8, and a class "
            "missing from one batch changes that batch's mean: count every pixel of the "
            "split in one confusion matrix, then compute the IoUs once.",
            sizes=(8, 4),
        ),
        _eval_case(
            "4 classes, of which class 3 is never in the labels nor predicted",
            "a class that nobody saw or predicted has no IoU (0 / 0): leave it out of the "
            "mean instead of counting it as 0.",
            sizes=(4, 4, 4),
            num_classes=4,
        ),
    ],
    hints=[
        "model.eval(), then a loop inside torch.no_grad(): predicted = "
        "model(images).argmax(dim=1). Add each batch's pixels to one (K, K) confusion matrix.",
        "torch.bincount(labels.flatten() * K + predicted.flatten(), minlength=K * K)"
        ".reshape(K, K) counts (truth, prediction) pairs. IoU = diagonal / (row sum + "
        "column sum - diagonal), for the classes whose union is above 0.",
    ],
    solution=evaluate_miou,
    arg_names=["model", "loader", "num_classes"],
    on_pass="seglab.evaluate does the same, and seglab.metrics.mean_iou_from_confusion "
    "holds the last two lines.",
)
