"""Questions of exercises/07_labels_from_boxes.ipynb: training labels from boxes and SAM.

- ``q1`` ``coco_boxes(annotations, image_id)``: the box prompts of one image from COCO-style
  annotations: ``bbox`` is ``[x, y, width, height]`` (XYWH) and SAM wants ``[x0, y0, x1, y1]``
  (XYXY); returns boxes (N, 4) float32 and their ``category_id`` (N,) int64, in the file's
  order, and empty arrays of those shapes for an image without annotations. A box without area
  or a ``category_id`` of 0 (the background's id) is refused with ValueError.
- ``q2`` ``labels_from_boxes(predictor, boxes, classes)``: one label map (H, W) uint8 for the
  predictor's image: each box prompts SAM once (``multimask_output=False``) and its mask is
  painted with the box's class; where two masks overlap, the one SAM scored higher wins (not
  whichever was painted last). No boxes give an all-background map; a predictor without an
  image is a RuntimeError, boxes and classes of different lengths a ValueError.

The SAM used by the checks is a mini-SAM with fixed random weights (no file needed): the checks
compare your label map with the reference's on the same model, so trained weights are not
needed.
"""

from __future__ import annotations

import functools

import numpy as np

from seglab.checks import Case, Question
from seglab.exercises._sam_fixture import predictor as fixture_predictor

__all__ = ["coco_boxes", "labels_from_boxes", "q1", "q2"]


# --------------------------------------------------------------------------- reference solutions


def coco_boxes(annotations, image_id):
    """Boxes (N, 4) float32 XYXY and classes (N,) int64 of ``image_id``'s annotations."""
    boxes, classes = [], []
    for ann in annotations:
        if ann["image_id"] != image_id:
            continue
        x, y, w, h = ann["bbox"]  # COCO: top-left corner, width, height
        if w <= 0 or h <= 0:
            raise ValueError(f"annotation {ann} has a box without area (width {w}, height {h}).")
        if ann["category_id"] == 0:
            raise ValueError(f"annotation {ann} has category_id 0, the background's id.")
        boxes.append([x, y, x + w, y + h])  # SAM: top-left and bottom-right corners
        classes.append(ann["category_id"])
    return (
        np.array(boxes, dtype=np.float32).reshape(-1, 4),  # (0, 4) when there are none
        np.array(classes, dtype=np.int64),
    )


def labels_from_boxes(predictor, boxes, classes):
    """A label map (H, W) uint8 for the predictor's image: one SAM mask per box, painted with
    its class; where masks overlap, the higher-scored mask wins."""
    if not predictor.is_image_set:
        raise RuntimeError("no image is set: call predictor.set_image(image) first.")
    boxes, classes = np.asarray(boxes, dtype=np.float32), np.asarray(classes)
    if len(boxes) != len(classes):
        raise ValueError(f"{len(boxes)} boxes but {len(classes)} classes: give one per box.")
    h, w = predictor.original_size
    labels = np.zeros((h, w), dtype=np.uint8)  # 0 = background
    best = np.full((h, w), -np.inf)  # the score of the mask that owns each pixel so far
    for box, class_id in zip(boxes.reshape(-1, 4), classes, strict=True):
        masks, scores, _ = predictor.predict(box=box, multimask_output=False)
        wins = masks[0] & (scores[0] > best)
        labels[wins] = class_id
        best[wins] = scores[0]
    return labels


# --------------------------------------------------------------------------- q1: COCO boxes

_ANNOTATIONS = [
    {"id": 1, "image_id": 7, "bbox": [10, 20, 30, 15], "category_id": 2},
    {"id": 2, "image_id": 8, "bbox": [0, 0, 5, 5], "category_id": 1},
    {"id": 3, "image_id": 7, "bbox": [2.5, 4.0, 10.0, 6.5], "category_id": 1},
]


def _expected_boxes(*rows: list[float]) -> np.ndarray:
    return np.array(rows, dtype=np.float32).reshape(-1, 4)


def _verify_pair(boxes: np.ndarray, classes: np.ndarray):
    def verify(got: object, *_given: object) -> str | None:
        if not isinstance(got, tuple) or len(got) != 2:
            return "return two arrays, (boxes, classes)"
        got_boxes, got_classes = (np.asarray(g) for g in got)
        if got_boxes.shape != boxes.shape:
            return f"boxes of shape {got_boxes.shape} instead of {boxes.shape}"
        if got_boxes.dtype != np.float32:
            return f"boxes of dtype {got_boxes.dtype} instead of float32"
        if not np.allclose(got_boxes, boxes):
            if len(boxes) and np.allclose(got_boxes[:, 2:], boxes[:, 2:] - boxes[:, :2]):
                return (
                    f"the boxes {got_boxes.tolist()} are still [x, y, width, height]; SAM "
                    "wants the corners [x0, y0, x1, y1] = [x, y, x + width, y + height]"
                )
            return f"boxes {got_boxes.tolist()} instead of {boxes.tolist()}"
        if got_classes.shape != classes.shape or not np.array_equal(got_classes, classes):
            return f"classes {got_classes.tolist()} instead of {classes.tolist()}"
        if got_classes.dtype != np.int64:
            return f"classes of dtype {got_classes.dtype} instead of int64"
        return None

    return verify


def _pair_text(boxes: np.ndarray, classes: np.ndarray) -> str:
    return (
        f"boxes {boxes.tolist()} as a ({len(boxes)}, 4) float32 array and classes "
        f"{classes.tolist()} as int64"
    )


_IMAGE_7 = (_expected_boxes([10, 20, 40, 35], [2.5, 4, 12.5, 10.5]), np.array([2, 1]))
_IMAGE_8 = (_expected_boxes([0, 0, 5, 5]), np.array([1]))
_NONE = (_expected_boxes(), np.array([], dtype=np.int64))

q1 = Question(
    "q1",
    "box prompts from COCO annotations",
    [
        Case(
            "three annotations, two of them for image 7",
            (_ANNOTATIONS, 7),
            verify=_verify_pair(*_IMAGE_7),
            expect_text=_pair_text(*_IMAGE_7),
            why=(
                "COCO's bbox is [x, y, width, height]; a SAM box prompt is [x0, y0, x1, y1], "
                "so x1 = x + width and y1 = y + height. Only image 7's annotations count."
            ),
        ),
        Case(
            "the same annotations, image 8",
            (_ANNOTATIONS, 8),
            verify=_verify_pair(*_IMAGE_8),
            expect_text=_pair_text(*_IMAGE_8),
            why="select the annotations whose image_id is the one asked for.",
            sanity=True,
        ),
        Case(
            "an image without annotations (image 9)",
            (_ANNOTATIONS, 9),
            verify=_verify_pair(*_NONE),
            expect_text=_pair_text(*_NONE),
            why=(
                "an image with nothing to label is normal: return empty arrays of shape (0, 4) "
                "and (0,) so that the caller's loop simply runs zero times."
            ),
        ),
        Case(
            "an annotation whose bbox has width 0",
            ([{"id": 4, "image_id": 3, "bbox": [5, 5, 0, 8], "category_id": 1}], 3),
            raises=ValueError,
            why="a box without area prompts SAM for nothing: refuse it and name the annotation.",
        ),
        Case(
            "an annotation with category_id 0",
            ([{"id": 5, "image_id": 3, "bbox": [5, 5, 4, 8], "category_id": 0}], 3),
            raises=ValueError,
            why="0 is the background's id in a label map: an object cannot have it.",
        ),
    ],
    hints=[
        "Loop over the annotations, keep those with ann['image_id'] == image_id, and unpack "
        "x, y, w, h = ann['bbox'].",
        "np.array(boxes, dtype=np.float32).reshape(-1, 4) has shape (0, 4) when the list is empty.",
    ],
    solution=coco_boxes,
    arg_names=["annotations", "image_id"],
    on_pass="The generator's bbox (notebook 04) is XYWH too: the same conversion applies.",
)


# --------------------------------------------------------------------------- q2: a SAM

_IMAGE_SIZE = (48, 64)  # (H, W): not square, so a transposed map is caught


def _predictor(image_set: bool = True):
    """A SamPredictor on a mini-SAM with fixed random weights, scene 5 set."""
    return fixture_predictor(sam_seed=2, image_seed=5, size=_IMAGE_SIZE, image_set=image_set)


@functools.cache
def _reference(boxes: tuple, classes: tuple) -> np.ndarray:
    return labels_from_boxes(_predictor(), np.array(boxes, dtype=np.float32), np.array(classes))


@functools.cache
def _painted_in_order(boxes: tuple, classes: tuple) -> np.ndarray:
    """What painting the masks one after the other gives (the last box wins overlaps)."""
    predictor = _predictor()
    labels = np.zeros(predictor.original_size, dtype=np.uint8)
    for box, class_id in zip(boxes, classes, strict=True):
        masks, _, _ = predictor.predict(box=np.array(box, np.float32), multimask_output=False)
        labels[masks[0]] = class_id
    return labels


def _label_case(description: str, boxes: list, classes: list, why: str) -> Case:
    key = (tuple(map(tuple, boxes)), tuple(classes))

    def verify(got: object, *_given: object) -> str | None:
        expected = _reference(*key)
        if not isinstance(got, np.ndarray):
            return f"expected an (H, W) numpy label map, got {type(got).__name__}"
        if got.shape != expected.shape:
            return f"shape {got.shape} instead of the image's (H, W) = {expected.shape}"
        if got.dtype != np.uint8:
            return f"dtype {got.dtype} instead of uint8 (what a label PNG holds)"
        wrong = got != expected
        if wrong.any() and np.array_equal(got, _painted_in_order(*key)):
            return (
                f"{int(wrong.sum())} pixels where the masks overlap went to the box painted "
                "last; give each pixel to the mask with the higher score"
            )
        if wrong.any():
            y, x = (int(v) for v in np.argwhere(wrong)[0])
            return (
                f"{int(wrong.sum())} of {wrong.size} pixels differ from the reference's; the "
                f"first at (x={x}, y={y}): class {int(got[y, x])} instead of "
                f"{int(expected[y, x])}"
            )
        return None

    return Case(
        description,
        lambda: (_predictor(), np.array(boxes, dtype=np.float32), np.array(classes)),
        verify=verify,
        expect_text="the reference's label map, (48, 64) uint8",
        why=why,
    )


q2 = Question(
    "q2",
    "a label map from boxes",
    [
        _label_case(
            "one box (x0=8, y0=6, x1=40, y1=30), class 3",
            [[8, 6, 40, 30]],
            [3],
            "one box, one SAM call with multimask_output=False, its mask painted with the "
            "box's class on a uint8 map of zeros the size of the image.",
        ),
        _label_case(
            "two overlapping boxes; the first one's mask is scored higher",
            [[20, 10, 60, 44], [4, 4, 44, 40]],
            [2, 1],
            "where two masks overlap, the pixel goes to the mask SAM is more confident "
            "about (its score); painting in order would let the last box win every overlap.",
        ),
        _label_case(
            "no boxes",
            [],
            [],
            "an image without objects gets an all-background map of its own size.",
        ),
        Case(
            "a predictor with no image set",
            lambda: (_predictor(image_set=False), np.array([[1, 1, 9, 9]], np.float32), [1]),
            raises=RuntimeError,
            why="SamPredictor.predict needs set_image first; say so instead of failing inside.",
        ),
        Case(
            "two boxes but one class",
            lambda: (_predictor(), np.array([[1, 1, 9, 9], [2, 2, 8, 8]], np.float32), [1]),
            raises=ValueError,
            why="zip() would silently drop the second box: check the lengths first.",
        ),
    ],
    hints=[
        "h, w = predictor.original_size; labels = np.zeros((h, w), np.uint8). For each box: "
        "masks, scores, _ = predictor.predict(box=box, multimask_output=False).",
        "Keep a (h, w) array of the best score so far (start at -inf); a mask takes a pixel "
        "only where its score is higher.",
    ],
    solution=labels_from_boxes,
    arg_names=["predictor", "boxes", "classes"],
    on_pass="That is how notebook 07 turns boxes into training labels.",
)
