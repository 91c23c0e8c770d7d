"""One process of a ``bench/ddp_scaling.py`` run, started by torchrun; times work from inside.

    torchrun ... bench/_ddp_worker.py train RESULT.json <python -m seglab.train arguments>
    torchrun ... bench/_ddp_worker.py label RESULT.json IMAGES PROMPTS OUT

``train`` runs ``python -m seglab.train``'s ``main`` unchanged and notes the time of every
optimizer step (a global step hook), so that process start-up, imports and the rendezvous are
not counted. ``label`` loads mini-SAM, waits for every rank, then times ``label_folder`` (which
ends when all ranks are done). Rank 0 writes what it measured to RESULT.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def train(result: Path, argv: list[str]) -> int:
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    stamps: list[float] = []
    register_optimizer_step_pre_hook(lambda *_: stamps.append(time.perf_counter()))
    from seglab.train_cli import main

    status = main(argv)
    if os.environ.get("RANK", "0") == "0":
        out = Path(argv[argv.index("--out") + 1])
        history = json.loads((out / "history.json").read_text())
        result.write_text(json.dumps({"stamps": stamps, "train_loss": history["train_loss"]}))
    return status


def label(result: Path, images: str, prompts: str, out: str) -> int:
    import torch.distributed as dist

    from seglab.distributed import process_group
    from seglab.label import label_folder
    from seglab.sam import load_sam

    sam = load_sam("mini", device="cpu")
    with process_group() as info:
        if info.distributed:
            dist.barrier()  # every rank loaded its model: start together
        start = time.perf_counter()
        summary = label_folder(images, out, prompts=prompts, sam=sam, device="cpu")
        seconds = time.perf_counter() - start
    if info.is_main:
        result.write_text(json.dumps({"seconds": seconds, "images": len(summary.labelled)}))
    return 1 if summary.problems else 0


if __name__ == "__main__":
    mode, result, *rest = sys.argv[1:]
    if mode == "train":
        sys.exit(train(Path(result), rest))
    sys.exit(label(Path(result), *rest))
