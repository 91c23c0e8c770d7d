"""Benchmark: one mini-SAM training step as the recipe runs it, vs one decoder call per image.

Timed: the body of the training loop of ``seglab.sam.recipe.train`` on the shipped code -
``prepare_images``, the image encoder, ``seglab.sam.interactive.batch_loss`` (a first prompt and
``corrections`` corrective rounds per entity, every prompt of the step decoded in one call per
prompt type and round with ``decode_many``), backward, gradient clipping and the AdamW step.

Baseline, measured in the same run: the same step with ``batch_loss``'s ``decode_many`` swapped
for the straightforward use of SAM's decoder, one ``MaskDecoder`` call per image (per prompt type
and round), as a loop over images with ``SamPredictor`` would do. Nothing else differs. Before
anything is timed, both paths are run once and their losses and gradients checked to agree.

The step is the recipe's default (``TrainConfig()``: the shipped run's model and prompts, the CNN
encoder at stride 8, 256 px, 8 scenes, up to 3 entities each, 1 corrective round; the default
focal loss) on random weights. Its
scenes are drawn once by the recipe's own ``draw_batch``: photo composites (the first ``4 x
batch`` of the recipe's bank, rendered here) and synthetic scenes. Each repetition replays the
same random draws, and the learning rate is 0 (AdamW still does all its work), so every
repetition is the same step. Prints the median per step of each path and the ratio.

``--quick``: the tiny model at 64 px, 2 scenes, 1 corrective round.

    python bench/train_step.py [--threads 2] [--repeats 10] [--quick]
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator

import numpy as np
import torch
from _timing import Report, fmt_seconds, measure_interleaved, parse_args

from seglab.sam import interactive
from seglab.sam.bank import BANK_TAG, composite_size
from seglab.sam.composites import TRAIN_PHOTOS, Composite, load_photos, make_composite
from seglab.sam.evaluate_mini import MIN_AREA
from seglab.sam.interactive import batch_loss, decode, prepare_images
from seglab.sam.mini import build_mini_sam
from seglab.sam.recipe import TRAIN_TAG, TrainConfig, draw_batch

QUICK = {
    "tiny": True,
    "image_size": 64,
    "batch_size": 2,
    "objects_per_image": 3,
    "corrections": 1,
}


class RenderedBank:
    """The first ``n`` composites of the recipe's bank (chunk 0), rendered in memory; what
    ``draw_batch`` needs of a :class:`seglab.sam.bank.Bank`."""

    def __init__(self, n: int, config: TrainConfig) -> None:
        photos = load_photos(TRAIN_PHOTOS)
        self.composites = []
        for i in range(n):
            rng = np.random.default_rng([BANK_TAG, config.seed, 0, i])
            size = composite_size(rng, config.image_size, config.nonsquare)
            self.composites.append(make_composite(rng, size, photos))

    def __len__(self) -> int:
        return len(self.composites)

    def get(self, i: int) -> Composite:
        return self.composites[i]


CALLS = {"decoder": 0}


def decode_per_image(
    sam,
    embeddings: torch.Tensor,
    points: tuple[torch.Tensor, torch.Tensor] | None,
    boxes: torch.Tensor | None,
    mask_input: torch.Tensor | None,
    multimask: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``decode_many``'s contract, one ``decode`` (prompt encoder + decoder) per image.

    ``batch_loss`` lists the prompts image by image, each with its image's embedding row, so
    one image's prompts are a run of equal rows (comparing them costs microseconds).
    """
    k = len(embeddings)
    cuts = [i for i in range(1, k) if not torch.equal(embeddings[i], embeddings[i - 1])]
    low, iou = [], []
    for a, b in zip([0, *cuts], [*cuts, k], strict=True):
        pts = None if points is None else (points[0][a:b], points[1][a:b])
        out = decode(
            sam,
            embeddings[a : a + 1],
            pts,
            None if boxes is None else boxes[a:b],
            None if mask_input is None else mask_input[a:b],
            multimask,
        )
        low.append(out[0])
        iou.append(out[1])
        CALLS["decoder"] += 1
    return torch.cat(low), torch.cat(iou)


def decode_many_counted(*args, **kwargs):
    CALLS["decoder"] += 1
    return SHIPPED(*args, **kwargs)


SHIPPED = interactive.decode_many


@contextlib.contextmanager
def decoder(fn) -> Iterator[None]:
    """Make ``batch_loss`` call ``fn`` where it calls ``decode_many``."""
    interactive.decode_many = fn
    try:
        yield
    finally:
        interactive.decode_many = SHIPPED


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--threads", type=int, default=None, help="default 2 (quick 1)")
        parser.add_argument("--repeats", type=int, default=None, help="default 10 (quick 2)")

    args = parse_args(__doc__, options)
    args.threads = args.threads or (1 if args.quick else TrainConfig().threads)
    args.repeats = args.repeats or (2 if args.quick else 10)
    config = TrainConfig(threads=args.threads, **(QUICK if args.quick else {}))
    args.train_config = {k: v for k, v in dataclasses.asdict(config).items() if k != "out"}
    report = Report("train_step", args)
    c = config
    torch.set_num_threads(c.threads)
    torch.manual_seed(c.seed)
    sam = build_mini_sam(c.model_config()).train()
    opt = torch.optim.AdamW(sam.parameters(), lr=0.0, weight_decay=c.weight_decay)

    rng = np.random.default_rng([TRAIN_TAG, c.seed, 0])
    scenes = draw_batch(c, 0, RenderedBank(4 * c.batch_size, c), rng)
    after_draw = rng.bit_generator.state  # batch_loss continues from here, as in the recipe

    def step() -> float:
        rng = np.random.default_rng()
        rng.bit_generator.state = after_draw
        x, sizes = prepare_images(sam, [sc.image for sc in scenes])
        emb = sam.image_encoder(x)  # (B, C, g, g)
        total, terms, _ = batch_loss(
            sam, emb, scenes, sizes, rng, c.objects_per_image, c.corrections, MIN_AREA, c.box_share
        )
        loss = total / max(terms, 1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(sam.parameters(), c.clip)
        opt.step()
        return loss.item()

    def shipped() -> None:
        with decoder(decode_many_counted):
            step()

    def per_image() -> None:
        with decoder(decode_per_image):
            step()

    # The two paths compute the same thing: same loss, same gradients.
    results = {}
    for name, path in (("shipped", decode_many_counted), ("per image", decode_per_image)):
        CALLS["decoder"] = 0
        with decoder(path):
            loss = step()
        grads = [p.grad.clone() for p in sam.parameters() if p.grad is not None]
        results[name] = (loss, grads, CALLS["decoder"])
    (loss_a, grads_a, calls_a), (loss_b, grads_b, calls_b) = results.values()
    torch.testing.assert_close(loss_a, loss_b, rtol=1e-4, atol=1e-6)
    assert len(grads_a) == len(grads_b)
    for a, b in zip(grads_a, grads_b, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)
    print(
        f"same loss ({loss_a:.5f}) and gradients on both paths; decoder calls per step: "
        f"{calls_a} (decode_many) vs {calls_b} (per image)"
    )

    times = measure_interleaved(
        {"decode_many": shipped, "per image": per_image}, repeats=args.repeats, warmup=1
    )
    report.timing("step, shipped (decode_many)", times["decode_many"])
    report.timing("step, one decoder call per image", times["per image"])
    report.figure("decoder_calls_per_step", {"decode_many": calls_a, "per image": calls_b})
    report.figure("loss", loss_a)
    n_params = sum(p.numel() for p in sam.parameters())
    report.note(f"mini-SAM {n_params / 1e6:.2f} M parameters, random weights, lr 0")
    print(
        f"torch {torch.__version__}, {c.threads} threads, {c.batch_size} scenes at "
        f"{c.image_size} px, up to {c.objects_per_image} entities each, "
        f"{c.corrections} corrective rounds, {n_params / 1e6:.2f} M parameters"
    )
    shipped_s, per_image_s = times["decode_many"].median, times["per image"].median
    print(f"one decoder call per image:       {fmt_seconds(per_image_s):>9} per step (median)")
    print(f"decode_many (shipped), per type:  {fmt_seconds(shipped_s):>9} per step (median)")
    report.ratio("per-image decoding / shipped step", per_image_s / shipped_s, meaning="faster")
    report.write()


if __name__ == "__main__":
    main()
