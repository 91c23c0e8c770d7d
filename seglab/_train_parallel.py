"""What :func:`seglab.train.train` does differently with many processes, or on a GPU.

Kept apart from the loop so that ``seglab/train.py`` reads top to bottom; each helper is one
idea the loop names:

- :func:`data_parallel`: wrap the model in DistributedDataParallel (gradients averaged over the
  ranks during ``backward()``);
- :func:`epoch_sampler` and :func:`check_parallel_loader`: find the DistributedSampler whose
  ``set_epoch`` reshuffles each epoch, and refuse loaders that would give the ranks different
  numbers of steps (the ranks with more would wait forever);
- :func:`sync_buffers`: copy rank 0's BatchNorm running statistics to every rank;
- :class:`Precision`: mixed precision (autocast, and a gradient scaler for float16) on CUDA.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Sized

import torch
from torch import nn

from seglab import distributed
from seglab._util import check_bool

__all__ = ["Precision", "check_parallel_loader", "data_parallel", "epoch_sampler", "sync_buffers"]


def data_parallel(model: nn.Module, device: torch.device) -> nn.Module:
    """``model`` wrapped in DistributedDataParallel (a collective call: copies rank 0's weights
    and buffers to every rank); a model already wrapped is used as it is."""
    from torch.nn.parallel import DistributedDataParallel

    if isinstance(model, DistributedDataParallel):
        return model
    return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def epoch_sampler(loader: Iterable) -> object | None:
    """The loader's sampler when it has ``set_epoch`` (a DistributedSampler), else None."""
    sampler = getattr(loader, "sampler", None)
    return sampler if callable(getattr(sampler, "set_epoch", None)) else None


def check_parallel_loader(loader: Iterable, sampler: object | None) -> None:
    """Every rank must run the same number of steps, or the ones with more wait forever in
    DistributedDataParallel's all-reduce; say so before the first step instead."""
    if sampler is None and distributed.world_info().is_main:
        warnings.warn(
            "train_loader has no DistributedSampler: every rank trains on the whole data set. "
            "Build it as DataLoader(ds, batch_size=..., sampler=DistributedSampler(ds)).",
            stacklevel=3,
        )
    length = len(loader) if isinstance(loader, Sized) else None
    steps = distributed.gather_objects(length)
    if len(set(steps)) > 1:
        raise ValueError(
            f"the ranks' train_loaders have different numbers of batches ({steps}, in rank "
            "order): every rank must take the same number of steps. Use a DistributedSampler "
            "(it gives each rank the same number of samples) and the same batch_size on all ranks."
        )


def sync_buffers(model: nn.Module) -> None:
    """Copy rank 0's buffers (BatchNorm's running statistics) to every rank."""
    import torch.distributed as dist

    for buffer in model.buffers():
        if buffer.is_floating_point() or buffer.dtype == torch.int64:
            copy = buffer.to(distributed._collective_device())
            dist.broadcast(copy, src=0)
            buffer.copy_(copy)


class Precision:
    """Mixed precision on CUDA (``amp=True``): the forward pass and the loss under autocast
    (bfloat16 where the GPU has it, else float16 with a gradient scaler); otherwise float32."""

    def __init__(self, amp: bool, device: torch.device) -> None:
        self.enabled = check_bool(amp, "amp")
        if self.enabled and device.type != "cuda":
            raise ValueError(
                f"amp=True needs a CUDA device, but training runs on {device}: mixed precision "
                "speeds up GPUs with tensor cores, not the CPU. Pass amp=False (the default)."
            )
        bf16 = self.enabled and torch.cuda.is_bf16_supported()
        self.dtype = torch.bfloat16 if bf16 else torch.float16
        self.scaler = None
        if (
            self.enabled and not bf16
        ):  # torch.amp.GradScaler since torch 2.3, before: torch.cuda.amp
            scaler = getattr(torch.amp, "GradScaler", None)
            self.scaler = scaler("cuda") if scaler else torch.cuda.amp.GradScaler()

    def autocast(self) -> contextlib.AbstractContextManager:
        if not self.enabled:
            return contextlib.nullcontext()
        return torch.autocast("cuda", dtype=self.dtype)

    def backward_and_step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer) -> None:
        if self.scaler is None:
            loss.backward()
            optimizer.step()
            return
        self.scaler.scale(loss).backward()  # float16 gradients would underflow unscaled
        self.scaler.step(optimizer)
        self.scaler.update()
