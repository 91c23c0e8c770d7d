"""Train mini-SAM on synthetic scenes with Segment Anything's own recipe, in small.

Run ``python -m seglab.sam.train_mini --help``. The shipped ``seglab/sam/weights/mini_sam.pt``
was made with this script (the exact command is in ``seglab/sam/weights/MODEL_CARD.md``).

The recipe follows the SAM paper (Kirillov et al., 2023, section 3 and appendix A):

1. Every step draws ``batch_size`` fresh scenes (:func:`seglab.data.make_scene`, seeded by
   (seed, step, index), so a run is reproducible and ``--resume`` continues exactly). Images go
   through the model's own preprocessing - ``ResizeLongestSide`` then ``sam.preprocess``
   (normalise, pad) - as ``SamPredictor`` does at inference, and prompts are given in that
   resized input frame, as the predictor gives them.
2. The image encoder runs once per image; the light mask decoder then runs on the prompts of
   all objects of all images of the step in one batch (:func:`decode_many`).
3. Each sampled object gets a first prompt: one positive point (uniformly inside the object, or
   inside its eroded core), or its box jittered by a few pixels. A single point is ambiguous,
   so it asks for 3 masks and only the best of them is trained (minimum loss over the 3); a box
   uses the single-mask output, as SAM does for unambiguous prompts.
4. Then ``--corrections`` rounds of interactive correction: a new point is sampled from the
   error region of the previous mask (a missed pixel becomes a positive point, a wrongly
   included one a negative point), and the previous low-resolution logits are fed back as
   ``mask_input``.
5. Loss per mask: 20 x focal + 1 x dice, on the logits upsampled to the input frame (as
   ``sam.postprocess_masks`` does), plus the IoU head's mean squared error against the true IoU
   of each predicted mask (thresholded at 0).

AdamW, linear warm-up then cosine decay (over the steps, or over the clock when
``--time-limit-min`` would stop the run first), gradient clipping. Checkpoints go to ``--out``:
``mini_sam.pt`` (the shippable float16 file, :func:`seglab.sam.mini.save_mini_checkpoint`) and
``train_state.pt`` (float32 weights, optimiser state and step, for ``--resume``), both written
atomically; ``log.jsonl`` holds one line per evaluation.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from segment_anything.modeling import Sam
from segment_anything.utils.transforms import ResizeLongestSide
from torchvision.ops import sigmoid_focal_loss
from tqdm.auto import tqdm

from seglab.data import Scene, erode, interior_point, make_scene
from seglab.sam.evaluate_mini import MIN_AREA, heldout_scene
from seglab.sam.mini import MiniSamConfig, atomic_torch_save, build_mini_sam, save_mini_checkpoint

#: Seed tag of training scenes: rng([TRAIN_TAG, seed, step, i]). Held-out scenes use
#: ``evaluate_mini.HELDOUT_TAG``; the two families never share a scene.
TRAIN_TAG = 0x7261696E

FOCAL_WEIGHT, DICE_WEIGHT = 20.0, 1.0


def tiny_config(image_size: int = 64) -> MiniSamConfig:
    """A very small mini-SAM for tests and smoke runs (seconds, not minutes)."""
    return MiniSamConfig(
        img_size=image_size,
        patch_size=16,
        embed_dim=32,
        depth=2,
        num_heads=2,
        window_size=4,
        global_attn_indexes=(1,),
        prompt_dim=32,
        decoder_depth=1,
        decoder_mlp_dim=64,
        decoder_heads=2,
        iou_head_hidden_dim=32,
    )


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


def corrective_points(
    pred: np.ndarray, gt: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One correction per object: a point from the error region of each predicted mask.

    Arguments:
      pred, gt: (K, H, W) bool predicted and true masks.

    Returns:
      points (K, 2) float32 (x, y) and labels (K,) int64: 1 where the point is a missed object
      pixel (false negative), 0 where it is a wrongly included pixel (false positive). Where a
      prediction is perfect, a positive point inside the object is used.
    """
    pts = np.zeros((len(gt), 2), np.float32)
    labels = np.ones(len(gt), np.int64)
    for k in range(len(gt)):
        err = pred[k] ^ gt[k]
        ys, xs = np.nonzero(err if err.any() else gt[k])
        j = rng.integers(len(ys))
        pts[k] = (xs[j], ys[j])
        labels[k] = int(gt[k, ys[j], xs[j]])
    return pts, labels


# ----------------------------------------------------------------------------- losses


def mask_losses(
    logits: torch.Tensor, gt: torch.Tensor, valid: torch.Tensor | None = None
) -> torch.Tensor:
    """Per-mask 20 x focal + dice loss.

    Arguments:
      logits: (K, M, H, W) float mask logits in the image frame.
      gt: (K, H, W) float in {0, 1}.
      valid: optional (K, H, W) bool, the pixels that count (the rest, e.g. padding, is
        ignored: the loss equals the loss on the crop to the valid pixels).

    Returns:
      (K, M) loss of each of the M masks of each object.
    """
    target = gt[:, None].expand_as(logits)
    focal = sigmoid_focal_loss(logits, target, alpha=0.25, gamma=2.0, reduction="none")
    prob = logits.sigmoid().flatten(2)
    t = target.flatten(2)
    if valid is None:
        focal = focal.flatten(2).mean(-1)
    else:
        v = valid[:, None].flatten(2).float()  # (K, 1, H*W)
        focal = (focal.flatten(2) * v).sum(-1) / v.sum(-1).clamp(min=1)
        prob, t = prob * v, t * v
    dice = 1 - (2 * (prob * t).sum(-1) + 1) / (prob.sum(-1) + t.sum(-1) + 1)
    return FOCAL_WEIGHT * focal + DICE_WEIGHT * dice


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
    """HWC uint8 images -> (B, 3, S, S) model input and each image's resized (H, W)."""
    transform = ResizeLongestSide(sam.image_encoder.img_size)
    batch, sizes = [], []
    for img in images:
        x = torch.as_tensor(transform.apply_image(img)).permute(2, 0, 1).float()
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


def batch_loss(
    sam: Sam,
    embeddings: torch.Tensor,
    scenes: Sequence[Scene],
    sizes: Sequence[tuple[int, int]],
    rng: np.random.Generator,
    max_objects: int,
    corrections: int,
) -> tuple[torch.Tensor, int, dict[str, float]]:
    """Summed loss over the sampled objects and interaction rounds of a batch of scenes.

    Arguments:
      embeddings: (B, C, g, g) image embeddings of the B scenes.
      scenes: the B scenes (images at most ``img_size`` on their longest side).
      sizes: each scene's (h, w) in the model's input frame (``prepare_images``).
      rng: draws the objects, prompt types, prompt points and corrective points.
      max_objects: at most this many objects (of >= ``MIN_AREA`` pixels) per scene.
      corrections: corrective-point rounds after the first prompt.

    All point-prompted objects of the batch are decoded together, and so are all
    box-prompted ones (:func:`decode_many`). Masks are compared in the padded S x S input
    frame with each scene's padding excluded, which is the same as cropping to the scene.

    Returns (loss sum, number of mask terms, stats: mean IoU of the trained mask per
    prompt type and round).
    """
    s = sam.image_encoder.img_size
    groups: dict[bool, list[tuple[int, int]]] = {False: [], True: []}  # is_box -> (scene, obj)
    for b, scene in enumerate(scenes):
        areas = scene.masks.reshape(len(scene.masks), -1).sum(1)
        chosen = rng.permutation(np.flatnonzero(areas >= MIN_AREA))[:max_objects]
        for k, is_box in zip(chosen, rng.random(len(chosen)) < 0.5, strict=True):
            groups[bool(is_box)].append((b, int(k)))
    total = embeddings.sum() * 0
    terms = 0
    stats: dict[str, float] = {}
    for is_box, items in groups.items():
        if not items:
            continue
        n = len(items)
        gt = torch.zeros(n, s, s)
        valid = torch.zeros(n, s, s, dtype=torch.bool)
        prompts = []
        for j, (b, k) in enumerate(items):
            scene, (hs, ws) = scenes[b], sizes[b]
            h, w = scene.labels.shape
            scale = hs / h
            m = torch.from_numpy(scene.masks[k]).float()
            if scale != 1.0:
                m = (F.interpolate(m[None, None], (hs, ws), mode="bilinear")[0, 0] > 0.5).float()
            gt[j, :hs, :ws] = m
            valid[j, :hs, :ws] = True
            if is_box:
                prompts.append(jitter_box(scene.boxes[k], rng, h, w) * scale)
            else:
                core = bool(rng.random() < 0.5)
                prompts.append(sample_positive_point(scene.masks[k], rng, core) * scale)
        gt_np = gt.bool().numpy()
        src = embeddings[[b for b, _ in items]]
        boxes = torch.from_numpy(np.stack(prompts)).float() if is_box else None
        if is_box:
            coords, labels = np.zeros((n, 0, 2), np.float32), np.zeros((n, 0), np.int64)
        else:
            coords, labels = np.stack(prompts)[:, None], np.ones((n, 1), np.int64)
        mask_input = None
        ar = torch.arange(n)
        for rnd in range(corrections + 1):
            points = (torch.from_numpy(coords).float(), torch.from_numpy(labels))
            low, iou_pred = decode_many(
                sam,
                src,
                points if coords.shape[1] else None,
                boxes,
                mask_input,
                multimask=rnd == 0 and not is_box,
            )
            logits = F.interpolate(low, (s, s), mode="bilinear", align_corners=False)
            losses = mask_losses(logits, gt, valid)  # (n, M)
            best = losses.argmin(1)  # (n,)
            with torch.no_grad():
                true_iou = mask_iou(logits, gt, valid)
            total = (
                total
                + losses[ar, best].sum()
                + F.mse_loss(iou_pred, true_iou, reduction="none").mean(1).sum()
            )
            terms += n
            stats[("box" if is_box else "point") + f"_r{rnd}_iou"] = float(
                true_iou[ar, best].mean()
            )
            if rnd == corrections:
                break
            mask_input = low[ar, best][:, None].detach()  # (n, 1, h, w)
            pred = ((logits[ar, best] > 0) & valid).detach().numpy()
            new_pts, new_labels = corrective_points(pred, gt_np, rng)
            coords = np.concatenate([coords, new_pts[:, None]], 1)
            labels = np.concatenate([labels, new_labels[:, None]], 1)
    return total, terms, stats


# ----------------------------------------------------------------------------- evaluation


@torch.no_grad()
def quick_eval(sam: Sam, n_scenes: int = 16, image_size: int = 256) -> dict[str, float]:
    """mIoU on held-out scenes: one interior point (top-scoring of 3 masks) and one box.

    Uses the same frames and post-processing as ``SamPredictor`` but batches objects.
    """
    was_training = sam.training
    sam.eval()
    point_ious, box_ious = [], []
    for i in range(n_scenes):
        scene = heldout_scene(i, image_size)
        x, sizes = prepare_images(sam, [scene.image])
        emb = sam.image_encoder(x)
        keep = scene.masks.reshape(len(scene.masks), -1).sum(1) >= MIN_AREA
        masks = scene.masks[keep]
        if not len(masks):
            continue
        scale = sizes[0][0] / scene.image.shape[0]
        gt = torch.from_numpy(masks).float()
        pts = np.array([interior_point(m) for m in masks], np.float32)[:, None] * scale
        low, iou = decode(
            sam,
            emb,
            (torch.from_numpy(pts), torch.ones(len(masks), 1, dtype=torch.int64)),
            None,
            None,
            True,
        )
        logits = upscale(sam, low, sizes[0])
        top = iou.argmax(1)
        point_ious += mask_iou(logits, gt)[torch.arange(len(masks)), top].tolist()
        boxes = torch.from_numpy(scene.boxes[keep].astype(np.float32) * scale)
        low, _ = decode(sam, emb, None, boxes, None, False)
        box_ious += mask_iou(upscale(sam, low, sizes[0]), gt)[:, 0].tolist()
    sam.train(was_training)
    return {"point_miou": float(np.mean(point_ious)), "box_miou": float(np.mean(box_ious))}


# ----------------------------------------------------------------------------- training


def lr_at(step: int, steps: int, lr: float, warmup: int, time_frac: float = 0.0) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to 5 % of ``lr``.

    ``time_frac`` (elapsed / time limit) lets a time-limited run finish its decay on time: the
    cosine follows whichever is further along, the steps or the clock.
    """
    if step < warmup:
        return lr * (step + 1) / warmup
    t = max((step - warmup) / max(steps - warmup, 1), time_frac)
    return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Run the recipe described in the module docstring; returns a summary dict."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = tiny_config(args.image_size) if args.tiny else MiniSamConfig(img_size=args.image_size)
    sam = build_mini_sam(config)
    opt = torch.optim.AdamW(
        sam.parameters(), lr=args.lr, weight_decay=args.weight_decay, betas=(0.9, 0.999)
    )
    start, elapsed = 0, 0.0
    state_path = out / "train_state.pt"
    if args.resume:
        if not state_path.exists():
            raise ValueError(
                f"--resume was given but {state_path} does not exist. Train without --resume "
                "first, or point --out at a previous run."
            )
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        if state["config"] != config.to_dict():
            raise ValueError(
                f"--resume: {state_path} holds a model with config {state['config']}, but this "
                f"run builds {config.to_dict()}. Use the same --image-size/--tiny."
            )
        sam.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start, elapsed = int(state["step"]), float(state["elapsed_s"])
    sam.train()
    n_params = sum(p.numel() for p in sam.parameters())

    def save(step: int, metrics: dict[str, float]) -> None:
        meta = {
            "step": step,
            "steps": args.steps,
            "batch_size": args.batch_size,
            "lr": args.lr,
            "seed": args.seed,
            "corrections": args.corrections,
            "train_seconds": round(elapsed, 1),
            "params": n_params,
            **{k: round(v, 4) for k, v in metrics.items()},
        }
        save_mini_checkpoint(sam, out / "mini_sam.pt", config, meta=meta)
        atomic_torch_save(
            {
                "config": config.to_dict(),
                "model": sam.state_dict(),
                "optimizer": opt.state_dict(),
                "step": step,
                "elapsed_s": elapsed,
            },
            state_path,
        )

    log = (out / "log.jsonl").open("a")
    t0 = time.perf_counter() - elapsed
    step = start
    last_loss = float("nan")
    losses: list[float] = []
    metrics: dict[str, float] = {}
    bar = tqdm(total=args.steps, initial=start, desc="mini-SAM", mininterval=5, smoothing=0.05)
    stop = args.steps if not args.stop_after else min(args.steps, start + args.stop_after)
    while step < stop:
        if args.time_limit_min and (time.perf_counter() - t0) >= 60 * args.time_limit_min:
            tqdm.write(f"time limit of {args.time_limit_min} min reached at step {step}")
            break
        limit_s = 60 * args.time_limit_min
        time_frac = (time.perf_counter() - t0) / limit_s if limit_s else 0.0
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, args.warmup, time_frac)
        rng = np.random.default_rng([TRAIN_TAG, args.seed, step])
        scenes = []
        for i in range(args.batch_size):
            s = args.image_size
            size = (s, s)
            if rng.random() < args.nonsquare:  # longest side s, the other shorter
                short = int(rng.integers(s * 5 // 8, s))
                size = (short, s) if rng.random() < 0.5 else (s, short)
            scenes.append(make_scene(np.random.default_rng([TRAIN_TAG, args.seed, step, i]), size))
        x, sizes = prepare_images(sam, [sc.image for sc in scenes])
        emb = sam.image_encoder(x)  # (B, C, g, g)
        total, terms, stats = batch_loss(
            sam, emb, scenes, sizes, rng, args.objects_per_image, args.corrections
        )
        loss = total / max(terms, 1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(sam.parameters(), args.clip)
        opt.step()
        step += 1
        last_loss = loss.item()
        losses.append(last_loss)
        elapsed = time.perf_counter() - t0
        bar.update(1)
        if step % 10 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
        if step % args.eval_every == 0 or step == args.steps:
            metrics = quick_eval(sam, args.eval_scenes, args.image_size)
            record = {
                "step": step,
                "elapsed_s": round(elapsed, 1),
                "loss": round(float(np.mean(losses[-args.eval_every :])), 4),
                **{k: round(float(np.mean(v)), 4) for k, v in stats.items()},
                **{k: round(v, 4) for k, v in metrics.items()},
            }
            log.write(json.dumps(record) + "\n")
            log.flush()
            tqdm.write(json.dumps(record))
            save(step, metrics)
        elif step % args.save_every == 0:
            save(step, metrics)
    bar.close()
    save(step, metrics)
    log.close()
    return {"step": step, "loss": last_loss, "elapsed_s": elapsed, **metrics}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m seglab.sam.train_mini",
        description="Train mini-SAM on synthetic scenes with SAM's interactive recipe.",
    )
    p.add_argument("--steps", type=int, default=5000, help="optimiser steps in total")
    p.add_argument("--batch-size", type=int, default=8, help="scenes per step")
    p.add_argument("--lr", type=float, default=8e-4, help="peak learning rate (AdamW)")
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--warmup", type=int, default=150, help="linear warm-up steps")
    p.add_argument("--clip", type=float, default=1.0, help="gradient-norm clipping")
    p.add_argument("--objects-per-image", type=int, default=6, help="prompted objects/scene")
    p.add_argument("--corrections", type=int, default=1, help="corrective-point rounds")
    p.add_argument("--nonsquare", type=float, default=0.25, help="share of non-square scenes")
    p.add_argument("--image-size", type=int, default=256, help="model input side in pixels")
    p.add_argument("--tiny", action="store_true", help="a tiny model, for tests")
    p.add_argument("--out", default="runs/mini", help="folder for checkpoints and log")
    p.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=250)
    p.add_argument("--eval-scenes", type=int, default=16)
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--time-limit-min", type=float, default=0.0, help="stop and save after this")
    p.add_argument("--stop-after", type=int, default=0, help="stop (and save) after N steps")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    return p


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    for name in ("steps", "batch_size", "eval_every", "save_every", "image_size", "threads"):
        if getattr(args, name) <= 0:
            raise ValueError(
                f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}"
            )
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if args.image_size % 16:
        raise ValueError(f"--image-size must be a multiple of 16, got {args.image_size}")
    return train(args)


if __name__ == "__main__":
    print(json.dumps(main()))
