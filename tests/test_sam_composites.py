"""Photo composites: seeded, consistent masks and parents, and never the evaluation photos."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from seglab.sam.bank import build_bank, eval_composite
from seglab.sam.composites import (
    EVAL_PHOTOS,
    MIN_CONNECTED,
    TRAIN_PHOTOS,
    _Canvas,
    load_photos,
    make_composite,
)


def test_training_and_evaluation_photos_are_disjoint():
    names = lambda pool: {n.split(":")[1].split(".")[0] for n in pool}  # noqa: E731
    assert not names(TRAIN_PHOTOS) & names(EVAL_PHOTOS)
    assert "cat" not in names(TRAIN_PHOTOS)


def test_same_seed_same_composite_and_children_inside_parents():
    photos = load_photos(TRAIN_PHOTOS)
    a = make_composite(np.random.default_rng(3), (96, 128), photos)
    b = make_composite(np.random.default_rng(3), (96, 128), photos)
    assert a.image.shape == (96, 128, 3) and a.image.dtype == np.uint8
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.masks, b.masks)
    for k, p in enumerate(a.parents):
        if p >= 0:
            assert not (a.masks[k] & ~a.masks[p]).any()
            assert a.ancestors(k)[:2] == [k, int(p)]


def test_bank_round_trips_composites(tmp_path, monkeypatch):
    monkeypatch.setattr("seglab.sam.bank.CHUNK", 3)
    bank = build_bank(tmp_path, 3, side=64, workers=1)
    assert len(bank) == 3
    c = bank.get(1)
    assert c.masks.shape[1:] == c.image.shape[:2] and len(c.parents) == len(c.masks)
    assert max(c.image.shape[:2]) == 64
    e = eval_composite(0, 64)
    assert e.masks.dtype == bool


def test_a_composite_without_entities_is_banked_and_trained_on(tmp_path, monkeypatch):
    """Small composites (64 px) can come out with no entity at all: the bank stores them and a
    training step on them has nothing to learn from, rather than failing on a reshape."""
    import torch

    from seglab.sam.composites import Composite
    from seglab.sam.interactive import batch_loss, prepare_images
    from seglab.sam.mini import MiniSamConfig, build_mini_sam

    def empty(rng, size, photos):
        h, w = size
        none = np.zeros(0, np.int64)
        return Composite(np.zeros((h, w, 3), np.uint8), np.zeros((0, h, w), bool), none, none)

    monkeypatch.setattr("seglab.sam.bank.CHUNK", 2)
    monkeypatch.setattr("seglab.sam.bank.make_composite", empty)
    bank = build_bank(tmp_path, 2, side=64, workers=1)
    c = bank.get(0)
    assert c.masks.shape == (0, *c.image.shape[:2])
    sam = build_mini_sam(MiniSamConfig.tiny(64))
    x, sizes = prepare_images(sam, [c.image])
    total, terms, _ = batch_loss(
        sam, sam.image_encoder(x), [c], sizes, np.random.default_rng(0), 3, 1
    )
    assert terms == 0 and torch.isfinite(total)


def test_canvas_refuses_to_hide_or_split_an_object():
    cv = _Canvas(np.zeros((40, 40, 3), np.uint8))
    square = np.zeros((40, 40), bool)
    square[10:30, 10:30] = True  # 400 px
    cv.add_entity(cv.paint(square, np.full((40, 40, 3), 200.0), 0), -1, 1)
    corner = np.zeros((40, 40), bool)
    corner[10:14, 10:30] = True  # covers 80 px: 80 % stays visible
    assert cv.keeps_visible(corner, -1)
    half = np.zeros((40, 40), bool)
    half[10:22, 10:30] = True  # covers 240 px: 40 % would stay
    assert not cv.keeps_visible(half, -1)
    bar = np.zeros((40, 40), bool)
    bar[19:22, 0:40] = True  # covers 60 px but cuts the square in two halves
    assert not cv.keeps_visible(bar, -1)
    assert cv.keeps_visible(half, 0)  # a child of the square only adds to it


def test_every_target_is_one_clearly_visible_piece():
    for i in range(6):
        c = eval_composite(i)
        for k in np.flatnonzero(c.kinds < 2):
            labels, n = ndi.label(c.masks[k])
            if n > 1:
                sizes = np.bincount(labels.ravel())[1:]
                assert sizes.max() >= MIN_CONNECTED * c.masks[k].sum(), (i, k)
