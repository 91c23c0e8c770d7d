"""A small training and evaluation loop for the U-Net lessons.

Training a segmentation network is the classification loop you may know, applied per pixel::

    for images, targets in loader:           # (B, C, H, W) float, (B, H, W) int64 class ids
        logits = model(images)               # (B, K, H, W): one score per class and pixel
        loss = F.cross_entropy(logits, targets)
        optimizer.zero_grad(); loss.backward(); optimizer.step()

:func:`train` is that loop, plus what a notebook needs around it: an optional validation pass
after every epoch, a :class:`History` of the numbers (with ``.plot()``), a progress bar, a seed
for repeatable runs, and **target checks before the loss**, so that 0/255 PNG masks used as
class ids stop with a ``ValueError`` that names the fix instead of an ``IndexError`` or a
poisoned CUDA context.

:func:`evaluate` sums one confusion matrix over a whole loader (``seglab.metrics``) and returns
loss, mean IoU, per-class IoU and pixel accuracy. :func:`predict` turns images into label maps.

The losses and the target checks live in :mod:`seglab.losses` (:func:`compute_loss`,
:func:`dice_loss`, :func:`check_target`, :data:`LOSSES`); they are imported here too, so
``from seglab.train import dice_loss`` keeps working.

Two habits this module keeps for you: evaluation runs in ``model.eval()`` mode under
``torch.no_grad()`` (BatchNorm uses its running statistics, nothing is recorded for backprop),
and every function puts the model back in the train/eval mode it found it in.

**Many processes.** Started by ``torchrun`` and called inside ``seglab.distributed.
process_group()``, the same :func:`train` trains one model with many processes (GPUs or CPU
cores, on one machine or several). Each process (rank) runs this loop on its own share of every
batch; :class:`~torch.nn.parallel.DistributedDataParallel` averages the gradients over the ranks
during ``backward()`` (an *all-reduce*), so every rank takes the same optimizer step and the
copies of the model stay identical. What changes, inside the loop:

- the model is wrapped in ``DistributedDataParallel`` (which first copies rank 0's weights to
  every rank);
- a ``DistributedSampler`` gets ``set_epoch`` before every epoch, so that each epoch is a new
  shuffle, the same on every rank (and the next call to :func:`train` continues the count);
- the loss and the confusion matrix are summed over the ranks (``seglab.distributed.all_sum``):
  every rank's :class:`History` holds the same numbers, those of the whole data set;
- progress bars show on rank 0 only; BatchNorm's running statistics are copied from rank 0 to
  every rank after each epoch, so that evaluation and checkpoints see one model.

``python -m seglab.train`` (``seglab/train_cli.py``) is the command line around it: data,
checkpoints written atomically by rank 0, and ``--resume``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

import numpy as np
import torch
from torch import nn

from seglab import distributed
from seglab._train_parallel import (
    Precision,
    check_parallel_loader,
    data_parallel,
    epoch_sampler,
    sync_buffers,
)
from seglab._util import check_int
from seglab.device import get_device, seed_everything
from seglab.losses import (
    LOSSES,
    LossArg,
    _check_ignore_index,
    _check_loss,
    _check_num_classes,
    check_target,
    compute_loss,
    dice_loss,
)
from seglab.metrics import confusion_matrix, iou_from_confusion, mean_iou_from_confusion
from seglab.unet import UNet

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "LOSSES",
    "History",
    "LossArg",
    "check_target",
    "compute_loss",
    "dice_loss",
    "evaluate",
    "predict",
    "train",
]

_REPR_ROWS = 5  # a History longer than twice this shows its first and last few epochs


# --------------------------------------------------------------------------- history


@dataclass
class History:
    """Per-epoch numbers of a :func:`train` run; epoch ``i`` (from 1) is index ``i - 1``.

    Attributes:
      train_loss: mean training loss of each epoch (over its batches, weighted by batch size).
      val_loss: loss on the validation loader after each epoch (empty without one).
      val_miou: mean IoU on the validation loader after each epoch (empty without one).
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_miou: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.train_loss)

    def __repr__(self) -> str:
        columns = {"train_loss": self.train_loss}
        if self.val_loss:
            columns["val_loss"] = self.val_loss
        if self.val_miou:
            columns["val_mIoU"] = self.val_miou
        s = "" if self.epochs == 1 else "s"
        lines = [f"History({self.epochs} epoch{s})"]
        lines.append("epoch " + " ".join(f"{name:>10}" for name in columns))
        shown: Sequence[int] = range(self.epochs)
        if self.epochs > 2 * _REPR_ROWS:  # long runs: the first and last few epochs
            shown = [*range(_REPR_ROWS), -1, *range(self.epochs - _REPR_ROWS, self.epochs)]
        for i in shown:
            if i == -1:
                lines.append("  ...")
                continue
            values = " ".join(f"{col[i]:>10.4f}" for col in columns.values())
            lines.append(f"{i + 1:>5} {values}")
        return "\n".join(lines)

    def plot(self) -> Figure:
        """Loss curves (train and validation) and, with validation, the mIoU curve.

        Returns:
          matplotlib.figure.Figure: one or two axes side by side. In a notebook it is shown
          when the cell ends; assign it (``fig = history.plot()``) so it is not shown twice.

        Raises:
          ValueError: the history is empty (nothing was trained yet).
        """
        import matplotlib.pyplot as plt  # here, so that importing seglab.train stays light

        if self.epochs == 0:
            raise ValueError("History is empty: run train(...) for at least one epoch first.")
        epochs = range(1, self.epochs + 1)
        n = 2 if self.val_miou else 1
        fig, axes = plt.subplots(1, n, figsize=(5 * n, 3.5), squeeze=False)
        ax = axes[0, 0]
        ax.plot(epochs, self.train_loss, marker="o", label="train")
        if self.val_loss:
            ax.plot(epochs, self.val_loss, marker="o", label="validation")
        ax.set(xlabel="epoch", ylabel="loss", title="loss")
        ax.legend()
        if self.val_miou:
            ax = axes[0, 1]
            ax.plot(epochs, self.val_miou, marker="o", color="C2")
            ax.set(xlabel="epoch", ylabel="mIoU", title="validation mean IoU", ylim=(0, 1))
        fig.tight_layout()
        return fig


# --------------------------------------------------------------------------- batches and devices


def _logits_shape(model: nn.Module, images: torch.Tensor) -> tuple[int, ...] | None:
    """The (B, K, H, W) shape ``model`` will output for ``images``, when known in advance
    (a seglab UNet: same size as its input); None for other models."""
    if isinstance(model, UNet) and images.ndim == 4:
        b, _, h, w = images.shape
        return (b, model.config.num_classes, h, w)
    return None


class EvalResult(TypedDict):
    """What :func:`evaluate` returns (a plain dict at run time)."""

    loss: float
    miou: float
    per_class_iou: np.ndarray
    pixel_accuracy: float
    confusion_matrix: np.ndarray


def _split_batch(batch: object) -> tuple[torch.Tensor, torch.Tensor | np.ndarray]:
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        images, target = batch
        if isinstance(images, torch.Tensor):
            # target: whatever the loader gave; compute_loss and confusion_matrix check it
            return images, target
    what = type(batch).__name__
    if isinstance(batch, (tuple, list)):
        what += f" of {len(batch)} items"
    elif isinstance(batch, dict):
        what += f" with keys {list(batch)}"
    raise TypeError(
        f"each batch must be a pair (images, targets) of tensors, got {what}; a Dataset whose "
        "items are (image (C, H, W), label map (H, W)) gives that with a DataLoader."
    )


def _model_device(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _resolve_device(model: nn.Module, device: str | torch.device | None) -> torch.device:
    """``device`` checked (and the model moved there), or the model's own device."""
    if device is None:
        return _model_device(model)
    try:
        device = get_device(device)
    except (TypeError, ValueError) as exc:  # get_device names its own argument, "prefer"
        message = str(exc).removeprefix("prefer")
        raise type(exc)(f"device{message}") from None
    model.to(device)
    return device


def _progress_disabled(progress: bool) -> bool:
    if not progress or not distributed.world_info().is_main:  # bars on rank 0 only
        return True
    env = os.environ.get("TQDM_DISABLE", "").strip().lower()
    return env not in ("", "0", "false", "no")


# --------------------------------------------------------------------------- loops


def train(
    model: nn.Module,
    train_loader: Iterable,
    *,
    epochs: int,
    optimizer: torch.optim.Optimizer | None = None,
    loss: LossArg = "ce",
    val_loader: Iterable | None = None,
    num_classes: int | None = None,
    ignore_index: int | None = None,
    device: str | torch.device | None = None,
    progress: bool = True,
    seed: int | None = None,
    callback: Callable[[int, History], object] | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    amp: bool = False,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; evaluate after each one.

    Arguments:
      model (nn.Module): maps (B, C, H, W) float images to (B, K, H, W) logits, e.g. a
        ``seglab.unet.UNet``. Trained in place.
      train_loader: yields ``(images, targets)``: (B, C, H, W) float and (B, H, W) integer
        class ids (a ``DataLoader`` over ``seglab.data.SyntheticScenes`` does).
      epochs (int): number of passes over ``train_loader`` (>= 1).
      optimizer: default ``torch.optim.AdamW(model.parameters(), lr=1e-3)``, made anew on each
        call - pass your own to keep its state across calls.
      loss: ``"ce"``, ``"ce+dice"`` or a function ``(logits, target) -> scalar``
        (see :func:`compute_loss`).
      val_loader: like ``train_loader``; when given, :func:`evaluate` runs after every epoch
        and fills ``val_loss`` and ``val_miou``.
      num_classes (int | None): K; checked against the model's output when given.
      ignore_index (int | None): target value of unlabelled pixels (255 in Pascal VOC).
      device: where to train; the model is moved there. None: where the model already is.
        ``seglab.get_device()`` picks the best available.
      progress (bool): show tqdm bars (also off when the environment sets ``TQDM_DISABLE=1``).
      seed (int | None): seeds Python, NumPy and torch first (``seglab.seed_everything``), so
        the data order (a shuffling ``DataLoader``) and any dropout repeat; on the CPU two
        runs from the same initial weights then give identical numbers. The initial weights
        come from the seed in force when the model was built.
      callback: called as ``callback(epoch, history)`` after every epoch (``epoch`` from 0);
        return ``True`` to stop early.
      scheduler: a learning-rate scheduler built on ``optimizer`` (e.g.
        ``torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2,
        total_steps=epochs * len(train_loader))``), stepped after every optimizer step, i.e.
        once per batch, not per epoch. Needs ``optimizer``.
      amp (bool): mixed precision (``torch.autocast``, bfloat16 or float16) on a CUDA device;
        a ``ValueError`` elsewhere.

    Inside an initialised process group of several ranks (``torchrun``; see the module's
    docstring), every rank calls ``train`` with the same arguments and its own loader: the
    model is wrapped in ``DistributedDataParallel``, a ``DistributedSampler``'s ``set_epoch``
    is called before each epoch, the numbers in the History are those of all ranks together
    (the same on every rank), ``callback`` runs on every rank (stopping when any rank's returns
    True), and progress bars show on rank 0 only. Every rank must take the same number of
    steps per epoch (a ``DistributedSampler`` sees to it; a different ``len`` is a ValueError).

    Returns:
      History: per-epoch training loss, validation loss and mIoU.

    Raises:
      TypeError, ValueError: bad arguments, or a batch the loss cannot take (float targets,
        class ids outside [0, K) such as 0/255 masks, mismatched shapes), checked before the
        loss is computed. The model keeps the train/eval mode it had.
    """
    epochs = check_int(epochs, "epochs", hint="Pass e.g. epochs=5.")
    if epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}; e.g. epochs=5.")
    loss = _check_loss(loss)
    ignore_index = _check_ignore_index(ignore_index)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be a function (epoch, history), got {callback!r}.")
    device = _resolve_device(model, device)
    if seed is not None:
        seed_everything(seed)
    if scheduler is not None:
        if not isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
            raise TypeError(
                "scheduler must be a torch.optim.lr_scheduler scheduler (e.g. OneCycleLR), "
                f"got {type(scheduler).__name__}."
            )
        if optimizer is None or scheduler.optimizer is not optimizer:
            raise ValueError(
                "scheduler must be built on the optimizer passed to train: pass both, e.g. "
                "optimizer=opt, scheduler=OneCycleLR(opt, max_lr=1e-2, total_steps=...)."
            )
    if optimizer is None:
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    precision = Precision(amp, device)
    disable = _progress_disabled(progress)
    from tqdm.auto import tqdm  # notebook bars in Jupyter, text bars elsewhere

    parallel = distributed.active()  # several ranks: gradients and numbers are all-reduced
    sampler = epoch_sampler(train_loader)
    first_epoch = int(getattr(sampler, "epoch", 0))  # a later call continues the count
    if parallel:
        check_parallel_loader(train_loader, sampler)
    net = data_parallel(model, device) if parallel else model  # what the forward pass calls
    bare = getattr(net, "module", net)  # the model itself, for shape checks and buffers
    history = History()
    was_training = model.training
    bar = tqdm(range(epochs), desc="training", unit="epoch", disable=disable)
    try:
        for epoch in bar:
            net.train()
            if sampler is not None:
                sampler.set_epoch(first_epoch + epoch)  # type: ignore[attr-defined]
            total, count, k = 0.0, 0, num_classes
            batches = tqdm(train_loader, desc=f"epoch {epoch + 1}", leave=False, disable=disable)
            for batch in batches:
                images, target = _split_batch(batch)
                images = images.to(device)  # (B, C, H, W)
                target = target.to(device) if isinstance(target, torch.Tensor) else target
                # A seglab UNet's output shape is known in advance: check the targets before
                # the forward pass, which in train mode updates BatchNorm's running statistics,
                # so that a bad batch stops training without changing the model at all.
                expected = _logits_shape(bare, images)
                if expected is not None:
                    _check_num_classes(num_classes, expected)
                    target = check_target(expected, target, ignore_index)
                with precision.autocast():
                    logits = net(images)  # (B, K, H, W)
                    batch_loss = compute_loss(
                        logits, target, loss, num_classes=num_classes, ignore_index=ignore_index
                    )
                optimizer.zero_grad(set_to_none=True)
                # backward() also averages the gradients over the ranks (DDP's all-reduce)
                precision.backward_and_step(batch_loss, optimizer)
                if scheduler is not None:
                    scheduler.step()  # per batch: OneCycleLR's total_steps counts batches
                value = batch_loss.item()
                total += value * len(images)
                count += len(images)
                k = logits.shape[1]
                batches.set_postfix(loss=f"{value:.4f}")
            if parallel:  # the loss of all ranks' samples together, the same on every rank
                sums = distributed.all_sum(torch.tensor([total, count], dtype=torch.float64))
                total, count = float(sums[0]), int(sums[1])
                sync_buffers(bare)
            if count == 0:
                raise ValueError("train_loader yielded no batches: is the dataset empty?")
            history.train_loss.append(total / count)
            postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
            if val_loader is not None:
                assert k is not None  # the first batch set it (count > 0)
                result = evaluate(
                    model, val_loader, k, ignore_index=ignore_index, device=device, loss=loss
                )
                history.val_loss.append(result["loss"])
                history.val_miou.append(result["miou"])
                postfix["val_mIoU"] = f"{result['miou']:.3f}"
            bar.set_postfix(postfix)
            stop = callback is not None and callback(epoch, history) is True
            if distributed.any_rank(stop):  # every rank stops together
                break
    finally:
        bar.close()
        model.train(was_training)
        if sampler is not None:  # the next call to train() starts with the next epoch's shuffle
            sampler.set_epoch(first_epoch + len(history.train_loss))  # type: ignore[attr-defined]
    return history


def evaluate(
    model: nn.Module,
    loader: Iterable,
    num_classes: int,
    ignore_index: int | None = None,
    device: str | torch.device | None = None,
    *,
    loss: LossArg = "ce",
) -> EvalResult:
    """Score ``model`` on every batch of ``loader`` (eval mode, no gradients).

    The confusion matrix is summed over the whole loader before IoUs are computed, so the
    mIoU is that of all pixels pooled - equal to ``seglab.metrics.mean_iou`` on all the
    predictions and targets at once, not an average of per-batch scores.

    Inside a process group of several ranks, every rank must call ``evaluate`` (a collective
    call), each with its own share of the data (e.g. ``seglab.distributed.shard``): the
    confusion matrix and the loss are summed over the ranks, and every rank returns the numbers
    of the whole data set. A rank whose share is empty takes part with nothing to add.

    Arguments:
      model (nn.Module): (B, C, H, W) float -> (B, K, H, W) logits.
      loader: yields ``(images, targets)`` as in :func:`train`.
      num_classes (int): K, the model's number of outputs.
      ignore_index (int | None): target value of pixels left out of every number.
      device: where to run (the model is moved there); None: where the model is.
      loss: as in :func:`compute_loss`; the reported loss is the mean over batches weighted
        by batch size.

    Returns:
      dict: ``"loss"`` (float), ``"miou"`` (float; NaN if no class occurs), ``"per_class_iou"``
      ((K,) float64 numpy array, NaN for classes in neither predictions nor targets),
      ``"pixel_accuracy"`` (float), ``"confusion_matrix"`` ((K, K) int64, rows true classes).
    """
    num_classes = check_int(num_classes, "num_classes")
    ignore_index = _check_ignore_index(ignore_index)
    loss = _check_loss(loss)
    device = _resolve_device(model, device)
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for batch in loader:
                images, target = _split_batch(batch)
                images = images.to(device)  # (B, C, H, W)
                target = target.to(device) if isinstance(target, torch.Tensor) else target
                logits = model(images)  # (B, K, H, W)
                batch_loss = compute_loss(
                    logits, target, loss, num_classes=num_classes, ignore_index=ignore_index
                )
                total += batch_loss.item() * len(images)
                count += len(images)
                pred = logits.argmax(dim=1)  # (B, H, W)
                cm += confusion_matrix(pred, target, num_classes, ignore_index=ignore_index)
    finally:
        model.train(was_training)
    if distributed.active():  # every rank's pixels and losses, pooled
        cm = distributed.all_sum(torch.from_numpy(cm)).numpy()
        sums = distributed.all_sum(torch.tensor([total, count], dtype=torch.float64))
        total, count = float(sums[0]), int(sums[1])
    if count == 0:
        raise ValueError("the loader yielded no batches: is the dataset empty?")
    pixels = int(cm.sum())
    return {
        "loss": total / count,
        "miou": mean_iou_from_confusion(cm, ignore_index=ignore_index),
        # (K,), NaN where a class never occurs
        "per_class_iou": iou_from_confusion(cm, ignore_index=ignore_index),
        "pixel_accuracy": float(np.trace(cm)) / pixels if pixels else math.nan,
        "confusion_matrix": cm,
    }


def predict(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Label maps for ``images``: the argmax over classes of the model's logits.

    Runs in eval mode under ``torch.no_grad()`` on the model's device, then puts the model
    back in the mode it was in.

    Arguments:
      model (nn.Module): (B, C, H, W) float -> (B, K, H, W) logits.
      images (torch.Tensor): (B, C, H, W) or a single (C, H, W) float image.

    Returns:
      torch.Tensor: (B, H, W) or (H, W) int64 class ids, on the device ``images`` came from.
    """
    if not isinstance(images, torch.Tensor):
        raise TypeError(
            f"images must be a torch.Tensor (B, C, H, W) or (C, H, W), got {type(images).__name__}."
        )
    single = images.ndim == 3
    x = images.unsqueeze(0) if single else images  # (B, C, H, W)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            labels = model(x.to(_model_device(model))).argmax(dim=1)  # (B, H, W)
    finally:
        model.train(was_training)
    labels = labels.to(images.device)
    return labels[0] if single else labels


if __name__ == "__main__":  # python -m seglab.train: the command line, in seglab/train_cli.py
    from seglab.train_cli import main

    raise SystemExit(main())
