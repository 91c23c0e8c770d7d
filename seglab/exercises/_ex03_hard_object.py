"""Question 6 of exercises/03_sam_prompts.ipynb: clicks for a hard object (imported by ex03).

``q6`` ``hard_object_clicks()``: return at most :data:`MAX_CLICKS` clicks, ``(points, labels)``,
that make the course's mini-SAM segment :func:`hard_object`'s object at IoU >= :data:`BAR`. One
click at the object's most interior pixel gives IoU 0.79 (:func:`clicks_iou` measures it): the
mask stops short of two of the object's corners. Finding where the mask is wrong, and clicking
there, is the skill of notebook 3's widget, here checked by a number.

Unlike q1-q5, whose checks compare your masks with the reference's on a SAM with random weights,
q6 judges the shipped model's answer to your clicks, so it prompts ``load_sam("mini")`` (on the
CPU, whatever ``SEGLAB_SAM_MODEL`` says). Your clicks are given as a person gives them in
notebook 3, all in one call: one click -> the top-scored of SAM's 3 masks; several -> one mask
(``multimask_output=False``). That is ``seglab.sam.Predictor.predict(points, labels,
multimask=len(points) == 1).best()``.
"""

from __future__ import annotations

import functools
from typing import cast

import numpy as np

from seglab.checks import Case, Question

__all__ = [
    "BAR",
    "MAX_CLICKS",
    "clicks_iou",
    "hard_object",
    "hard_object_clicks",
    "q6",
    "show_clicks",
]

#: The scene and object of q6: ``seglab.sam.evaluate_mini.heldout_scene(246)``, object 1 (the
#: purple checkered triangle), a scene mini-SAM never trained on.
HARD_SCENE, HARD_OBJECT = 246, 1
#: The IoU the clicks must reach, and how many clicks they may be.
BAR, MAX_CLICKS = 0.9, 4


# --------------------------------------------------------------------------- reference solution


def hard_object_clicks():
    """(points, labels): at most 4 clicks that segment the hard object at IoU >= 0.9."""
    points = np.array([[168, 63], [195, 75], [165, 42]])  # (x, y): the middle, then 2 corners
    labels = np.array([1, 1, 1])  # all "this object": one click stopped short of both corners
    return points, labels


# --------------------------------------------------------------------------- the object


@functools.cache
def _scene():
    from seglab.sam.evaluate_mini import heldout_scene

    return heldout_scene(HARD_SCENE)


def hard_object() -> tuple[np.ndarray, np.ndarray]:
    """q6's image, (256, 256, 3) uint8 RGB, and its object's true mask, (256, 256) bool."""
    scene = _scene()
    return scene.image.copy(), scene.masks[HARD_OBJECT].copy()


@functools.cache
def _predictor():  # -> seglab.sam.Predictor with q6's image set; untyped: keeps imports lazy
    from seglab.sam import Predictor, load_sam

    predictor = Predictor(load_sam("mini", device="cpu"))
    predictor.set_image(_scene().image)
    return predictor


def _as_clicks(points: object, labels: object) -> tuple[np.ndarray, np.ndarray]:
    """Points (N, 2) and labels (N,), read by the rules of :mod:`seglab.prompts` (no bounds:
    those are :func:`_inside`'s case), or its ValueError/TypeError saying what is wrong."""
    from seglab.prompts import parse_labels, parse_points

    pts = parse_points(points)  # type: ignore[arg-type]
    return pts, parse_labels(labels, len(pts))  # type: ignore[arg-type]


def _mask(points: np.ndarray, labels: np.ndarray) -> np.ndarray:
    result = _predictor().predict(points=points, labels=labels, multimask=len(points) == 1)
    return result.best()


def clicks_iou(points: object, labels: object = None) -> float:
    """How q6 scores clicks: the IoU of mini-SAM's mask for them with the hard object.

    Arguments:
      points: (N, 2) clicks, (x, y) in pixels of :func:`hard_object`'s 256 x 256 image.
      labels: (N,) 1 (this object) or 0 (not this object); None means all 1.

    Returns:
      float in [0, 1].

    Raises:
      ValueError, TypeError: the clicks are malformed or outside the image; the message says how.
    """
    from seglab.metrics import iou

    pts, labs = _as_clicks(points, labels)
    return float(iou(_mask(pts, labs), _scene().masks[HARD_OBJECT]))


def show_clicks(points: object, labels: object = None, ax=None) -> float:
    """Draw the hard object's image, its true outline (white), mini-SAM's mask for the clicks
    and the clicks (a star: 1, a cross: 0); return the IoU, also in the title."""
    import matplotlib.pyplot as plt

    import seglab

    pts, labs = _as_clicks(points, labels)
    mask = _mask(pts, labs)
    score = float(seglab.iou(mask, _scene().masks[HARD_OBJECT]))
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(_scene().image)
    seglab.show_mask(mask, ax=ax)
    ax.contour(_scene().masks[HARD_OBJECT], levels=[0.5], colors="white", linewidths=1.5)
    seglab.show_points(pts, labs, ax=ax)
    ax.set_title(f"{len(pts)} click(s): IoU {score:.3f}")
    ax.axis("off")
    return score


# --------------------------------------------------------------------------- the cases


def _pair(answer: object) -> str | None:
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        kind = type(answer).__name__
        return f"got a {kind}, not a pair (points, labels); return points, labels"
    points, labels = answer
    if labels is None:
        return "labels is None: return the labels too, 1 or 0 for each click"
    try:
        _as_clicks(points, labels)
    except (TypeError, ValueError) as error:
        if "labels must be" in str(error):
            return None  # the next case's business
        return str(error).rstrip(".")  # the report ends the sentence
    return None


def _points(answer: object) -> np.ndarray:
    """The points of an answer that passed :func:`_pair`, (N, 2) float64."""
    return np.asarray(cast("tuple[object, object]", answer)[0], dtype=np.float64)


def _labels_01(answer: object) -> str | None:
    from seglab.prompts import parse_labels

    try:
        parse_labels(cast("tuple[object, object]", answer)[1], len(_points(answer)))  # type: ignore[arg-type]
    except ValueError as error:
        return str(error).rstrip(".")  # the report ends the sentence
    return None


def _few(answer: object) -> str | None:
    n = len(_points(answer))
    return None if n <= MAX_CLICKS else f"{n} clicks"


def _inside(answer: object) -> str | None:
    from seglab.prompts import validate_points

    try:
        validate_points(_points(answer), _scene().masks[HARD_OBJECT].shape)
    except ValueError as error:
        return str(error).rstrip(".")  # the report ends the sentence
    return None


def _good_enough(answer: object) -> str | None:
    score = clicks_iou(*cast("tuple[object, object]", answer))
    if score >= BAR:
        return None
    return f"mini-SAM's mask for your clicks has IoU {score:.3f} with the object"


q6 = Question(
    "q6",
    "clicks for a hard object",
    [
        Case(
            "your answer: (points, labels)",
            verify=_pair,
            expect_text="a pair: points (N, 2) as (x, y), labels (N,), N >= 1",
            why="SAM takes the clicks and their labels as two arrays of the same length.",
        ),
        Case(
            "the labels",
            verify=_labels_01,
            expect_text="1 (this object) or 0 (not this object) for each click",
            why=(
                "SAM reads 1 as 'this object' and 0 as 'not this'. It reads -1 as 'no point "
                "at all' (padding), so a -1 click is silently ignored."
            ),
        ),
        Case(
            "how many clicks",
            verify=_few,
            expect_text=f"at most {MAX_CLICKS} clicks",
            why=(
                "a person clicks a few times, where it matters; points copied from the true "
                "mask would be outlining by hand."
            ),
        ),
        Case(
            "where the clicks are",
            verify=_inside,
            expect_text="every click inside the 256 x 256 image, as (x, y) pixels",
            why=(
                "clicks are in pixels of the image you were given, not of the 1024-px frame "
                "(or mini-SAM's 256-px one) that SAM resizes to: the predictor converts them."
            ),
        ),
        Case(
            "mini-SAM's mask for your clicks",
            verify=_good_enough,
            expect_text=f"IoU >= {BAR} with the object",
            why=(
                "one click at the middle gives IoU 0.79: show_clicks(points, labels) draws the "
                "mask over the object's outline. Click where they differ: a positive click "
                "(1) on a part the mask misses, a negative one (0) on a part it wrongly covers."
            ),
        ),
    ],
    hints=[
        "Start with one click in the middle: show_clicks([[168, 63]]) draws the mask over the "
        "object's white outline. Where does the mask stop short?",
        "The one-click mask stops short of the triangle's top and right corners: add a "
        "positive click (label 1) near each, three clicks in all.",
    ],
    solution=hard_object_clicks,
    on_pass="One click is a question SAM may answer partly; the next click says where it erred.",
)
