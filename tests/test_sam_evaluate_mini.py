"""Tests for seglab.sam.evaluate_mini: the held-out scenes and the rank correlation.

The figures themselves, on the shipped weights, are checked in test_sam_mini.py."""

from __future__ import annotations

import numpy as np
import pytest

from seglab.data import make_scene
from seglab.sam.evaluate_mini import (
    coin_click_ious,
    coins_ground_truth,
    evaluate_predictor,
    heldout_scene,
    spearman,
)
from seglab.sam.mini import build_mini_sam
from seglab.sam.train_mini import TRAIN_TAG, tiny_config


def test_spearman_matches_hand_values():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks (1, 2, 3, 4) vs (1, 3, 2, 4): 1 - 6 * 2 / (4 * 15) = 0.8
    assert spearman([0.1, 0.5, 0.7, 0.9], [1, 7, 3, 9]) == pytest.approx(0.8)


def test_heldout_scenes_are_seeded_and_not_training_scenes():
    a, b = heldout_scene(3), heldout_scene(3)
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(heldout_scene(3).image, heldout_scene(4).image)
    # the first training scene of seed 0 uses the same indices under the training tag
    train = make_scene(np.random.default_rng([TRAIN_TAG, 0, 3, 0]), 256)
    assert not np.array_equal(a.image, train.image)


class _HeadPicksTheWorstMask:
    """A stand-in SamPredictor on the coins photo: for a click, an empty mask (scored highest),
    the clicked coin itself and the whole image; nothing else of SamPredictor is used."""

    def set_image(self, image: np.ndarray) -> None:
        self.shape = image.shape[:2]
        self.coins = coins_ground_truth()[1]

    def predict(self, point_coords: np.ndarray, point_labels: np.ndarray):
        x, y = point_coords[0].astype(int)
        coin = next(m for m in self.coins if m[y, x])
        masks = np.stack([np.zeros(self.shape, bool), coin, np.ones(self.shape, bool)])
        return masks, np.array([0.9, 0.5, 0.1], np.float32), None


def test_coin_clicks_report_the_top_scored_mask_or_the_best_of_3():
    stand_in = _HeadPicksTheWorstMask()
    top = coin_click_ious(stand_in)  # type: ignore[arg-type]
    best = coin_click_ious(stand_in, best_of_3=True)  # type: ignore[arg-type]
    assert len(top) == len(best) >= 20
    assert top == [0.0] * len(top)  # the empty mask, which the scores put first
    assert best == [1.0] * len(best)  # the coin itself, among the 3


def test_evaluate_predictor_reports_every_figure_in_range():
    figures = evaluate_predictor(build_mini_sam(tiny_config(64)), n_scenes=2, amg_scenes=1)
    assert figures["objects"] > 0
    for key in ("point_miou", "box_miou", "amg_recall"):
        assert 0.0 <= figures[key] <= 1.0, (key, figures)
    assert -1.0 <= figures["iou_head_spearman"] <= 1.0
    assert figures["amg_masks_per_scene"] >= 0


@pytest.mark.slow  # renders 3 evaluation composites and runs the generator on 2 photos
def test_evaluate_photos_reports_every_figure_in_range_and_where_the_click_is_lost():
    from seglab.sam.evaluate_mini import evaluate_photos

    figures = evaluate_photos(
        build_mini_sam(tiny_config(64)),
        n_composites=3,
        clicks=2,
        amg_composites=1,
        amg_photos=("skimage:coins", "skimage:horse"),
    )
    assert figures["objects"] > 0 and len(figures["clicks_miou"]) == 2
    for key in (
        "click_miou",
        "box_miou",
        "click_best_of_3_miou",
        "coins_miou",
        "coins_best_of_3_miou",
        "amg_recall",
    ):
        assert 0.0 <= figures[key] <= 1.0, (key, figures)
    # the best of the 3 masks is never worse than the top-scored one, click by click
    assert figures["click_best_of_3_miou"] >= figures["click_miou"] - 1e-9
    assert figures["coins_best_of_3_miou"] >= figures["coins_miou"] - 1e-9
    groups = ("click_miou_on_containers", "click_miou_on_background", "click_miou_under_1000px")
    assert all(np.isnan(figures[k]) or 0.0 <= figures[k] <= 1.0 for k in groups), figures
    assert len(figures["amg_masks_on_photos"]) == 2


@pytest.mark.slow  # renders 3 composites and runs the generator on one photo
def test_evaluate_photos_measures_on_the_composites_it_is_given():
    from seglab.sam.bank import eval_composite
    from seglab.sam.evaluate_mini import _object_ids, evaluate_photos

    asked: list[int] = []

    def other(i: int):  # not the evaluation composites 0 and 1: those from 100 on
        asked.append(i)
        return eval_composite(100 + i)

    figures = evaluate_photos(
        build_mini_sam(tiny_config(64)),
        n_composites=2,
        clicks=1,
        amg_composites=1,
        amg_photos=("skimage:coins",),
        composites=other,
    )
    assert asked == [0, 1, 0]  # the 2 measured composites, then the generator's one
    assert figures["objects"] == sum(len(_object_ids(eval_composite(100 + i))) for i in (0, 1))
    assert figures["amg_objects"] == len(_object_ids(eval_composite(100), 1000))


def test_amg_filter_report_counts_what_the_filters_would_keep():
    from seglab.sam.evaluate_mini import amg_filter_report

    r = amg_filter_report(build_mini_sam(tiny_config(64)), n_composites=1, points_per_side=4)
    assert r["objects"] > 0 and 0.0 <= r["unfiltered_recall"] <= 1.0
    # every object found is found by at least one matching mask
    assert r["matching_masks"] >= round(r["unfiltered_recall"] * r["objects"])
    shares = ("pass_pred_iou_0.88", "pass_stability_0.95")
    if r["matching_masks"]:
        assert all(0.0 <= r[k] <= 1.0 for k in shares)
        assert 0.0 <= r["median_stability"] <= 1.0
    else:
        assert all(np.isnan(r[k]) for k in shares)


def test_the_resolution_ceiling_is_low_for_thin_shapes_and_rises_with_the_low_res_side():
    from seglab.sam.evaluate_mini import mask_resolution_ceiling

    yy, xx = np.mgrid[:256, :256]
    disc = (yy - 128) ** 2 + (xx - 128) ** 2 < 60**2
    assert mask_resolution_ceiling(disc) > 0.98  # a big round object comes back whole
    line = np.zeros((256, 256), dtype=bool)
    line[100:102, 20:230] = True  # 2 px wide: thinner than a 4-px low-res cell
    at_64 = mask_resolution_ceiling(line)
    at_128 = mask_resolution_ceiling(line, low_res=128)
    assert at_64 < 0.8 and at_128 > at_64
    small = np.zeros((300, 200), dtype=bool)  # not square, not the input size
    small[40:52, 30:45] = True
    assert 0.0 < mask_resolution_ceiling(small) <= 1.0
    for bad in (disc.astype(np.uint8), disc[None]):
        with pytest.raises(ValueError, match="bool"):
            mask_resolution_ceiling(bad)
    with pytest.raises(ValueError, match="low_res"):
        mask_resolution_ceiling(disc, low_res=512)


@pytest.mark.slow  # renders the 40 evaluation composites: about 10 s
def test_the_model_cards_resolution_ceilings_are_what_the_composites_give():
    """The figures of MODEL_CARD.md's "What the output resolution allows", recomputed."""
    from pathlib import Path

    from seglab.sam.bank import eval_composite
    from seglab.sam.evaluate_mini import _object_ids, mask_resolution_ceiling

    composites = [eval_composite(i) for i in range(40)]
    objects = [c.masks[k] for c in composites for k in _object_ids(c)]
    parts = [
        c.masks[k]
        for c in composites
        for k in map(int, np.flatnonzero(c.kinds == 2))
        if c.parents[k] >= 0 and c.own_region(k).sum() >= 48
    ]
    card = (Path(__file__).parents[1] / "seglab/sam/weights/MODEL_CARD.md").read_text()
    lines = [f"{len(objects)} objects", f"{len(parts)} parts"]
    for masks in (objects, parts):
        at_64 = np.array([mask_resolution_ceiling(m) for m in masks])
        at_128 = np.array([mask_resolution_ceiling(m, low_res=128) for m in masks])
        lines += [
            f"{at_64.mean():.3f}",
            f"{at_128.mean():.3f}",
            f"{(at_64 < 0.9).mean():.0%} ".replace("%", " %"),
            f"{(at_64 < 0.7).mean():.0%} ".replace("%", " %"),
        ]
    missing = [text for text in lines if text not in card]
    assert not missing, f"the model card does not say {missing}"


class _AnswersWith:
    """A stand-in SamPredictor that answers every click with the same 3 masks and scores."""

    def __init__(self, masks: np.ndarray) -> None:
        self.masks, self.images = masks, []

    def set_image(self, image: np.ndarray) -> None:
        self.images.append(image)

    def predict(self, point_coords: np.ndarray, point_labels: np.ndarray):
        assert point_coords.shape == (1, 2) and point_labels.tolist() == [1]
        return self.masks, np.array([0.3, 0.2, 0.1], np.float32), None


def _one_part_composite():
    """A 40 x 40 composite: a whole object (10:30, 10:30) holding a part (14:22, 14:22), a
    part without a parent and a part too small to count."""
    from seglab.sam.composites import Composite

    masks = np.zeros((4, 40, 40), bool)
    masks[0, 10:30, 10:30] = True
    masks[1, 14:22, 14:22] = True
    masks[2, 0:8, 32:40] = True  # a part with no parent: not a part/whole case
    masks[3, 25:28, 25:28] = True  # 9 px of its own: under MIN_AREA
    return Composite(
        image=np.zeros((40, 40, 3), np.uint8),
        masks=masks,
        parents=np.array([-1, 0, -1, 0]),
        kinds=np.array([1, 2, 2, 2]),
    )


def test_part_clicks_click_inside_each_counted_part_and_score_part_and_whole():
    from seglab.sam.evaluate_mini import part_clicks

    c = _one_part_composite()
    empty = np.zeros((40, 40), bool)
    both = _AnswersWith(np.stack([c.masks[1], c.masks[0], empty]))
    (case,) = part_clicks(both, c)  # type: ignore[arg-type]
    assert len(both.images) == 1 and both.images[0] is c.image  # the composite was set
    assert (case.part, case.whole) == (1, 0)
    x, y = case.point
    assert c.masks[1][y, x]  # (x, y): inside the part
    np.testing.assert_allclose(case.part_ious, [1.0, 64 / 400, 0.0])
    np.testing.assert_allclose(case.whole_ious, [64 / 400, 1.0, 0.0])
    assert case.both()
    # the part twice and no whole, or the whole in the same mask as the part: not both
    (only_part,) = part_clicks(_AnswersWith(np.stack([c.masks[1], c.masks[1], empty])), c)  # type: ignore[arg-type]
    assert not only_part.both()
    near_whole = c.masks[0].copy()
    near_whole[10:30, 10:14] = False  # IoU 0.8 with the whole
    (loose,) = part_clicks(_AnswersWith(np.stack([c.masks[1], near_whole, empty])), c)  # type: ignore[arg-type]
    assert loose.both() and not loose.both(threshold=0.9)
    for bad in (0.0, 1.5, -0.7):
        with pytest.raises(ValueError, match="threshold must be an IoU"):
            loose.both(threshold=bad)
