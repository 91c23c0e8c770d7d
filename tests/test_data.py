"""Tests for seglab.data: reproducible synthetic scenes whose labels agree with each other."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from segment_anything.utils.amg import batched_mask_to_box

from seglab.data import CLASSES, Scene, SyntheticScenes, erode, interior_point, make_scene


def check_invariants(s: Scene, h: int, w: int) -> None:
    n = len(s.masks)
    assert s.image.shape == (h, w, 3) and s.image.dtype == np.uint8
    assert s.masks.shape == (n, h, w) and s.masks.dtype == np.bool_
    assert s.labels.shape == (h, w) and s.labels.dtype == np.int64
    assert s.boxes.shape == (n, 4) and s.boxes.dtype == np.int64
    assert s.classes.shape == (n,) and s.classes.dtype == np.int64
    assert ((s.classes >= 1) & (s.classes < len(CLASSES))).all()
    # every kept object is visible, and no pixel belongs to two objects
    assert s.masks.reshape(n, -1).any(1).all()
    assert s.masks.sum(0).max(initial=0) <= 1
    # semantic map = class of the visible instance, background elsewhere
    expected = np.zeros((h, w), np.int64)
    for m, c in zip(s.masks, s.classes, strict=True):
        expected[m] = c
    np.testing.assert_array_equal(s.labels, expected)
    # boxes are tight: the same as segment_anything's own mask -> box conversion
    if n:
        ref = batched_mask_to_box(torch.from_numpy(s.masks)).numpy()
        np.testing.assert_array_equal(s.boxes, ref)


def test_same_seed_same_scene_and_different_seed_different_scene():
    a, b, c = make_scene(7), make_scene(7), make_scene(8)
    for field in ("image", "masks", "labels", "boxes", "classes"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.image, c.image)


def test_generator_seed_is_reproducible_and_advances():
    s1 = make_scene(np.random.default_rng(3))
    s2 = make_scene(np.random.default_rng(3))
    np.testing.assert_array_equal(s1.image, s2.image)
    rng = np.random.default_rng(3)
    first, second = make_scene(rng), make_scene(rng)
    assert not np.array_equal(first.image, second.image)


@pytest.mark.parametrize("size", [(256, 256), (96, 160), (200, 64), 48])
def test_shapes_dtypes_and_label_consistency(size):
    h, w = (size, size) if isinstance(size, int) else size
    for seed in range(5):
        check_invariants(make_scene(seed, size=size), h, w)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    h=st.integers(32, 160),
    w=st.integers(32, 160),
    n=st.integers(1, 8),
)
def test_invariants_hold_for_any_seed_and_size(seed, h, w, n):
    s = make_scene(seed, size=(h, w), n_objects=n)
    check_invariants(s, h, w)
    assert 1 <= len(s.masks) <= n  # the front object is always visible


def test_scenes_vary_in_classes_and_object_count():
    scenes = [make_scene(i) for i in range(40)]
    counts = {len(s.masks) for s in scenes}
    classes = set(np.concatenate([s.classes for s in scenes]).tolist())
    assert classes == {1, 2, 3, 4}
    assert max(counts) > min(counts)
    assert all(2 <= c <= 6 for c in counts) or min(counts) >= 1


def test_instance_map_matches_masks():
    s = make_scene(11)
    ids = s.instance_map
    assert ids.dtype == np.int64 and ids.max() == len(s.masks)
    for i, m in enumerate(s.masks):
        np.testing.assert_array_equal(ids == i + 1, m)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"size": (16, 256)}, ValueError, "too small"),
        ({"size": (256, 256, 3)}, TypeError, "pair of ints"),
        ({"size": 100.0}, TypeError, "pair of ints"),
        ({"n_objects": 0}, ValueError, "1 <= min"),
        ({"n_objects": (5, 2)}, ValueError, "1 <= min"),
        ({"n_objects": 21}, ValueError, "<= 20"),
        ({"n_objects": "3"}, TypeError, "n_objects must be"),
    ],
)
def test_bad_arguments_say_what_and_how_to_fix(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        make_scene(0, **kwargs)


@pytest.mark.parametrize(("seed", "exc"), [(-1, ValueError), (1.5, TypeError), ("0", TypeError)])
def test_bad_seed(seed, exc):
    with pytest.raises(exc, match="seed"):
        make_scene(seed)


def test_erode_and_interior_point():
    m = np.zeros((20, 30), bool)
    m[4:15, 10:21] = True  # 11 x 11 square centred at (x=15, y=9)
    np.testing.assert_array_equal(erode(m, 2), np.pad(np.ones((7, 7), bool), ((6, 7), (12, 11))))
    assert interior_point(m) == (15, 9)
    # an object touching the border: the image edge counts as background
    edge = np.zeros((10, 10), bool)
    edge[:, :5] = True
    x, y = interior_point(edge)
    assert edge[y, x] and x == 2
    for s in (make_scene(i) for i in range(3)):
        for mask in s.masks:
            x, y = interior_point(mask)
            assert mask[y, x]
    with pytest.raises(ValueError, match="non-empty"):
        interior_point(np.zeros((5, 5), bool))
    with pytest.raises(ValueError, match="2-D"):
        erode(np.zeros((2, 5, 5), bool))


def test_dataset_semantic_and_instance_targets():
    ds = SyntheticScenes(5, size=(64, 96), seed=2)
    assert len(ds) == 5 and ds.num_classes == len(CLASSES)
    image, target = ds[1]
    assert image.shape == (3, 64, 96) and image.dtype == torch.float32
    assert 0.0 <= float(image.min()) and float(image.max()) <= 1.0
    assert target.shape == (64, 96) and target.dtype == torch.int64
    scene = ds.scene(1)
    np.testing.assert_array_equal(target.numpy(), scene.labels)
    np.testing.assert_allclose(image.permute(1, 2, 0).numpy() * 255, scene.image, atol=1e-3)
    _, inst = SyntheticScenes(5, size=(64, 96), seed=2, task="instance")[1]
    np.testing.assert_array_equal(inst.numpy(), scene.instance_map)
    # reproducible, and a different seed gives different scenes
    torch.testing.assert_close(SyntheticScenes(5, size=(64, 96), seed=2)[1][0], image)
    assert not torch.equal(SyntheticScenes(5, size=(64, 96), seed=3)[1][0], image)
    # batches with the default collate
    loader = torch.utils.data.DataLoader(ds, batch_size=2)
    x, y = next(iter(loader))
    assert x.shape == (2, 3, 64, 96) and y.shape == (2, 64, 96)
    with pytest.raises(IndexError):
        ds[5]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": 0}, "positive"),
        ({"n": 3, "task": "panoptic"}, "task"),
        ({"n": 3, "seed": -2}, "seed"),
    ],
)
def test_dataset_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SyntheticScenes(**kwargs)


@pytest.mark.parametrize("n", [2.0, True, "3"])
def test_dataset_size_of_the_wrong_type_is_a_type_error(n):
    # the one type rule: a bool, float or str count is a TypeError (it was a ValueError)
    with pytest.raises(TypeError, match="n must be an int, got"):
        SyntheticScenes(n)


def test_mask_box_is_xyxy_with_the_last_pixel_included():
    from seglab.data import mask_box

    m = np.zeros((6, 8), bool)
    m[1:4, 2:7] = True  # rows 1-3, cols 2-6
    assert mask_box(m).tolist() == [2, 1, 6, 3]
    with pytest.raises(ValueError, match="non-empty"):
        mask_box(np.zeros((3, 3), bool))
