"""The mini-SAM training recipe, callable from Python: ``train(TrainConfig(...))``.

``python -m seglab.sam.train_mini`` is its command line. The shipped
``seglab/sam/weights/mini_sam.pt`` was made with it (the command is in the model card).

Data, per step of ``batch_size`` scenes:

- photo composites (:mod:`seglab.sam.composites`) drawn from a bank rendered once
  (:func:`seglab.sam.bank.build_bank`, outside the repository), flipped at random - objects of
  real photo material at every scale, with parts inside objects and objects on containers;
- a share ``synthetic_share`` of seglab's synthetic scenes (:func:`seglab.data.make_scene`),
  drawn fresh from the step's seed, so that the flat shapes of the course's first lessons stay
  well served.

Each image is encoded once; all prompts of the step are decoded in one batched call, over a first
prompt and ``corrections`` corrective rounds (:func:`seglab.sam.interactive.batch_loss`). AdamW,
linear warm-up then cosine decay (over the steps, or over the clock when ``time_limit_min`` would
stop the run first), gradient clipping. Then a last stage of ``head_steps`` retrains only the IoU
head, on the frozen model's own masks, to score the clicked entity above what contains it
(:mod:`seglab.sam.iou_head`). Checkpoints go to ``out``: ``mini_sam.pt`` (the shippable
float16 file) and ``train_state.pt`` (float32 weights, optimiser state, step and elapsed time, for
``resume``), both written atomically; ``log.jsonl`` holds one line per evaluation.

**Many processes.** Started by ``torchrun --nproc-per-node N -m seglab.sam.train_mini ...``, N
copies train one model: each draws its own ``batch_size`` scenes (seeded by its rank), the
gradients are averaged over the copies (gloo, which also lets several copies share one GPU:
their prompt sampling runs on as many CPU cores), every copy takes the same optimiser step, and
rank 0 alone evaluates, logs and writes checkpoints. A step then sees ``N * batch_size`` scenes.
Only gradients are shared: the conv encoder's BatchNorm keeps each copy's own running statistics,
and the file holds rank 0's. A run may resume with another N if ``N * batch_size`` stays the same.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from segment_anything.modeling import Sam
from tqdm.auto import tqdm

from seglab import distributed
from seglab.data import Scene, interior_point, make_scene, mask_box
from seglab.device import get_device
from seglab.sam.bank import Bank, build_bank, eval_composite
from seglab.sam.composites import COMPOSITES_VERSION, Composite
from seglab.sam.evaluate_mini import MIN_AREA, heldout_scene
from seglab.sam.grouping import GroupingHead, grouping_loss
from seglab.sam.interactive import (
    MASK_LOSSES,
    batch_loss,
    decode,
    mask_iou,
    prepare_images,
    upscale,
)
from seglab.sam.iou_head import HeadStage, tune_iou_head
from seglab.sam.mini import MiniSamConfig, atomic_torch_save, build_mini_sam, save_mini_checkpoint
from seglab.sam.resume import (  # SCHEDULE_FIELDS: re-exported, importable where it was
    SCHEDULE_FIELDS,  # noqa: F401
    check_same_schedule,
    schedule,
)

#: Seed tag of training scenes: rng([TRAIN_TAG, seed, step(, i)]). Held-out scenes use
#: ``evaluate_mini.HELDOUT_TAG``; the two families never share a scene.
TRAIN_TAG = 0x7261696E


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on. The defaults are the shipped run's but two: the
    shipped weights (run 15 in the model card) were trained with ``steps=8000`` and
    ``mask_loss="bce"`` (``--steps 8000 --mask-loss bce``); 6,000 steps and focal loss, the
    defaults, are the recipe of run 11, shipped before them.

    Attributes:
      steps: optimiser steps in total (the shipped run: 8,000).
      batch_size: scenes per step.
      lr, weight_decay, warmup, clip: AdamW's peak learning rate and weight decay, linear
        warm-up steps, gradient-norm clipping.
      objects_per_image: at most this many prompted entities per scene.
      corrections: corrective-point rounds after the first prompt.
      box_share: chance that an entity's first prompt is a box instead of a point.
      ancestor_score: the IoU head's target for a mask of a clicked entity's ancestor, as a
        factor on its IoU (:func:`seglab.sam.interactive.batch_loss`); 1.0 is SAM's.
      head_steps, head_ancestor_score: the last stage (:func:`seglab.sam.iou_head.tune_iou_head`):
        steps that retrain only the IoU head, once the main stage is over (all ``steps`` done,
        or ``time_limit_min`` reached), with this ancestor score; 0 steps: no last stage.
      mask_loss: the per-mask loss (:func:`seglab.sam.interactive.mask_losses`): ``"focal"``
        (20 x focal + dice, SAM's; the default) or ``"bce"`` (cross-entropy + dice; the shipped
        run: over 8,000 steps, photo boxes 0.756 against 0.738 and the top-scored click 0.582
        against 0.569 with focal loss, and more confident logits: masks with higher stability
        scores; see the model card).
      grouping_weight: weight of :func:`seglab.sam.grouping.grouping_loss`, a dense loss on the
        image embedding through a training-only 1 x 1 projection; 0 (the shipped run): none.
      synthetic_share: share of the batch drawn from ``make_scene`` instead of the bank.
      nonsquare: share of synthetic scenes (and bank composites) that are not square.
      bank_size: composites in the bank; ``bank_dir``: where it is cached.
      tiny: build ``MiniSamConfig.tiny()`` instead of the shipped sizes (tests, smoke runs).
      image_size: the model's input side.
      encoder: ``"vit"`` (SAM's ViT, sized by encoder_width and encoder_depth) or ``"conv"``
        (:class:`seglab.sam.conv_encoder.ConvImageEncoder` at ``MiniSamConfig``'s conv sizes).
      out_stride: the conv encoder's output stride, 8 or 16. At 8 the embedding grid is
        image_size / 8 and the low-res masks are image_size / 2 on a side (128 x 128 at 256 px)
        instead of image_size / 4; ignored by the ViT encoder.
      encoder_width, encoder_depth: the ViT encoder's width (a multiple of 32; one head per 32
        channels) and number of blocks (windowed, with global attention in the middle one and
        the last). The decoder keeps ``MiniSamConfig``'s sizes.
      conv_widths, conv_blocks: the conv encoder's channels (stem and strides 4, 8, 16) and
        residual blocks (strides 4, 8, 16); ignored by the ViT encoder.
      conv_attn: global-attention blocks on the conv encoder's stride-16 stage (0: none).
      conv_detail: channels of the conv encoder's detail path (0: none, the shipped run).
      out: folder for checkpoints and the log. ``resume``: continue from ``out/train_state.pt``.
      seed: seeds the model, the bank and every step's draws.
      eval_every, eval_scenes, save_every: evaluation and checkpoint cadence. A sitting that stops
        between evaluations (the clock, ``stop_after``) is evaluated once more as it ends, so
        the figures saved with the weights are always measured on them.
      time_limit_min: end the main stage (and save) after this many minutes; the cosine
        follows the clock when it is further along than the steps. 0: no limit. The last stage
        (minutes) runs after it.
      stop_after: stop (and save) after this many steps in this sitting. 0: no limit.
      threads: torch CPU threads (per process under torchrun).
      bank_workers: processes that render the bank when it is not on disk yet.
      device: where the model trains: ``"cpu"`` (the shipped run), ``"cuda"``, ``"cuda:N"``
        (anything :func:`seglab.get_device` takes). Scenes are drawn and prompts sampled on the
        CPU either way.
      precision: ``"float32"`` (the shipped run) or ``"bfloat16"``: the encoder and decoder run
        under ``torch.autocast`` in bfloat16 (the weights, the optimiser and the losses stay in
        float32). Faster where the CPU has bfloat16 matrix units (Intel AMX) or on a GPU;
        possibly slower on CPUs without them (not measured).
    """

    steps: int = 6000
    batch_size: int = 8
    lr: float = 8e-4
    weight_decay: float = 0.05
    warmup: int = 200
    clip: float = 1.0
    objects_per_image: int = 3
    corrections: int = 1
    box_share: float = 0.4
    ancestor_score: float = 1.0
    head_steps: int = 1500
    head_ancestor_score: float = 0.5
    mask_loss: str = "focal"
    grouping_weight: float = 0.0
    synthetic_share: float = 0.25
    nonsquare: float = 0.25
    bank_size: int = 8000
    bank_dir: str = "runs/composite_bank"
    tiny: bool = False
    image_size: int = 256
    encoder: str = "conv"
    encoder_width: int = 160
    encoder_depth: int = 8
    out_stride: int = 8
    conv_widths: tuple[int, ...] = (32, 48, 96, 160)
    conv_blocks: tuple[int, ...] = (1, 2, 3)
    conv_attn: int = 0
    conv_detail: int = 0
    out: str = "runs/mini"
    resume: bool = False
    seed: int = 0
    eval_every: int = 250
    eval_scenes: int = 16
    save_every: int = 100
    time_limit_min: float = 105.0
    stop_after: int = 0
    threads: int = 2
    bank_workers: int = 2
    device: str = "cpu"
    precision: str = "float32"

    def __post_init__(self) -> None:
        for name in (
            "steps",
            "batch_size",
            "eval_every",
            "save_every",
            "image_size",
            "threads",
            "bank_workers",
            "encoder_width",
            "encoder_depth",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(
                    f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}"
                )
        for name in ("conv_attn", "conv_detail"):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"--{name.replace('_', '-')} must be >= 0, got {getattr(self, name)}"
                )
        if self.grouping_weight < 0:
            raise ValueError(f"--grouping-weight must be >= 0, got {self.grouping_weight}")
        if self.seed < 0:
            raise ValueError(f"--seed must be >= 0, got {self.seed}")
        if self.image_size % 16:
            raise ValueError(f"--image-size must be a multiple of 16, got {self.image_size}")
        if self.encoder not in ("vit", "conv"):
            raise ValueError(f"--encoder must be 'vit' or 'conv', got {self.encoder!r}")
        if self.out_stride not in (8, 16):
            raise ValueError(f"--out-stride must be 8 or 16, got {self.out_stride}")
        try:  # seglab's one device check; it names its argument "prefer"
            get_device(self.device)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"--device{str(exc).removeprefix('prefer')}") from None
        for name, n in (("conv_widths", 4), ("conv_blocks", 3)):
            value = tuple(getattr(self, name))
            if len(value) != n or min(value) <= 0:
                raise ValueError(
                    f"--{name.replace('_', '-')} needs {n} positive numbers, comma-separated "
                    f"(e.g. {','.join(map(str, getattr(TrainConfig, name)))}), got {value}"
                )
        if self.mask_loss not in MASK_LOSSES:
            raise ValueError(
                f"--mask-loss must be one of {', '.join(MASK_LOSSES)}, got {self.mask_loss!r}"
            )
        if self.precision not in ("float32", "bfloat16"):
            raise ValueError(f"--precision must be 'float32' or 'bfloat16', got {self.precision!r}")
        if self.encoder_width % 32:
            raise ValueError(f"--encoder-width must be a multiple of 32, got {self.encoder_width}")
        if self.head_steps < 0:
            raise ValueError(f"--head-steps must be >= 0, got {self.head_steps}")
        for name in (
            "box_share",
            "synthetic_share",
            "nonsquare",
            "ancestor_score",
            "head_ancestor_score",
        ):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(
                    f"--{name.replace('_', '-')} must be in [0, 1], got {getattr(self, name)}"
                )

    def model_config(self) -> MiniSamConfig:
        """The model this run trains: ``MiniSamConfig.tiny`` for ``tiny``, else the encoder
        sizes above on ``MiniSamConfig``'s decoder."""
        if self.tiny:
            return replace(
                MiniSamConfig.tiny(self.image_size, self.encoder),
                out_stride=self.out_stride,
                conv_attn_blocks=self.conv_attn if self.encoder == "conv" else 0,
                conv_detail=self.conv_detail if self.encoder == "conv" else 0,
            )
        if self.encoder == "conv":
            return MiniSamConfig(
                img_size=self.image_size,
                encoder="conv",
                out_stride=self.out_stride,
                conv_widths=tuple(self.conv_widths),
                conv_blocks=tuple(self.conv_blocks),
                conv_attn_blocks=self.conv_attn,
                conv_detail=self.conv_detail,
            )
        d = self.encoder_depth
        return MiniSamConfig(
            img_size=self.image_size,
            embed_dim=self.encoder_width,
            depth=d,
            num_heads=self.encoder_width // 32,
            global_attn_indexes=tuple(sorted({max(d // 2 - 1, 0), d - 1})),
        )


def as_composite(scene: Scene) -> Composite:
    """A synthetic :class:`seglab.data.Scene` as a composite of parentless objects."""
    k = len(scene.masks)
    return Composite(scene.image, scene.masks, np.full(k, -1, np.int64), np.ones(k, np.int64))


def draw_batch(
    config: TrainConfig, step: int, bank: Bank | None, rng: np.random.Generator, first: int = 0
) -> list[Composite]:
    """The ``batch_size`` scenes of one step: bank composites (flipped at random) and fresh
    synthetic scenes, all with longest side ``image_size``. Synthetic scene i is seeded by
    ``first + i`` (under torchrun, ``first = rank * batch_size``: every rank its own scenes)."""
    out = []
    s = config.image_size
    for i in range(config.batch_size):
        if bank is None or rng.random() < config.synthetic_share:
            size = (s, s)
            if rng.random() < config.nonsquare:
                short = int(rng.integers(s * 5 // 8, s))
                size = (short, s) if rng.random() < 0.5 else (s, short)
            seeds = [TRAIN_TAG, config.seed, step, first + i]
            scene = make_scene(np.random.default_rng(seeds), size)
            out.append(as_composite(scene))
            continue
        c = bank.get(int(rng.integers(len(bank))))
        if rng.random() < 0.5:
            c = Composite(
                np.ascontiguousarray(c.image[:, ::-1]),
                np.ascontiguousarray(c.masks[:, :, ::-1]),
                c.parents,
                c.kinds,
            )
        out.append(c)
    return out


@torch.no_grad()
def quick_eval(sam: Sam, n_scenes: int = 16, image_size: int = 256) -> dict[str, float]:
    """mIoU of one click at the most interior pixel of an object's own region (not on one of
    its parts; top-scored of 3 masks) and of one box, on held-out synthetic
    scenes (``point_miou``, ``box_miou``) and on evaluation-photo composites (``photo_point_miou``,
    ``photo_box_miou``, objects only). Same frames and post-processing as ``SamPredictor``."""
    was_training = sam.training
    sam.eval()
    res: dict[str, list[float]] = {}
    for family in ("", "photo_"):
        for i in range(n_scenes):
            if family:
                c = eval_composite(i, image_size)
                keep = (c.kinds == 1) & (c.masks.sum((1, 2)) >= MIN_AREA)
            else:
                c = as_composite(heldout_scene(i, image_size))
                keep = c.masks.sum((1, 2)) >= MIN_AREA
            masks = c.masks[keep]
            if not len(masks):
                continue
            x, sizes = prepare_images(sam, [c.image])
            emb = sam.image_encoder(x)
            gt = torch.from_numpy(masks).float().to(emb.device)
            clicks = [interior_point(c.own_region(int(k))) for k in np.flatnonzero(keep)]
            pts = np.array(clicks, np.float32)[:, None]
            pos = torch.ones(len(masks), 1, dtype=torch.int64, device=emb.device)
            low, iou = decode(
                sam, emb, (torch.from_numpy(pts).to(emb.device), pos), None, None, True
            )
            top = iou.argmax(1)
            ious = mask_iou(upscale(sam, low, sizes[0]), gt)[
                torch.arange(len(masks), device=top.device), top
            ]
            res.setdefault(family + "point_miou", []).extend(ious.tolist())
            boxes = torch.from_numpy(np.array([mask_box(m) for m in masks], np.float32))
            boxes = boxes.to(emb.device)
            low, _ = decode(sam, emb, None, boxes, None, False)
            res.setdefault(family + "box_miou", []).extend(
                mask_iou(upscale(sam, low, sizes[0]), gt)[:, 0].tolist()
            )
    sam.train(was_training)
    return {k: float(np.mean(v)) for k, v in res.items()}


def lr_at(step: int, steps: int, lr: float, warmup: int, time_frac: float = 0.0) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to 5 % of ``lr``.

    ``time_frac`` (elapsed / time limit) lets a time-limited run finish its decay on time: the
    cosine follows whichever is further along, the steps or the clock.
    """
    if step < warmup:
        return lr * (step + 1) / warmup
    t = max((step - warmup) / max(steps - warmup, 1), time_frac)
    return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(t, 1.0))))


def train(config: TrainConfig) -> dict[str, object]:
    """Run the recipe of the module docstring with ``config``; returns a summary dict.

    Started by torchrun, every copy calls this: it joins the process group (gloo) for the run.
    """
    with distributed.process_group("gloo") as info:
        return _train(config, info)


def _train(c: TrainConfig, info: distributed.DistInfo) -> dict[str, object]:
    torch.set_num_threads(c.threads)
    torch.manual_seed(c.seed)  # the same on every rank: the copies start from the same weights
    device = torch.device(c.device)
    if info.distributed and device.type == "cuda" and device.index is None:
        device = torch.device("cuda", info.local_rank % torch.cuda.device_count())
    out = Path(c.out)
    out.mkdir(parents=True, exist_ok=True)
    model_config = c.model_config()
    sam = build_mini_sam(model_config).to(device)
    # training only, not in the saved model; built after the model so that its weights are
    # drawn as without it
    head = GroupingHead(sam.prompt_encoder.embed_dim).to(device) if c.grouping_weight else None
    params = list(sam.parameters()) + (list(head.parameters()) if head else [])
    opt = torch.optim.AdamW(params, lr=c.lr, weight_decay=c.weight_decay)
    start, elapsed, head_done = 0, 0.0, False
    state_path = out / "train_state.pt"
    if c.resume:
        if not state_path.exists():
            raise ValueError(
                f"--resume was given but {state_path} does not exist. Train without --resume "
                "first, or point --out at a previous run."
            )
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        # read through MiniSamConfig, so that a state written before a field existed compares
        # with that field's default
        if MiniSamConfig.from_dict(state["config"]) != model_config:
            raise ValueError(
                f"--resume: {state_path} holds a model with config {state['config']}, but this "
                f"run builds {model_config.to_dict()}. Use the same --image-size, "
                "--encoder, --encoder-width, --encoder-depth, --out-stride, --conv-widths, "
                "--conv-blocks, --conv-attn, --conv-detail and --tiny."
            )
        check_same_schedule(state.get("recipe"), c, state_path, info.world_size)
        sam.load_state_dict(state["model"])
        if (head is None) != ("grouping_head" not in state):
            raise ValueError(
                f"--resume: {state_path} was trained with"
                f"{'' if 'grouping_head' in state else 'out'} a grouping loss; resume it with "
                f"the same --grouping-weight (0 or not) as before."
            )
        if head is not None:
            head.load_state_dict(state["grouping_head"])
        opt.load_state_dict(state["optimizer"])
        start, elapsed = int(state["step"]), float(state["elapsed_s"])
        head_done = bool(state.get("head_done", False))
    bank = None
    if c.synthetic_share < 1:
        folder = Path(c.bank_dir) / (
            f"v{COMPOSITES_VERSION}_side{c.image_size}_seed{c.seed}_n{c.bank_size}"
        )
        if not info.is_main:  # rank 0 renders what is missing, the others then load it
            distributed.barrier()
        bank = build_bank(folder, c.bank_size, c.seed, c.image_size, c.nonsquare, c.bank_workers)
        if info.is_main:
            distributed.barrier()
    sam.train()
    n_params = sum(p.numel() for p in sam.parameters())
    recipe = {k: v for k, v in asdict(c).items() if k not in ("out", "resume", "bank_dir")}

    def save(step: int, metrics: dict[str, float]) -> None:
        if not info.is_main:  # under torchrun every rank holds the same weights: rank 0 writes
            return
        meta = {
            "step": step,
            "train_seconds": round(elapsed, 1),
            "params": n_params,
            "processes": info.world_size,
            "head_done": head_done,
            "recipe": recipe,
            **{k: round(v, 4) for k, v in metrics.items()},
        }
        save_mini_checkpoint(sam, out / "mini_sam.pt", model_config, meta=meta)
        state = {
            "config": model_config.to_dict(),
            "model": sam.state_dict(),
            "optimizer": opt.state_dict(),
            **({"grouping_head": head.state_dict()} if head else {}),
            "step": step,
            "elapsed_s": elapsed,
            "head_done": head_done,
            "recipe": schedule(c, info.world_size),
        }
        atomic_torch_save(state, state_path)

    t0 = time.perf_counter() - elapsed
    step, last_loss = start, float("nan")
    losses: list[float] = []
    metrics: dict[str, float] = {}
    bar = tqdm(
        total=c.steps,
        initial=start,
        desc="mini-SAM",
        mininterval=5,
        smoothing=0.05,
        **({} if info.is_main else {"disable": True}),  # rank 0's bar only; TQDM_DISABLE holds
    )
    stop = c.steps if not c.stop_after else min(c.steps, start + c.stop_after)
    limit_s = 60 * c.time_limit_min
    # elapsed / limit: rank 0's clock, shared with the others at every step under torchrun, so
    # that every rank sets the same learning rate and stops at the same step
    clock = elapsed / limit_s if limit_s else 0.0
    autocast = torch.autocast(device.type, torch.bfloat16, enabled=c.precision == "bfloat16")
    log_path = out / "log.jsonl" if info.is_main else Path(os.devnull)  # rank 0 logs
    evaluated_at = -1  # the step of the last quick_eval
    stats: dict[str, float] = {}  # the last step's loss terms, logged with each evaluation

    def evaluate(at: int) -> dict[str, float]:
        """quick_eval now, logged with the mean loss since the last evaluation."""
        nonlocal evaluated_at
        metrics = quick_eval(sam, c.eval_scenes, c.image_size)
        since = at - max(evaluated_at, start)
        record = {
            "step": at,
            "elapsed_s": round(elapsed, 1),
            **({"loss": round(float(np.mean(losses[-since:])), 4)} if since > 0 else {}),
            **{k: round(float(np.mean(v)), 4) for k, v in stats.items()},
            **{k: round(v, 4) for k, v in metrics.items()},
        }
        log.write(json.dumps(record) + "\n")
        log.flush()
        tqdm.write(json.dumps(record))
        evaluated_at = at
        return metrics

    with log_path.open("a") as log:
        while step < stop:
            if not info.distributed:
                clock = (time.perf_counter() - t0) / limit_s if limit_s else 0.0
            if limit_s and clock >= 1:
                if info.is_main:
                    tqdm.write(f"time limit of {c.time_limit_min} min reached at step {step}")
                break
            for g in opt.param_groups:
                g["lr"] = lr_at(step, c.steps, c.lr, c.warmup, clock)
            seeds = [TRAIN_TAG, c.seed, step] + ([info.rank] if info.distributed else [])
            rng = np.random.default_rng(seeds)
            scenes = draw_batch(c, step, bank, rng, first=info.rank * c.batch_size)
            x, sizes = prepare_images(sam, [sc.image for sc in scenes])
            with autocast:
                emb = sam.image_encoder(x)  # (B, C, g, g)
                total, terms, stats = batch_loss(
                    sam,
                    emb,
                    scenes,
                    sizes,
                    rng,
                    c.objects_per_image,
                    c.corrections,
                    MIN_AREA,
                    c.box_share,
                    ancestor_score=c.ancestor_score,
                    mask_loss=c.mask_loss,
                )
                loss = total / max(terms, 1)
                if head is not None:
                    grouping = grouping_loss(head, emb, scenes, sizes, c.image_size)
                    stats["grouping"] = float(grouping.detach())
                    loss = loss + c.grouping_weight * grouping
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if info.distributed:
                mine = (time.perf_counter() - t0) / limit_s if limit_s and info.is_main else 0.0
                loss_sum, clock = distributed.average_gradients(params, [loss.item(), mine])
                last_loss = loss_sum / info.world_size
            else:
                last_loss = loss.item()
            torch.nn.utils.clip_grad_norm_(params, c.clip)
            opt.step()
            step += 1
            losses.append(last_loss)
            elapsed = time.perf_counter() - t0
            bar.update(1)
            if step % 10 == 0:
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
            if info.is_main and (step % c.eval_every == 0 or step == c.steps):
                metrics = evaluate(step)
                save(step, metrics)
            elif step % c.save_every == 0:
                save(step, metrics)
        bar.close()
        if info.is_main and evaluated_at != step:
            # stopped by the clock or --stop-after between evaluations (or a resume that had no
            # step left): measure these weights, so that the figures saved with them are theirs
            metrics = evaluate(step)
        if c.head_steps and not head_done and (step >= c.steps or (limit_s and clock >= 1)):
            # the main stage is over: the IoU head's own last stage (seglab.sam.iou_head); every
            # rank tunes its own copy on its own draws, rank 0's is saved
            stage = HeadStage(
                c.head_steps,
                c.head_ancestor_score,
                seed=c.seed,
                objects_per_image=c.objects_per_image,
                corrections=c.corrections,
                box_share=c.box_share,
            )
            first = info.rank * c.batch_size  # scenes after the main stage's (c.steps + i)

            def report(at: int, loss: float) -> None:
                if info.is_main:
                    tqdm.write(f"IoU-head stage: step {at} of {c.head_steps}, loss {loss:.4f}")

            head_stats = tune_iou_head(
                sam, lambda i, r: draw_batch(c, c.steps + i, bank, r, first), stage, report
            )
            head_done, elapsed = True, time.perf_counter() - t0
            if info.is_main:
                metrics = {**evaluate(step), "head_loss": round(head_stats["head_loss"], 4)}
    save(step, metrics)
    return {"step": step, "loss": last_loss, "elapsed_s": elapsed, **metrics}
