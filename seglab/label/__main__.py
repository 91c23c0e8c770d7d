"""``python -m seglab.label``: label a folder of images with SAM, on one process or under torchrun.

Examples::

    python -m seglab.label --images photos/ --prompts boxes.json --out labelled/
    OMP_NUM_THREADS=1 torchrun --standalone --nproc-per-node 2 -m seglab.label \\
        --images photos/ --out labelled/

Rank 0 prints the summary; every rank exits with the same status: 0 when everything was
labelled, 1 when anything failed (the summary names it), 2 for unusable arguments (no images
folder, a prompts file that is not COCO JSON, an unknown model).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from seglab.label.segment import AutoSettings

_DEFAULTS = AutoSettings()


def build_parser() -> argparse.ArgumentParser:
    """The command line's arguments (``--help`` shows them)."""
    parser = argparse.ArgumentParser(
        prog="python -m seglab.label",
        description=(
            "Label a folder of images with SAM: OUT/labels/<stem>.png (uint8 class ids, "
            "0 = background) and OUT/annotations.json (COCO, RLE masks). Run it under "
            "torchrun --nproc-per-node N to share the images across N processes; a re-run "
            "skips finished images."
        ),
    )
    parser.add_argument("--images", required=True, help="folder of images (grey, RGB or RGBA)")
    parser.add_argument(
        "--prompts",
        help="COCO instances JSON: each annotation's bbox (XYWH, pixels) is a box prompt and "
        "its category_id (1..255) its class; leave out to segment everything (class 1)",
    )
    parser.add_argument("--out", required=True, help="output folder (created)")
    parser.add_argument(
        "--model", default="mini", help="mini (default, ships with seglab), vit_b, vit_l, vit_h"
    )
    parser.add_argument("--checkpoint", help="a SAM checkpoint file to load the model from")
    parser.add_argument(
        "--device", help="cpu, cuda, cuda:1, mps (default: each rank its own GPU, else CPU)"
    )
    auto = parser.add_argument_group("automatic mode (without --prompts)")
    auto.add_argument("--points-per-side", type=int, default=_DEFAULTS.points_per_side)
    auto.add_argument("--pred-iou-thresh", type=float, default=_DEFAULTS.pred_iou_thresh)
    auto.add_argument(
        "--stability-score-thresh", type=float, default=_DEFAULTS.stability_score_thresh
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    from seglab.distributed import world_info
    from seglab.label import label_folder

    try:
        summary = label_folder(
            args.images,
            args.out,
            prompts=args.prompts,
            model=args.model,
            checkpoint=args.checkpoint,
            device=args.device,
            points_per_side=args.points_per_side,
            pred_iou_thresh=args.pred_iou_thresh,
            stability_score_thresh=args.stability_score_thresh,
            progress=not args.no_progress,
        )
    except (OSError, ValueError, TypeError) as exc:  # the same arguments fail on every rank
        print(f"seglab.label: error: {exc}", file=sys.stderr)
        return 2
    if world_info().is_main:
        print(summary, flush=True)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
