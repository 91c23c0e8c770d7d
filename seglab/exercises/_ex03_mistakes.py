"""Known mistakes of exercises/03_sam_prompts.ipynb, written as code.

Each list holds :class:`seglab.checks.Mistake` objects for one question of
:mod:`seglab.exercises.ex03_sam_prompts`: a wrong implementation, what to call it in a
message and the fix. When a learner's function fails and gave the same results as one of
them on every case run so far, the check names it. The wrong implementations are variants
of the reference solutions with one thing changed; they call the reference helpers
(``best_mask``, ``check_points``), imported when called because the question module imports
this one.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from seglab.checks import Mistake

__all__ = ["BEST_MASK", "CHECK_POINTS", "CLICK_TO_MASK", "MODEL_TYPE", "REFINE"]


# --------------------------------------------------------------------------- q1: best_mask


def _best(masks, scores, *, pick="score", check=True):
    """best_mask that picks by ``"score"``, ``"size"``, ``"first"``, ``"last-tie"`` or returns
    the ``"index"``; ``"squeeze"`` squeezes the masks first. (np.argmin is no separate
    mistake: in the cases, as often with SAM, the lowest-scored mask is the largest.)"""
    masks, scores = np.asarray(masks), np.asarray(scores, dtype=float)
    if check and (len(masks) == 0 or len(masks) != len(scores)):
        raise ValueError(f"{len(masks)} masks and {len(scores)} scores")
    index = {
        "size": lambda: int(np.argmax(masks.reshape(len(masks), -1).sum(1))),
        "first": lambda: 0,
        "last-tie": lambda: int(np.argsort(scores, kind="stable")[-1]),
    }.get(pick, lambda: int(np.argmax(scores)))()
    if pick == "index":
        return index
    return np.squeeze(masks)[index] if pick == "squeeze" else masks[index]


_BY_SCORE = "Pick by score: masks[np.argmax(scores)]"
BEST_MASK = [
    Mistake(
        "the largest mask",
        partial(_best, pick="size"),
        f"{_BY_SCORE}; the largest mask is often the whole background.",
    ),
    Mistake("the first mask", partial(_best, pick="first"), f"{_BY_SCORE}."),
    Mistake(
        "the index of the best mask instead of the mask",
        partial(_best, pick="index"),
        "Return the mask itself, masks[index], an (H, W) array.",
    ),
    Mistake(
        "np.squeeze(masks), which turns one (1, H, W) mask into (H, W)",
        partial(_best, pick="squeeze"),
        "Do not squeeze the masks: with one candidate, masks[0] is then a row of pixels.",
    ),
    Mistake(
        "the last of tied scores, np.argsort(scores)[-1]",
        partial(_best, pick="last-tie"),
        "On a tie take the first, as np.argmax(scores) does.",
    ),
]


# --------------------------------------------------------------------------- q2: check_points


def _points(points, image_size, *, sides="xy", bound="inside", dtype=np.float32, whole=False):
    """check_points with the bounds test of ``bound`` (``"inside"``, ``"outside"`` (NaN
    passes), ``"<=W"``, ``"<=W-1"``), ``sides="yx"`` comparing x with H, another dtype, or
    ``whole`` clicks rounded to pixels."""
    if points is None:
        raise TypeError("points is None")
    points = np.asarray(points, dtype=np.float32)
    if points.shape == (2,):
        points = points[None]
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points has shape {points.shape}")
    if len(points) == 0:
        raise ValueError("no points")
    h, w = image_size if sides == "xy" else image_size[::-1]
    x, y = points[:, 0], points[:, 1]
    if bound == "outside":
        bad = bool(((x < 0) | (x >= w) | (y < 0) | (y >= h)).any())
    else:
        below = {
            "inside": (x < w) & (y < h),
            "<=W": (x <= w) & (y <= h),
            "<=W-1": (x <= w - 1) & (y <= h - 1),
        }[bound]
        bad = not ((x >= 0) & (y >= 0) & below).all()
    if bad:
        raise ValueError("a point is outside the image")
    points = np.floor(points) if whole else points
    return points.astype(dtype)


CHECK_POINTS = [
    Mistake(
        "a comparison of (x, y) with (H, W), each coordinate with the wrong side",
        partial(_points, sides="yx"),
        "x is a column: compare it with W = image_size[1], and y with H = image_size[0].",
    ),
    Mistake(
        "clicks rounded down to whole pixels",
        partial(_points, whole=True),
        "Keep the clicks as given: SAM takes sub-pixel (float) coordinates.",
    ),
    Mistake(
        "bounds x <= W - 1, which refuse a click inside the last pixel",
        partial(_points, bound="<=W-1"),
        "The last column covers x from W - 1 up to W, so 59.5 is inside: test x < W and y < H.",
    ),
    Mistake(
        "bounds x <= W instead of x < W",
        partial(_points, bound="<=W"),
        "Pixels are numbered 0 to W - 1: x = W is just past the right edge. Test x < W.",
    ),
    Mistake(
        "a test for points outside, which NaN passes",
        partial(_points, bound="outside"),
        "Every comparison with NaN is False: compute inside = (x >= 0) & (x < w) & (y >= 0) "
        "& (y < h) and refuse unless inside.all().",
    ),
    Mistake(
        "a float64 result",
        partial(_points, dtype=np.float64),
        "Return float32: np.asarray(points, dtype=np.float32).",
    ),
]


# --------------------------------------------------------------------------- q3: click_to_mask


def _click(predictor, points, labels=None, *, pick="best", image=True, prompt=True, flip=False):
    """click_to_mask that picks another candidate (``"first"``, ``"largest"``, ``"all"``),
    ignores the labels (``"no-labels"``), skips the image or prompt check, or flips (x, y)."""
    from seglab.exercises.ex03_sam_prompts import best_mask, check_points

    if image and not predictor.is_image_set:
        raise RuntimeError("no image is set")
    if prompt and points is None:
        raise ValueError("no prompt")
    points = check_points(points, predictor.original_size)
    points = points[:, ::-1].copy() if flip else points
    labels = np.ones(len(points), dtype=int) if labels is None or pick == "no-labels" else labels
    labels = np.asarray(labels)
    if labels.shape != (len(points),):
        raise ValueError("one label per point")
    masks, scores, _ = predictor.predict(point_coords=points, point_labels=labels)
    if pick == "first":
        return masks[0]
    if pick == "largest":
        return masks[int(np.argmax(masks.reshape(len(masks), -1).sum(1)))]
    return masks if pick == "all" else best_mask(masks, scores)


_BEST = "pick the best-scoring candidate with your best_mask(masks, scores) (question 1)"
CLICK_TO_MASK = [
    Mistake("SAM's first candidate", partial(_click, pick="first"), f"SAM returns 3: {_BEST}."),
    Mistake(
        "the largest candidate", partial(_click, pick="largest"), f"Size is no guide: {_BEST}."
    ),
    Mistake(
        "all three candidates", partial(_click, pick="all"), f"Return one (H, W) mask: {_BEST}."
    ),
    Mistake(
        "clicks given as (y, x)",
        partial(_click, flip=True),
        "SAM's clicks are (x, y), column first: pass the points as they come.",
    ),
    Mistake(
        "labels left out (every click a foreground click)",
        partial(_click, pick="no-labels"),
        "Pass the labels on, point_labels=labels: 0 tells SAM 'not this'.",
    ),
    Mistake(
        "no check of predictor.is_image_set",
        partial(_click, image=False),
        "Test predictor.is_image_set first and raise RuntimeError: without an image, "
        "predictor.original_size is None and nothing can be checked.",
    ),
    Mistake(
        "no check for a missing prompt",
        partial(_click, prompt=False),
        "points=None is no prompt: raise ValueError before check_points (which raises "
        "TypeError for None).",
    ),
]


# --------------------------------------------------------------------------- q4: refine


def _refine(predictor, positive, negative, *, labels=(1, 0), multimask=False, check=True):
    """refine with other labels, three candidates (the best kept), or no check of the clicks."""
    from seglab.exercises.ex03_sam_prompts import check_points

    points = np.array([positive, negative], dtype=np.float32)
    if check:
        points = check_points(points, predictor.original_size)
    masks, scores, _ = predictor.predict(
        point_coords=points, point_labels=np.array(labels), multimask_output=multimask
    )
    return masks[int(np.argmax(scores))]


REFINE = [
    Mistake(
        "labels [0, 1], the clicks' roles swapped",
        partial(_refine, labels=(0, 1)),
        "The object's click comes first with label 1, the background's with label 0: "
        "point_labels=np.array([1, 0]).",
    ),
    Mistake(
        "labels [1, 1], two foreground clicks",
        partial(_refine, labels=(1, 1)),
        "Label the background click 0: point_labels=np.array([1, 0]).",
    ),
    Mistake(
        "three candidates (multimask_output=True) and the best of them",
        partial(_refine, multimask=True),
        "With two clicks the prompt is not ambiguous: ask for one mask, "
        "multimask_output=False, and return masks[0].",
    ),
    Mistake(
        "clicks that go to SAM unchecked",
        partial(_refine, check=False),
        "SAM accepts clicks outside the image: check both with your check_points first.",
    ),
]


# --------------------------------------------------------------------------- q5: model type

_KEY = "image_encoder.patch_embed.proj.weight"
_SIZES = {(768, 12): "vit_b", (1024, 24): "vit_l", (1280, 32): "vit_h"}


def _model_type(state_dict, *, type_check=True, key_check=True, count="blocks"):
    """checkpoint_model_type with an emptiness check instead of a type check, without a key
    check, or that counts ``"keys"`` or knows only the ``"width"``."""
    if not type_check and not state_dict:
        raise ValueError("the state dict is empty")
    if not isinstance(state_dict, dict):
        raise TypeError("not a dict")
    if key_check and _KEY not in state_dict:
        raise ValueError("not a SAM state dict")
    width = state_dict[_KEY].shape[0]
    if count == "width":
        return {768: "vit_b", 1024: "vit_l", 1280: "vit_h"}[width]
    keys = [k for k in state_dict if k.startswith("image_encoder.blocks.")]
    n = len({k.split(".")[2] for k in keys}) if count == "blocks" else len(keys)
    if (width, n) not in _SIZES:
        raise ValueError(f"{width} wide with {n} blocks is no official SAM")
    return _SIZES[(width, n)]


MODEL_TYPE = [
    Mistake(
        "a count of the blocks' keys instead of the blocks",
        partial(_model_type, count="keys"),
        "Each block has several keys: count the distinct block numbers, "
        "{k.split('.')[2] for k in state_dict if k.startswith('image_encoder.blocks.')}.",
    ),
    Mistake(
        "the width alone",
        partial(_model_type, count="width"),
        "Check the number of blocks too: 768 channels with 24 blocks is no official SAM.",
    ),
    Mistake(
        "a KeyError for a state dict without the patch embedding",
        partial(_model_type, key_check=False),
        f"Test `{_KEY!r} in state_dict` first and raise ValueError: not a SAM state dict.",
    ),
    Mistake(
        "an emptiness check, `if not state_dict`, instead of a type check",
        partial(_model_type, type_check=False),
        "None is the wrong kind of thing, not an empty value: test isinstance(state_dict, "
        "dict) first and raise TypeError.",
    ),
]
