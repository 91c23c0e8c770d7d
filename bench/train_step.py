"""Benchmark: one mini-SAM training step, decoder called per image vs once per step.

``seglab.sam.train_mini`` decodes the prompts of all images of a step in one call
(``decode_many``). The comparison is the straightforward use of SAM's decoder: one
``MaskDecoder`` call per image, as ``SamPredictor`` does. Both paths get the same step as
training: 8 synthetic scenes, up to 6 objects each, half prompted by a click (3 masks, the best
trained) and half by a box, then a second round with one more click and the previous mask fed
back; the same focal + dice loss; forward and backward. The per-image path makes one decoder
call per image, prompt type and round (as a loop over images with ``SamPredictor`` would), the
batched one per prompt type and round. The gradients are checked to agree before anything is
timed. Prints the median seconds and the ratio.

    python bench/train_step.py [--threads 2] [--repeats 10]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from seglab.data import interior_point, make_scene
from seglab.sam.evaluate_mini import MIN_AREA
from seglab.sam.mini import build_mini_sam
from seglab.sam.train_mini import decode, decode_many, mask_losses, prepare_images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sam = build_mini_sam().train()
    scenes = [make_scene(np.random.default_rng([7, i]), 256) for i in range(8)]
    x, _ = prepare_images(sam, [s.image for s in scenes])
    owner, clicks, boxes, masks = [], [], [], []  # one entry per object, in image order
    for b, s in enumerate(scenes):
        for k in [k for k, m in enumerate(s.masks) if m.sum() >= MIN_AREA][:6]:
            owner.append(b)
            clicks.append(interior_point(s.masks[k]))
            boxes.append(s.boxes[k])
            masks.append(s.masks[k])
    n = len(owner)
    clicks_t = torch.tensor(np.array(clicks), dtype=torch.float32)[:, None]  # (n, 1, 2)
    boxes_t = torch.tensor(np.array(boxes), dtype=torch.float32)  # (n, 4)
    gt = torch.from_numpy(np.stack(masks)).float()  # (n, 256, 256)
    is_box = np.arange(n) % 2 == 1  # as in training: half clicks, half boxes

    def rounds(idx: list[int], box: bool, decoder) -> torch.Tensor:
        """Loss of the objects idx: a first prompt, then a second click with the mask fed back."""
        pts = clicks_t[idx][:, :0] if box else clicks_t[idx]
        lab = torch.ones(pts.shape[:2], dtype=torch.int64)
        b = boxes_t[idx] if box else None
        low, _ = decoder(idx, (pts, lab) if pts.shape[1] else None, b, None, not box)
        losses = mask_losses(upsample(low), gt[idx])  # (K, M)
        best = losses.argmin(1)
        loss = losses[torch.arange(len(idx)), best].sum()
        fed_back = low[torch.arange(len(idx)), best][:, None].detach()
        pts = torch.cat([pts, clicks_t[idx]], 1)  # a second click (the same pixel)
        lab = torch.ones(pts.shape[:2], dtype=torch.int64)
        low, _ = decoder(idx, (pts, lab), b, fed_back, False)
        return loss + mask_losses(upsample(low), gt[idx]).sum()

    def per_image() -> None:
        emb = sam.image_encoder(x)
        loss = emb.sum() * 0
        for img in range(len(scenes)):
            for box in (False, True):
                idx = [k for k in range(n) if owner[k] == img and is_box[k] == box]
                if idx:
                    one = emb[img : img + 1]
                    loss = loss + rounds(idx, box, lambda i, *a, one=one: decode(sam, one, *a))
        sam.zero_grad()
        loss.backward()

    def batched() -> None:
        emb = sam.image_encoder(x)
        loss = emb.sum() * 0
        for box in (False, True):
            idx = [k for k in range(n) if is_box[k] == box]
            src = emb[[owner[k] for k in idx]]
            loss = loss + rounds(idx, box, lambda i, *a, src=src: decode_many(sam, src, *a))
        sam.zero_grad()
        loss.backward()

    grads = []
    for fn in (per_image, batched):
        fn()
        grads.append([p.grad.clone() for p in sam.parameters() if p.grad is not None])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)

    def median_seconds(fn) -> float:
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    t_per_image, t_batched = median_seconds(per_image), median_seconds(batched)
    print(
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{args.threads} threads, 8 scenes, {n} objects (half clicks, half boxes), 2 rounds"
    )
    print(f"decoder per image and prompt type: {t_per_image * 1000:7.1f} ms per step (median)")
    print(f"decode_many, one call per type:    {t_batched * 1000:7.1f} ms per step (median)")
    print(f"ratio: {t_per_image / t_batched:.2f}x faster")


def upsample(low: torch.Tensor) -> torch.Tensor:
    """(K, M, 64, 64) low-res logits -> (K, M, 256, 256), as training compares them."""
    return F.interpolate(low, (256, 256), mode="bilinear", align_corners=False)


if __name__ == "__main__":
    main()
