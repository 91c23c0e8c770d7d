"""Tests for seglab.sam.evaluate_mini: the held-out scenes and the rank correlation.

The figures themselves, on the shipped weights, are checked in test_sam_mini.py."""

from __future__ import annotations

import numpy as np
import pytest

from seglab.data import make_scene
from seglab.sam.evaluate_mini import evaluate_predictor, heldout_scene, spearman
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


def test_evaluate_predictor_reports_every_figure_in_range():
    figures = evaluate_predictor(build_mini_sam(tiny_config(64)), n_scenes=2, amg_scenes=1)
    assert figures["objects"] > 0
    for key in ("point_miou", "box_miou", "amg_recall"):
        assert 0.0 <= figures[key] <= 1.0, (key, figures)
    assert -1.0 <= figures["iou_head_spearman"] <= 1.0
    assert figures["amg_masks_per_scene"] >= 0
