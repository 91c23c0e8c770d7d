"""Questions of exercises/03_sam_prompts.ipynb: prompting SAM safely.

- ``q1`` ``best_mask(masks, scores)``: the candidate with the highest *score*, not the
  largest; refuse mismatched or empty inputs.
- ``q2`` ``check_points(points, image_size)``: clicks as an (N, 2) float32 array of (x, y),
  refused when outside the image (x in [0, W), y in [0, H)), NaN, transposed, empty or None.
- ``q3`` ``click_to_mask(predictor, points, labels=None)``: the best mask for clicks with
  segment_anything's own ``SamPredictor``, which trusts its inputs: refuse a predictor without
  an image (RuntimeError) and a call without a prompt (ValueError) instead of returning a mask
  for nothing.
- ``q4`` ``refine(predictor, positive, negative)``: one foreground and one background click,
  one mask (``multimask_output=False``).
- ``q5`` ``checkpoint_model_type(state_dict)``: which official SAM a state dict holds, read
  from its shapes (the file name can lie), so the right model is built for it.
- ``q6`` ``hard_object_clicks()``: at most 4 clicks that make the shipped mini-SAM segment a
  hard object at IoU >= 0.9 (in :mod:`seglab.exercises._ex03_hard_object`, with its helpers
  ``hard_object``, ``show_clicks`` and ``clicks_iou``).

The SAM used by the checks of q3 and q4 is a mini-SAM with fixed random weights (no file needed):
they compare your masks with the reference's on the same model, so trained weights are not
needed. q6 judges the shipped mini-SAM's own answer to your clicks.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from seglab.checks import Case, Question
from seglab.exercises import _ex03_mistakes as mistakes
from seglab.exercises._ex03_hard_object import (
    clicks_iou,
    hard_object,
    hard_object_clicks,
    q6,
    show_clicks,
)
from seglab.exercises._sam_fixture import predictor as fixture_predictor

__all__ = [
    "best_mask",
    "check_points",
    "checkpoint_model_type",
    "click_to_mask",
    "clicks_iou",
    "hard_object",
    "hard_object_clicks",
    "q1",
    "q2",
    "q3",
    "q4",
    "q5",
    "q6",
    "refine",
    "show_clicks",
]


# --------------------------------------------------------------------------- reference solutions


def best_mask(masks, scores):
    """The (H, W) mask with the highest score, from masks (K, H, W) and scores (K,)."""
    masks = np.asarray(masks)
    scores = np.asarray(scores, dtype=float)
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError(
            f"got {len(masks)} masks and {len(scores)} scores; "
            "pass one score per mask, and at least one mask."
        )
    return masks[int(np.argmax(scores))]  # the first one on a tie


def check_points(points, image_size):
    """Clicks (x, y) as an (N, 2) float32 array, checked against image_size = (H, W)."""
    if points is None:
        raise TypeError("points is None; pass clicks as [[x, y], ...].")
    points = np.asarray(points, dtype=np.float32)
    if points.shape == (2,):
        points = points[None, :]  # one click [x, y]
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must be (N, 2), one (x, y) per row; got shape {points.shape}.")
    if len(points) == 0:
        raise ValueError("no points: give at least one click [x, y].")
    h, w = image_size
    x, y = points[:, 0], points[:, 1]
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)  # False for NaN as well
    if not inside.all():
        i = int(np.argmin(inside))
        raise ValueError(
            f"point {i} (x={x[i]}, y={y[i]}) is not inside the image of H={h}, W={w}: "
            f"x must be in [0, {w}) and y in [0, {h}). Did you pass (row, col)?"
        )
    return points


def click_to_mask(predictor, points, labels=None):
    """The best mask (H, W) bool for clicks on the image of a SamPredictor."""
    if not predictor.is_image_set:
        raise RuntimeError("no image is set: call predictor.set_image(image) first.")
    if points is None:
        raise ValueError("no prompt: give at least one click, points=[[x, y]].")
    points = check_points(points, predictor.original_size)
    labels = np.ones(len(points), dtype=int) if labels is None else np.asarray(labels)
    if labels.shape != (len(points),):
        raise ValueError(
            f"{len(points)} points but labels of shape {labels.shape}: "
            "give one label per point (1 = object, 0 = background)."
        )
    masks, scores, _ = predictor.predict(
        point_coords=points, point_labels=labels, multimask_output=True
    )
    return best_mask(masks, scores)


def refine(predictor, positive, negative):
    """One mask (H, W) bool for a foreground click and a background click together."""
    points = check_points([positive, negative], predictor.original_size)
    masks, _, _ = predictor.predict(
        point_coords=points,
        point_labels=np.array([1, 0]),  # 1 = "this object", 0 = "not this"
        multimask_output=False,  # several clicks are not ambiguous: one mask
    )
    return masks[0]


SAM_SIZES = {(768, 12): "vit_b", (1024, 24): "vit_l", (1280, 32): "vit_h"}


def checkpoint_model_type(state_dict):
    """'vit_b', 'vit_l' or 'vit_h', read from the shapes in a SAM state dict."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"expected a state dict (dict of tensors), got {type(state_dict)}.")
    key = "image_encoder.patch_embed.proj.weight"
    if key not in state_dict:
        raise ValueError(f"no {key!r}: not a SAM state dict (keys: {list(state_dict)[:3]}).")
    embed_dim = state_dict[key].shape[0]
    blocks = {k.split(".")[2] for k in state_dict if k.startswith("image_encoder.blocks.")}
    name = SAM_SIZES.get((embed_dim, len(blocks)))
    if name is None:
        raise ValueError(
            f"embed_dim {embed_dim} with {len(blocks)} blocks is no official SAM "
            "(vit_b: 768 and 12, vit_l: 1024 and 24, vit_h: 1280 and 32)."
        )
    return name


# --------------------------------------------------------------------------- q1: best mask

_MASKS = np.zeros((3, 4, 5), dtype=bool)
_MASKS[0, 1:3, 1:3] = True  # part of the object: the first
_MASKS[1] = True  # the whole image: the largest, scored lowest
_MASKS[2, 1:3, 1:4] = True  # the object: the best
_SCORES = np.array([0.88, 0.61, 0.97], dtype=np.float32)


# --------------------------------------------------------------------------- q3, q4: a SAM

_IMAGE_SIZE = (48, 64)  # (H, W): not square, so (row, col) clicks are caught


def _predictor(image_set: bool = True):
    """A SamPredictor on a mini-SAM with fixed random weights, scene 3 set. With seed 13 the
    three candidates for the click (20, 30) are all different roles: the first (0), the
    best-scoring (1) and the largest (2), so a check tells these three picks apart."""
    return fixture_predictor(sam_seed=13, image_seed=3, size=_IMAGE_SIZE, image_set=image_set)


@functools.cache
def _reference_mask(function: str, *args: object) -> np.ndarray:
    def plain(a: object) -> object:
        return a if a is None else np.array(a)

    if function == "click_to_mask":
        return click_to_mask(_predictor(), *map(plain, args))
    return refine(_predictor(), *map(plain, args))


def _freeze(value: object) -> object:
    """A hashable copy of nested lists (for the cache key)."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def _mask_verify(function: str, *args: object):
    key = tuple(_freeze(a) for a in args)

    def verify(got: object, *_given: object) -> str | None:
        expected = _reference_mask(function, *key)
        if not isinstance(got, np.ndarray):
            return f"expected an (H, W) numpy mask, got {type(got).__name__}"
        if got.shape != expected.shape:
            extra = ""
            if got.ndim == 3:
                extra = ": that is all the candidates; return one of them"
            return f"shape {got.shape} instead of {expected.shape}{extra}"
        if got.dtype != bool:
            return f"dtype {got.dtype} instead of bool"
        if not np.array_equal(got, expected):
            n = int((got != expected).sum())
            return f"{n} of {expected.size} pixels differ from the reference mask"
        return None

    return verify


def _sam_case(
    function: str, description: str, *args: object, why: str = "", sanity: bool = False
) -> Case:
    return Case(
        description,
        lambda: (_predictor(), *args),
        verify=_mask_verify(function, *args),
        expect_text=(
            "the best-scoring of SAM's 3 candidates"
            if function == "click_to_mask"
            else "the single mask SAM returns for both clicks, labels [1, 0]"
        ),
        why=why,
        sanity=sanity,
    )


# --------------------------------------------------------------------------- q5: state dicts


def _fake_sam(embed_dim: int, depth: int) -> dict:
    """The keys and shapes that matter of an official SAM state dict (not its weights)."""
    sd = {"image_encoder.pos_embed": torch.zeros(1, 4, 4, embed_dim)}
    sd["image_encoder.patch_embed.proj.weight"] = torch.zeros(embed_dim, 3, 16, 16)
    for i in range(depth):
        for part in ("norm1.weight", "attn.qkv.weight", "attn.proj.weight", "mlp.lin1.weight"):
            sd[f"image_encoder.blocks.{i}.{part}"] = torch.zeros(1)
    sd["image_encoder.neck.0.weight"] = torch.zeros(256, embed_dim, 1, 1)
    sd["prompt_encoder.point_embeddings.0.weight"] = torch.zeros(1, 256)
    sd["mask_decoder.iou_token.weight"] = torch.zeros(1, 256)
    return sd


# --------------------------------------------------------------------------- questions

q1 = Question(
    "q1",
    "the best of SAM's masks",
    [
        Case(
            "3 masks: a part first, the largest scored lowest, the object scored highest",
            (_MASKS, _SCORES),
            expected=_MASKS[2].copy(),
            why=(
                "SAM's score is its own estimate of the mask's quality (IoU). The largest "
                "mask is often the whole background: pick by score, np.argmax(scores)."
            ),
        ),
        Case(
            "the same masks, scores as a Python list",
            (_MASKS, [0.97, 0.61, 0.88]),
            expected=_MASKS[0].copy(),
            why="a list has no .argmax(); np.argmax(scores) works for lists and arrays.",
        ),
        Case(
            "one mask (multimask_output=False)",
            (_MASKS[2:3], np.array([0.2], dtype=np.float32)),
            expected=_MASKS[2].copy(),
            why=(
                "one candidate is the best, whatever its score. Keep the (K, H, W) shape: "
                "np.squeeze would turn (1, H, W) into (H, W), and masks[0] into a row."
            ),
        ),
        Case(
            "two masks with the same top score",
            (_MASKS, np.array([0.5, 0.9, 0.9], dtype=np.float32)),
            expected=_MASKS[1].copy(),
            why="on a tie take the first, as np.argmax does (np.argsort(...)[-1] takes the last).",
        ),
        Case(
            "3 masks but only 2 scores",
            (_MASKS, np.array([0.9, 0.1], dtype=np.float32)),
            raises=ValueError,
            why="masks and scores that do not pair up mean a bug upstream: say so.",
        ),
        Case(
            "no masks at all (K = 0)",
            (np.zeros((0, 4, 5), dtype=bool), np.zeros(0, dtype=np.float32)),
            raises=ValueError,
            why=(
                "there is no best of nothing: say so. np.argmax of an empty array fails "
                "obscurely, and an empty mask would pretend SAM found nothing."
            ),
        ),
    ],
    arg_names=("masks", "scores"),
    hints=[
        "The index of the highest score is np.argmax(scores); the mask is masks[index].",
        "Turn scores into an array first (np.asarray), and raise ValueError when "
        "len(masks) == 0 or len(masks) != len(scores).",
    ],
    solution=best_mask,
    mistakes=mistakes.BEST_MASK,
    on_pass="seglab.sam.PredictionResult.best() does the same.",
)

q2 = Question(
    "q2",
    "check click points",
    [
        Case(
            "one click [50, 10] on an image of H=40, W=60",
            ([50, 10], (40, 60)),
            expected=np.array([[50, 10]], dtype=np.float32),
            why="a click is (x, y): x = 50 is a column (< W = 60), y = 10 a row (< H = 40).",
        ),
        Case(
            "three clicks as a list of pairs",
            ([[0, 0], [59, 39], [30.5, 20.25]], (40, 60)),
            expected=np.array([[0, 0], [59, 39], [30.5, 20.25]], dtype=np.float32),
            why=(
                "(59, 39) is the bottom-right pixel: the last column is W - 1, the last row "
                "H - 1. Keep the fractions: SAM takes sub-pixel clicks."
            ),
        ),
        Case(
            "a sub-pixel click (59.5, 39.5) inside the last pixel of H=40, W=60",
            ([[59.5, 39.5]], (40, 60)),
            expected=np.array([[59.5, 39.5]], dtype=np.float32),
            why=(
                "the last column covers x from 59 up to 60, so x = 59.5 is inside the image: "
                "test x < W and y < H, not x <= W - 1."
            ),
        ),
        Case(
            "a click at x=60 on an image 60 pixels wide",
            ([[60, 10]], (40, 60)),
            raises=ValueError,
            why="columns go from 0 to W - 1: x must be < W, not <= W.",
        ),
        Case(
            "a click (10, 50) given as (row, col) on an image of H=40, W=60",
            ([[10, 50]], (40, 60)),
            raises=ValueError,
            why=(
                "as (x, y) this is row 50 of a 40-row image. Compare x with W and y with H; "
                "np.argwhere gives (row, col), so flip it: points[:, ::-1]."
            ),
        ),
        Case("a click with a negative y", ([[5, -1]], (40, 60)), raises=ValueError),
        Case(
            "a click with a NaN coordinate",
            ([[np.nan, 5]], (40, 60)),
            raises=ValueError,
            why=(
                "every comparison with NaN is False, so `x < 0 or x >= W` lets it through. "
                "Test that the point is inside, not that it is outside."
            ),
        ),
        Case(
            "a 2x3 array: a row of x and a row of y (transposed)",
            (np.array([[1, 2, 3], [4, 5, 6]]), (40, 60)),
            raises=ValueError,
            why="SAM wants one (x, y) row per point, (N, 2); reshape(-1, 2) would scramble it.",
        ),
        Case(
            "an empty (0, 2) array: no points",
            (np.zeros((0, 2), dtype=np.float32), (40, 60)),
            raises=ValueError,
            why="no click is no prompt: SAM would still return masks, for nothing.",
        ),
        Case(
            "points is None",
            (None, (40, 60)),
            raises=TypeError,
            why=(
                "None is the wrong kind of thing: raise TypeError before np.asarray, which "
                "turns None into a NaN array."
            ),
        ),
    ],
    arg_names=("points", "image_size"),
    hints=[
        "np.asarray(points, dtype=np.float32) makes an array of lists; a single [x, y] has "
        "shape (2,) and becomes (1, 2) with points[None]. Then check the shape, the count, "
        "and that every point is inside.",
        "inside = (x >= 0) & (x < w) & (y >= 0) & (y < h) with h, w = image_size; raise "
        "ValueError unless inside.all() (NaN is never inside).",
    ],
    solution=check_points,
    mistakes=mistakes.CHECK_POINTS,
    on_pass="seglab.prompts.validate_points does this and suggests the fix for (row, col).",
)

q3 = Question(
    "q3",
    "a click to a mask, safely",
    [
        _sam_case(
            "click_to_mask",
            "one click at (20, 30) on a 48x64 image",
            [[20, 30]],
            why="SAM returns 3 candidates; return the best-scoring one (question 1).",
        ),
        _sam_case(
            "click_to_mask",
            "a click on the object and a background click, labels [1, 0]",
            [[20, 30], [50, 10]],
            [1, 0],
            why="pass the labels on to SAM: 0 tells it 'not this'.",
        ),
        Case(
            "a predictor before set_image was called",
            lambda: (_predictor(image_set=False), [[20, 30]]),
            raises=RuntimeError,
            why=(
                "check predictor.is_image_set first: without an image there is no "
                "predictor.original_size to check the points against."
            ),
        ),
        Case(
            "points=None (no prompt at all)",
            lambda: (_predictor(), None),
            raises=ValueError,
            why=(
                "SamPredictor.predict() without a prompt still returns 3 masks, for nothing: "
                "refuse the call instead (ValueError: a prompt is needed)."
            ),
        ),
        Case(
            "an empty list of points",
            lambda: (_predictor(), []),
            raises=ValueError,
            why="no click is no prompt either: check_points (question 2) refuses it.",
        ),
        Case(
            "a click at x=64 on an image 64 pixels wide",
            lambda: (_predictor(), [[64, 10]]),
            raises=ValueError,
            why="SAM does not check clicks: validate them with check_points (question 2).",
        ),
        Case(
            "a click [10, 50] meant as (row, col), on an image of H=48, W=64",
            lambda: (_predictor(), [[10, 50]]),
            raises=ValueError,
            why="y = 50 is below the last row (47): the point was probably (row, col).",
        ),
        Case(
            "3 clicks but 2 labels",
            lambda: (_predictor(), [[1, 2], [3, 4], [5, 6]], [1, 1]),
            raises=ValueError,
            why="one label per click; SAM itself fails with an obscure IndexError.",
        ),
    ],
    arg_names=("predictor", "points", "labels"),
    hints=[
        "In order: is an image set (predictor.is_image_set)? Is there a prompt? Are the "
        "points inside the image (check_points with predictor.original_size)? Do the labels "
        "match the points? Then predict and pick the best mask.",
        "predictor.predict(point_coords=points, point_labels=labels, multimask_output=True) "
        "returns (masks, scores, logits); best_mask(masks, scores) picks one. Default labels: "
        "np.ones(len(points), dtype=int).",
    ],
    solution=click_to_mask,
    mistakes=mistakes.CLICK_TO_MASK,
    uses=[q1, q2],
    on_pass="seglab.sam.Predictor.predict does all of this for you, and more.",
)

q4 = Question(
    "q4",
    "refine with a background click",
    [
        _sam_case(
            "refine",
            "a click on the object (20, 30) and a background click (50, 10)",
            [20, 30],
            [50, 10],
            why=(
                "both clicks in one call, labels [1, 0] (1 = object, 0 = background) and "
                "multimask_output=False: with several clicks the prompt is not ambiguous."
            ),
        ),
        _sam_case(
            "refine",
            "another pair: object (8, 40), background (30, 20)",
            [8, 40],
            [30, 20],
            sanity=True,
        ),
        Case(
            "a background click outside the image (x = -3)",
            lambda: (_predictor(), [20, 30], [-3, 10]),
            raises=ValueError,
            why="check the clicks (question 2) before SAM sees them.",
        ),
    ],
    arg_names=("predictor", "positive", "negative"),
    hints=[
        "Put both clicks in one (2, 2) array, the object first, with labels [1, 0].",
        "predictor.predict(point_coords=points, point_labels=np.array([1, 0]), "
        "multimask_output=False) returns one mask: masks[0].",
    ],
    solution=refine,
    mistakes=mistakes.REFINE,
    uses=[q2],
    on_pass="To go further, pass the previous logits as mask_input (seglab.sam.Predictor).",
)

q5 = Question(
    "q5",
    "which SAM is in this checkpoint?",
    [
        Case("a vit_b state dict", lambda: (_fake_sam(768, 12),), expected="vit_b"),
        Case("a vit_l state dict", lambda: (_fake_sam(1024, 24),), expected="vit_l", sanity=True),
        Case("a vit_h state dict", lambda: (_fake_sam(1280, 32),), expected="vit_h", sanity=True),
        Case(
            "768 channels but 24 blocks (no official SAM)",
            lambda: (_fake_sam(768, 24),),
            raises=ValueError,
            why="the width alone is not enough: check the number of blocks too.",
        ),
        Case(
            "a state dict wrapped as {'model': state_dict}",
            lambda: ({"model": _fake_sam(768, 12)},),
            raises=ValueError,
            why="training scripts often save a wrapper; say what you found instead of guessing.",
        ),
        Case(
            "a U-Net's state dict",
            lambda: ({"enc1.0.weight": torch.zeros(64, 3, 3, 3)},),
            raises=ValueError,
            why=(
                "no image_encoder.patch_embed.proj.weight: not a SAM at all. Test for the key "
                "itself, not for one kind of wrapper."
            ),
        ),
        Case(
            "None",
            (None,),
            raises=TypeError,
            why="None is the wrong kind of thing, not an empty state dict: raise TypeError.",
        ),
    ],
    arg_names=("state_dict",),
    hints=[
        "state_dict['image_encoder.patch_embed.proj.weight'].shape[0] is the encoder width; "
        "the keys image_encoder.blocks.<i>.<...> name the blocks, several keys per block.",
        "Collect the block numbers in a set, {k.split('.')[2] for k in state_dict if "
        "k.startswith('image_encoder.blocks.')}, and look up (width, number of blocks) in "
        "{(768, 12): 'vit_b', (1024, 24): 'vit_l', (1280, 32): 'vit_h'}.",
    ],
    solution=checkpoint_model_type,
    mistakes=mistakes.MODEL_TYPE,
    on_pass="seglab.sam.detect_model_type does this for files too, without loading them.",
)
