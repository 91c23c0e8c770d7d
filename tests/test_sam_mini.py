"""Tests for mini-SAM: the checkpoint format, the shipped weights, and their quality through the
unchanged segment_anything SamPredictor / SamAutomaticMaskGenerator.

The quality figures come from ``seglab.sam.evaluate_mini.evaluate_predictor`` on 40 held-out
scenes (seeds disjoint from training); the same numbers are in seglab/sam/weights/MODEL_CARD.md.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from segment_anything import SamPredictor

from seglab.data import interior_point
from seglab.sam import mini
from seglab.sam.evaluate_mini import coin_click_ious, evaluate_predictor, heldout_scene
from seglab.sam.loading import load_sam
from seglab.sam.mini import (
    MINI_WEIGHTS_PATH,
    MiniSamConfig,
    build_mini_sam,
    save_mini_checkpoint,
)
from seglab.sam.train_mini import tiny_config


def test_config_round_trips_through_plain_values():
    c = MiniSamConfig()
    d = c.to_dict()
    assert isinstance(d["global_attn_indexes"], list)
    assert MiniSamConfig.from_dict(d) == c
    with pytest.raises(TypeError):
        MiniSamConfig.from_dict({**d, "colour": 3})


def test_build_gives_sam_shapes():
    c = tiny_config(64)
    sam = build_mini_sam(c)
    assert not sam.training and sam.image_encoder.img_size == 64
    with torch.no_grad():
        emb = sam.image_encoder(torch.zeros(1, 3, 64, 64))
    grid = 64 // c.patch_size
    assert emb.shape == (1, c.prompt_dim, grid, grid)


def test_save_is_float16_weights_only_and_loads_back(tmp_path):
    c = tiny_config(64)
    torch.manual_seed(0)
    sam = build_mini_sam(c)
    path = save_mini_checkpoint(sam, tmp_path / "sub" / "m.pt", c, meta={"note": "test"})
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert ckpt["format"] == mini.MINI_FORMAT and ckpt["version"] == mini.MINI_FORMAT_VERSION
    assert ckpt["config"] == c.to_dict() and ckpt["meta"] == {"note": "test"}
    assert {v.dtype for v in ckpt["state_dict"].values() if v.is_floating_point()} == {
        torch.float16
    }
    loaded = load_sam(None, checkpoint=path, device="cpu")
    for k, v in sam.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[k], v.half().float())
    assert [p.name for p in path.parent.iterdir()] == ["m.pt"]


def test_failed_save_leaves_no_file(tmp_path, monkeypatch):
    c = tiny_config(64)
    sam = build_mini_sam(c)

    def broken_save(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(mini.torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_mini_checkpoint(sam, tmp_path / "m.pt", c)
    assert list(tmp_path.iterdir()) == []


def test_shipped_weights_are_small_float16_and_documented():
    assert MINI_WEIGHTS_PATH.is_file(), "seglab/sam/weights/mini_sam.pt is missing"
    assert MINI_WEIGHTS_PATH.stat().st_size < 10 * 2**20
    ckpt = torch.load(MINI_WEIGHTS_PATH, map_location="cpu", weights_only=True)
    assert ckpt["format"] == mini.MINI_FORMAT
    shipped = MiniSamConfig(encoder="conv", out_stride=8)  # the CNN encoder, 32 x 32 embedding
    assert MiniSamConfig.from_dict(ckpt["config"]) == shipped
    assert all(
        v.dtype == torch.float16 for v in ckpt["state_dict"].values() if v.is_floating_point()
    )
    for key in ("step", "train_seconds", "params", "recipe"):
        assert key in ckpt["meta"]
    assert ckpt["meta"]["recipe"]["seed"] == 0
    # the recipe's budget: at most 2 h of training on a 2-core CPU, from scratch
    assert ckpt["meta"]["train_seconds"] <= 7200, ckpt["meta"]
    card = MINI_WEIGHTS_PATH.with_name("MODEL_CARD.md").read_text()
    assert "python -m seglab.sam.train_mini" in card


@pytest.fixture(scope="module")
def shipped():
    torch.set_num_threads(2)
    return load_sam("mini", device="cpu")


def test_shipped_model_segments_a_held_out_scene_through_sam_predictor(shipped):
    scene = heldout_scene(1000)  # not among the 40 of the figures below either
    predictor = SamPredictor(shipped)
    predictor.set_image(scene.image)
    ious = []
    for gt in scene.masks:
        if gt.sum() < 48:
            continue
        masks, scores, low = predictor.predict(
            np.array([interior_point(gt)]), np.array([1]), multimask_output=True
        )
        assert masks.shape == (3, 256, 256) and scores.shape == (3,) and low.shape[0] == 3
        top = masks[int(np.argmax(scores))]
        ious.append((top & gt).sum() / (top | gt).sum())
    assert len(ious) >= 2
    assert np.mean(ious) > 0.7  # the slow tests below hold the real bar on 40 scenes


#: SamAutomaticMaskGenerator settings fitted to mini-SAM's scores (see MODEL_CARD.md): with run
#: 11's weights SAM's default filters found fewer objects on these scenes (recall 0.62 vs 0.86);
#: with the shipped weights both find 0.86, the fitted ones with more masks (8.2 vs 4.6 a scene).
MINI_AMG = {"points_per_side": 16, "pred_iou_thresh": 0.7, "stability_score_thresh": 0.85}


@pytest.fixture(scope="module")
def figures(shipped):
    return evaluate_predictor(shipped, n_scenes=40, amg_scenes=5, **MINI_AMG)


# mini-SAM 2's bars on the course's synthetic scenes: no worse than the first mini-SAM (0.861 /
# 0.881). The photo bars of the model card are not all met yet; those that are, are held below.
@pytest.mark.slow
def test_one_positive_point_per_object_miou(figures):
    assert figures["objects"] >= 100
    assert figures["point_miou"] >= 0.86, figures  # measured 0.902


@pytest.mark.slow
def test_one_box_per_object_miou(figures):
    assert figures["box_miou"] >= 0.88, figures  # measured 0.928


@pytest.mark.slow
def test_one_click_per_coin_on_the_coins_photo(shipped):
    ious = coin_click_ious(SamPredictor(shipped))
    assert len(ious) >= 20  # coins of >= 200 px, from sobel + watershed
    assert np.mean(ious) >= 0.80, ious  # measured 0.934 on 24 coins


@pytest.mark.slow
def test_negative_point_on_an_included_neighbour_usually_helps(figures):
    assert figures["negative_point_cases"] >= 5, figures
    assert figures["negative_point_improved"] > 0.5, figures  # measured 1.0 of 10 cases


@pytest.mark.slow
def test_iou_head_ranks_masks_like_the_true_iou(figures):
    assert figures["iou_head_spearman"] > 0.7, figures  # measured 0.90


@pytest.mark.slow
def test_automatic_mask_generator_finds_most_objects(figures):
    assert figures["amg_masks_per_scene"] >= 2
    assert figures["amg_recall"] >= 0.6, figures  # measured 0.86 on 5 scenes
