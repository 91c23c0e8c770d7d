"""Command line of the mini-SAM training recipe: ``python -m seglab.sam.train_mini --help``.

Each option is a field of :class:`seglab.sam.recipe.TrainConfig` (``--batch-size`` sets
``batch_size``), with the same default; the recipe itself lives in :mod:`seglab.sam.recipe` and
one training step in :mod:`seglab.sam.interactive`. The names the course used to import from here
are re-exported. Under ``torchrun --nproc-per-node N`` the N processes train one model together
(:mod:`seglab.sam.recipe` says how).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections.abc import Sequence

from seglab.distributed import world_info
from seglab.sam.interactive import (  # noqa: F401  (re-exported: importable where they were)
    DICE_WEIGHT,
    FOCAL_WEIGHT,
    batch_loss,
    corrective_points,
    decode,
    decode_many,
    jitter_box,
    largest_error_click,
    mask_iou,
    mask_losses,
    prepare_images,
    sample_positive_point,
    upscale,
)
from seglab.sam.mini import MiniSamConfig
from seglab.sam.recipe import TRAIN_TAG, TrainConfig, lr_at, quick_eval, train  # noqa: F401

_HELP = {
    "steps": "optimiser steps in total",
    "batch_size": "scenes per step",
    "lr": "peak learning rate (AdamW)",
    "warmup": "linear warm-up steps",
    "clip": "gradient-norm clipping",
    "objects_per_image": "prompted entities per scene",
    "corrections": "corrective-point rounds after the first prompt",
    "box_share": "share of first prompts that are boxes",
    "ancestor_score": "IoU-head target factor for masks of a clicked entity's ancestors",
    "head_steps": "steps of the last stage, which retrains only the IoU head (0: none)",
    "head_ancestor_score": "the last stage's IoU-head target factor for ancestors' masks",
    "mask_loss": "per-mask loss: focal (20 x focal + dice, SAM's) or bce (cross-entropy + dice)",
    "grouping_weight": "weight of the dense grouping loss on the image embedding (0: none)",
    "synthetic_share": "share of each batch drawn from seglab.data.make_scene",
    "nonsquare": "share of non-square scenes",
    "bank_size": "photo composites rendered once into the bank",
    "bank_dir": "where the composite bank is cached (outside git)",
    "tiny": "a tiny model, for tests and smoke runs",
    "image_size": "model input side in pixels",
    "encoder": "image encoder: vit (SAM's ViT) or conv (a small CNN)",
    "encoder_width": "ViT encoder width (multiple of 32)",
    "encoder_depth": "ViT encoder blocks",
    "out_stride": "conv encoder output stride: 8 (128 x 128 masks at 256 px) or 16",
    "conv_widths": "conv encoder channels: stem and strides 4, 8, 16, e.g. 32,48,96,160",
    "conv_blocks": "conv encoder residual blocks at strides 4, 8, 16, e.g. 1,2,3",
    "conv_attn": "global-attention blocks on the conv encoder's stride-16 stage (0: none)",
    "conv_detail": "channels of the conv encoder's detail path from strides 2 and 4 (0: none)",
    "out": "folder for checkpoints and log",
    "resume": "continue from OUT/train_state.pt",
    "time_limit_min": "stop and save after this many minutes (0: none)",
    "stop_after": "stop and save after N steps in this sitting (0: none)",
    "threads": "torch CPU threads (per process under torchrun)",
    "bank_workers": "processes that render the bank when it is not on disk yet",
    "device": "where the model trains: cpu (the shipped run), cuda or cuda:N",
    "precision": "float32, or bfloat16 autocast (faster on CPUs with AMX, and on GPUs)",
}


def tiny_config(image_size: int = 64) -> MiniSamConfig:
    """A very small mini-SAM for tests (kept for old imports; use ``MiniSamConfig.tiny``)."""
    return MiniSamConfig.tiny(image_size)


def _ints(text: str) -> tuple[int, ...]:
    """``"32,48,96,160"`` -> ``(32, 48, 96, 160)``, for the options that take several numbers."""
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas, such as 32,48,96,160; got {text!r}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    """One option per :class:`TrainConfig` field, with its default."""
    p = argparse.ArgumentParser(
        prog="python -m seglab.sam.train_mini",
        description="Train mini-SAM on photo composites and synthetic scenes with SAM's "
        "interactive recipe.",
    )
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            p.add_argument(flag, action="store_true", help=_HELP.get(f.name))
        elif isinstance(f.default, tuple):  # conv_widths, conv_blocks: "32,48,96,160"
            shown = ",".join(map(str, f.default))
            p.add_argument(
                flag, type=_ints, default=f.default, help=_HELP.get(f.name), metavar=shown
            )
        else:
            kind = {"int": int, "float": float, "str": str}[str(f.type)]
            p.add_argument(flag, type=kind, default=f.default, help=_HELP.get(f.name))
    return p


def main(argv: Sequence[str] | None = None) -> dict[str, object]:
    """Parse ``argv``, then :func:`train`; bad values raise ``ValueError`` naming the option."""
    args = build_parser().parse_args(argv)
    return train(TrainConfig(**vars(args)))


if __name__ == "__main__":
    summary = main()
    if world_info().is_main:  # under torchrun one summary, rank 0's: ranks share stdout
        print(json.dumps(summary))
