"""Benchmark: mini-SAM training as 2 processes of 1 thread vs 1 process of 2 threads, one run.

What ``torchrun --nproc-per-node 2 -m seglab.sam.train_mini`` buys on a 2-core machine: the
same cores and the same global batch (8 scenes a step), split across 2 processes of 4 scenes
that average their gradients (gloo), against one process that gives both cores to torch. One
process leaves a core idle while it samples prompts and corrective clicks in NumPy and while
its many small decoder operations run on one thread; two processes fill those gaps.

Each run is a fresh ``python -m seglab.sam.train_mini`` (or torchrun) of the recipe's defaults on a
small bank of photo composites (250, rendered once into a temporary folder before anything is
timed), stopped after ``--steps`` steps. The figure is scenes per second over the training loop
as the recipe itself clocks it (start-up, imports and loading the bank are not counted; the
first, slower steps are). The two do not draw the same scenes (each process draws its own), so
their losses are not compared here: ``tests/test_sam_train_mini.py`` checks that 2 processes
take the step of their averaged gradient.

``--quick``: the tiny model on 64-px synthetic scenes, 4 steps, one run each.

    python bench/mini_sam_processes.py [--repeats 2] [--steps 40] [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _timing import ROOT, Report, measure_interleaved, parse_args

BANK = 250
QUICK = ["--tiny", "--image-size", "64", "--synthetic-share", "1", "--eval-scenes", "2"]


def train(nproc: int, threads: int, cli: list[str], out: Path) -> dict:
    """One training run; returns rank 0's summary (step, loss, elapsed_s)."""
    module = ["-m", "seglab.sam.train_mini", *cli, "--threads", str(threads), "--out", str(out)]
    if nproc == 1:
        cmd = [sys.executable, *module]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
        cmd += ["--nproc-per-node", str(nproc), *module]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TQDM_DISABLE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[1:])} failed:\n{done.stderr[-3000:]}")
    summaries = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return summaries[0]


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--repeats", type=int, default=None, help="runs each (default 2)")
        parser.add_argument("--steps", type=int, default=None, help="steps a run (default 40)")

    args = parse_args(__doc__, options)
    args.repeats = args.repeats or (1 if args.quick else 2)
    args.steps = args.steps or (4 if args.quick else 40)
    report = Report("mini_sam_processes", args)
    with tempfile.TemporaryDirectory(prefix="mini_sam_processes.") as tmp:
        work = Path(tmp)
        common = ["--steps", str(args.steps), "--time-limit-min", "0", "--eval-every", "100000"]
        common += ["--head-steps", "0"]  # the main stage's steps only
        common += ["--save-every", "100000", "--bank-dir", str(work / "bank")]
        common += ["--bank-size", str(BANK)] + (QUICK if args.quick else [])
        if not args.quick:  # render the bank once, untimed: every run then loads it
            from seglab.sam.bank import build_bank
            from seglab.sam.composites import COMPOSITES_VERSION

            build_bank(work / "bank" / f"v{COMPOSITES_VERSION}_side256_seed0_n{BANK}", BANK)
        runs = {"n": 0}

        def run(nproc: int, batch: int, threads: int) -> float:
            runs["n"] += 1
            got = train(
                nproc, threads, [*common, "--batch-size", str(batch)], work / str(runs["n"])
            )
            if got["step"] != args.steps:
                raise RuntimeError(f"the run stopped at step {got['step']}, not {args.steps}")
            return got["elapsed_s"] / (args.steps * 8)  # seconds per scene, 8 scenes a step

        times = measure_interleaved(
            {"1 process x 2 threads": lambda: run(1, 8, 2),
             "2 processes x 1 thread": lambda: run(2, 4, 1)},
            repeats=args.repeats,
            warmup=0,
            self_timed=True,
        )  # fmt: skip
    per_s = {name: 1 / t.median for name, t in times.items()}
    report.figure("training_scenes_per_s", per_s)
    report.figure("runs_each", args.repeats)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2:
        report.note(f"only {cores} usable core(s): both settings share one core")
    report.note(
        "python -m seglab.sam.train_mini with the shipped recipe's model and data"
        + (" (--quick: tiny model, 64-px synthetic scenes)" if args.quick else "")
        + f", {args.steps} steps of 8 scenes, {BANK} composites in the bank, gloo"
    )
    for name, value in per_s.items():
        print(f"{name:<24} {value:7.2f} scenes/s")
    report.ratio(
        "2 processes / 1 process, training scenes per second",
        per_s["2 processes x 1 thread"] / per_s["1 process x 2 threads"],
        meaning="the throughput",
    )
    report.write()


if __name__ == "__main__":
    main()
