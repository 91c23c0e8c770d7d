"""Tests for seglab.sam.iou_head: the last stage trains the IoU head and nothing else."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seglab.sam.interactive import batch_loss, prepare_images
from seglab.sam.iou_head import HeadStage, tune_iou_head
from seglab.sam.mini import MiniSamConfig, build_mini_sam
from seglab.sam.recipe import TrainConfig, draw_batch

CONFIG = TrainConfig(tiny=True, image_size=64, batch_size=2, synthetic_share=1.0)


@pytest.fixture
def sam():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    return build_mini_sam(MiniSamConfig.tiny(64)).train()


def fixed_scenes(step, rng):  # the same two scenes every step
    return draw_batch(CONFIG, 0, None, np.random.default_rng(0))


def head_mse(sam) -> float:
    """batch_loss on the fixed scenes with fixed prompts: the mask terms do not depend on the
    head, so what changes between two calls is the IoU head's error."""
    sam.eval()
    scenes = fixed_scenes(0, None)
    x, sizes = prepare_images(sam, [s.image for s in scenes])
    with torch.no_grad():
        total, terms, _ = batch_loss(
            sam, sam.image_encoder(x), scenes, sizes, np.random.default_rng(1), 3, 1
        )
    return float(total / terms)


def test_only_the_iou_head_changes_and_the_model_is_left_as_it_was(sam):
    before = {k: v.clone() for k, v in sam.state_dict().items()}
    sam.image_encoder.requires_grad_(False)  # a caller's own flags come back as they were
    stats = tune_iou_head(sam, fixed_scenes, HeadStage(steps=3, lr=1e-2, warmup=0))
    after = sam.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("mask_decoder.iou_prediction_head.") for k in changed)
    assert sam.training  # BatchNorm's running statistics (in before/after) did not move either
    assert not any(p.requires_grad for p in sam.image_encoder.parameters())
    assert all(p.requires_grad for p in sam.mask_decoder.parameters())
    assert np.isfinite(stats["head_loss"]) and stats["head_seconds"] > 0


def test_the_head_learns_the_true_iou_of_the_masks(sam):
    start = head_mse(sam)
    tune_iou_head(sam, fixed_scenes, HeadStage(steps=40, lr=1e-2, warmup=0))
    assert head_mse(sam) < start - 0.01


def test_scenes_without_a_target_and_zero_steps_change_nothing(sam):
    empty = draw_batch(CONFIG, 0, None, np.random.default_rng(0))
    empty = [type(s)(s.image, s.masks[:0], s.parents[:0], s.kinds[:0]) for s in empty]
    before = {k: v.clone() for k, v in sam.state_dict().items()}
    assert np.isfinite(tune_iou_head(sam, lambda i, r: empty, HeadStage(steps=2))["head_loss"])
    assert np.isnan(tune_iou_head(sam, fixed_scenes, HeadStage(steps=0))["head_loss"])
    assert all(torch.equal(v, sam.state_dict()[k]) for k, v in before.items())


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"steps": -1}, "HeadStage.steps must be >= 0, got -1"),
        ({"ancestor_score": 1.5}, "HeadStage.ancestor_score must be in \\[0, 1\\], got 1.5"),
        ({"lr": 0.0}, "HeadStage.lr must be positive, got 0.0"),
    ],
)
def test_bad_settings_are_explained(settings, message):
    with pytest.raises(ValueError, match=message):
        HeadStage(**settings)
