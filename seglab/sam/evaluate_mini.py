"""How good is a mini-SAM? The figures of its model card, on scenes it never trained on.

Everything here goes through the unchanged ``segment_anything`` API (``SamPredictor``,
``SamAutomaticMaskGenerator``), so the same code measures mini-SAM and an official checkpoint.
Held-out scenes come from their own seed family (``HELDOUT_TAG``), disjoint from the training
scenes of :mod:`seglab.sam.train_mini`. :func:`mask_resolution_ceiling` says how much of a
mask the model's low-res output can carry at all, whatever the weights.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from segment_anything.modeling import Sam

from seglab.data import Scene, interior_point, make_scene, mask_box
from seglab.metrics import iou

if TYPE_CHECKING:
    from segment_anything import SamPredictor

    from seglab.sam.composites import Composite

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


@torch.no_grad()
def evaluate_predictor(
    sam: Sam, n_scenes: int = 40, amg_scenes: int = 5, **amg_options: object
) -> dict[str, object]:
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
            ious = [iou(m, gt) for m in masks]
            top = int(np.argmax(iou_pred))
            point.append(ious[top])
            scores += iou_pred.tolist()
            truths += ious
            m, _, _ = predictor.predict(box=scene.boxes[k], multimask_output=False)
            box.append(iou(m[0], gt))
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
                improved += iou(m2[0], gt) > ious[top]
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
            found += any(iou(g, gt) > 0.5 for g in generated)
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


# ----------------------------------------------------------------------------- photos


def coins_ground_truth(min_area: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's coins photo and one mask per coin, by the classic region recipe.

    Sobel elevation map, markers (background < 30, coins > 150), watershed, holes filled,
    connected components; coins of at least ``min_area`` pixels (the scikit-image gallery's
    "Comparing edge-based and region-based segmentation").

    Returns:
      image: (303, 384, 3) uint8 (the grey photo repeated in 3 channels);
      masks: (K, 303, 384) bool, one per coin.
    """
    from scipy import ndimage as ndi
    from skimage import data, filters, segmentation

    coins = data.coins()
    markers = np.zeros_like(coins)
    markers[coins < 30] = 1
    markers[coins > 150] = 2
    regions = segmentation.watershed(filters.sobel(coins), markers)
    labels, n = ndi.label(ndi.binary_fill_holes(regions == 2))
    masks = np.array([labels == k for k in range(1, n + 1)])
    masks = masks[masks.reshape(n, -1).sum(1) >= min_area]
    return np.repeat(coins[..., None], 3, -1), masks


def _object_ids(c: Composite, min_area: int = MIN_AREA) -> list[int]:
    areas = c.masks.sum((1, 2))
    return [k for k in range(len(c.masks)) if c.kinds[k] == 1 and areas[k] >= min_area]


def click_series(
    predictor: SamPredictor, gt: np.ndarray, clicks: int = 5, first: np.ndarray | None = None
) -> tuple[list[float], list[tuple[float, float, int]]]:
    """IoU after each of ``clicks`` clicks, made as a careful user makes them.

    Click 1 at :func:`seglab.data.interior_point` of ``first`` (default ``gt``; pass an object's
    own region so that the first click lands on the object, not on one of its parts), the
    top-scored of 3 masks; each
    further click at the most interior pixel of the largest error region
    (:func:`seglab.sam.interactive.largest_error_click`: 1 in a missed region, 0 in a false
    positive), all clicks so far passed with the previous low-res logits as ``mask_input`` and
    ``multimask_output=False``. ``predictor`` is a ``SamPredictor`` with the image set.

    Returns the IoU after each click and the clicks ``(x, y, label)``.
    """
    from seglab.sam.interactive import largest_error_click

    x, y = interior_point(gt if first is None else first)
    pts, labels = [(float(x), float(y))], [1]
    masks, scores, low = predictor.predict(np.array(pts), np.array(labels), multimask_output=True)
    top = int(np.argmax(scores))
    mask, low = masks[top], low[top : top + 1]
    out = [iou(mask, gt)]
    for _ in range(clicks - 1):
        cx, cy, lab = largest_error_click(mask, gt)
        pts.append((cx, cy))
        labels.append(lab)
        m, _, low = predictor.predict(
            np.array(pts), np.array(labels), mask_input=low, multimask_output=False
        )
        mask = m[0]
        out.append(iou(mask, gt))
    return out, [(p[0], p[1], q) for p, q in zip(pts, labels, strict=True)]


@torch.no_grad()
def coin_click_ious(predictor: SamPredictor, best_of_3: bool = False) -> list[float]:
    """One click per coin of scikit-image's coins photo (:func:`coins_ground_truth`), at the
    coin's most interior pixel, top-scored of 3 masks: the IoU with each coin, in label order.
    ``predictor`` is a ``segment_anything.SamPredictor``; its image is replaced by the coins.

    ``best_of_3=True`` gives the IoU of the best of each click's 3 masks instead: what the
    masks allow, whatever the IoU head scores highest (the gap between the two is the head's).
    """
    top, best = _coin_clicks(predictor)
    return best if best_of_3 else top


def _coin_clicks(predictor: SamPredictor) -> tuple[list[float], list[float]]:
    """:func:`coin_click_ious`' two answers, top-scored and best of 3, from one pass."""
    image, coins = coins_ground_truth()
    predictor.set_image(image)
    top, best = [], []
    for gt in coins:
        x, y = interior_point(gt)
        masks, scores, _ = predictor.predict(np.array([[x, y]]), np.array([1]))
        ious = [iou(m, gt) for m in masks]
        top.append(ious[int(np.argmax(scores))])
        best.append(max(ious))
    return top, best


@dataclass(frozen=True)
class PartClick:
    """One click inside a part, and how its 3 masks match the part and the whole.

    Attributes:
      part: index of the part entity in the composite (``kinds == 2``).
      whole: index of the object it lies in (its parent).
      point: (2,) int, the click (x, y): the most interior pixel of the part's own region.
      scores: (3,) float32, SAM's predicted IoU of each mask.
      part_ious: (3,) float, each mask's IoU with the part, in [0, 1].
      whole_ious: (3,) float, each mask's IoU with the whole object, in [0, 1].
    """

    part: int
    whole: int
    point: np.ndarray
    scores: np.ndarray
    part_ious: np.ndarray
    whole_ious: np.ndarray

    def both(self, threshold: float = 0.7) -> bool:
        """True when one mask matches the part AND another mask the whole (IoU >= threshold):
        the model card's part/whole figure counts these. ``threshold`` must lie in (0, 1]."""
        if not 0.0 < threshold <= 1.0:
            raise ValueError(
                f"threshold must be an IoU in (0, 1], got {threshold!r}; the model card uses 0.7"
            )
        part, whole = self.part_ious >= threshold, self.whole_ious >= threshold
        return any(part[a] and whole[b] for a in range(3) for b in range(3) if a != b)


def part_clicks(predictor: SamPredictor, c: Composite) -> list[PartClick]:
    """One click inside every part of composite ``c`` that has a parent and at least
    ``MIN_AREA`` pixels of its own, at the most interior pixel of its own region, with
    ``multimask_output=True``. Sets ``predictor``'s image to ``c.image`` first."""
    predictor.set_image(c.image)
    cases = []
    for k in map(int, np.flatnonzero(c.kinds == 2)):
        parent = int(c.parents[k])
        own = c.own_region(k)
        if parent < 0 or own.sum() < MIN_AREA:
            continue
        point = np.array(interior_point(own))
        masks, scores, _ = predictor.predict(point[None], np.array([1]))
        cases.append(
            PartClick(
                part=k,
                whole=parent,
                point=point,
                scores=scores,
                part_ious=np.array([iou(m, c.masks[k]) for m in masks]),
                whole_ious=np.array([iou(m, c.masks[parent]) for m in masks]),
            )
        )
    return cases


@torch.no_grad()
def evaluate_photos(
    sam: Sam,
    n_composites: int = 40,
    clicks: int = 5,
    amg_composites: int = 10,
    amg_photos: Sequence[str] | None = None,
    composites: Callable[[int], Composite] | None = None,
) -> dict[str, object]:
    """The photo figures of the model card, through the unchanged ``segment_anything`` API.

    On evaluation composites (:func:`seglab.sam.bank.eval_composite`, made only from the
    course's evaluation photos; or composite ``i`` = ``composites(i)``, e.g. a training bank's
    ``Bank.get``, to tell underfitting from failing on new photos), for every object (not
    container, not part) of at least ``MIN_AREA`` visible pixels:

    - ``click_miou``: one click at the most interior pixel of the object's own region (its
      pixels that are on none of its parts: a user who wants the object clicks on the object),
      top-scored of 3 masks; where it is lost: ``click_best_of_3_miou`` (the best of the 3
      masks instead of the top-scored one), ``click_miou_on_containers`` and
      ``click_miou_on_background`` (objects that lie on a container, or not), and
      ``click_miou_under_1000px`` (objects of fewer than 1,000 visible pixels), NaN when no
      object is in that group;
    - ``box_miou``: its tight box, ``multimask_output=False``;
    - ``clicks_miou``: mean IoU after 1..``clicks`` clicks (:func:`click_series`);
    - ``part_whole``: for every part (inside an object), one click at the most interior pixel of
      its own region (:func:`part_clicks`): the share where one of the 3 masks has IoU >= 0.7
      with the part AND another one IoU >= 0.7 with the whole object (``part_whole_cases``
      cases);
    - ``coins_miou``: the coins photo, one click per coin (:func:`coins_ground_truth`),
      top-scored of 3 masks; ``coins_best_of_3_miou``: the best of the 3 masks instead;
    - ``amg_recall``: ``SamAutomaticMaskGenerator(sam)`` with every default, on the first
      ``amg_composites`` composites: the share of objects of >= 1,000 pixels matched by a
      generated mask with IoU > 0.5; ``amg_min_masks_on_photos``: the fewest masks it finds on
      any of the 13 evaluation photos themselves, or of the photos named in ``amg_photos``
      (written as in :data:`seglab.sam.composites.EVAL_PHOTOS`, e.g. ``"skimage:coins"``; a
      few of them make a quick check).
    """
    from segment_anything import SamAutomaticMaskGenerator, SamPredictor

    from seglab.sam.bank import eval_composite
    from seglab.sam.composites import EVAL_PHOTOS, load_photos

    composite = eval_composite if composites is None else composites
    was_training = sam.training
    sam.eval()
    predictor = SamPredictor(sam)
    click, box, series, pw_hits, pw_cases = [], [], [], 0, 0
    best_of_3, on_container, area = [], [], []
    for i in range(n_composites):
        c = composite(i)
        parts = part_clicks(predictor, c)  # sets c.image: one encode serves parts and objects
        pw_cases += len(parts)
        pw_hits += sum(case.both() for case in parts)
        for k in _object_ids(c):
            gt = c.masks[k]
            ious, _ = click_series(predictor, gt, clicks, c.own_region(k))
            click.append(ious[0])
            x, y = interior_point(c.own_region(k))  # the same first click: all 3 of its masks
            masks, _, _ = predictor.predict(np.array([[x, y]]), np.array([1]))
            best_of_3.append(max(iou(m, gt) for m in masks))
            on_container.append(bool(c.parents[k] >= 0))
            area.append(int(gt.sum()))
            series.append(ious)
            m, _, _ = predictor.predict(box=mask_box(gt), multimask_output=False)
            box.append(iou(m[0], gt))
    coin_ious, coin_best = _coin_clicks(predictor)  # one encode of the coins photo
    generator = SamAutomaticMaskGenerator(sam)
    found, total = 0, 0
    for i in range(amg_composites):
        c = composite(i)
        generated = [r["segmentation"] for r in generator.generate(c.image)]
        for k in _object_ids(c, 1000):
            total += 1
            found += any(iou(g, c.masks[k]) > 0.5 for g in generated)
    names = EVAL_PHOTOS if amg_photos is None else tuple(amg_photos)
    per_photo = [len(generator.generate(p)) for p in load_photos(names)]
    sam.train(was_training)

    def mean_where(values: list[float], keep: np.ndarray) -> float:
        return float(np.mean(np.asarray(values)[keep])) if keep.any() else float("nan")

    container = np.array(on_container, bool)
    return {
        "objects": len(click),
        "click_miou": float(np.mean(click)),
        "click_best_of_3_miou": float(np.mean(best_of_3)),
        "click_miou_on_containers": mean_where(click, container),
        "click_miou_on_background": mean_where(click, ~container),
        "click_miou_under_1000px": mean_where(click, np.array(area) < 1000),
        "box_miou": float(np.mean(box)),
        "clicks_miou": np.mean(series, 0).round(4).tolist(),
        "part_whole": pw_hits / pw_cases if pw_cases else float("nan"),
        "part_whole_cases": pw_cases,
        "coins": len(coin_ious),
        "coins_miou": float(np.mean(coin_ious)),
        "coins_best_of_3_miou": float(np.mean(coin_best)),
        "amg_objects": total,
        "amg_recall": found / total if total else float("nan"),
        "amg_masks_on_photos": per_photo,
        "amg_min_masks_on_photos": int(min(per_photo)),
    }


@torch.no_grad()
def amg_filter_report(
    sam: Sam, n_composites: int = 3, points_per_side: int = 16, min_area: int = 1000
) -> dict[str, float]:
    """Why ``SamAutomaticMaskGenerator(sam)`` keeps no mask: its filters or its masks?

    Runs the generator with both quality filters off (``pred_iou_thresh=0``,
    ``stability_score_thresh=0``) on the first ``n_composites`` evaluation composites and
    reports, for the objects of at least ``min_area`` pixels:

    - ``unfiltered_recall``: the share matched by some mask at IoU > 0.5 (what the defaults
      could reach if their filters kept the right masks);
    - for the masks that match an object (``matching_masks`` of them):
      ``median_predicted_iou`` and ``median_stability``, and the share that pass each default
      filter, ``pass_pred_iou_0.88`` and ``pass_stability_0.95`` (NaN when none match).
    """
    from segment_anything import SamAutomaticMaskGenerator

    from seglab.sam.bank import eval_composite

    generator = SamAutomaticMaskGenerator(
        sam, points_per_side=points_per_side, pred_iou_thresh=0.0, stability_score_thresh=0.0
    )
    found, total, scores = 0, 0, []
    for i in range(n_composites):
        c = eval_composite(i)
        records = generator.generate(c.image)
        objects = [c.masks[k] for k in _object_ids(c, min_area)]
        matches = [[iou(r["segmentation"], m) > 0.5 for m in objects] for r in records]
        total += len(objects)
        found += sum(any(row[j] for row in matches) for j in range(len(objects)))
        scores += [
            (r["predicted_iou"], r["stability_score"])
            for r, row in zip(records, matches, strict=True)
            if any(row)
        ]
    a = np.array(scores, dtype=float).reshape(-1, 2)
    nan = float("nan")
    return {
        "objects": total,
        "unfiltered_recall": found / total if total else nan,
        "matching_masks": len(a),
        "median_predicted_iou": float(np.median(a[:, 0])) if len(a) else nan,
        "median_stability": float(np.median(a[:, 1])) if len(a) else nan,
        "pass_pred_iou_0.88": float((a[:, 0] >= 0.88).mean()) if len(a) else nan,
        "pass_stability_0.95": float((a[:, 1] >= 0.95).mean()) if len(a) else nan,
    }


def mask_resolution_ceiling(mask: np.ndarray, img_size: int = 256, low_res: int = 0) -> float:
    """The IoU a SAM-style model can reach at best on ``mask`` through its low-res output.

    SAM predicts ``low_res`` x ``low_res`` logits (``img_size // 4`` by default: 64 for
    mini-SAM's 256-px input) and ``SamPredictor`` upsamples them bilinearly to the input, then
    to the image, and thresholds at 0. Fine detail smaller than a low-res cell cannot come
    back. This feeds that pipeline the best low-res map there is for ``mask`` itself (its
    area-averaged cover of each cell, as logits) and returns the IoU of what comes out with
    ``mask``: an estimate of the ceiling that no training of that architecture can beat by
    much.

    Arguments:
      mask (np.ndarray): (H, W) bool, the true mask, in the image's own pixels.
      img_size (int): the model's input side (the longest image side is resized to it).
      low_res (int): the side of the predicted logits; 0 means ``img_size // 4`` (SAM's).

    Returns:
      float: IoU in [0, 1].
    """
    import torch.nn.functional as F
    from segment_anything.utils.transforms import ResizeLongestSide

    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != bool:
        raise ValueError(f"mask must be an (H, W) bool array, got {mask.dtype} {mask.shape}")
    low = low_res or img_size // 4
    if img_size <= 0 or low <= 0 or low > img_size:
        raise ValueError(f"need 0 < low_res <= img_size, got low_res={low}, img_size={img_size}")
    h, w = mask.shape
    nh, nw = ResizeLongestSide.get_preprocess_shape(h, w, img_size)  # SamPredictor's resize
    target = torch.from_numpy(mask.astype(np.float32))[None, None]
    padded = torch.zeros(1, 1, img_size, img_size)
    padded[..., :nh, :nw] = F.interpolate(target, (nh, nw), mode="bilinear", align_corners=False)
    cover = F.interpolate(padded, (low, low), mode="area").clamp(1e-4, 1 - 1e-4)
    logits = torch.logit(cover)
    # what Sam.postprocess_masks does: to the padded input, crop the image, to its own size
    up = F.interpolate(logits, (img_size, img_size), mode="bilinear", align_corners=False)
    up = F.interpolate(up[..., :nh, :nw], (h, w), mode="bilinear", align_corners=False)
    return iou(up[0, 0].numpy() > 0.0, mask)
