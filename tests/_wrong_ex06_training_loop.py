"""Known wrong answers to exercises/06_training_loop.ipynb: an epoch, the mean IoU of a split."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from _wrong_answers import wrong

# ---- ex06 q1: a training epoch


def _epoch(model, loader, optimizer, *, train=True, order="zbs", per_scene=True, item=True):
    if train:
        model.train()
    total, seen, losses = 0.0, 0, []
    for images, labels in loader:
        loss = F.cross_entropy(model(images), labels)
        for step in order:
            {"z": optimizer.zero_grad, "b": loss.backward, "s": optimizer.step}[step]()
        value = loss.item() if item else loss
        total = total + value * len(images)
        seen += len(images)
        losses.append(value)
    return total / seen if per_scene else sum(losses) / len(losses)


@wrong("ex06_training_loop.q1", "two batches of 5")
def zero_grad_between_backward_and_step(model, loader, optimizer):
    return _epoch(model, loader, optimizer, order="bzs")


@wrong("ex06_training_loop.q1", "two batches of 5")
def gradients_never_cleared(model, loader, optimizer):
    return _epoch(model, loader, optimizer, order="bs")


@wrong("ex06_training_loop.q1", "two batches of 5")
def epoch_loss_kept_as_a_tensor(model, loader, optimizer):
    return _epoch(model, loader, optimizer, item=False)


@wrong("ex06_training_loop.q1", "arriving in eval mode")
def epoch_without_model_train(model, loader, optimizer):
    return _epoch(model, loader, optimizer, train=False)


@wrong("ex06_training_loop.q1", "batches of 4, 4 and 2")
def epoch_loss_averaged_over_batches(model, loader, optimizer):
    return _epoch(model, loader, optimizer, per_scene=False)


# ---- ex06 q2: the mean IoU of a split


def _confusion_miou(model, loader, k, *, eval_mode=True, absent="skip", dim=1):
    if eval_mode:
        model.eval()
    confusion = torch.zeros(k, k, dtype=torch.long)
    with torch.no_grad():
        for images, labels in loader:
            predicted = model(images).argmax(dim=dim)
            pairs = labels.flatten() * k + predicted.flatten()
            confusion += torch.bincount(pairs, minlength=k * k).reshape(k, k)
    hits = confusion.diag().double()
    union = (confusion.sum(0) + confusion.sum(1) - confusion.diag()).double()
    if absent == "skip":
        return (hits[union > 0] / union[union > 0]).mean().item()
    if absent == "zero":
        return (hits / union.clamp(min=1)).mean().item()
    return (hits / union).mean().item()  # nan for an absent class


@wrong("ex06_training_loop.q2", "left in train mode")
def miou_predicted_in_train_mode(model, loader, num_classes):
    return _confusion_miou(model, loader, num_classes, eval_mode=False)


@wrong("ex06_training_loop.q2", "left in train mode")
def miou_argmax_over_the_batch_axis(model, loader, num_classes):
    return _confusion_miou(model, loader, num_classes, dim=0)


@wrong("ex06_training_loop.q2", "batches of 8 and 4")
def miou_averaged_over_batches(model, loader, num_classes):
    model.eval()
    scores = [_confusion_miou(model, [batch], num_classes) for batch in loader]
    return sum(scores) / len(scores)


@wrong("ex06_training_loop.q2", "class 3 is never")
def miou_counting_an_absent_class_as_zero(model, loader, num_classes):
    return _confusion_miou(model, loader, num_classes, absent="zero")


@wrong("ex06_training_loop.q2", "class 3 is never")
def miou_with_nan_for_an_absent_class(model, loader, num_classes):
    return _confusion_miou(model, loader, num_classes, absent="nan")
