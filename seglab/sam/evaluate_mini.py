"""How good is a mini-SAM? The figures of its model card, on scenes it never trained on.

Everything here goes through the unchanged ``segment_anything`` API (``SamPredictor``,
``SamAutomaticMaskGenerator``), so the same code measures mini-SAM and an official checkpoint.
Held-out scenes come from their own seed family (``HELDOUT_TAG``), disjoint from the training
scenes of :mod:`seglab.sam.train_mini`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from segment_anything.modeling import Sam

from seglab.data import Scene, interior_point, make_scene

#: Seed tag of held-out scenes: scene i is drawn from rng([HELDOUT_TAG, i]).
HELDOUT_TAG = 0x68656C64

#: Objects smaller than this (visible pixels) are not used as training or evaluation targets.
MIN_AREA = 48


def heldout_scene(i: int, size: int | tuple[int, int] = 256) -> Scene:
    """Held-out scene ``i`` (never seen in training), for evaluation and tests."""
    return make_scene(np.random.default_rng([HELDOUT_TAG, i]), size)


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation of two equally long sequences (numpy only, no ties handling
    beyond argsort order - fine for continuous scores)."""
    ra = np.argsort(np.argsort(np.asarray(a, float))).astype(float)
    rb = np.argsort(np.argsort(np.asarray(b, float))).astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


@torch.no_grad()
def evaluate_predictor(
    sam: Sam, n_scenes: int = 40, amg_scenes: int = 5, **amg_options: Any
) -> dict[str, Any]:
    """The quality figures of the model card, through the unchanged ``segment_anything`` API.

    On held-out scenes ``heldout_scene(0..n_scenes-1)`` (256 x 256), for every object of at
    least ``MIN_AREA`` visible pixels:

    - ``point_miou``: one positive click at :func:`seglab.data.interior_point`,
      ``SamPredictor.predict(multimask_output=True)``, the top-scoring of the 3 masks;
    - ``box_miou``: its tight box, ``multimask_output=False``;
    - ``negative_point_improved`` / ``negative_point_cases``: where the point mask covers more
      than 10 % of another object, a negative click at that object's interior point (with the
      previous low-res logits as ``mask_input``, as SAM's notebook does) - the share of cases
      whose IoU went up;
    - ``iou_head_spearman``: rank correlation of the IoU head's scores with the true IoU, over
      all 3 masks of every point prompt;
    - ``amg_recall``: ``SamAutomaticMaskGenerator`` (its default settings with a 16 x 16 point
      grid, overridden by ``amg_options``) on the first ``amg_scenes`` scenes: the share of
      objects matched by a generated mask with IoU > 0.5, and ``amg_masks_per_scene``.
    """
    from segment_anything import SamAutomaticMaskGenerator, SamPredictor

    was_training = sam.training
    sam.eval()
    predictor = SamPredictor(sam)
    point, box, scores, truths = [], [], [], []
    improved, cases = 0, 0
    for i in range(n_scenes):
        scene = heldout_scene(i)
        predictor.set_image(scene.image)
        for k, gt in enumerate(scene.masks):
            if gt.sum() < MIN_AREA:
                continue
            click = np.array([interior_point(gt)], np.float32)
            masks, iou_pred, low = predictor.predict(click, np.array([1]), multimask_output=True)
            ious = [_iou(m, gt) for m in masks]
            top = int(np.argmax(iou_pred))
            point.append(ious[top])
            scores += iou_pred.tolist()
            truths += ious
            m, _, _ = predictor.predict(box=scene.boxes[k], multimask_output=False)
            box.append(_iou(m[0], gt))
            # the neighbour this mask wrongly covers most, if it covers > 10 % of it
            pred = masks[top]
            overlaps = [
                (pred & other).sum() / other.sum() if j != k else 0.0
                for j, other in enumerate(scene.masks)
            ]
            j = int(np.argmax(overlaps))
            if overlaps[j] > 0.1:
                neg = np.array(interior_point(scene.masks[j]), np.float32)
                m2, _, _ = predictor.predict(
                    np.stack([click[0], neg]),
                    np.array([1, 0]),
                    mask_input=low[top][None],
                    multimask_output=False,
                )
                cases += 1
                improved += _iou(m2[0], gt) > ious[top]
    generator = SamAutomaticMaskGenerator(sam, **{"points_per_side": 16, **amg_options})
    found, total, n_masks = 0, 0, 0
    for i in range(amg_scenes):
        scene = heldout_scene(i)
        generated = [r["segmentation"] for r in generator.generate(scene.image)]
        n_masks += len(generated)
        for gt in scene.masks:
            if gt.sum() < MIN_AREA:
                continue
            total += 1
            found += any(_iou(g, gt) > 0.5 for g in generated)
    sam.train(was_training)
    return {
        "objects": len(point),
        "point_miou": float(np.mean(point)),
        "box_miou": float(np.mean(box)),
        "negative_point_cases": cases,
        "negative_point_improved": improved / cases if cases else float("nan"),
        "iou_head_spearman": spearman(scores, truths),
        "amg_recall": found / total if total else float("nan"),
        "amg_masks_per_scene": n_masks / max(amg_scenes, 1),
    }
