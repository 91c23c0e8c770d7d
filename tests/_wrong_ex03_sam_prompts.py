"""Known wrong answers to exercises/03_sam_prompts.ipynb: best mask, clicks, SAM, checkpoints."""

from __future__ import annotations

import numpy as np
from _wrong_answers import wrong

# ---- ex03 q1: the best of SAM's masks


@wrong("ex03_sam_prompts.q1", "the largest scored lowest", "the largest mask")
def best_is_the_largest(masks, scores):
    masks = np.asarray(masks)
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return masks[int(np.argmax(masks.reshape(len(masks), -1).sum(1)))]


@wrong("ex03_sam_prompts.q1", "the largest scored lowest", "the first mask")
def best_is_the_first(masks, scores):
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return np.asarray(masks)[0]


@wrong("ex03_sam_prompts.q1", "the largest scored lowest", "the largest mask")  # the same mask
def best_is_the_lowest_score(masks, scores):
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return np.asarray(masks)[int(np.argmin(scores))]


@wrong("ex03_sam_prompts.q1", "scores as a Python list")
def best_uses_the_array_method(masks, scores):
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return masks[scores.argmax()]


@wrong(
    "ex03_sam_prompts.q1",
    "the same top score",
    "the last of tied scores, np.argsort(scores)[-1]",
)
def best_by_argsort(masks, scores):
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return np.asarray(masks)[np.argsort(scores)[-1]]


@wrong("ex03_sam_prompts.q1", "3 masks but only 2 scores")
def best_without_checks(masks, scores):
    return np.asarray(masks)[int(np.argmax(scores))]


@wrong(
    "ex03_sam_prompts.q1",
    "the largest scored lowest",
    "the index of the best mask instead of the mask",
)
def best_returns_the_index(masks, scores):
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return int(np.argmax(scores))


@wrong(
    "ex03_sam_prompts.q1",
    "one mask (multimask_output=False)",
    "np.squeeze(masks), which turns one (1, H, W) mask into (H, W)",
)
def best_squeezes_the_masks(masks, scores):
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return np.squeeze(masks)[int(np.argmax(scores))]  # SAM's outputs often get squeezed


@wrong("ex03_sam_prompts.q1", "no masks at all")
def best_lets_numpy_refuse_no_masks(masks, scores):
    if len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return np.asarray(masks)[int(np.argmax(scores))]  # np.argmax([]) raises ValueError


@wrong("ex03_sam_prompts.q1", "no masks at all")
def best_is_an_empty_mask_when_there_are_none(masks, scores):
    masks = np.asarray(masks)
    if len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    if len(masks) == 0:
        return np.zeros(masks.shape[1:], dtype=bool)
    return masks[int(np.argmax(scores))]


# ---- ex03 q2: check click points


def _points(points):
    if points is None:
        raise TypeError("points is None")
    points = np.asarray(points, dtype=np.float32)
    if points.shape == (2,):
        points = points[None]
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points has shape {points.shape}")
    if len(points) == 0:
        raise ValueError("no points")
    return points


@wrong(
    "ex03_sam_prompts.q2",
    "one click [50, 10]",
    "a comparison of (x, y) with (H, W), each coordinate with the wrong side",
)
def points_compared_with_the_wrong_side(points, image_size):
    points = _points(points)
    h, w = image_size
    if ((points[:, 0] < 0) | (points[:, 0] >= h) | (points[:, 1] < 0) | (points[:, 1] >= w)).any():
        raise ValueError("a point is outside")
    return points


@wrong(
    "ex03_sam_prompts.q2",
    "a click at x=60 on an image 60 pixels wide",
    "bounds x <= W instead of x < W",
)
def points_off_by_one(points, image_size):
    points = _points(points)
    h, w = image_size
    if ((points[:, 0] < 0) | (points[:, 0] > w) | (points[:, 1] < 0) | (points[:, 1] > h)).any():
        raise ValueError("a point is outside")
    return points


@wrong(
    "ex03_sam_prompts.q2",
    "a sub-pixel click",
    "bounds x <= W - 1, which refuse a click inside the last pixel",
)
def points_end_at_the_last_pixel_index(points, image_size):
    points = _points(points)
    h, w = image_size
    x, y = points[:, 0], points[:, 1]
    if not ((x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)).all():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "three clicks as a list", "clicks rounded down to whole pixels")
def points_as_whole_pixels(points, image_size):
    points = _points(points).astype(int)  # a click is a pixel, is it not?
    h, w = image_size
    if not ((points >= 0).all() and (points[:, 0] < w).all() and (points[:, 1] < h).all()):
        raise ValueError("a point is outside")
    return points.astype(np.float32)


@wrong("ex03_sam_prompts.q2", "given as (row, col)")
def points_checked_against_the_larger_side(points, image_size):
    points = _points(points)
    if not ((points >= 0) & (points < max(image_size))).all():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "a click with a negative y")
def points_forget_negatives(points, image_size):
    points = _points(points)
    h, w = image_size
    if ((points[:, 0] >= w) | (points[:, 1] >= h)).any():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "a NaN coordinate", "a test for points outside, which NaN passes")
def points_test_outside_not_inside(points, image_size):
    points = _points(points)
    h, w = image_size
    x, y = points[:, 0], points[:, 1]
    if ((x < 0) | (x >= w) | (y < 0) | (y >= h)).any():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "transposed")
def points_reshaped(points, image_size):
    if points is None:
        raise TypeError("points is None")
    points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    if len(points) == 0:
        raise ValueError("no points")
    h, w = image_size
    x, y = points[:, 0], points[:, 1]
    if not ((x >= 0) & (x < w) & (y >= 0) & (y < h)).all():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "an empty (0, 2) array")
def points_allow_none_at_all(points, image_size):
    if points is None:
        raise TypeError("points is None")
    points = np.asarray(points, dtype=np.float32)
    if points.shape == (2,):
        points = points[None]
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points has shape {points.shape}")
    h, w = image_size
    x, y = points[:, 0], points[:, 1]
    if not ((x >= 0) & (x < w) & (y >= 0) & (y < h)).all():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "one click [50, 10]", "a float64 result")
def points_as_float64(points, image_size):
    return _points(points).astype(np.float64)


@wrong("ex03_sam_prompts.q2", "points is None")
def points_without_a_none_check(points, image_size):
    points = np.asarray(points, dtype=np.float32)  # None becomes a 0-d NaN array
    if points.shape == (2,):
        points = points[None]
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"points has shape {points.shape}")
    h, w = image_size
    x, y = points[:, 0], points[:, 1]
    if not ((x >= 0) & (x < w) & (y >= 0) & (y < h)).all():
        raise ValueError("a point is outside")
    return points


# ---- ex03 q3: a click to a mask, safely


def _click(predictor, points, labels=None, *, pick="best", check_image=True, check_prompt=True):
    from seglab.exercises.ex03_sam_prompts import check_points

    if check_image and not predictor.is_image_set:
        raise RuntimeError("no image set")
    if check_prompt and points is None:
        raise ValueError("no prompt")
    points = check_points(points, predictor.original_size)
    labels = np.ones(len(points), dtype=int) if labels is None else np.asarray(labels)
    if labels.shape != (len(points),):
        raise ValueError("one label per point")
    masks, scores, _ = predictor.predict(point_coords=points, point_labels=labels)
    if pick == "first":
        return masks[0]
    if pick == "largest":
        return masks[int(np.argmax(masks.reshape(len(masks), -1).sum(1)))]
    if pick == "all":
        return masks
    return masks[int(np.argmax(scores))]


def _click_by_hand(predictor, points, labels=None, *, count=True, bounds="inside", label=True):
    """click_to_mask with its own checks of the clicks instead of check_points."""
    if not predictor.is_image_set:
        raise RuntimeError("no image set")
    if points is None:
        raise ValueError("no prompt")
    points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    if count and len(points) == 0:
        raise ValueError("no points")
    h, w = predictor.original_size
    x, y = points[:, 0], points[:, 1]
    inside = {
        "inside": (x >= 0) & (x < w) & (y >= 0) & (y < h),
        "larger side": (points >= 0).all(1) & (points < max(h, w)).all(1),
        "none": np.ones(len(points), dtype=bool),
    }[bounds]
    if not inside.all():
        raise ValueError("a point is outside the image")
    labels = np.ones(len(points), dtype=int) if labels is None else np.asarray(labels)
    if label and labels.shape != (len(points),):
        raise ValueError("one label per point")
    masks, scores, _ = predictor.predict(point_coords=points, point_labels=labels)
    return masks[int(np.argmax(scores))]


@wrong("ex03_sam_prompts.q3", "one click at (20, 30)", "SAM's first candidate")
def click_takes_the_first_mask(predictor, points, labels=None):
    return _click(predictor, points, labels, pick="first")


@wrong("ex03_sam_prompts.q3", "one click at (20, 30)", "the largest candidate")
def click_takes_the_largest_mask(predictor, points, labels=None):
    return _click(predictor, points, labels, pick="largest")


@wrong("ex03_sam_prompts.q3", "one click at (20, 30)", "all three candidates")
def click_returns_all_candidates(predictor, points, labels=None):
    return _click(predictor, points, labels, pick="all")


@wrong(
    "ex03_sam_prompts.q3",
    "labels [1, 0]",
    "labels left out (every click a foreground click)",
)
def click_ignores_the_labels(predictor, points, labels=None):
    return _click(predictor, points, None)


@wrong(
    "ex03_sam_prompts.q3",
    "before set_image was called",
    "no check of predictor.is_image_set",
)
def click_checks_points_before_the_image(predictor, points, labels=None):
    return _click(predictor, points, labels, check_image=False)


@wrong("ex03_sam_prompts.q3", "no prompt at all", "no check for a missing prompt")
def click_lets_none_become_a_type_error(predictor, points, labels=None):
    return _click(predictor, points, labels, check_prompt=False)


@wrong("ex03_sam_prompts.q3", "one click at (20, 30)", "clicks given as (y, x)")
def click_swaps_x_and_y(predictor, points, labels=None):
    if points is None:
        raise ValueError("no prompt")
    return _click(predictor, np.asarray(points)[:, ::-1], labels)


@wrong("ex03_sam_prompts.q3", "an empty list of points")
def click_checks_clicks_by_hand_but_not_their_number(predictor, points, labels=None):
    return _click_by_hand(predictor, points, labels, count=False)


@wrong("ex03_sam_prompts.q3", "a click at x=64")
def click_checks_the_number_of_clicks_only(predictor, points, labels=None):
    return _click_by_hand(predictor, points, labels, bounds="none")


@wrong("ex03_sam_prompts.q3", "meant as (row, col)")
def click_checks_against_the_larger_side(predictor, points, labels=None):
    return _click_by_hand(predictor, points, labels, bounds="larger side")


@wrong("ex03_sam_prompts.q3", "3 clicks but 2 labels")
def click_without_a_label_check(predictor, points, labels=None):
    return _click_by_hand(predictor, points, labels, label=False)


# ---- ex03 q4: refine with a background click


def _refine(predictor, points, labels, multimask=False, pick=0):
    from seglab.exercises.ex03_sam_prompts import check_points

    points = check_points(points, predictor.original_size)
    masks, scores, _ = predictor.predict(
        point_coords=points, point_labels=np.array(labels), multimask_output=multimask
    )
    return masks[int(np.argmax(scores))] if pick == "best" else masks[pick]


@wrong(
    "ex03_sam_prompts.q4",
    "a click on the object (20, 30)",
    "labels [0, 1], the clicks' roles swapped",
)
def refine_with_swapped_labels(predictor, positive, negative):
    return _refine(predictor, [positive, negative], [0, 1])


@wrong(
    "ex03_sam_prompts.q4",
    "a click on the object (20, 30)",
    "labels [1, 1], two foreground clicks",
)
def refine_with_two_foreground_clicks(predictor, positive, negative):
    return _refine(predictor, [positive, negative], [1, 1])


@wrong(
    "ex03_sam_prompts.q4",
    "a click on the object (20, 30)",
    "three candidates (multimask_output=True) and the best of them",
)
def refine_with_three_candidates(predictor, positive, negative):
    return _refine(predictor, [positive, negative], [1, 0], multimask=True, pick="best")


@wrong("ex03_sam_prompts.q4", "a click on the object (20, 30)")
def refine_forgets_the_positive_click(predictor, positive, negative):
    return _refine(predictor, [negative], [0])


@wrong(
    "ex03_sam_prompts.q4",
    "a background click outside the image",
    "clicks that go to SAM unchecked",
)
def refine_without_checking(predictor, positive, negative):
    masks, _, _ = predictor.predict(
        point_coords=np.array([positive, negative], dtype=float),
        point_labels=np.array([1, 0]),
        multimask_output=False,
    )
    return masks[0]


# ---- ex03 q5: which SAM is in this checkpoint?

_KEY = "image_encoder.patch_embed.proj.weight"


def _model_type(state_dict, *, check_type=True, check_key=True, count="blocks", width_only=False):
    if check_type and not isinstance(state_dict, dict):
        raise TypeError("not a dict")
    if check_key and _KEY not in state_dict:
        raise ValueError("not a SAM")
    width = state_dict[_KEY].shape[0]
    if width_only:
        return {768: "vit_b", 1024: "vit_l", 1280: "vit_h"}[width]
    keys = [k for k in state_dict if k.startswith("image_encoder.blocks.")]
    n = len({k.split(".")[2] for k in keys}) if count == "blocks" else len(keys)
    sizes = {(768, 12): "vit_b", (1024, 24): "vit_l", (1280, 32): "vit_h"}
    name = sizes.get((width, n))
    if name is None:
        raise ValueError(f"unknown SAM: {width} wide, {n} blocks")
    return name


@wrong("ex03_sam_prompts.q5", "768 channels but 24 blocks", "the width alone")
def model_type_by_width_only(state_dict):
    return _model_type(state_dict, width_only=True)


@wrong(
    "ex03_sam_prompts.q5",
    "a vit_b state dict",
    "a count of the blocks' keys instead of the blocks",
)
def model_type_counts_keys_not_blocks(state_dict):
    return _model_type(state_dict, count="keys")


@wrong("ex03_sam_prompts.q5", "wrapped as {'model': state_dict}")
def model_type_guesses_vit_b(state_dict):
    if isinstance(state_dict, dict) and _KEY not in state_dict:
        return "vit_b"
    return _model_type(state_dict)


@wrong(
    "ex03_sam_prompts.q5",
    "wrapped as {'model': state_dict}",
    "a KeyError for a state dict without the patch embedding",
)
def model_type_raises_key_error(state_dict):
    return _model_type(state_dict, check_key=False)


@wrong("ex03_sam_prompts.q5", "a U-Net's state dict")
def model_type_checks_for_a_wrapper_only(state_dict):
    if isinstance(state_dict, dict) and "model" in state_dict:
        raise ValueError("a wrapped checkpoint: pass state_dict['model']")
    return _model_type(state_dict, check_key=False)


@wrong(
    "ex03_sam_prompts.q5",
    "None",
    "an emptiness check, `if not state_dict`, instead of a type check",
)
def model_type_calls_none_empty(state_dict):
    if not state_dict:
        raise ValueError("the state dict is empty")
    return _model_type(state_dict, check_type=False)


# ---- ex03 q6: clicks for a hard object (the reference: the middle, then two corners)

_MIDDLE, _ENDS = [168, 63], [[195, 75], [165, 42]]


@wrong("ex03_sam_prompts.q6", "(points, labels)")
def clicks_without_labels():
    return np.array([_MIDDLE, *_ENDS])  # the points alone


@wrong("ex03_sam_prompts.q6", "the labels")
def clicks_with_minus_one_for_not_this():
    return np.array([_MIDDLE, [150, 160]]), np.array([1, -1])  # "not the rectangle"


@wrong("ex03_sam_prompts.q6", "how many clicks")
def clicks_copied_from_the_true_mask():
    from seglab.exercises.ex03_sam_prompts import hard_object

    ys, xs = np.nonzero(hard_object()[1])
    every = np.linspace(0, len(xs) - 1, 12).astype(int)  # 12 pixels spread over the object
    return np.stack([xs[every], ys[every]], 1), np.ones(12, int)


@wrong("ex03_sam_prompts.q6", "where the clicks are")
def clicks_in_the_1024_px_frame():
    return np.array([_MIDDLE, *_ENDS]) * 4, np.ones(3, int)  # 256 -> 1024 px


@wrong("ex03_sam_prompts.q6", "mask for your clicks")
def clicks_only_the_middle():
    return np.array([_MIDDLE]), np.array([1])


@wrong("ex03_sam_prompts.q6", "mask for your clicks")
def clicks_as_row_col():
    return np.array([_MIDDLE, *_ENDS])[:, ::-1], np.ones(3, int)  # (y, x): inside, but wrong
