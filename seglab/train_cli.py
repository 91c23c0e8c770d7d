"""``python -m seglab.train``: train the course's U-Net from the command line, on one process or
many (``torchrun``), with checkpoints and ``--resume``.

One process, on the course's synthetic scenes or on what the labelling tool wrote
(``python -m seglab.label --images photos --out labelled`` writes ``labelled/labels/*.png``;
see :mod:`seglab.folders`)::

    python -m seglab.train --synthetic 200 --epochs 10 --out runs/unet
    python -m seglab.train --data labelled --images photos --epochs 10 --out runs/unet

Two processes on this machine (gloo on the CPU, nccl with one GPU each), the same global batch::

    torchrun --standalone --nproc-per-node 2 -m seglab.train --synthetic 200 --out runs/unet

Two machines (run on each, ``--node-rank 0`` on the one whose address is given)::

    torchrun --nnodes 2 --node-rank 0 --nproc-per-node 1 --master-addr 10.0.0.1 \\
        --master-port 29500 -m seglab.train --synthetic 200 --out runs/unet

``--batch-size`` is the **global** batch: with N processes each takes ``batch_size / N`` of
every batch, and the gradient all-reduce averages their gradients, so one step of N processes
is one step of one process on the whole batch (the same up to rounding for cross-entropy
without BatchNorm; BatchNorm normalises each process's share with that share's statistics, and
Dice is computed per share - close, not equal). A ``DistributedSampler`` shuffles with
``--seed`` and the epoch, the same order for any number of processes. When the training images
do not split evenly over the processes, it repeats a few of them so that every process takes
the same number of steps.

Rank 0 alone prints, and writes ``OUT/checkpoint.pt`` (model, optimizer, epoch, history, every
rank's random-number state, the settings) and ``OUT/history.json`` after every epoch, each
atomically: a killed job leaves the last complete epoch. ``--resume`` continues from it and
ends with the same weights as a run that was never interrupted (same settings, same number of
processes and threads). Rerunning a finished job with ``--resume`` does nothing.
:func:`load_model` reads the trained U-Net back from ``OUT/checkpoint.pt``.

On CUDA: nccl, mixed precision (``--amp``) and channels-last memory layout are on by default,
and BatchNorm becomes SyncBatchNorm when several processes share a batch (the CPU has no
SyncBatchNorm). ``--device cpu`` keeps a GPU machine on the CPU path.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler, Subset

from seglab import distributed
from seglab._util import atomic_path
from seglab.device import seed_everything
from seglab.distributed import DistInfo
from seglab.folders import LabelFolder, find_pairs, scan_labels
from seglab.train import History, train
from seglab.unet import UNet, UNetConfig

__all__ = ["UsageError", "load_model", "main", "parse_args", "run"]

CHECKPOINT = "checkpoint.pt"
HISTORY = "history.json"
FORMAT = "seglab-train-checkpoint"
VERSION = 1
#: settings that decide the weights: a resumed run must repeat them (--epochs may grow)
RUN_DEFINING = (
    "data", "images", "synthetic", "size", "val_fraction", "num_classes", "batch_size", "lr",
    "seed", "loss", "base_channels", "depth", "batch_norm",
)  # fmt: skip


class UsageError(ValueError):
    """Bad input to the command (an option, the data, the output folder): the message names
    it and the fix. ``main`` prints it without a traceback."""


# --------------------------------------------------------------------------- arguments


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m seglab.train",
        description="Train the course's U-Net on one process or many (torchrun).",
        epilog="Under torchrun every process runs this command; --batch-size is the total.",
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--data", type=Path, metavar="DIR", help="DIR/labels/<name>.png (seglab.label's OUT)"
    )
    source.add_argument("--synthetic", type=int, metavar="N", help="N synthetic course scenes")
    p.add_argument("--images", type=Path, metavar="DIR", help="the images (default DATA/images)")
    p.add_argument("--out", type=Path, metavar="DIR", required=True, help="checkpoint, history")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--epochs", type=int, default=10, metavar="N", help="default %(default)s")
    p.add_argument(
        "--batch-size", type=int, default=16, metavar="N", help="global: all processes together"
    )
    p.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (%(default)s)")
    p.add_argument("--size", type=int, default=128, metavar="PX", help="resized to PX x PX")
    p.add_argument(
        "--val-fraction", type=float, default=0.1, metavar="F", help="last share held out"
    )
    p.add_argument("--num-classes", type=int, metavar="K", help="default: largest id + 1")
    p.add_argument("--loss", choices=("ce", "ce+dice"), default="ce", help="default ce")
    p.add_argument("--base-channels", type=int, default=16, metavar="C", help="U-Net width")
    p.add_argument("--depth", type=int, default=3, help="U-Net halvings (%(default)s)")
    p.add_argument("--batch-norm", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--seed", type=int, default=0, help="weights, data order (%(default)s)")
    p.add_argument("--device", default="auto", help="auto (CUDA if any, else cpu), cuda, cpu")
    p.add_argument("--amp", action=argparse.BooleanOptionalAction, help="default: on CUDA")
    p.add_argument(
        "--channels-last", action=argparse.BooleanOptionalAction, help="default: on CUDA"
    )
    p.add_argument("--threads", type=int, metavar="N", help="torch threads per process")
    p.add_argument(
        "--workers", type=int, default=0, metavar="N", help="DataLoader workers per process"
    )
    return p


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line's options (argparse's own errors exit with status 2)."""
    return _parser().parse_args(argv)


def _check_args(a: argparse.Namespace, world: int) -> None:
    """ValueError for values argparse cannot judge, each naming the option and a fix."""
    for name, low in [("epochs", 1), ("batch_size", 1), ("base_channels", 1), ("depth", 1),
                      ("workers", 0), ("seed", 0)]:  # fmt: skip
        if getattr(a, name) < low:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} must be at least {low}, got {getattr(a, name)}.")
    if a.synthetic is not None and a.synthetic < 1:
        raise ValueError(f"--synthetic N needs N >= 1 scenes, got {a.synthetic}; e.g. 200.")
    if a.threads is not None and a.threads < 1:
        raise ValueError(f"--threads must be at least 1, got {a.threads}.")
    if a.num_classes is not None and a.num_classes < 2:
        raise ValueError(
            f"--num-classes must be at least 2 (background + one), got {a.num_classes}."
        )
    if not (math.isfinite(a.lr) and a.lr > 0):
        raise ValueError(f"--lr must be a positive number, got {a.lr}; e.g. 1e-3.")
    if not 0 <= a.val_fraction < 1:
        raise ValueError(f"--val-fraction must be in [0, 1), got {a.val_fraction}; e.g. 0.1.")
    if a.synthetic is not None and a.size < 32:
        raise ValueError(f"--size {a.size} is too small for the synthetic scenes: pass 32 or more.")
    multiple = 2**a.depth
    if a.size < multiple or a.size % multiple:
        lo, hi = a.size // multiple * multiple, (a.size // multiple + 1) * multiple
        fix = f"--size {lo} or {hi}" if lo else f"--size {hi}"
        raise ValueError(
            f"--size {a.size} cannot be halved {a.depth} times (--depth {a.depth} needs a "
            f"multiple of {multiple}): pass {fix}."
        )
    if a.batch_size % world:
        lo, hi = a.batch_size // world * world, (a.batch_size // world + 1) * world
        fix = f"{lo} or {hi}" if lo else f"{hi}"
        raise ValueError(
            f"--batch-size {a.batch_size} is the global batch and does not split evenly over "
            f"{world} processes: pass a multiple of {world}, e.g. {fix}."
        )
    if a.images is not None and a.data is None:
        raise ValueError("--images goes with --data (the label PNGs); --synthetic needs none.")
    if a.out.exists() and not a.out.is_dir():
        raise ValueError(f"--out {str(a.out)!r} is a file; name a folder (created if missing).")


def _device(a: argparse.Namespace, info: DistInfo) -> torch.device:
    """The device this rank trains on: cuda:LOCAL_RANK, or the CPU."""
    from seglab.device import get_device

    if a.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            device = get_device(a.device)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"--device{str(exc).removeprefix('prefer')}") from None
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", info.local_rank)
    if device.type not in ("cuda", "cpu") and info.world_size > 1:
        raise ValueError(
            f"--device {a.device}: several processes train together on CUDA (nccl) or the CPU "
            "(gloo) only; pass --device cpu, or run one process."
        )
    if a.amp and device.type != "cuda":
        raise ValueError(f"--amp needs a CUDA device, but this run uses {device}: drop --amp.")
    return device


# --------------------------------------------------------------------------- checkpoints


def _rng_state(device: torch.device) -> dict[str, Any]:
    state: tuple[Any, ...] = np.random.get_state()  # type: ignore[assignment]  # noqa: NPY002
    name, keys, pos, has_gauss, gauss = state  # the MT19937 state, as plain values
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
        "numpy": (name, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
        "python": random.getstate(),
    }


def _set_rng_state(state: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] is not None and device.type == "cuda":
        torch.cuda.set_rng_state(state["cuda"], device)
    name, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))  # noqa: NPY002
    random.setstate(state["python"])


def _write_json(path: Path, value: object) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, indent=1) + "\n", encoding="utf-8")


def _read_checkpoint(a: argparse.Namespace, settings: dict[str, Any]) -> dict[str, Any] | None:
    """Rank 0's view of OUT: the checkpoint to resume, None to start, ValueError otherwise."""
    path = a.out / CHECKPOINT
    if not path.exists():
        if a.resume:
            print(f"seglab.train: no {path}: starting from epoch 1", flush=True)
        return None
    if not a.resume:
        raise ValueError(
            f"{str(path)!r} already holds a run: pass --resume to continue it, or choose "
            "another --out to start a new one."
        )
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a foreign or damaged file: say which, not a pickle stack
        raise ValueError(f"cannot read {str(path)!r} as a checkpoint ({exc}).") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{str(path)!r} is not a seglab.train checkpoint.")
    changed = [
        f"--{k.replace('_', '-')} {ckpt['settings'].get(k)!r} -> {settings[k]!r}"
        for k in RUN_DEFINING
        if ckpt["settings"].get(k) != settings[k]
    ]
    if changed:
        raise ValueError(
            f"--resume with other settings than the run in {str(path)!r} ({'; '.join(changed)}):"
            " pass the same options (only --epochs may grow), or another --out."
        )
    return ckpt


def _shared_checkpoint(
    a: argparse.Namespace, settings: dict[str, Any], info: DistInfo
) -> dict[str, Any] | None:
    """Rank 0 prepares OUT and reads the checkpoint; every rank gets it, or the same error."""
    answer: tuple[dict[str, Any] | None, str] = (None, "")
    if info.is_main:
        a.out.mkdir(parents=True, exist_ok=True)
        for stale in a.out.glob("*.tmp"):  # left by a process killed while writing
            stale.unlink(missing_ok=True)
        try:
            answer = (_read_checkpoint(a, settings), "")
        except ValueError as exc:
            answer = (None, str(exc))
    ckpt, error = distributed.broadcast_object(answer)  # OUT need exist on rank 0's machine only
    if error:
        raise ValueError(error)
    return ckpt


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> UNet:
    """The U-Net saved in a ``seglab.train`` checkpoint (``OUT/checkpoint.pt``), in eval mode."""
    ckpt = torch.load(Path(path), map_location=device, weights_only=True)
    model = UNet(UNetConfig(**ckpt["model_config"])).to(device)
    model.load_state_dict(ckpt["model"])
    return model.eval()


# --------------------------------------------------------------------------- the run

_Data = Any  # SyntheticScenes | LabelFolder: a Dataset with a length


@dataclass
class _Job:
    """Everything a rank needs to train, built and checked before the first step."""

    info: DistInfo
    device: torch.device
    model: UNet
    optimizer: torch.optim.Optimizer
    train_loader: DataLoader
    val_loader: DataLoader | None
    settings: dict[str, Any]
    start_epoch: int
    past: History


def _datasets(a: argparse.Namespace, info: DistInfo) -> tuple[_Data, int, list[str]]:
    """The whole data set, its number of classes, and images left out for want of a label."""
    if a.synthetic is not None:
        from seglab.data import SyntheticScenes

        data = SyntheticScenes(a.synthetic, size=a.size, seed=a.seed)
        if a.num_classes is not None and a.num_classes < data.num_classes:
            raise ValueError(
                f"the synthetic scenes have {data.num_classes} classes (background + 4 shapes), "
                f"but --num-classes is {a.num_classes}: leave --num-classes out."
            )
        return data, a.num_classes or data.num_classes, []
    data_dir = a.data
    if not data_dir.is_dir():
        raise ValueError(f"--data {str(data_dir)!r}: no such folder.")
    pairs, missing = find_pairs(a.images or data_dir / "images", data_dir / "labels")
    folder = LabelFolder(pairs, a.size)
    largest = scan_labels(folder, info)
    if a.num_classes is not None and largest >= a.num_classes:
        raise ValueError(
            f"the labels hold class ids up to {largest}, but --num-classes is "
            f"{a.num_classes}: pass --num-classes {largest + 1} or more."
        )
    return folder, a.num_classes or max(largest + 1, 2), missing


def _prepare(a: argparse.Namespace, info: DistInfo, device: torch.device) -> _Job:
    data, k, missing = _datasets(a, info)
    n_val = round(len(data) * a.val_fraction)
    n_train = len(data) - n_val
    if n_train < info.world_size:
        raise ValueError(
            f"{n_train} training images for {info.world_size} processes: each needs at least "
            "one; use more data, a smaller --val-fraction, or fewer processes."
        )
    settings = {k_: (str(v.resolve()) if isinstance(v, Path) else v) for k_, v in vars(a).items()}
    settings["num_classes"] = k  # the number used, found or given
    ckpt = _shared_checkpoint(a, settings, info)

    per_rank = a.batch_size // info.world_size
    train_set = Subset(data, range(n_train))
    sampler: DistributedSampler = DistributedSampler(
        train_set, num_replicas=info.world_size, rank=info.rank, shuffle=True, seed=a.seed
    )
    cuda = device.type == "cuda"
    loader_options = {"num_workers": a.workers, "pin_memory": cuda}
    train_loader = DataLoader(train_set, per_rank, sampler=sampler, **loader_options)
    val_loader = None
    if n_val:  # each rank scores its own share, no sample twice; evaluate() adds them up
        mine = distributed.shard(range(n_train, len(data)), info)
        val_loader = DataLoader(Subset(data, mine), per_rank, **loader_options)

    seed_everything(a.seed)  # the same initial weights on every rank (DDP copies rank 0's)
    config = UNetConfig(
        in_channels=3,
        num_classes=k,
        base_channels=a.base_channels,
        depth=a.depth,
        batch_norm=a.batch_norm,
    )
    model = UNet(config)
    past, start = History(), 0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        past, start = History(**ckpt["history"]), int(ckpt["epoch"])
    if cuda and a.batch_norm and info.world_size > 1:  # BatchNorm over the global batch
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.to(device)
    if cuda if a.channels_last is None else a.channels_last:
        model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=a.lr)
    if ckpt is not None:
        optimizer.load_state_dict(ckpt["optimizer"])  # its tensors go where the parameters are
        same_world = len(ckpt["rng"]) == info.world_size
        _set_rng_state(ckpt["rng"][info.rank if same_world else 0], device)
        if not same_world and info.is_main:
            print(
                f"seglab.train: the checkpoint was written by {len(ckpt['rng'])} processes, "
                f"this run has {info.world_size}: each rank's data differs from an "
                "uninterrupted run from here on.",
                flush=True,
            )
    if info.is_main:
        gone = f"; {len(missing)} images without a label left out" if missing else ""
        where = f"{info.world_size} processes ({info.backend})" if info.distributed else "1 process"
        print(
            f"seglab.train: {where} on {device.type}, global batch {a.batch_size} = "
            f"{info.world_size} x {per_rank}; {n_train} training / {n_val} validation images"
            f" of {a.size} px, {k} classes{gone}",
            flush=True,
        )
        if start:
            print(f"seglab.train: resuming after epoch {start} of {a.epochs}", flush=True)
    return _Job(info, device, model, optimizer, train_loader, val_loader, settings, start, past)


def _joined(first: History, then: History) -> History:
    """The epochs of ``first`` followed by those of ``then`` (a resumed run's whole history)."""
    return History(
        *(getattr(first, f.name) + getattr(then, f.name) for f in dataclasses.fields(History))
    )


def _fit(a: argparse.Namespace, job: _Job) -> History:
    info, past, start = job.info, job.past, job.start_epoch
    if start >= a.epochs:
        if info.is_main:
            print(f"seglab.train: already trained {start} epochs; nothing to do", flush=True)
        return past
    sampler = job.train_loader.sampler
    assert isinstance(sampler, DistributedSampler)
    sampler.set_epoch(start)  # train() continues the count from here

    def save(epoch: int, history: History) -> bool:
        done = start + epoch + 1
        rngs = distributed.gather_objects(_rng_state(job.device))  # every rank's (collective)
        if not info.is_main:
            return False
        numbers = dataclasses.asdict(_joined(past, history))
        model = job.model
        state = {
            "format": FORMAT,
            "version": VERSION,
            "epoch": done,
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "optimizer": job.optimizer.state_dict(),
            "model_config": dataclasses.asdict(model.config),
            "history": numbers,
            "settings": job.settings,
            "rng": rngs,
        }
        with atomic_path(a.out / CHECKPOINT) as tmp:
            torch.save(state, tmp)
        _write_json(a.out / HISTORY, {"epoch": done, **numbers, "settings": job.settings})
        line = f"epoch {done}/{a.epochs}  loss {numbers['train_loss'][-1]:.4f}"
        if history.val_miou:
            line += f"  val loss {history.val_loss[-1]:.4f}  val mIoU {history.val_miou[-1]:.3f}"
        print(line, flush=True)
        return False

    history = train(
        job.model,
        job.train_loader,
        epochs=a.epochs - start,
        optimizer=job.optimizer,
        loss=a.loss,
        val_loader=job.val_loader,
        num_classes=job.model.config.num_classes,
        device=job.device,
        progress=sys.stderr.isatty(),
        callback=save,
        amp=job.device.type == "cuda" if a.amp is None else a.amp,
    )
    if info.is_main:
        print(f"seglab.train: saved {a.out / CHECKPOINT}", flush=True)
    return _joined(past, history)


def run(argv: Sequence[str] | None = None) -> History:
    """Parse ``argv``, check it, join torchrun's process group (if any) and train.

    Returns every epoch's numbers (those of earlier runs too, after ``--resume``), the same on
    every rank. Raises :class:`UsageError` (a ValueError) for bad input, naming the option
    and the fix; errors while training propagate as they are.
    """
    args = parse_args(argv)
    world = distributed.world_info()
    try:
        _check_args(args, world.world_size)
        device = _device(args, world)
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    if args.threads:
        torch.set_num_threads(args.threads)
    with distributed.process_group("nccl" if device.type == "cuda" else "gloo") as info:
        try:
            job = _prepare(args, info, device)
        except (TypeError, ValueError) as exc:  # data, output folder, checkpoint
            raise UsageError(str(exc)) from None
        return _fit(args, job)


def main(argv: Sequence[str] | None = None) -> int:
    """The command: 0 when training finished, 2 (and the reason on stderr) for bad input."""
    try:
        run(argv)
    except UsageError as exc:
        rank = distributed.world_info()
        where = f" (rank {rank.rank})" if rank.distributed else ""
        print(f"python -m seglab.train: error{where}: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0
