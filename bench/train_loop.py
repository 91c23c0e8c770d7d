"""Benchmark: ``seglab.train`` against a bare PyTorch loop, same U-Net, data and optimizer.

``seglab.train`` is the loop the course trains its U-Net with (notebook 06): the classic
forward / loss / backward / step, plus what a notebook needs around it - target checks before
the loss, a History, the train/eval mode kept, a seed. What do those cost? Goal: >= 0.95x the
bare loop's samples per second.

Both loops get, in the same run:

- the same U-Net: notebook 06's ``UNet(base_channels=16, num_classes=5)``, built once under
  ``torch.manual_seed(0)``; every run starts from those initial weights;
- the same data: notebook 06's ``SyntheticScenes(320, size=64, seed=0)`` in batches of 16,
  made into tensors once, before anything is timed (drawing scenes is the same work for both
  loops and would only blur the comparison), so one run is one epoch of 20 steps;
- the same optimizer: ``AdamW(lr=3e-3)``, made anew for every run;
- the same loss: cross-entropy + soft Dice (``loss="ce+dice"`` in the notebook); the bare loop
  writes both in plain PyTorch.

``seglab.train`` runs with ``progress=False`` (bars are the notebook's choice, not the loop's
cost) and ``seed=0``; the bare loop calls ``torch.manual_seed(0)`` and keeps every step's loss,
as ``seglab.train`` does. Before anything is timed, one run of each is checked to end at the
same weights. Runs take turns, after a warm-up; prints the samples per second of each (median
run) and their ratio.

``--quick``: a 4-channel U-Net on 32 px scenes, 4 steps of 4.

    python bench/train_loop.py [--repeats 7] [--threads N] [--device cpu] [--quick]
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from _timing import Report, fmt_seconds, measure_interleaved, parse_args, timed

import seglab
from seglab.data import CLASSES, SyntheticScenes
from seglab.unet import UNet

FULL = {"scenes": 320, "size": 64, "batch_size": 16, "base_channels": 16, "lr": 3e-3}
QUICK = {"scenes": 16, "size": 32, "batch_size": 4, "base_channels": 4, "lr": 3e-3}


def soft_dice(logits: torch.Tensor, target: torch.Tensor, k: int) -> torch.Tensor:
    """1 - mean over classes of (2 |P T| + 1) / (|P| + |T| + 1), summed over batch and pixels."""
    probs = logits.softmax(1)  # (B, K, H, W)
    onehot = F.one_hot(target, k).permute(0, 3, 1, 2).to(probs.dtype)  # (B, K, H, W)
    inter = (probs * onehot).sum((0, 2, 3))  # (K,)
    card = probs.sum((0, 2, 3)) + onehot.sum((0, 2, 3))  # (K,)
    return 1 - ((2 * inter + 1) / (card + 1)).mean()


def bare_loop(model, batches, optimizer, k: int) -> list[float]:
    """The loop every PyTorch tutorial writes."""
    torch.manual_seed(0)
    model.train()
    losses = []
    for images, target in batches:
        logits = model(images)  # (B, K, H, W)
        loss = F.cross_entropy(logits, target) + soft_dice(logits, target, k)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def main() -> None:
    def options(parser) -> None:
        parser.add_argument("--repeats", type=int, default=None, help="runs each (default 7)")
        parser.add_argument("--threads", type=int, default=None, help="default: torch's")
        parser.add_argument("--device", default="cpu", help="cpu (default), cuda or mps")

    args = parse_args(__doc__, options)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.threads = torch.get_num_threads()
    args.repeats = args.repeats or (2 if args.quick else 7)
    setup = QUICK if args.quick else FULL
    args.setup = setup
    report = Report("train_loop", args)
    device = torch.device(args.device)
    k = len(CLASSES)

    data = SyntheticScenes(setup["scenes"], size=setup["size"], seed=0)
    loader = torch.utils.data.DataLoader(data, batch_size=setup["batch_size"])
    batches = [(x.to(device), y.to(device)) for x, y in loader]  # drawn once, for both loops
    samples = sum(len(x) for x, _ in batches)
    torch.manual_seed(0)
    initial = UNet(base_channels=setup["base_channels"], num_classes=k).to(device)

    def fresh() -> tuple[torch.nn.Module, torch.optim.Optimizer]:
        model = copy.deepcopy(initial)
        return model, torch.optim.AdamW(model.parameters(), lr=setup["lr"])

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    trained: dict[str, torch.nn.Module] = {}  # the model each loop trained last

    def run_seglab() -> float:
        model, opt = fresh()  # made outside the timed part, in both runs

        def loop() -> None:
            seglab.train(
                model,
                batches,
                epochs=1,
                optimizer=opt,
                loss="ce+dice",
                num_classes=k,
                progress=False,
                seed=0,
            )
            sync()

        sync()
        trained["seglab.train"] = model
        return timed(loop)

    def run_bare() -> float:
        model, opt = fresh()

        def loop() -> None:
            bare_loop(model, batches, opt, k)
            sync()

        sync()
        trained["bare loop"] = model
        return timed(loop)

    # Same computation: one run of each from the same weights ends at the same weights.
    run_seglab(), run_bare()
    ours, bare = trained["seglab.train"].state_dict(), trained["bare loop"].state_dict()
    for name, value in ours.items():
        torch.testing.assert_close(value, bare[name], rtol=1e-4, atol=1e-6, msg=name)
    print(f"same weights after {len(batches)} steps of both loops")

    times = measure_interleaved(
        {"seglab.train": run_seglab, "bare loop": run_bare},
        repeats=args.repeats,
        warmup=1,
        self_timed=True,
    )
    report.timing("seglab.train, one run", times["seglab.train"])
    report.timing("bare loop, one run", times["bare loop"])
    sps = {name: samples / t.median for name, t in times.items()}
    report.figure("samples_per_s", sps)
    report.figure("steps_per_run", len(batches))
    n_params = seglab.count_parameters(initial)
    report.note(
        f"U-Net base_channels={setup['base_channels']}, {n_params:,} parameters; "
        f"{samples} scenes of {setup['size']} px per run in batches of {setup['batch_size']}; "
        f"AdamW lr {setup['lr']}; loss ce+dice; device {device}"
    )
    print(
        f"torch {torch.__version__}, {args.threads} threads, device {device}; U-Net "
        f"{n_params:,} parameters; {len(batches)} steps of {setup['batch_size']} scenes at "
        f"{setup['size']} px per run, {times['bare loop'].n} runs each"
    )
    for name, t in times.items():
        print(
            f"{name:<14}{sps[name]:8.1f} samples/s  ({fmt_seconds(t.median)} per run, "
            f"{fmt_seconds(t.median / len(batches))} per step, median)"
        )
    report.ratio(
        "seglab.train / bare loop, samples per second",
        sps["seglab.train"] / sps["bare loop"],
        goal=0.95,
        meaning="the speed",
    )
    report.write()


if __name__ == "__main__":
    main()
