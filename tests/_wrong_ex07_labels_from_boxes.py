"""Known wrong answers to exercises/07_labels_from_boxes.ipynb: COCO boxes, a label map."""

from __future__ import annotations

import numpy as np
from _wrong_answers import wrong

# ---- ex07 q1: COCO boxes


def _coco(annotations, image_id, *, convert=True, select=True, checks=True, empty_shape=(-1, 4)):
    boxes, classes = [], []
    for ann in annotations:
        if select and ann["image_id"] != image_id:
            continue
        x, y, w, h = ann["bbox"]
        if checks and (w <= 0 or h <= 0):
            raise ValueError("a box without area")
        if checks == "all" and ann["category_id"] == 0:
            raise ValueError("category 0")
        boxes.append([x, y, x + w, y + h] if convert else [x, y, w, h])
        classes.append(ann["category_id"])
    array = np.array(boxes, dtype=np.float32)
    return (array.reshape(empty_shape) if empty_shape else array), np.array(classes, np.int64)


@wrong("ex07_labels_from_boxes.q1", "two of them for image 7")
def coco_boxes_left_as_xywh(annotations, image_id):
    return _coco(annotations, image_id, convert=False, checks="all")


@wrong("ex07_labels_from_boxes.q1", "two of them for image 7")
def coco_boxes_of_every_image(annotations, image_id):
    return _coco(annotations, image_id, select=False, checks="all")


@wrong("ex07_labels_from_boxes.q1", "without annotations")
def coco_boxes_empty_as_shape_0(annotations, image_id):
    return _coco(annotations, image_id, checks="all", empty_shape=None)


@wrong("ex07_labels_from_boxes.q1", "bbox has width 0")
def coco_boxes_without_an_area_check(annotations, image_id):
    return _coco(annotations, image_id, checks=False)


@wrong("ex07_labels_from_boxes.q1", "category_id 0")
def coco_boxes_accepting_category_0(annotations, image_id):
    return _coco(annotations, image_id, checks=True)


# ---- ex07 q2: a label map from boxes


def _labels(predictor, boxes, classes, *, by_score=True, multimask=False, dtype=np.uint8):
    h, w = predictor.original_size
    labels = np.zeros((h, w), dtype=dtype)
    best = np.full((h, w), -np.inf)
    for box, class_id in zip(np.asarray(boxes, np.float32).reshape(-1, 4), classes, strict=False):
        masks, scores, _ = predictor.predict(box=box, multimask_output=multimask)
        wins = masks[0] & (scores[0] > best) if by_score else masks[0]
        labels[wins] = class_id
        best[wins] = scores[0]
    return labels


@wrong("ex07_labels_from_boxes.q2", "one box (x0=8")
def labels_from_the_first_of_three_masks(predictor, boxes, classes):
    return _labels(predictor, boxes, classes, multimask=True)


@wrong("ex07_labels_from_boxes.q2", "one box (x0=8")
def labels_as_int64(predictor, boxes, classes):
    return _labels(predictor, boxes, classes, dtype=np.int64)


@wrong("ex07_labels_from_boxes.q2", "two overlapping boxes")
def labels_painted_in_order(predictor, boxes, classes):
    return _labels(predictor, boxes, classes, by_score=False)


@wrong("ex07_labels_from_boxes.q2", "no boxes")
def labels_sized_from_the_first_mask(predictor, boxes, classes):
    labels, best = None, None
    for box, class_id in zip(np.asarray(boxes, np.float32), classes, strict=False):
        masks, scores, _ = predictor.predict(box=box, multimask_output=False)
        if labels is None:
            labels = np.zeros(masks[0].shape, dtype=np.uint8)
            best = np.full(masks[0].shape, -np.inf)
        wins = masks[0] & (scores[0] > best)
        labels[wins], best[wins] = class_id, scores[0]
    return labels


@wrong("ex07_labels_from_boxes.q2", "no image set")
def labels_without_an_image_check(predictor, boxes, classes):
    return _labels(predictor, boxes, classes)


@wrong("ex07_labels_from_boxes.q2", "two boxes but one class")
def labels_zipping_away_a_box(predictor, boxes, classes):
    if not predictor.is_image_set:
        raise RuntimeError("no image")
    return _labels(predictor, boxes, classes)
