"""seglab's Predictor against segment_anything.SamPredictor, same model, same machine, one run.

(a) ``set_image`` of an image already seen (an embedding-cache hit) vs the official
    ``set_image`` (which always runs the image encoder). Goal: >= 100x faster (with vit_b).
(b) one click, ``predict(points=[[x, y]])``, vs the official ``predict`` on the same embedding
    (seglab adds prompt checks and a result object). Goal: <= 1.2x the official time.
Also printed: the first ``set_image`` of an image (a cache miss: encoder + hashing) and the
one-off cost of fingerprinting the model's encoder weights.

The model has random weights, so no checkpoint is needed and nothing is downloaded:
``sam_model_registry["vit_b"]()`` by default, or mini-SAM with ``--model mini``; timings do not
depend on the weights' values. Medians over repetitions, after a warm-up. The default run (vit_b)
runs the encoder 4 times: about a minute on a 2-core CPU (~15 s per image). On a busy machine,
``--threads 1`` gives steadier numbers. ``--quick`` uses mini-SAM and a few repetitions.

    python bench/sam_predictor.py [--model vit_b|mini] [--encoder-repeats 2] [--click-repeats 30]
        [--threads N] [--quick]
"""

from __future__ import annotations

import numpy as np
import torch
from _timing import Report, fmt_seconds, measure, measure_interleaved, parse_args
from segment_anything import SamPredictor, sam_model_registry

from seglab.images import load_sample
from seglab.prompts import validate_labels, validate_points
from seglab.sam.cache import model_fingerprint
from seglab.sam.mini import build_mini_sam
from seglab.sam.predictor import PredictionResult, Predictor


def build(model: str) -> torch.nn.Module:
    torch.manual_seed(0)
    if model == "mini":
        return build_mini_sam()
    return sam_model_registry[model]().eval()  # checkpoint=None: random weights


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--model", choices=["vit_b", "mini"], default=None)
        parser.add_argument("--image", default="coffee", help="a seglab sample photo (400x600)")
        parser.add_argument("--encoder-repeats", type=int, default=None, help="official set_image")
        parser.add_argument("--hit-repeats", type=int, default=None)
        parser.add_argument("--click-repeats", type=int, default=None)
        parser.add_argument(
            "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)"
        )

    args = parse_args(__doc__, options)
    if args.threads:
        torch.set_num_threads(args.threads)
    q = args.quick
    args.model = args.model or ("mini" if q else "vit_b")
    args.encoder_repeats = args.encoder_repeats or (
        3 if q else (2 if args.model == "vit_b" else 30)
    )
    args.hit_repeats = args.hit_repeats or (5 if q else 30)
    args.click_repeats = args.click_repeats or (6 if q else 30)
    report = Report("sam_predictor", args)
    if q and args.model == "mini":
        report.skipped("vit_b", "quick mode uses mini-SAM; goal (a) is a vit_b goal")

    sam = build(args.model)
    image = load_sample(args.image)
    h, w = image.shape[:2]
    click = np.array([[w * 0.5, h * 0.55]])

    official = SamPredictor(sam)
    ours = Predictor(sam)  # its default in-memory cache

    # The fingerprint, measured on its own (Predictor computes it once, on its first image).
    fingerprint = measure(lambda: model_fingerprint(sam), repeats=3, warmup=0)

    official.set_image(image)  # warm-up of the encoder (first-call allocations, kernel choice)
    # First set_image through seglab: a miss (encoder + fingerprint + image hash).
    miss = measure(lambda: ours.set_image(image), repeats=1, warmup=0)
    official_set = measure(lambda: official.set_image(image), args.encoder_repeats, warmup=0)
    hits = measure(lambda: ours.set_image(image.copy()), args.hit_repeats, warmup=0)
    assert ours.cache is not None and ours.cache.stats.hits == args.hit_repeats

    # One click on the same embedding, taking turns so both see the same machine load.
    clicks = measure_interleaved(
        {
            "official": lambda: official.predict(click, np.array([1])),
            "seglab": lambda: ours.predict(points=click),
        },
        repeats=args.click_repeats,
        warmup=3,
    )

    masks, scores, logits = official.predict(click, np.array([1]))
    result = ours.predict(points=click)
    same = bool(np.array_equal(masks, result.masks) and np.allclose(scores, result.scores))

    # seglab's own work in a click, without SAM: checking the prompt and building the result.
    def checks_and_result() -> None:
        points = validate_points(click, (h, w))
        validate_labels(None, len(points))
        PredictionResult(masks, scores, logits)

    checks = measure(checks_and_result, repeats=20 if q else 200, warmup=3)

    report.timing("official set_image", official_set)
    report.timing("seglab set_image, seen before", hits)
    report.timing("seglab set_image, first time", miss)
    report.timing("official predict, one click", clicks["official"])
    report.timing("seglab predict, one click", clicks["seglab"])
    report.timing("model fingerprint", fingerprint)
    report.timing("seglab checks and result per click", checks)
    report.figure("same_masks_and_scores", same)
    n_params = sum(p.numel() for p in sam.image_encoder.parameters())
    report.note(
        f"model {args.model}, random weights, image encoder {n_params / 1e6:.1f} M parameters, "
        f"input {sam.image_encoder.img_size} px; image {args.image!r} {h}x{w}; "
        f"device {ours.device}"
    )
    o_set, s_hit = official_set.median, hits.median
    o_click, s_click = clicks["official"].median, clicks["seglab"].median

    print(
        f"model {args.model} (random weights, image encoder {n_params / 1e6:.1f} M parameters, "
        f"input {sam.image_encoder.img_size} px), image {args.image!r} {h}x{w}"
    )
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {ours.device}")
    print()
    rows = [
        ("what", "official (median)", "seglab (median)"),
        (
            f"(a) set_image, seen before (n={args.encoder_repeats}/{args.hit_repeats})",
            fmt_seconds(o_set),
            fmt_seconds(s_hit),
        ),
        (
            f"(b) predict, one click (n={args.click_repeats})",
            fmt_seconds(o_click),
            fmt_seconds(s_click),
        ),
        ("    set_image, first time (n=1)", fmt_seconds(o_set), fmt_seconds(miss.median)),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print()
    print(
        "model fingerprint (hash of the encoder weights, once per Predictor): "
        f"{fmt_seconds(fingerprint.median)}"
    )
    own = fmt_seconds(checks.median)
    print(f"seglab's own work per click (prompt checks + result object): {own}")
    print(f"seglab's masks and scores equal the official ones: {'yes' if same else 'NO'}")
    report.ratio(
        "(a) official set_image / seglab set_image of an image seen before",
        o_set / s_hit,
        goal=100 if args.model == "vit_b" else None,
        meaning="faster",
    )
    report.ratio(
        "(b) seglab / official predict, one click",
        s_click / o_click,
        goal=1.2,
        higher_is_better=False,
        meaning="the time",
    )
    report.ratio(
        "seglab / official set_image, first time (cache miss)",
        miss.median / o_set,
        meaning="the time",
    )
    report.write()


if __name__ == "__main__":
    main()
