"""One interactive training step of a SAM, in small: prompts, corrections, losses.

The building blocks of :mod:`seglab.sam.recipe`, following the SAM paper (Kirillov et al., 2023,
section 3 and appendix A):

- a first prompt per object: one positive point (uniform inside the object or inside its eroded
  core) or its box jittered by a few pixels;
- a point is ambiguous, so it asks for 3 masks. SAM trains only the best of them against its one
  target (the minimum loss over the 3). Here a click can have up to three *valid* targets (a part,
  its object, the object's container: :meth:`Composite.ancestors`), and every target is matched
  to its own output by the assignment with the least total loss (the minimum over the 3 outputs,
  taken jointly for all targets), so that the outputs learn the granularities; a box, which is
  not ambiguous, uses the single-mask output;
- rounds of correction: a point from the error region of the previous mask (a missed pixel
  becomes a positive point, a wrongly included one a negative point), with the previous
  low-resolution logits as ``mask_input`` and the single-mask output;
- loss per mask: 20 x focal + 1 x dice (SAM's), or 1 x binary cross-entropy + 1 x dice
  (``mask_loss="bce"``); the IoU head learns the true IoU of *every* output with its best valid
  target (mean squared error).

Images go through the model's own preprocessing (``ResizeLongestSide``, ``sam.preprocess``) and
prompts are given in that resized input frame, as ``SamPredictor`` gives them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage as ndi
from scipy.optimize import linear_sum_assignment
from segment_anything.modeling import Sam
from segment_anything.utils.transforms import ResizeLongestSide
from torchvision.ops import sigmoid_focal_loss

from seglab.data import erode, interior_point, mask_box

FOCAL_WEIGHT, DICE_WEIGHT = 20.0, 1.0

#: The per-mask losses :func:`mask_losses` knows: SAM's focal + dice, or cross-entropy + dice.
MASK_LOSSES = ("focal", "bce")


# ----------------------------------------------------------------------------- prompts


def sample_positive_point(mask: np.ndarray, rng: np.random.Generator, core: bool) -> np.ndarray:
    """One ``(x, y)`` pixel inside a (H, W) bool mask; inside its eroded core if ``core``."""
    if core:
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        crop = np.pad(mask[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1], 1)
        for it in (6, 3, 1):  # the deepest erosion that leaves something
            eroded = erode(crop, it)
            if eroded.any():
                ys, xs = np.nonzero(eroded)
                k = rng.integers(len(ys))
                return np.array([xs[k] + cols[0] - 1, ys[k] + rows[0] - 1], np.float32)
    ys, xs = np.nonzero(mask)
    k = rng.integers(len(ys))
    return np.array([xs[k], ys[k]], np.float32)


def jitter_box(box: np.ndarray, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """(4,) box x0, y0, x1, y1 moved by noise of 5 % of its side (at most 8 px), clipped."""
    side = np.array([box[2] - box[0], box[3] - box[1]] * 2, np.float32) + 1
    noise = np.clip(rng.normal(0, 0.05, 4) * side, -8, 8)
    out = box.astype(np.float32) + noise
    out[[0, 2]] = np.clip(out[[0, 2]], 0, w - 1)
    out[[1, 3]] = np.clip(out[[1, 3]], 0, h - 1)
    return np.concatenate([np.minimum(out[:2], out[2:]), np.maximum(out[:2], out[2:])])


def largest_error_click(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float, int]:
    """The corrective click a careful user makes: the most interior pixel of the largest error.

    The missed pixels (in ``gt``, not in ``pred``) and the wrongly included ones (in ``pred``,
    not in ``gt``) are split in 4-connected regions; the largest region of either kind is
    clicked at its :func:`seglab.data.interior_point`.

    Arguments:
      pred, gt: (H, W) bool predicted and true masks.

    Returns:
      ``(x, y, label)``: label 1 (a positive click) for a missed region, 0 for a wrongly included
      one. A perfect prediction gives a positive click at ``gt``'s interior point.
    """
    best, best_area, label = None, 0, 1
    for lab, err in ((1, gt & ~pred), (0, pred & ~gt)):
        regions, n = ndi.label(err)
        if not n:
            continue
        areas = np.bincount(regions.ravel())[1:]
        k = int(np.argmax(areas))
        if areas[k] > best_area:
            best, best_area, label = regions == k + 1, int(areas[k]), lab
    if best is None:
        best, label = gt, 1
    x, y = interior_point(best)
    return float(x), float(y), label


def corrective_points(
    pred: np.ndarray, gt: np.ndarray, rng: np.random.Generator, interior_share: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """One correction per object: a point from the error region of each predicted mask.

    Arguments:
      pred, gt: (K, H, W) bool predicted and true masks.
      interior_share: the chance, per object, that the point is the careful user's click
        (:func:`largest_error_click`) rather than a uniformly drawn error pixel.

    Returns:
      points (K, 2) float32 (x, y) and labels (K,) int64: 1 where the point is a missed object
      pixel (false negative), 0 where it is a wrongly included pixel (false positive). Where a
      prediction is perfect, a positive point inside the object is used.
    """
    pts = np.zeros((len(gt), 2), np.float32)
    labels = np.ones(len(gt), np.int64)
    for k in range(len(gt)):
        if interior_share and rng.random() < interior_share and gt[k].any():
            x, y, lab = largest_error_click(pred[k], gt[k])
            pts[k], labels[k] = (x, y), lab
            continue
        err = pred[k] ^ gt[k]
        ys, xs = np.nonzero(err if err.any() else gt[k])
        j = rng.integers(len(ys))
        pts[k] = (xs[j], ys[j])
        labels[k] = int(gt[k, ys[j], xs[j]])
    return pts, labels


# ----------------------------------------------------------------------------- losses


def mask_losses(
    logits: torch.Tensor,
    gt: torch.Tensor,
    valid: torch.Tensor | None = None,
    kind: str = "focal",
) -> torch.Tensor:
    """Per-mask loss: 20 x focal + dice (``kind="focal"``, SAM's) or binary cross-entropy + dice
    (``kind="bce"``).

    Focal loss stops pushing a pixel once it is well classified, so its logits stay small;
    cross-entropy keeps pushing them apart, which raises the masks' stability score (the share
    of a mask that stays when the logit threshold moves from -1 to +1).

    Arguments:
      logits: (K, M, H, W) float mask logits in the image frame.
      gt: (K, H, W) float in {0, 1}.
      valid: optional (K, H, W) bool, the pixels that count (the rest, e.g. padding, is
        ignored: the loss equals the loss on the crop to the valid pixels).
      kind: one of :data:`MASK_LOSSES`.

    Returns:
      (K, M) loss of each of the M masks of each object.
    """
    if kind not in MASK_LOSSES:
        raise ValueError(f"mask loss must be one of {MASK_LOSSES}, got {kind!r}")
    logits = logits.float()  # under bfloat16 autocast, the losses are still taken in float32
    target = gt[:, None].expand_as(logits)
    if kind == "focal":
        pixel = sigmoid_focal_loss(logits, target, alpha=0.25, gamma=2.0, reduction="none")
    else:
        pixel = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    prob = logits.sigmoid().flatten(2)
    t = target.flatten(2)
    if valid is None:
        pixel = pixel.flatten(2).mean(-1)
    else:
        v = valid[:, None].flatten(2).float()  # (K, 1, H*W)
        pixel = (pixel.flatten(2) * v).sum(-1) / v.sum(-1).clamp(min=1)
        prob, t = prob * v, t * v
    dice = 1 - (2 * (prob * t).sum(-1) + 1) / (prob.sum(-1) + t.sum(-1) + 1)
    return (FOCAL_WEIGHT if kind == "focal" else 1.0) * pixel + DICE_WEIGHT * dice


def mask_iou(
    logits: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor | None = None
) -> torch.Tensor:
    """(K, M) IoU of each thresholded mask (logits > 0) of (K, M, H, W) with gt (K, H, W),
    counting only the ``valid`` (K, H, W) pixels when given."""
    pred = logits > 0
    g = gt[:, None].bool()
    if valid is not None:
        pred, g = pred & valid[:, None], g & valid[:, None]
    inter = (pred & g).flatten(2).sum(-1).float()
    union = (pred | g).flatten(2).sum(-1).float()
    return inter / union.clamp(min=1)


# ----------------------------------------------------------------------------- model steps


def upscale(sam: Sam, low_res: torch.Tensor, input_size: tuple[int, int]) -> torch.Tensor:
    """Low-res logits (K, M, h, w) -> logits in the resized input frame (K, M, H, W).

    The same operations as ``sam.postprocess_masks`` up to its final resize (which is the
    identity here, since training scenes are already at the model's input scale).
    """
    s = sam.image_encoder.img_size
    up = F.interpolate(low_res, (s, s), mode="bilinear", align_corners=False)
    return up[..., : input_size[0], : input_size[1]]


def decode(
    sam: Sam,
    embedding: torch.Tensor,
    points: tuple[torch.Tensor, torch.Tensor] | None,
    boxes: torch.Tensor | None,
    mask_input: torch.Tensor | None,
    multimask: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompt encoder + mask decoder for K prompts on one image embedding (1, C, g, g)."""
    sparse, dense = sam.prompt_encoder(points=points, boxes=boxes, masks=mask_input)
    return sam.mask_decoder(
        image_embeddings=embedding,
        image_pe=sam.prompt_encoder.get_dense_pe(),
        sparse_prompt_embeddings=sparse,
        dense_prompt_embeddings=dense,
        multimask_output=multimask,
    )


def prepare_images(sam: Sam, images: Sequence[np.ndarray]) -> tuple[torch.Tensor, list]:
    """HWC uint8 images -> (B, 3, S, S) model input on the model's device, and each image's
    resized (H, W)."""
    transform = ResizeLongestSide(sam.image_encoder.img_size)
    batch, sizes = [], []
    for img in images:
        x = torch.as_tensor(transform.apply_image(img), device=sam.device).permute(2, 0, 1).float()
        sizes.append(tuple(x.shape[-2:]))
        batch.append(sam.preprocess(x[None])[0])  # normalise + pad to S x S
    return torch.stack(batch), sizes


def decode_many(
    sam: Sam,
    embeddings: torch.Tensor,
    points: tuple[torch.Tensor, torch.Tensor] | None,
    boxes: torch.Tensor | None,
    mask_input: torch.Tensor | None,
    multimask: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Like :func:`decode`, but prompt ``k`` may belong to any image: one decoder call for all.

    ``embeddings`` is (K, C, g, g), the image embedding of each prompt's image. SAM's decoder
    adds the dense prompt embedding to one image embedding repeated K times; giving it a zero
    image embedding and (image embedding + dense embedding) as the dense input computes the
    same sum, so the unchanged ``MaskDecoder`` decodes prompts of several images in one batch
    (far fewer, larger matrix products than one call per image - what makes a CPU step fast).
    """
    sparse, dense = sam.prompt_encoder(points=points, boxes=boxes, masks=mask_input)
    return sam.mask_decoder(
        image_embeddings=torch.zeros_like(embeddings[:1]),
        image_pe=sam.prompt_encoder.get_dense_pe(),
        sparse_prompt_embeddings=sparse,
        dense_prompt_embeddings=embeddings + dense,
        multimask_output=multimask,
    )


# ----------------------------------------------------------------------------- one step


class Entities(Protocol):
    """What a training step needs of a scene: :class:`seglab.sam.composites.Composite`."""

    # read-only (properties), so that a frozen dataclass such as Composite matches
    @property
    def image(self) -> np.ndarray: ...  # (H, W, 3) uint8

    @property
    def masks(self) -> np.ndarray: ...  # (K, H, W) bool, visible pixels of each entity

    @property
    def parents(self) -> np.ndarray: ...  # (K,) int64, -1 for none

    def ancestors(self, k: int) -> list[int]: ...

    def own_region(self, k: int) -> np.ndarray: ...


def match_targets(losses: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Assign each valid target to its own output with the least total loss.

    Arguments:
      losses: (K, M, T) loss of output m against target t, for K prompts.
      valid: (K, T) bool, which targets exist (at least one per prompt).

    Returns:
      (K, T) int64: the output assigned to each target, -1 where the target is not valid.
      With one valid target this is SAM's minimum over the outputs.
    """
    cost = losses.detach().cpu().numpy()
    v = valid.cpu().numpy()
    out = np.full(v.shape, -1, np.int64)
    for k in range(len(cost)):
        ts = np.flatnonzero(v[k])
        rows, cols = linear_sum_assignment(cost[k][:, ts])
        out[k, ts[cols]] = rows
    return torch.from_numpy(out).to(losses.device)


def iou_targets(ious: torch.Tensor, ancestor_score: float = 1.0) -> torch.Tensor:
    """What the IoU head should predict for each output: (K, M, T) IoUs -> (K, M).

    ``ious[k, m, t]`` is output m's IoU with target t of prompt k, -1 where the target does not
    exist; target 0 is the clicked entity, targets 1 and 2 its ancestors (its object, its
    group). Each output's target is its best IoU, an ancestor's counted ``ancestor_score``
    times: with 1.0 (SAM) every granularity scores alike; below 1, a perfect mask of the entity
    itself outscores a perfect mask of what contains it.
    """
    weight = torch.ones(ious.shape[-1], device=ious.device)
    weight[1:] = ancestor_score
    return (ious.clamp(min=0) * weight).max(-1).values


def choose_entities(
    areas: np.ndarray,
    parents: np.ndarray,
    rng: np.random.Generator,
    max_objects: int,
    min_area: int = 48,
    nested_weight: float = 1.0,
) -> np.ndarray:
    """The entities of one scene that a training step prompts.

    Arguments:
      areas: (K,) int, each entity's visible pixels; those under ``min_area`` are never chosen.
      parents: (K,) int, each entity's parent, -1 for none.
      max_objects: at most this many, drawn without replacement.
      nested_weight: the weight of an entity with a parent (a part, an object on a container:
        a click on it has several valid answers) against 1 for the others. At 1.0 every
        entity is equally likely, and the draw is ``rng.permutation`` as in every run before
        this option, so that those runs repeat.

    Returns (n,) int64 entity indices, n = min(max_objects, eligible entities).
    """
    if not 0 < nested_weight < np.inf:
        raise ValueError(
            f"nested_weight must be > 0 and finite, got {nested_weight!r}; 1.0 weighs all alike"
        )
    eligible = np.flatnonzero(areas >= min_area)
    if nested_weight == 1.0 or len(eligible) == 0:
        return rng.permutation(eligible)[:max_objects]
    weight = np.where(parents[eligible] >= 0, nested_weight, 1.0)
    n = min(max_objects, len(eligible))
    return rng.choice(eligible, size=n, replace=False, p=weight / weight.sum())


def batch_loss(
    sam: Sam,
    embeddings: torch.Tensor,
    scenes: Sequence[Entities],
    sizes: Sequence[tuple[int, int]],
    rng: np.random.Generator,
    max_objects: int,
    corrections: int,
    min_area: int = 48,
    box_share: float = 0.4,
    loss_size: int = 128,
    interior_share: float = 0.5,
    ancestor_score: float = 1.0,
    mask_loss: str = "focal",
    nested_weight: float = 1.0,
) -> tuple[torch.Tensor, int, dict[str, float]]:
    """Summed loss over the sampled entities and interaction rounds of a batch of scenes.

    Arguments:
      embeddings: (B, C, g, g) image embeddings of the B scenes.
      scenes: the B scenes, already at the model's input scale (longest side ``img_size``).
      sizes: each scene's (h, w) (``prepare_images``).
      rng: draws the entities, prompt types, prompt points and corrective points.
      max_objects: at most this many entities (of >= ``min_area`` pixels) per scene.
      corrections: corrective-point rounds after the first prompt.
      box_share: chance that an entity's first prompt is its (jittered) box.
      loss_size: side of the square frame the losses are computed in (logits are upsampled
        from the 64 x 64 low-res output; targets are downsampled by area).
      interior_share: chance that a corrective point is the careful user's click.
      ancestor_score: what the IoU head should say for a mask of a clicked entity's *ancestor*
        (its object, its group), as a factor on that mask's IoU. 1.0: every valid target
        counts alike (SAM). Below 1, a perfect mask of the clicked entity itself outscores a
        perfect mask of what contains it, so the top-scored of the 3 masks is the entity.
      mask_loss: the per-mask loss, ``"focal"`` or ``"bce"`` (:func:`mask_losses`).
      nested_weight: how much likelier an entity that lies inside another (a part, an object
        on a container) is to be prompted than one that does not (:func:`choose_entities`).

    Returns (loss sum, number of mask terms, stats: mean IoU of the trained mask per prompt
    type and round).
    """
    s = sam.image_encoder.img_size
    r = loss_size / s
    dev = embeddings.device  # targets and prompts are built on the CPU, then moved here
    groups: dict[bool, list[tuple[int, list[int]]]] = {False: [], True: []}
    for b, scene in enumerate(scenes):
        areas = scene.masks.sum((1, 2))  # (K,); K may be 0
        chosen = choose_entities(areas, scene.parents, rng, max_objects, min_area, nested_weight)
        for k in chosen:
            if rng.random() < box_share:
                groups[True].append((b, [int(k)]))
                continue
            own = scene.own_region(int(k))
            if own.sum() < 4:
                continue
            targets = [a for a in scene.ancestors(int(k)) if areas[a] >= min_area][:3]
            groups[False].append((b, targets))
    total = embeddings.sum() * 0
    terms = 0
    stats: dict[str, float] = {}
    for is_box, items in groups.items():
        if not items:
            continue
        n = len(items)
        gt = torch.zeros(n, 3, s, s)
        tvalid = torch.zeros(n, 3, dtype=torch.bool)
        valid = torch.zeros(n, s, s)
        prompts = []
        for j, (b, targets) in enumerate(items):
            scene, (h, w) = scenes[b], sizes[b]
            for t, k in enumerate(targets):
                gt[j, t, :h, :w] = torch.from_numpy(scene.masks[k])
                tvalid[j, t] = True
            valid[j, :h, :w] = 1
            if is_box:
                prompts.append(jitter_box(mask_box(scene.masks[targets[0]]), rng, h, w))
            else:
                core = bool(rng.random() < 0.5)
                prompts.append(sample_positive_point(scene.own_region(targets[0]), rng, core))
        gt_np = gt.bool().numpy()
        # the target the corrections aim at: one of the valid ones
        aim_np = np.array([rng.integers(int(v.sum())) for v in tvalid])
        gt, valid, tvalid = gt.to(dev), valid.to(dev), tvalid.to(dev)  # built on the CPU
        gt_s = F.interpolate(gt, scale_factor=r, mode="area") if r != 1 else gt
        valid_s = F.interpolate(valid[:, None], scale_factor=r, mode="area")[:, 0] > 0.5
        src = embeddings[[b for b, _ in items]]
        boxes = torch.from_numpy(np.stack(prompts)).float().to(dev) if is_box else None
        if is_box:
            coords, labels = np.zeros((n, 0, 2), np.float32), np.zeros((n, 0), np.int64)
        else:
            coords, labels = np.stack(prompts)[:, None], np.ones((n, 1), np.int64)
        aim = torch.from_numpy(aim_np).to(dev)
        mask_input = None
        ar = torch.arange(n, device=dev)
        for rnd in range(corrections + 1):
            multimask = rnd == 0 and not is_box
            points = (torch.from_numpy(coords).float().to(dev), torch.from_numpy(labels).to(dev))
            low, iou_pred = decode_many(
                sam, src, points if coords.shape[1] else None, boxes, mask_input, multimask
            )
            logits = F.interpolate(low, (loss_size, loss_size), mode="bilinear")
            m = logits.shape[1]
            with torch.no_grad():  # (n, M, T): each output against each target
                ious = torch.stack(
                    [mask_iou(logits, gt_s[:, t] > 0.5, valid_s) for t in range(3)], -1
                ).masked_fill(~tvalid[:, None, :], -1.0)
            if multimask:
                losses = torch.stack(
                    [mask_losses(logits, gt_s[:, t], valid_s, mask_loss) for t in range(3)], -1
                )
                assign = match_targets(losses, tvalid)  # (n, 3)
                mask_term = (losses.gather(1, assign.clamp(min=0)[:, None])[:, 0] * tvalid).sum()
                trained = assign[ar, aim]
            else:  # one output, one target: the one aimed at
                mask_term = mask_losses(logits, gt_s[ar, aim], valid_s, mask_loss).sum()
                trained = torch.zeros(n, dtype=torch.int64, device=dev)
            true_iou = iou_targets(ious, ancestor_score)
            iou_loss = F.mse_loss(iou_pred.float(), true_iou, reduction="none").mean(1).sum()
            total = total + mask_term + iou_loss
            terms += int(tvalid.sum()) if multimask else n
            stats[("box" if is_box else "point") + f"_r{rnd}_iou"] = float(
                ious[ar, trained, aim].mean()
            )
            if rnd == corrections or m == 0:
                break
            mask_input = low[ar, trained][:, None].detach()  # (n, 1, h, w)
            full = F.interpolate(low[ar, trained][:, None].detach(), (s, s), mode="bilinear")
            pred = ((full[:, 0] > 0) & (valid > 0)).cpu().numpy()
            aimed = gt_np[np.arange(n), aim_np]
            new_pts, new_labels = corrective_points(pred, aimed, rng, interior_share)
            coords = np.concatenate([coords, new_pts[:, None]], 1)
            labels = np.concatenate([labels, new_labels[:, None]], 1)
    return total, terms, stats
