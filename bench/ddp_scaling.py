"""Benchmark: training and labelling with 2 processes (torchrun, gloo) vs 1, measured in one run.

What scaling out buys on this machine: the same job on 1 and on 2 processes, each process with
``--threads`` threads (default 1, so 2 processes use twice the cores - the point of adding them).

- **Training**: ``python -m seglab.train`` on the course's synthetic scenes, the same global
  batch for both, no validation and no BatchNorm, so that both compute the same thing (their
  loss curves are checked to agree before anything is compared). Timed from inside the
  processes (``bench/_ddp_worker.py`` notes every optimizer step): start-up, imports and the
  rendezvous are not counted, the data loading and the per-epoch checkpoint are. The first
  epoch is a warm-up. Figure: training samples per second.
- **Labelling**: ``seglab.label.label_folder`` (what ``python -m seglab.label`` runs) with
  mini-SAM and box prompts on synthetic scenes, timed on rank 0 from a barrier after the model
  is loaded until every rank is done; the label PNGs of both runs are checked to be the same
  bytes. Figure: images per second.

Runs take turns (1 process, 2 processes, ...), each a fresh ``torchrun``. Prints each figure
and the ratio 2 processes / 1 process for both jobs. On a machine with fewer than 2 free cores
the ratio measures contention, not scaling.

``--quick``: 16 scenes at 32 px, a 4-channel U-Net, 2 epochs; 4 images to label; one run each.

    python bench/ddp_scaling.py [--repeats 3] [--threads 1] [--quick]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _timing import ROOT, Report, measure_interleaved, parse_args

FULL = {"scenes": 256, "size": 64, "base_channels": 16, "batch_size": 16, "epochs": 3,
        "label_images": 48, "label_size": 128}  # fmt: skip
QUICK = {"scenes": 16, "size": 32, "base_channels": 4, "batch_size": 4, "epochs": 2,
         "label_images": 4, "label_size": 64}  # fmt: skip
WORKER = ROOT / "bench" / "_ddp_worker.py"


def torchrun(nproc: int, threads: int, args: list[str]) -> None:
    """``torchrun --standalone --nproc-per-node nproc bench/_ddp_worker.py args``; raises with
    its stderr when it fails."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    cmd += ["--nproc-per-node", str(nproc), str(WORKER), *args]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TQDM_DISABLE": "1"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[3:7])} failed:\n{done.stderr[-3000:]}")
    for line in done.stderr.splitlines():  # passed on, so that tests/test_bench.py sees them
        if "DeprecationWarning" in line:
            print(line, file=sys.stderr)


def write_label_job(folder: Path, n: int, size: int) -> tuple[Path, Path]:
    """n synthetic scenes as PNGs and a COCO prompts file with every object's box."""
    from PIL import Image

    from seglab.data import make_scene

    images_dir = folder / "images"
    images_dir.mkdir(parents=True)
    images, annotations = [], []
    for i in range(n):
        scene = make_scene(i, size=size)
        Image.fromarray(scene.image).save(images_dir / f"scene{i:03d}.png")
        images.append(
            {"id": i + 1, "file_name": f"scene{i:03d}.png", "width": size, "height": size}
        )
        for (x0, y0, x1, y1), c in zip(scene.boxes.tolist(), scene.classes.tolist(), strict=True):
            box = [x0, y0, x1 - x0 + 1, y1 - y0 + 1]  # COCO's XYWH
            annotations.append(
                {"id": len(annotations) + 1, "image_id": i + 1, "bbox": box, "category_id": c}
            )
    prompts = folder / "prompts.json"
    prompts.write_text(json.dumps({"images": images, "annotations": annotations}))
    return images_dir, prompts


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--repeats", type=int, default=None, help="runs each (default 3)")
        parser.add_argument("--threads", type=int, default=1, help="per process (default 1)")

    args = parse_args(__doc__, options)
    args.repeats = args.repeats or (1 if args.quick else 3)
    setup = QUICK if args.quick else FULL
    args.setup = setup
    report = Report("ddp_scaling", args)
    with tempfile.TemporaryDirectory(prefix="ddp_scaling.") as tmp:
        measure(args, setup, report, Path(tmp))
    report.write()


def measure(args, setup: dict, report: Report, work: Path) -> None:
    """Run, check and record both jobs on 1 and 2 processes; ``work`` holds their files."""
    runs = {"n": 0}
    results: dict[str, list[dict]] = {}

    def train_run(nproc: int) -> float:
        runs["n"] += 1
        out, result = work / f"train{runs['n']}", work / f"train{runs['n']}.json"
        cli = ["--synthetic", str(setup["scenes"]), "--size", str(setup["size"]),
               "--base-channels", str(setup["base_channels"]), "--depth", "2",
               "--batch-size", str(setup["batch_size"]), "--epochs", str(setup["epochs"]),
               "--val-fraction", "0", "--no-batch-norm", "--threads", str(args.threads),
               "--out", str(out)]  # fmt: skip
        torchrun(nproc, args.threads, ["train", str(result), *cli])
        got = json.loads(result.read_text())
        results.setdefault(f"train{nproc}", []).append(got)
        steps_per_epoch = len(got["stamps"]) // setup["epochs"]
        timed = got["stamps"][steps_per_epoch:]  # after the warm-up epoch
        return (timed[-1] - timed[0]) / ((len(timed) - 1) * setup["batch_size"])  # s per sample

    images, prompts = write_label_job(work / "label", setup["label_images"], setup["label_size"])

    def label_run(nproc: int) -> float:
        runs["n"] += 1
        out, result = work / f"label{runs['n']}", work / f"label{runs['n']}.json"
        torchrun(nproc, args.threads, ["label", str(result), str(images), str(prompts), str(out)])
        got = json.loads(result.read_text())
        got["out"] = str(out)
        results.setdefault(f"label{nproc}", []).append(got)
        return got["seconds"] / got["images"]  # s per image

    warmup = 0 if args.quick else 1
    train_times = measure_interleaved(
        {"1 process": lambda: train_run(1), "2 processes": lambda: train_run(2)},
        repeats=args.repeats,
        warmup=warmup,
        self_timed=True,
    )
    label_times = measure_interleaved(
        {"1 process": lambda: label_run(1), "2 processes": lambda: label_run(2)},
        repeats=args.repeats,
        warmup=warmup,
        self_timed=True,
    )

    # the same computation on 1 and 2 processes (checked on the last runs)
    one, two = results["train1"][-1]["train_loss"], results["train2"][-1]["train_loss"]
    np.testing.assert_allclose(two, one, rtol=1e-4, err_msg="2 processes trained differently")
    print(f"training: same loss curve on 1 and 2 processes ({len(one)} epochs)")
    pngs = [sorted((Path(r[-1]["out"]) / "labels").glob("*.png")) for r in
            (results["label1"], results["label2"])]  # fmt: skip
    assert [p.name for p in pngs[0]] == [p.name for p in pngs[1]] and pngs[0], "no labels"
    same = all(a.read_bytes() == b.read_bytes() for a, b in zip(*pngs, strict=True))
    assert same, "2 processes wrote other label PNGs than 1"
    print(f"labelling: byte-identical label PNGs from 1 and 2 processes ({len(pngs[0])} images)")

    sps = {name: 1 / t.median for name, t in train_times.items()}
    ips = {name: 1 / t.median for name, t in label_times.items()}
    report.figure("training_samples_per_s", sps)
    report.figure("labelling_images_per_s", ips)
    report.figure("runs_each", args.repeats)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2 * args.threads:
        report.note(f"only {cores} usable core(s) for 2 x {args.threads} thread(s): contention")
    report.note(
        f"training: python -m seglab.train --synthetic {setup['scenes']} --size {setup['size']}"
        f" --base-channels {setup['base_channels']} --depth 2 --no-batch-norm, global batch "
        f"{setup['batch_size']}, {setup['epochs']} epochs (first not timed); labelling: "
        f"mini-SAM, box prompts, {setup['label_images']} scenes of {setup['label_size']} px; "
        f"{args.threads} thread(s) per process, gloo"
    )
    for job, figures, unit in [("training", sps, "samples/s"), ("labelling", ips, "images/s")]:
        for name, value in figures.items():
            print(f"{job:<10} {name:<12} {value:9.1f} {unit}")
    for job, figures in [("training samples", sps), ("labelling images", ips)]:
        report.ratio(
            f"2 processes / 1 process, {job} per second",
            figures["2 processes"] / figures["1 process"],
            meaning="the throughput",
        )


if __name__ == "__main__":
    main()
