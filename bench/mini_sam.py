"""Benchmark: mini-SAM vs SAM ViT-B ``set_image`` on this CPU, through the official SamPredictor.

Both models get the same photo (scikit-image's astronaut, 512 x 512, bundled offline) through
the unchanged ``segment_anything.SamPredictor``: ``set_image`` resizes it to the model's input
size (256 for mini, 1024 for ViT-B) and runs the image encoder - the step a learner waits for.
Baseline: ViT-B with random weights (``sam_model_registry['vit_b']()``), measured in the same
run; timing does not depend on the weights, so no checkpoint is needed and nothing is
downloaded. mini-SAM is the shipped model (``load_sam('mini')``). Prints medians and the ratio;
also the median latency of one mini ``predict`` (one click, 3 masks). Runs in about a minute on a
2-core CPU.

``--quick`` replaces the 1024-px ViT-B (~15 s per image) by ViT-B's encoder (768 wide, 12 blocks,
12 heads, random weights) at mini's 256-px input, built from segment_anything's modules: the same
code path in under a second, and a ratio that is *not* the full run's.

    python bench/mini_sam.py [--threads N] [--vit-b-repeats 3] [--mini-repeats 30] [--quick]
"""

from __future__ import annotations

import numpy as np
import torch
from _timing import Report, fmt_seconds, measure, parse_args
from segment_anything import SamPredictor, sam_model_registry
from skimage import data

from seglab.sam.loading import load_sam
from seglab.sam.mini import MiniSamConfig, build_mini_sam


def vit_b_at(img_size: int) -> torch.nn.Module:
    """SAM with ViT-B's encoder, prompt encoder and decoder sizes, at ``img_size`` px input."""
    config = MiniSamConfig(
        img_size=img_size,
        embed_dim=768,
        depth=12,
        num_heads=12,
        window_size=14,
        global_attn_indexes=(2, 5, 8, 11),
        prompt_dim=256,
        decoder_mlp_dim=2048,
        decoder_heads=8,
        iou_head_hidden_dim=256,
    )
    return build_mini_sam(config)


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--threads", type=int, default=None, help="default: torch's")
        parser.add_argument("--vit-b-repeats", type=int, default=None, help="default 3 (quick 2)")
        parser.add_argument("--mini-repeats", type=int, default=None, help="default 30 (quick 5)")

    args = parse_args(__doc__, options)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.threads = torch.get_num_threads()
    args.vit_b_repeats = args.vit_b_repeats or (2 if args.quick else 3)
    args.mini_repeats = args.mini_repeats or (5 if args.quick else 30)
    report = Report("mini_sam", args)
    image = data.astronaut()  # (512, 512, 3) uint8

    mini = SamPredictor(load_sam("mini", device="cpu"))
    click, label = np.array([[256, 200]]), np.array([1])
    with torch.no_grad():
        t_mini = measure(lambda: mini.set_image(image), args.mini_repeats, warmup=1)
        t_pred = measure(lambda: mini.predict(click, label), args.mini_repeats, warmup=1)

    torch.manual_seed(0)
    if args.quick:
        baseline = "ViT-B encoder at 256 px (quick)"
        report.skipped("ViT-B at its official 1024 px", "quick mode: ~15 s per image")
        vit_b = SamPredictor(vit_b_at(256).eval())
    else:
        baseline = "ViT-B"
        vit_b = SamPredictor(sam_model_registry["vit_b"]().eval())
    with torch.no_grad():
        t_vit_b = measure(lambda: vit_b.set_image(image), args.vit_b_repeats, warmup=1)
    report.note(f"baseline: {baseline}, random weights; mini-SAM: shipped weights")

    report.timing("mini-SAM set_image", t_mini)
    report.timing(f"{baseline} set_image", t_vit_b)
    report.timing("mini-SAM predict, one click, 3 masks", t_pred)
    print(f"torch {torch.__version__}, {args.threads} threads")
    print(f"mini-SAM set_image: {fmt_seconds(t_mini.median):>9} (median of {t_mini.n})")
    print(f"{baseline} set_image: {fmt_seconds(t_vit_b.median):>9} (median of {t_vit_b.n})")
    print(f"mini-SAM predict (1 click, 3 masks): {fmt_seconds(t_pred.median)} (median)")
    report.ratio(
        f"{baseline} / mini-SAM, set_image",
        t_vit_b.median / t_mini.median,
        goal=None if args.quick else 200,
        meaning="faster",
    )
    report.write()


if __name__ == "__main__":
    main()
