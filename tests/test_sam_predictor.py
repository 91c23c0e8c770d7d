"""Tests for seglab.sam.predictor, checked against segment_anything.SamPredictor itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from segment_anything import SamPredictor

from seglab.sam.cache import EmbeddingCache
from seglab.sam.mini import build_mini_sam
from seglab.sam.predictor import BatchPredictionResult, PredictionResult, Predictor

H, W = 60, 90  # not square: catches (x, y) / (row, col) mix-ups in the coordinate transforms


def _image(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 60, (H, W, 3), dtype=np.uint8)
    image[10:40, 20:70] += 150  # a bright rectangle on a dark background
    return image


def _new_sam(seed: int = 0):
    torch.manual_seed(seed)
    return build_mini_sam()


@pytest.fixture(scope="module")
def sam():
    return _new_sam()


@pytest.fixture(scope="module")
def official(sam):
    predictor = SamPredictor(sam)
    predictor.set_image(_image())
    return predictor


@pytest.fixture
def predictor(sam):
    p = Predictor(sam)
    p.set_image(_image())
    return p


def _count_encoder_calls(sam) -> list[int]:
    calls: list[int] = []
    sam.image_encoder.register_forward_hook(lambda *args: calls.append(1))
    return calls


def _assert_same_as_official(result: PredictionResult, masks, scores, logits) -> None:
    np.testing.assert_array_equal(result.masks, masks)
    np.testing.assert_allclose(result.scores, scores, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(result.logits, logits, rtol=1e-6, atol=1e-6)
    assert result.masks.dtype == bool
    assert result.scores.dtype == np.float32 and result.logits.dtype == np.float32


# --------------------------------------------------------------------------- same as official


def test_one_click_equals_official(predictor, official):
    result = predictor.predict(points=[[45, 25]])
    expected = official.predict(np.array([[45, 25]]), np.array([1]), multimask_output=True)
    _assert_same_as_official(result, *expected)
    assert result.masks.shape == (3, H, W) and result.logits.shape == (3, 64, 64)


def test_clicks_with_labels_equal_official(predictor, official):
    points, labels = np.array([[45.5, 25], [5, 55], [80, 10]]), np.array([1, 0, 0])
    result = predictor.predict(points=points, labels=labels, multimask=False)
    expected = official.predict(points, labels, multimask_output=False)
    _assert_same_as_official(result, *expected)
    assert len(result) == 1


def test_box_and_click_equal_official(predictor, official):
    box = np.array([20, 10, 70, 40])
    result = predictor.predict(points=[[45, 25]], box=box, multimask=False)
    expected = official.predict(
        np.array([[45, 25]]), np.array([1]), box=box, multimask_output=False
    )
    _assert_same_as_official(result, *expected)


def test_mask_input_refinement_equals_official(predictor, official):
    first = predictor.predict(points=[[45, 25]])
    logits = first.logits[first.best_index]  # (64, 64): the hw form is accepted
    result = predictor.predict(points=[[45, 25], [30, 20]], mask_input=logits, multimask=False)
    expected = official.predict(
        np.array([[45, 25], [30, 20]]),
        np.array([1, 1]),
        mask_input=logits[None],
        multimask_output=False,
    )
    _assert_same_as_official(result, *expected)


def test_gray_image_is_converted_like_as_rgb_uint8(sam):
    gray = _image()[..., 0]
    predictor = Predictor(sam, cache=False)
    predictor.set_image(gray)
    official = SamPredictor(sam)
    official.set_image(np.repeat(gray[..., None], 3, axis=2))
    result = predictor.predict(points=[[45, 25]])
    _assert_same_as_official(result, *official.predict(np.array([[45, 25]]), np.array([1])))


# --------------------------------------------------------------------------- SAM's names


def test_sams_argument_names_give_sams_result(predictor, official):
    points, labels = np.array([[45.5, 25], [5, 55]]), np.array([1, 0])
    expected = official.predict(points, labels, multimask_output=False)
    by_sam_names = predictor.predict(
        point_coords=points, point_labels=labels, multimask_output=False
    )
    _assert_same_as_official(by_sam_names, *expected)
    positional = predictor.predict(points, labels, None, None, False, False)  # SAM's order
    _assert_same_as_official(positional, *expected)
    mixed = predictor.predict(points=points, point_labels=labels, multimask_output=False)
    _assert_same_as_official(mixed, *expected)


def test_return_logits_equals_official(predictor, official):
    box = np.array([20, 10, 70, 40])
    result = predictor.predict(box=box, return_logits=True)
    masks, scores, logits = official.predict(box=box, return_logits=True)
    np.testing.assert_allclose(result.masks, masks, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(result.scores, scores, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(result.logits, logits, rtol=1e-6, atol=1e-6)
    assert result.masks.dtype == np.float32 and result.masks.shape == (3, H, W)
    thresholded = predictor.predict(box=box)
    np.testing.assert_array_equal(thresholded.masks, result.masks > 0)  # SAM's threshold is 0
    with pytest.raises(TypeError, match="return_logits must be True or False"):
        predictor.predict(box=box, return_logits=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"points": [[45, 25]], "point_coords": [[45, 25]]}, "points= and point_coords="),
        ({"points": [[45, 25]], "labels": [1], "point_labels": [1]}, "labels= and point_labels="),
        ({"box": [20, 10, 70, 40], "multimask": True, "multimask_output": True},
         "multimask= and multimask_output="),
    ],
)  # fmt: skip
def test_both_spellings_of_one_argument_are_a_type_error(predictor, kwargs, names):
    with pytest.raises(TypeError, match=f"Predictor.predict got both {names}"):
        predictor.predict(**kwargs)


def test_multimask_defaults_to_three_masks_under_either_name(predictor):
    assert len(predictor.predict(points=[[45, 25]])) == 3
    assert len(predictor.predict(points=[[45, 25]], multimask_output=False)) == 1
    with pytest.raises(TypeError, match="multimask must be True or False"):
        predictor.predict(points=[[45, 25]], multimask_output="no")


# --------------------------------------------------------------------------- results


def test_best_is_the_top_score_not_the_largest_mask():
    masks = np.zeros((3, 4, 5), dtype=bool)
    masks[0] = True  # largest
    masks[1, :2, :2] = True
    scores = np.array([0.2, 0.9, 0.5], dtype=np.float32)
    result = PredictionResult(masks, scores, np.zeros((3, 2, 2), dtype=np.float32))
    assert result.best_index == 1
    np.testing.assert_array_equal(result.best(), masks[1])


def test_result_len_iter_and_repr():
    masks = np.zeros((3, 534, 800), dtype=bool)
    scores = np.array([0.91, 0.85, 0.42], dtype=np.float32)
    result = PredictionResult(masks, scores, np.zeros((3, 256, 256), dtype=np.float32))
    assert len(result) == 3
    pairs = list(result)
    assert [round(s, 2) for _, s in pairs] == [0.91, 0.85, 0.42] and pairs[0][0].shape == (534, 800)
    assert repr(result) == "PredictionResult(3 masks of 534x800, scores=[0.91, 0.85, 0.42], best=0)"


def test_result_is_frozen_and_checks_shapes():
    result = PredictionResult(
        np.zeros((1, 2, 2), bool), np.zeros(1, np.float32), np.zeros((1, 4, 4), np.float32)
    )
    with pytest.raises(AttributeError):
        result.scores = np.ones(1)  # type: ignore[misc]
    with pytest.raises(ValueError, match="same K"):
        PredictionResult(
            np.zeros((3, 2, 2), bool), np.zeros(2, np.float32), np.zeros((3, 4, 4), np.float32)
        )


# --------------------------------------------------------------------------- state and errors


def test_predict_before_set_image(sam):
    with pytest.raises(RuntimeError, match=r"call predictor\.set_image\(image\) first"):
        Predictor(sam).predict(points=[[1, 1]])


def test_predict_without_prompt_explains_options(predictor):
    with pytest.raises(ValueError, match=r"points=.*box=.*mask_input="):
        predictor.predict()


def test_labels_without_points(predictor):
    with pytest.raises(ValueError, match="without points"):
        predictor.predict(labels=[1], box=[0, 0, 10, 10])


def test_prompts_are_validated_against_the_image(predictor):
    with pytest.raises(ValueError, match=r"\(row, col\)"):
        predictor.predict(points=[[25, 85]])  # (row, col) of a pixel near the right edge
    with pytest.raises(ValueError, match=r"predict_boxes"):
        predictor.predict(box=[[0, 0, 10, 10], [5, 5, 20, 20]])
    with pytest.raises(ValueError, match="not the mask"):
        predictor.predict(mask_input=np.ones((H, W), dtype=bool))
    with pytest.raises(TypeError, match="multimask"):
        predictor.predict(points=[[1, 1]], multimask="False")


def test_official_keeps_the_old_image_after_a_refused_one(sam):
    # Why set_image clears first: SAM keeps the previous image when a new one is refused.
    official = SamPredictor(sam)
    official.set_image(_image())
    with pytest.raises(RuntimeError):
        official.set_image(np.zeros((8, 8), dtype=np.uint8))  # gray: SAM fails in a permute
    assert official.is_image_set and official.original_size == (H, W)


@pytest.mark.parametrize("bad", ["not an image", np.zeros((1, 2, 8, 8, 3)), np.full((8, 8), -1.0)])
def test_failed_set_image_leaves_no_image(sam, bad):
    predictor = Predictor(sam)
    predictor.set_image(_image())
    with pytest.raises((TypeError, ValueError)):
        predictor.set_image(bad)
    assert not predictor.is_image_set and predictor.image_size is None
    with pytest.raises(RuntimeError, match="set_image"):
        predictor.predict(points=[[1, 1]])


@pytest.mark.parametrize("error", [RuntimeError("encoder exploded"), KeyboardInterrupt()])
def test_error_inside_encoder_leaves_no_image_and_caches_nothing(error):
    sam = _new_sam()
    predictor = Predictor(sam)
    predictor.set_image(_image(0))

    def broken(*args, **kwargs):
        raise error

    sam.image_encoder.forward = broken
    with pytest.raises(type(error)):
        predictor.set_image(_image(1))
    assert not predictor.is_image_set and predictor.original.features is None
    assert len(predictor.cache) == 1  # only the first image
    predictor.set_image(_image(0))  # a cached image still works (the encoder is not needed)
    assert predictor.is_image_set


def test_properties_and_reset(predictor, sam):
    assert predictor.model is sam
    assert predictor.device == torch.device("cpu")
    assert isinstance(predictor.original, SamPredictor)
    assert predictor.image_size == (H, W) and predictor.is_image_set
    assert "image=60x90" in repr(predictor)
    predictor.reset_image()
    assert not predictor.is_image_set and predictor.image_size is None


def test_constructor_refuses_wrong_things(sam):
    with pytest.raises(TypeError, match=r"Predictor\(predictor\.model\)"):
        Predictor(SamPredictor(sam))
    with pytest.raises(TypeError, match="load_sam"):
        Predictor("vit_b")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="EmbeddingCache"):
        Predictor(sam, cache=8)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the cache


def test_same_image_again_is_served_from_the_cache_identically():
    sam = _new_sam()
    calls = _count_encoder_calls(sam)
    predictor = Predictor(sam)
    image = _image()
    predictor.set_image(image)
    computed = predictor.original.features.clone()
    predictor.set_image(_image(1))
    predictor.set_image(image.copy())  # same content, new array object
    assert len(calls) == 2
    assert torch.equal(predictor.original.features, computed)
    assert predictor.cache.stats.hits == 1
    # and the restored state predicts exactly what the official predictor does
    official = SamPredictor(sam)
    official.set_image(image)
    result = predictor.predict(points=[[45, 25]])
    _assert_same_as_official(result, *official.predict(np.array([[45, 25]]), np.array([1])))


def test_restored_features_are_a_copy():
    sam = _new_sam()
    predictor = Predictor(sam)
    predictor.set_image(_image())
    predictor.set_image(_image())
    predictor.original.features.mul_(0)  # a learner playing with SAM's raw state
    predictor.set_image(_image())
    assert predictor.original.features.abs().sum() > 0


def test_one_pixel_change_recomputes():
    sam = _new_sam()
    calls = _count_encoder_calls(sam)
    predictor = Predictor(sam)
    image = _image()
    predictor.set_image(image)
    changed = image.copy()
    changed[0, 0, 0] ^= 1
    predictor.set_image(changed)
    assert len(calls) == 2


def test_changed_weights_recompute():
    sam = _new_sam()
    calls = _count_encoder_calls(sam)
    predictor = Predictor(sam)
    predictor.set_image(_image())
    before = predictor.original.features.clone()
    with torch.no_grad():
        sam.image_encoder.neck[0].weight.mul_(2)
    predictor.set_image(_image())
    assert len(calls) == 2
    assert not torch.equal(predictor.original.features, before)


def test_shared_cache_never_serves_another_models_embedding():
    cache = EmbeddingCache()
    sam_a, sam_b = _new_sam(0), _new_sam(1)
    calls_b = _count_encoder_calls(sam_b)
    Predictor(sam_a, cache=cache).set_image(_image())
    predictor_b = Predictor(sam_b, cache=cache)
    predictor_b.set_image(_image())
    assert len(calls_b) == 1
    official = SamPredictor(sam_b)
    official.set_image(_image())
    assert torch.equal(predictor_b.original.features, official.features)


def test_same_weights_in_another_model_object_share_the_cache():
    cache = EmbeddingCache()
    sam_a, sam_b = _new_sam(0), _new_sam(0)
    calls_b = _count_encoder_calls(sam_b)
    Predictor(sam_a, cache=cache).set_image(_image())
    Predictor(sam_b, cache=cache).set_image(_image())
    assert len(calls_b) == 0


def test_disk_cache_warms_a_new_session(tmp_path):
    image = _image()
    Predictor(_new_sam(), cache=EmbeddingCache(disk_dir=tmp_path)).set_image(image)
    sam = _new_sam()  # "next session": new model object, same weights, new cache
    calls = _count_encoder_calls(sam)
    predictor = Predictor(sam, cache=EmbeddingCache(disk_dir=tmp_path))
    predictor.set_image(image)
    assert len(calls) == 0 and predictor.cache.stats.disk_hits == 1
    official = SamPredictor(sam)
    official.set_image(image)
    assert torch.equal(predictor.original.features, official.features)


def test_one_default_cache_size(sam):
    from seglab.sam.cache import DEFAULT_MAX_ITEMS

    assert Predictor(sam).cache.max_items == EmbeddingCache().max_items == DEFAULT_MAX_ITEMS
    assert Predictor(sam, cache=True).cache.max_items == DEFAULT_MAX_ITEMS


def test_cache_false_always_runs_the_encoder():
    sam = _new_sam()
    calls = _count_encoder_calls(sam)
    predictor = Predictor(sam, cache=False)
    predictor.set_image(_image())
    predictor.set_image(_image())
    assert len(calls) == 2 and predictor.cache is None


# --------------------------------------------------------------------------- many boxes


BOXES = np.array([[20, 10, 70, 40], [0, 0, 90, 60], [5, 30, 40, 58], [60, 5, 88, 20]])


def test_predict_boxes_equals_one_by_one(predictor):
    batch = predictor.predict_boxes(BOXES)
    assert isinstance(batch, BatchPredictionResult)
    assert batch.masks.shape == (4, 1, H, W) and batch.scores.shape == (4, 1)
    assert batch.logits.shape == (4, 1, 64, 64) and len(batch) == 4
    for i, box in enumerate(BOXES):
        single = predictor.predict(box=box, multimask=False)
        np.testing.assert_allclose(batch.logits[i], single.logits, atol=1e-5)
        np.testing.assert_allclose(batch.scores[i], single.scores, atol=1e-5)
        # the decoder runs batched, so logits may differ in the last bit: allow a pixel or two
        assert (batch.masks[i] != single.masks).mean() < 1e-3


def test_predict_boxes_equals_official_predict_torch(predictor, official):
    batch = predictor.predict_boxes(BOXES, multimask=True)
    boxes = official.transform.apply_boxes_torch(torch.as_tensor(BOXES, dtype=torch.float), (H, W))
    masks, scores, logits = official.predict_torch(None, None, boxes=boxes, multimask_output=True)
    np.testing.assert_array_equal(batch.masks, masks.numpy())
    np.testing.assert_allclose(batch.scores, scores.numpy(), atol=1e-5)
    np.testing.assert_allclose(batch.logits, logits.numpy(), atol=1e-4)


def test_predict_boxes_batch_size_does_not_change_results(predictor):
    whole = predictor.predict_boxes(BOXES, batch_size=16)
    chunked = predictor.predict_boxes(BOXES, batch_size=3)
    np.testing.assert_array_equal(whole.masks, chunked.masks)
    np.testing.assert_allclose(whole.logits, chunked.logits, atol=1e-5)


def test_batch_result_helpers(predictor):
    batch = predictor.predict_boxes(BOXES, multimask=True)
    assert batch.masks.shape == (4, 3, H, W)
    best = batch.best()
    assert best.shape == (4, H, W)
    for i, one in enumerate(batch):
        assert isinstance(one, PredictionResult)
        np.testing.assert_array_equal(best[i], one.best())
        assert batch.best_indices[i] == one.best_index
    assert repr(batch).startswith("BatchPredictionResult(4 prompts x 3 masks of 60x90")


def test_predict_boxes_single_box_and_errors(predictor, sam):
    assert predictor.predict_boxes([20, 10, 70, 40]).masks.shape == (1, 1, H, W)
    with pytest.raises(ValueError, match="x1 < x0"):
        predictor.predict_boxes([[20, 10, 10, 40]])
    with pytest.raises(ValueError, match="batch_size"):
        predictor.predict_boxes(BOXES, batch_size=0)
    with pytest.raises(RuntimeError, match="set_image"):
        Predictor(sam).predict_boxes(BOXES)


# --------------------------------------------------------------------------- devices


@pytest.mark.gpu
def test_gpu_matches_cpu():
    device = "cuda" if torch.cuda.is_available() else "mps"
    cpu = Predictor(_new_sam())
    gpu = Predictor(_new_sam().to(device))
    for predictor in (cpu, gpu):
        predictor.set_image(_image())
        predictor.set_image(_image())  # second time from the cache
    assert gpu.original.features.device.type == device
    assert gpu.original.features.dtype == torch.float32
    a, b = cpu.predict(points=[[45, 25]]), gpu.predict(points=[[45, 25]])
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-3)
    assert (a.masks != b.masks).mean() < 1e-2
    assert gpu.predict_boxes(BOXES).masks.shape == (4, 1, H, W)
