"""seglab.sam.train_mini under torchrun: 2 processes (gloo, CPU) train one mini-SAM.

- one step of 2 processes is the step of their *averaged* gradient, reproduced here by hand
  from the same seeds (and not the step of rank 0's gradient alone);
- a time limit stops both processes at the same step, and only rank 0 writes;
- a run resumes with another number of processes when the scenes per step stay the same, and
  is refused, by name, when they change.

A tiny model on 64-px synthetic scenes: each torchrun takes a few seconds, mostly start-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seglab.sam import train_mini
from seglab.sam.evaluate_mini import MIN_AREA
from seglab.sam.interactive import batch_loss, prepare_images
from seglab.sam.mini import build_mini_sam
from seglab.sam.recipe import TRAIN_TAG, TrainConfig, draw_batch, lr_at

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--tiny", "--image-size", "64", "--batch-size", "2", "--eval-scenes", "2",
        "--synthetic-share", "1", "--threads", "1", "--eval-every", "100",
        "--head-steps", "0"]  # fmt: skip
ENV = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
ENV.update(OMP_NUM_THREADS="1", TQDM_DISABLE="1", PYTHONPATH=str(ROOT))


def torchrun(out: Path, *extra: str, nproc: int = 2) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    cmd += ["--nproc-per-node", str(nproc), "-m", "seglab.sam.train_mini"]
    cmd += [*TINY, "--out", str(out), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=ENV)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def step_by_hand(config: TrainConfig, gradients_of: tuple[int, ...]) -> dict[str, torch.Tensor]:
    """The recipe's first step on 2 ranks, computed in this process: each rank's loss on its own
    draws, the mean of the gradients of the ranks in ``gradients_of``, clipping, AdamW.

    BatchNorm's running statistics are each rank's own (only gradients are averaged), and rank 0
    writes the file: the buffers returned are those after rank 0's batch."""
    torch.manual_seed(config.seed)
    sam = build_mini_sam(config.model_config())
    sam.train()
    params = list(sam.parameters())
    grads = []
    for rank in (0, 1):
        rng = np.random.default_rng([TRAIN_TAG, config.seed, 0, rank])
        scenes = draw_batch(config, 0, None, rng, first=rank * config.batch_size)
        x, sizes = prepare_images(sam, [s.image for s in scenes])
        total, terms, _ = batch_loss(
            sam, sam.image_encoder(x), scenes, sizes, rng, config.objects_per_image,
            config.corrections, MIN_AREA, config.box_share, ancestor_score=config.ancestor_score,
        )  # fmt: skip
        sam.zero_grad(set_to_none=True)
        (total / max(terms, 1)).backward()
        grads.append(
            [p.grad.clone() if p.grad is not None else torch.zeros_like(p) for p in params]
        )
        if rank == 0:
            buffers = {k: v.clone() for k, v in sam.named_buffers()}
    for i, p in enumerate(params):
        p.grad = sum(grads[r][i] for r in gradients_of) / len(gradients_of)
    torch.nn.utils.clip_grad_norm_(params, config.clip)
    lr = lr_at(0, config.steps, config.lr, config.warmup)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=config.weight_decay)
    opt.step()
    state = {k: v.detach() for k, v in sam.state_dict().items()}
    return {**state, **{k: v for k, v in buffers.items() if k in state}}


def test_two_processes_take_the_step_of_their_averaged_gradient(tmp_path):
    torchrun(tmp_path, "--steps", "1", "--warmup", "1", "--lr", "1e-3", "--time-limit-min", "0")
    got = torch.load(tmp_path / "train_state.pt", map_location="cpu", weights_only=True)
    assert got["step"] == 1 and got["recipe"]["batch_size"] == 4  # 2 processes x 2 scenes
    args = train_mini.build_parser().parse_args(
        [*TINY, "--steps", "1", "--warmup", "1", "--lr", "1e-3", "--time-limit-min", "0"]
    )
    config = TrainConfig(**vars(args))
    torch.set_num_threads(1)
    averaged = step_by_hand(config, (0, 1))
    assert any("running_mean" in k for k in averaged)  # the encoder's BatchNorm is covered
    for k, v in averaged.items():
        torch.testing.assert_close(got["model"][k], v, rtol=1e-5, atol=1e-6, msg=k)
    # the test can tell: rank 0's gradient alone gives other weights
    alone = step_by_hand(config, (0,))
    worst = max((got["model"][k] - v).abs().max().item() for k, v in alone.items())
    assert worst > 1e-4
    meta = torch.load(tmp_path / "mini_sam.pt", map_location="cpu", weights_only=True)["meta"]
    assert meta["processes"] == 2 and meta["step"] == 1


def test_two_processes_stop_together_at_the_time_limit_then_run_the_last_stage(tmp_path):
    # half the scenes from a bank: rank 0 renders it while rank 1 waits, then both load it
    bank, tmp_path = tmp_path / "bank", tmp_path / "run"
    done = torchrun(
        tmp_path, "--steps", "100000", "--time-limit-min", "0.05", "--head-steps", "2",
        "--synthetic-share", "0.5", "--bank-size", "2", "--bank-dir", str(bank),
    )  # fmt: skip
    assert len(list(bank.glob("*/chunk_*.npz"))) == 1
    # rank 0 alone prints: the evaluation of the weights it stopped with, the evaluation after
    # the last stage (the IoU head), then the summary; rank 1 left its loop at the same step, or
    # it would still be waiting in an all-reduce and torchrun would not have returned 0
    printed = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(printed) == 3
    record, summaries = printed[1], printed[2:]
    assert printed[0]["step"] == record["step"] and np.isfinite(summaries[0]["head_loss"])
    assert 0 < summaries[0]["step"] < 100000
    step = summaries[0]["step"]
    assert record["step"] == step and record["point_miou"] == round(summaries[0]["point_miou"], 4)
    assert done.stdout.count(f"time limit of 0.05 min reached at step {step}\n") == 1
    state = torch.load(tmp_path / "train_state.pt", map_location="cpu", weights_only=True)
    assert state["step"] == summaries[0]["step"] and state["head_done"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "log.jsonl", "mini_sam.pt", "train_state.pt",
    ]  # fmt: skip


def test_a_run_resumes_with_another_number_of_processes_at_the_same_scenes_per_step(
    tmp_path, monkeypatch
):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    torch.set_num_threads(1)
    run = [*TINY, "--steps", "4", "--out", str(tmp_path)]
    # one process of 4 scenes a step for 2 steps (the later --batch-size wins) ...
    assert train_mini.main([*run, "--batch-size", "4", "--stop-after", "2"])["step"] == 2
    # ... then 2 processes of 2 scenes: 4 a step, accepted
    torchrun(tmp_path, "--steps", "4", "--resume")
    state = torch.load(tmp_path / "train_state.pt", map_location="cpu", weights_only=True)
    assert state["step"] == 4 and state["recipe"]["batch_size"] == 4
    # one process of 2 scenes would change the run's data: refused, naming the option
    with pytest.raises(ValueError, match=r"--batch-size 4 \(this run: 2\)"):
        train_mini.main([*run, "--resume"])
