"""Known wrong answers to exercises/04_segment_everything.ipynb: instance map, recall."""

from __future__ import annotations

import numpy as np
from _wrong_answers import wrong

# ---- ex04 q1: records to an instance map


def _paint(records, shape, order, offset=1, dtype=np.int32):
    out = np.zeros(shape, dtype=dtype)
    for i in order:
        out[np.asarray(records[i]["segmentation"], dtype=bool)] = i + offset
    return out


def _by_area(records):
    return sorted(range(len(records)), key=lambda i: records[i]["area"], reverse=True)


@wrong("ex04_segment_everything.q1", "two masks that do not touch")
def instance_ids_start_at_zero(records, shape):
    return _paint(records, shape, _by_area(records), offset=0)


@wrong("ex04_segment_everything.q1", "two masks that do not touch")
def instance_map_of_int64(records, shape):
    return _paint(records, shape, _by_area(records), dtype=np.int64)


@wrong("ex04_segment_everything.q1", "a 4-pixel part listed before")
def instances_painted_in_the_lists_order(records, shape):
    return _paint(records, shape, range(len(records)))


@wrong("ex04_segment_everything.q1", "no records")
def instance_map_sized_from_the_first_record(records, shape):
    return _paint(records, records[0]["segmentation"].shape, _by_area(records))


@wrong("ex04_segment_everything.q1", "a record whose mask is 8 x 6")
def instance_map_without_a_shape_check(records, shape):
    return _paint(records, shape, _by_area(records))  # numpy's IndexError, not a ValueError


# ---- ex04 q2: recall


def _recall(records, true_masks, threshold, match, per_object=True):
    true_masks = np.asarray(true_masks, dtype=bool)
    found = 0
    for truth in true_masks:
        masks = [np.asarray(r["segmentation"], dtype=bool) for r in records]
        hits = [match(mask, truth) >= threshold for mask in masks]
        found += any(hits) if per_object else sum(hits)
    return found / len(true_masks)


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


@wrong("ex04_segment_everything.q2", "one mask equal to the first")
def precision_instead_of_recall(records, true_masks, threshold=0.5):
    found = _recall(records, true_masks, threshold, _iou) * len(true_masks)
    return found / len(records)


@wrong("ex04_segment_everything.q2", "IoU exactly 0.5")
def recall_with_iou_above_the_threshold(records, true_masks, threshold=0.5):
    return _recall(records, true_masks, threshold + 1e-9, _iou)


@wrong("ex04_segment_everything.q2", "one mask covering the whole image")
def recall_by_coverage_of_the_object(records, true_masks, threshold=0.5):
    return _recall(records, true_masks, threshold, lambda m, t: (m & t).sum() / t.sum())


@wrong("ex04_segment_everything.q2", "two near-duplicate masks")
def recall_counting_every_matching_mask(records, true_masks, threshold=0.5):
    return _recall(records, true_masks, threshold, _iou, per_object=False)


@wrong("ex04_segment_everything.q2", "no records")
def recall_with_max_over_no_records(records, true_masks, threshold=0.5):
    masks = [np.asarray(r["segmentation"]) for r in records]
    found = [max(_iou(m, t) for m in masks) >= threshold for t in true_masks]
    return float(np.mean(found))


@wrong("ex04_segment_everything.q2", "no true objects")
def recall_dividing_by_zero_objects(records, true_masks, threshold=0.5):
    return _recall(records, true_masks, threshold, _iou)


@wrong("ex04_segment_everything.q2", "threshold 50")
def recall_without_a_threshold_check(records, true_masks, threshold=0.5):
    if len(true_masks) == 0:
        raise ValueError("no true objects")
    return _recall(records, true_masks, threshold, _iou)
