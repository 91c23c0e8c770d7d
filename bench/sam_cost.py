"""Benchmark: what one image embedding costs on this CPU, for SAM ViT-B, ViT-L, ViT-H and mini-SAM.

The image encoder is the expensive part of SAM (``set_image`` runs it once per image; every
click afterwards only runs the small decoder). This bench builds each official model with
random weights - ``sam_model_registry[name](checkpoint=None)``, so nothing is downloaded; the
time does not depend on the weights - and times its ``image_encoder`` on one 1024 x 1024 input
(what ``set_image`` feeds it after resizing and padding), giving the 256 x 64 x 64 embedding.
mini-SAM, the model that ships with seglab, gets its own input size (256 px) in the same run.

It prints, for each model, the parameter count (image encoder and whole model), the embedding's
shape and the encoder's time (wall clock, and the CPU time the process spent), and the ratios
against ViT-B, the smallest official model, which is always measured (the baseline). Each model
is built, timed and freed in turn, so at most one official model is in memory (ViT-H: about
2.6 GB). The 1-minute load average at the start, after each model and at the end is printed and
recorded: other programs on the machine inflate the wall times (and the ratios, when the load
changes during the run); the CPU times are less affected.

Defaults: one warm-up and one timed run per official model (ViT-H on 2 cores takes on the order
of a minute per run, the whole bench a few minutes on an idle machine), 20 timed runs of mini's
encoder after 2 warm-ups. ``--quick`` builds ViT-B's encoder (same widths, depth and heads) at
128 px instead of 1024 px and leaves out ViT-L/H: the same code path in seconds, and ratios that
are *not* the full run's.

    python bench/sam_cost.py [--models vit_b,vit_l,vit_h] [--threads N] [--repeats 1]
                             [--warmup 1] [--mini-repeats 20] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from functools import partial

import torch
from _timing import Report, Timing, fmt_seconds, measure, parse_args
from segment_anything import sam_model_registry
from segment_anything.modeling import ImageEncoderViT

from seglab.sam.loading import load_sam

OFFICIAL = ("vit_b", "vit_l", "vit_h")
BASELINE = "vit_b"

#: The official encoders' sizes, as in segment_anything/build_sam.py (used only by --quick,
#: which builds them at a smaller input; the full run calls sam_model_registry itself).
ENCODER_SIZES = {
    "vit_b": {"embed_dim": 768, "depth": 12, "num_heads": 12, "global_attn": (2, 5, 8, 11)},
    "vit_l": {"embed_dim": 1024, "depth": 24, "num_heads": 16, "global_attn": (5, 11, 17, 23)},
    "vit_h": {"embed_dim": 1280, "depth": 32, "num_heads": 16, "global_attn": (7, 15, 23, 31)},
}


def models_option(text: str) -> list[str]:
    """``"vit_l,vit_h"`` -> ``["vit_b", "vit_l", "vit_h"]``: official names, ViT-B always first."""
    names = [n.strip().lower().replace("-", "_") for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in OFFICIAL]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(OFFICIAL)}, "
            "comma-separated (mini-SAM is always measured)"
        )
    return [n for n in OFFICIAL if n in names or n == BASELINE]


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def encoder_at(name: str, img_size: int) -> ImageEncoderViT:
    """An official encoder's architecture at another input size (random weights)."""
    s = ENCODER_SIZES[name]
    return ImageEncoderViT(
        img_size=img_size,
        patch_size=16,
        embed_dim=s["embed_dim"],
        depth=s["depth"],
        num_heads=s["num_heads"],
        mlp_ratio=4,
        out_chans=256,
        qkv_bias=True,
        norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
        use_rel_pos=True,
        window_size=14,
        global_attn_indexes=s["global_attn"],
    ).eval()


def time_encoder(
    encoder: torch.nn.Module, repeats: int, warmup: int
) -> tuple[Timing, Timing, tuple[int, ...]]:
    """Time ``encoder`` on one random image at its own input size.

    Returns the wall-clock timing, the CPU time this process spent in the same runs (all its
    threads; about threads x wall time on an idle machine, and less affected than wall time
    when other programs compete for the cores) and the output's shape.
    """
    size = encoder.img_size
    image = torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(0))
    shape: list[tuple[int, ...]] = []
    cpu = Timing()

    def run() -> None:
        start = time.process_time()
        shape.append(tuple(encoder(image).shape))
        cpu.times.append(time.process_time() - start)

    with torch.inference_mode():
        timing = measure(run, repeats, warmup)
    cpu.times = cpu.times[warmup:]  # the timed runs only, as in ``timing``
    return timing, cpu, shape[-1]


def load_average() -> float | None:
    """The 1-minute load average (None where the system has none, e.g. Windows)."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def main() -> None:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--models",
            type=models_option,
            default=None,
            help="official models, comma-separated (default vit_b,vit_l,vit_h; quick: vit_b); "
            "vit_b, the baseline, is always measured, and so is mini-SAM",
        )
        parser.add_argument("--threads", type=int, default=None, help="default: torch's")
        parser.add_argument("--repeats", type=int, default=1, help="timed runs per official model")
        parser.add_argument("--warmup", type=int, default=1, help="untimed runs before those")
        parser.add_argument("--mini-repeats", type=int, default=None, help="default 20 (quick 5)")

    args = parse_args(__doc__, options)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.threads = torch.get_num_threads()
    args.models = args.models or ([BASELINE] if args.quick else list(OFFICIAL))
    args.mini_repeats = args.mini_repeats or (5 if args.quick else 20)
    args.input_px = 128 if args.quick else 1024
    report = Report("sam_cost", args)
    print(f"torch {torch.__version__}, {args.threads} threads, load average {load_average()}")
    report.figure("load average at start (1 min)", load_average())

    rows: dict[str, dict] = {}

    mini = load_sam("mini", device="cpu").eval()
    t_mini, cpu_mini, shape = time_encoder(mini.image_encoder, args.mini_repeats, warmup=2)
    rows["mini-SAM"] = {
        "input_px": mini.image_encoder.img_size,
        "encoder_params": count(mini.image_encoder),
        "total_params": count(mini),
        "embedding": list(shape[1:]),
        "timing": t_mini,
        "cpu": cpu_mini,
    }
    del mini

    torch.manual_seed(0)
    for name in args.models:
        if args.quick:
            encoder = encoder_at(name, args.input_px)
            total = None  # the full model is not built in quick mode
        else:
            sam = sam_model_registry[name](checkpoint=None).eval()
            encoder, total = sam.image_encoder, count(sam)
        timing, cpu, shape = time_encoder(encoder, args.repeats, args.warmup)
        rows[name] = {
            "input_px": encoder.img_size,
            "encoder_params": count(encoder),
            "total_params": total,
            "embedding": list(shape[1:]),
            "timing": timing,
            "cpu": cpu,
        }
        print(
            f"{name}: {fmt_seconds(timing.median)} per embedding "
            f"({fmt_seconds(cpu.median)} CPU time), load average {load_average()}"
        )
        report.figure(f"load average after {name} (1 min)", load_average())
        del encoder
        if not args.quick:
            del sam
        gc.collect()
    if args.quick:
        report.skipped("vit_l, vit_h and the 1024-px input", "quick mode: minutes, GBs of memory")
    report.note(
        "official models: random weights from sam_model_registry[name](checkpoint=None) "
        "(quick: the encoder at 128 px); mini-SAM: the shipped weights; the time is one "
        "image_encoder forward pass on a 1 x 3 x input_px x input_px tensor"
    )

    print()
    print(
        f"{'model':<9} {'input':>6} {'encoder params':>15} {'all params':>11} "
        f"{'embedding':>13} {'time / image':>13} {'CPU time':>10}"
    )
    for name, row in rows.items():
        total = f"{row['total_params'] / 1e6:.1f} M" if row["total_params"] else "-"
        emb = "x".join(str(d) for d in row["embedding"])
        print(
            f"{name:<9} {row['input_px']:>4} px {row['encoder_params'] / 1e6:>13.2f} M "
            f"{total:>11} {emb:>13} {fmt_seconds(row['timing'].median):>13} "
            f"{fmt_seconds(row['cpu'].median):>10}"
        )
        report.timing(f"{name} image encoder", row["timing"])
        report.timing(f"{name} image encoder, CPU time", row["cpu"])
        report.figure(
            f"{name} sizes",
            {k: row[k] for k in ("input_px", "encoder_params", "total_params", "embedding")},
        )

    base = rows[BASELINE]
    print()
    for name, row in rows.items():
        if name == BASELINE:
            continue
        time_ratio = row["timing"].median / base["timing"].median
        param_ratio = row["encoder_params"] / base["encoder_params"]
        if name == "mini-SAM":
            report.ratio(f"{BASELINE} / mini-SAM, encoder time", 1 / time_ratio, meaning="faster")
            report.ratio(
                f"{BASELINE} / mini-SAM, encoder parameters", 1 / param_ratio, meaning="fewer"
            )
        else:
            report.ratio(f"{name} / {BASELINE}, encoder time", time_ratio, meaning="the time")
            report.ratio(
                f"{name} / {BASELINE}, encoder parameters", param_ratio, meaning="the parameters"
            )
    report.figure("load average at end (1 min)", load_average())
    report.write()


if __name__ == "__main__":
    main()
