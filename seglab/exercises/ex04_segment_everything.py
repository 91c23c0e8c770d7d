"""Questions of exercises/04_segment_everything.ipynb: what the mask generator returns.

- ``q1`` ``records_to_instance_map(records, shape)``: the generator's list of records (dicts
  with an (H, W) bool ``"segmentation"`` and its ``"area"``) as one (H, W) int32 instance map:
  0 where no mask is, ``i + 1`` where record ``i``'s mask is. Masks overlap (a part inside its
  whole), so paint the largest first and the smaller ones over it: a part stays visible. No
  records give all zeros; a record whose mask is not of ``shape`` is a ValueError.
- ``q2`` ``recall(records, true_masks, threshold=0.5)``: the share of true objects (N, H, W)
  that some generated mask matches with an IoU of at least ``threshold`` (COCO's rule). No
  records give 0.0; no true objects, or a threshold outside (0, 1), are a ValueError.

Small hand-made masks (6 x 8 pixels) make every case readable in the messages.
"""

from __future__ import annotations

import numpy as np

from seglab.checks import Case, Question

__all__ = ["q1", "q2", "recall", "records_to_instance_map"]


# --------------------------------------------------------------------------- reference solutions


def records_to_instance_map(records, shape):
    """An (H, W) int32 map: 0 for no mask, i + 1 where ``records[i]``'s mask is."""
    instance_map = np.zeros(shape, dtype=np.int32)
    order = sorted(range(len(records)), key=lambda i: records[i]["area"], reverse=True)
    for i in order:  # the largest first: smaller masks (parts) are painted over it
        mask = np.asarray(records[i]["segmentation"], dtype=bool)
        if mask.shape != tuple(shape):
            raise ValueError(f"record {i}'s mask has shape {mask.shape}, not the image's {shape}.")
        instance_map[mask] = i + 1
    return instance_map


def recall(records, true_masks, threshold=0.5):
    """Share of true objects (N, H, W) matched by a generated mask with IoU >= threshold."""
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold}.")
    true_masks = np.asarray(true_masks, dtype=bool)
    if len(true_masks) == 0:
        raise ValueError("no true objects: recall (found / to find) is undefined.")
    found = 0
    for truth in true_masks:
        for record in records:
            mask = np.asarray(record["segmentation"], dtype=bool)
            union = np.logical_or(mask, truth).sum()
            if union and np.logical_and(mask, truth).sum() / union >= threshold:
                found += 1
                break  # this object is found; go on with the next one
    return found / len(true_masks)


# --------------------------------------------------------------------------- masks

_SHAPE = (6, 8)


def _box_mask(y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    mask = np.zeros(_SHAPE, dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _record(mask: np.ndarray) -> dict[str, object]:
    ys, xs = np.nonzero(mask)
    bbox = [int(xs.min()), int(ys.min()), int(np.ptp(xs)) + 1, int(np.ptp(ys)) + 1]
    return {"segmentation": mask, "area": int(mask.sum()), "bbox": bbox, "predicted_iou": 0.9}


_WHOLE = _box_mask(0, 6, 0, 6)  # 36 pixels
_PART = _box_mask(1, 3, 1, 3)  # 4 pixels, inside the whole
_OTHER = _box_mask(2, 5, 6, 8)  # 6 pixels, beside it

_PART_FIRST = [_record(_PART), _record(_WHOLE)]  # the generator's order is not by size
_SEPARATE = [_record(_OTHER), _record(_PART)]


def _map(*painted: tuple[np.ndarray, int]) -> np.ndarray:
    out = np.zeros(_SHAPE, dtype=np.int32)
    for mask, value in painted:
        out[mask] = value
    return out


q1 = Question(
    "q1",
    "records to an instance map",
    [
        Case(
            "two masks that do not touch",
            (_SEPARATE, _SHAPE),
            expected=_map((_OTHER, 1), (_PART, 2)),
            why="record i's pixels get the value i + 1; 0 stays for the pixels no mask covers.",
        ),
        Case(
            "a 4-pixel part listed before the 36-pixel whole that contains it",
            (_PART_FIRST, _SHAPE),
            expected=_map((_WHOLE, 2), (_PART, 1)),
            why=(
                "painted in the list's order, the whole covers its part and the part "
                "disappears; paint by decreasing area so smaller masks land on top."
            ),
        ),
        Case(
            "no records (the generator found nothing)",
            ([], _SHAPE),
            expected=np.zeros(_SHAPE, dtype=np.int32),
            why="an empty result is normal: the map is all background.",
        ),
        Case(
            "a record whose mask is 8 x 6 for a 6 x 8 image",
            ([_record(_WHOLE.T.copy())], _SHAPE),
            raises=ValueError,
            why="a mask of another size belongs to another image (or was transposed): refuse it.",
        ),
    ],
    hints=[
        "instance_map = np.zeros(shape, dtype=np.int32); then for each record, "
        "instance_map[record['segmentation']] = i + 1.",
        "sorted(range(len(records)), key=lambda i: records[i]['area'], reverse=True) gives "
        "the indices from the largest mask to the smallest.",
    ],
    solution=records_to_instance_map,
    arg_names=["records", "shape"],
    on_pass="seglab.show_anns draws the masks in the same order, largest first.",
)

_TRUE = np.stack([_WHOLE, _OTHER])  # two objects
_HALF = _box_mask(0, 6, 0, 3)  # half of the whole: IoU exactly 0.5
_EVERYTHING = np.ones(_SHAPE, dtype=bool)  # covers both objects, IoU 36/48 and 6/48

q2 = Question(
    "q2",
    "recall of the generated masks",
    [
        Case(
            "one mask equal to the first of two true objects",
            ([_record(_WHOLE)], _TRUE),
            expected=0.5,
            why="recall = objects found / objects to find = 1 / 2.",
        ),
        Case(
            "a mask covering half of the first object (IoU exactly 0.5), threshold 0.5",
            ([_record(_HALF), _record(_OTHER)], _TRUE),
            expected=1.0,
            why=(
                "a match needs an IoU of at least the threshold (COCO's rule, >=): exactly 0.5 "
                "counts, so both objects are found."
            ),
        ),
        Case(
            "one mask covering the whole image, over both objects",
            ([_record(_EVERYTHING)], _TRUE),
            expected=0.5,
            why=(
                "IoU divides by the union: the whole-image mask has IoU 36/48 = 0.75 with the "
                "large object but 6/48 = 0.125 with the small one. Covering an object is not "
                "matching it."
            ),
        ),
        Case(
            "two near-duplicate masks of the first object (IoU 0.83 with each other), none of "
            "the second",
            ([_record(_WHOLE), _record(_box_mask(0, 6, 0, 5)), _record(_PART)], _TRUE),
            expected=0.5,
            why=(
                "recall counts objects found, not matching masks: two masks of one object "
                "find one object (the generator's NMS removes most such duplicates, not all)."
            ),
        ),
        Case(
            "no records",
            ([], _TRUE),
            expected=0.0,
            why="nothing generated, nothing found: recall 0.",
        ),
        Case(
            "no true objects",
            ([_record(_WHOLE)], np.zeros((0, *_SHAPE), dtype=bool)),
            raises=ValueError,
            why="found / to find with nothing to find is 0 / 0: say so instead of dividing.",
        ),
        Case(
            "threshold 50 (a percentage)",
            ([_record(_WHOLE)], _TRUE),
            kwargs={"threshold": 50},
            raises=ValueError,
            why="an IoU threshold lies between 0 and 1; 50 would match nothing, silently.",
        ),
    ],
    hints=[
        "For each true object, look for one record whose IoU with it is at least the threshold; "
        "count the objects found and divide by the number of objects.",
        "IoU = np.logical_and(a, b).sum() / np.logical_or(a, b).sum(). Check the threshold "
        "and the number of objects before the loop.",
    ],
    solution=recall,
    arg_names=["records", "true_masks", "threshold"],
    on_pass="Notebook 04 measured the generator's recall exactly this way.",
)
