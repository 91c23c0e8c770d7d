"""The last stage of mini-SAM's recipe: teach the IoU head which of its 3 masks a click means.

A click on an object lying on a tray has two valid answers, the object and the tray, and SAM's
recipe (``ancestor_score=1.0`` in :func:`seglab.sam.interactive.iou_targets`) scores a perfect
mask of either as 1. The IoU head then cannot say which one the user meant, and
``SamPredictor``'s top-scored mask is the tray about as often as the object: on the evaluation
composites a click on an object on a container gave 0.29 mIoU with the top-scored mask against
0.54 with the best of the 3.

This stage keeps every weight of the trained model but the IoU head's small MLP
(``sam.mask_decoder.iou_prediction_head``) and retrains that MLP on the frozen model's own
outputs, with ``ancestor_score`` below 1: a mask of what *contains* the clicked entity counts
that many times its IoU, so the entity's own mask comes out on top while the larger masks keep
their place among the 3. The masks themselves do not change; only their scores do. It is cheap
(no image-encoder backward, no decoder backward but the head's) and it moved the top-scored
click much further than training the whole model with a lower ancestor score did (the model
card has the figures of both).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from segment_anything.modeling import Sam

from seglab.sam.evaluate_mini import MIN_AREA
from seglab.sam.interactive import Entities, batch_loss, prepare_images

#: Seeds the stage's draws, apart from the main stage's (``TRAIN_TAG``).
HEAD_TAG = 2027


@dataclass(frozen=True)
class HeadStage:
    """Settings of :func:`tune_iou_head`.

    Attributes:
      steps: optimiser steps (0: no stage).
      ancestor_score: IoU-head target factor for masks of a clicked entity's ancestors, in
        [0, 1] (:func:`seglab.sam.interactive.iou_targets`).
      lr: peak learning rate (AdamW, no weight decay), reached after ``warmup`` steps, then a
        cosine decay to 5 %.
      warmup: linear warm-up steps.
      seed: seeds each step's draws, with ``HEAD_TAG`` and the step.
      objects_per_image, corrections, box_share, min_area: prompts per scene, as in the main
        stage (:func:`seglab.sam.interactive.batch_loss`).
    """

    steps: int = 1500
    ancestor_score: float = 0.5
    lr: float = 1e-3
    warmup: int = 50
    seed: int = 0
    objects_per_image: int = 3
    corrections: int = 1
    box_share: float = 0.4
    min_area: int = MIN_AREA

    def __post_init__(self) -> None:
        for name in ("steps", "warmup", "seed", "objects_per_image", "corrections"):
            if getattr(self, name) < 0:
                raise ValueError(f"HeadStage.{name} must be >= 0, got {getattr(self, name)}")
        if not self.lr > 0:
            raise ValueError(f"HeadStage.lr must be positive, got {self.lr}")
        for name in ("ancestor_score", "box_share"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"HeadStage.{name} must be in [0, 1], got {getattr(self, name)}")


def tune_iou_head(
    sam: Sam,
    draw: Callable[[int, np.random.Generator], Sequence[Entities]],
    stage: HeadStage,
    progress: Callable[[int, float], None] | None = None,
) -> dict[str, float]:
    """Train ``sam.mask_decoder.iou_prediction_head`` alone, in place, for ``stage.steps`` steps.

    Every other weight and buffer stays as it is: the model runs in eval mode (the image
    encoder's BatchNorm uses its running statistics, as ``SamPredictor`` does) and only the
    head's parameters reach the optimiser. The loss is :func:`batch_loss`'s, so its mask terms
    are constants here and only the IoU head's mean squared error moves.

    Arguments:
      sam: a trained mini-SAM (or any ``Sam``); its image encoder's ``img_size`` sets the scale.
      draw: ``draw(step, rng)`` gives the step's scenes (images at the model's input scale).
      stage: the settings.
      progress: called as ``progress(step, mean loss of the last 100 steps)`` every 100 steps.

    Returns ``{"head_loss": mean loss of the last 100 steps, "head_seconds": wall time}``
    (``head_loss`` is NaN for 0 steps). The previous train/eval mode and ``requires_grad`` flags
    are restored.
    """
    head = sam.mask_decoder.iou_prediction_head
    flags = {name: p.requires_grad for name, p in sam.named_parameters()}
    was_training = sam.training
    opt = torch.optim.AdamW(head.parameters(), lr=stage.lr, weight_decay=0.0)
    losses: list[float] = []
    t0 = time.perf_counter()
    sam.eval()
    try:
        for p in sam.parameters():
            p.requires_grad_(False)
        for p in head.parameters():
            p.requires_grad_(True)
        for step in range(stage.steps):
            for g in opt.param_groups:
                g["lr"] = _lr(step, stage)
            rng = np.random.default_rng([HEAD_TAG, stage.seed, step])
            scenes = draw(step, rng)
            x, sizes = prepare_images(sam, [s.image for s in scenes])
            with torch.no_grad():
                emb = sam.image_encoder(x)
            total, terms, _ = batch_loss(
                sam,
                emb,
                scenes,
                sizes,
                rng,
                stage.objects_per_image,
                stage.corrections,
                stage.min_area,
                stage.box_share,
                ancestor_score=stage.ancestor_score,
            )
            loss = total / max(terms, 1)
            opt.zero_grad(set_to_none=True)
            if loss.requires_grad:  # a batch with no prompt has nothing to learn from
                loss.backward()
                opt.step()
            losses.append(loss.item())
            if progress is not None and (step + 1) % 100 == 0:
                progress(step + 1, float(np.mean(losses[-100:])))
    finally:
        for name, p in sam.named_parameters():
            p.requires_grad_(flags[name])
        sam.train(was_training)
    return {
        "head_loss": float(np.mean(losses[-100:])) if losses else float("nan"),
        "head_seconds": time.perf_counter() - t0,
    }


def _lr(step: int, stage: HeadStage) -> float:
    from seglab.sam.recipe import lr_at  # the main stage's schedule shape

    return lr_at(step, stage.steps, stage.lr, stage.warmup)
