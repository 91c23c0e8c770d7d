"""seglab.train with many processes (torchrun, gloo on the CPU) and ``python -m seglab.train``.

- ``train()`` inside a 2-rank process group: one step equals one single-process step on the
  same global batch (SGD, whose step is proportional to the gradient, so a sum instead of a mean
  over ranks would show; no BatchNorm - with it each rank normalises its own half, and the test
  shows the ranks still agree with each other), every rank reports the same numbers, a stop
  asked by one rank stops all, and loaders of different lengths are refused by name;
- the command line: two ranks killed mid-run (rank 1 sends itself SIGKILL at a fixed optimizer
  step, so the kill always lands in the same place) and restarted with ``--resume`` end at the
  weights of an uninterrupted run; two "nodes" on 127.0.0.1 agree with that run too; one
  process resumes exactly in-process; each bad input gets its message.

Every model is a 4-channel, depth-2 U-Net on 32 px scenes: seconds per run, mostly the start-up
of the processes. Subprocesses get ``OMP_NUM_THREADS=1``.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from seglab.train import History, evaluate, train
from seglab.train_cli import UsageError, load_model, main, run
from seglab.unet import UNet

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1", "PYTHONPATH": str(ROOT)}
#: a tiny run: 8 scenes, 6 for training (2 steps per epoch on 2 ranks), 2 held out
TINY = [
    "--synthetic", "8", "--size", "32", "--base-channels", "4", "--depth", "2",
    "--batch-size", "4", "--val-fraction", "0.25", "--threads", "1", "--lr", "1e-2",
]  # fmt: skip
EPOCHS = 4


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _single_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs are one process, whatever started pytest."""
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)


def torchrun(args: list[str], *, timeout: float = 120, **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*TORCHRUN, *args], capture_output=True, text=True, timeout=timeout, env=ENV, **kw
    )


def weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path / "checkpoint.pt", map_location="cpu", weights_only=True)["model"]


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f"differ: {different}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- train() in a group

STEP_SCRIPT = """
import json, sys, torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset
from seglab.distributed import process_group, shard
from seglab.train import evaluate, train
from seglab.unet import UNet

torch.set_num_threads(1)
images, labels, val_images, val_labels = torch.load(sys.argv[1])
out = {}
with process_group() as info:
    for bn in (False, True):
        torch.manual_seed(0)
        model = UNet(num_classes=5, base_channels=4, depth=2, batch_norm=bn)
        ds = TensorDataset(images, labels)
        loader = DataLoader(ds, batch_size=2, sampler=DistributedSampler(ds, shuffle=False))
        mine = shard(range(len(val_images)), info)
        val = [(val_images[mine], val_labels[mine])]
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        h = train(model, loader, epochs=1, optimizer=opt, val_loader=val, progress=False)
        torch.save(model.state_dict(), f"{sys.argv[2]}/bn{int(bn)}_rank{info.rank}.pt")
        e = evaluate(model, val, 5)
        out[f"bn{int(bn)}"] = [h.train_loss, h.val_loss, h.val_miou, e["confusion_matrix"].tolist()]
        out[f"bn{int(bn)}_epoch_after"] = loader.sampler.epoch
    # a stop asked by rank 1 only stops both ranks
    h = train(model, loader, epochs=3, optimizer=opt, progress=False,
              callback=lambda epoch, history: info.rank == 1)
    out["stopped_after"] = h.epochs
    # different numbers of steps per rank: refused on every rank, before the first step
    try:
        train(model, [(images[:2], labels[:2])] * (info.rank + 1), epochs=1, progress=False)
    except ValueError as exc:
        out["uneven"] = str(exc)
with open(f"{sys.argv[2]}/result_rank{info.rank}.json", "w") as f:  # not one shared stdout
    json.dump(out, f)
"""


@pytest.mark.slow  # starts torchrun: 10-20 s on 2 busy cores
def test_one_ddp_step_equals_one_step_on_the_global_batch(tmp_path: Path) -> None:
    from seglab.data import SyntheticScenes

    ds = SyntheticScenes(6, size=32, seed=3)
    x, y = map(torch.stack, zip(*(ds[i] for i in range(6)), strict=True))
    torch.save((x[:4], y[:4], x[4:], y[4:]), tmp_path / "data.pt")
    (tmp_path / "job.py").write_text(textwrap.dedent(STEP_SCRIPT))
    args = ["--standalone", "--nproc-per-node", "2", str(tmp_path / "job.py")]
    proc = torchrun([*args, str(tmp_path / "data.pt"), str(tmp_path)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    rank0, rank1 = (json.loads((tmp_path / f"result_rank{r}.json").read_text()) for r in (0, 1))
    assert rank0 == rank1  # every rank reports the same numbers (and stops, and refuses, together)

    for bn in (False, True):
        torch.manual_seed(0)
        initial = UNet(num_classes=5, base_channels=4, depth=2, batch_norm=bn)
        single = UNet(num_classes=5, base_channels=4, depth=2, batch_norm=bn)
        single.load_state_dict(initial.state_dict())
        opt = torch.optim.SGD(single.parameters(), lr=0.5)
        h = train(single, [(x[:4], y[:4])], epochs=1, optimizer=opt, progress=False)
        ranks = [torch.load(tmp_path / f"bn{int(bn)}_rank{r}.pt") for r in (0, 1)]
        assert_same_weights(*ranks)  # DDP's averaged gradients: one model on both ranks
        moved = [k for k, v in initial.state_dict().items() if not torch.equal(v, ranks[0][k])]
        assert moved, "the step changed nothing"
        if bn:
            # each rank normalised its own 2 images: close to, not equal to, the 4-image step
            assert rank0["bn1"][0] != pytest.approx(h.train_loss, rel=1e-6)
            continue
        for name, value in single.state_dict().items():
            torch.testing.assert_close(ranks[0][name], value, rtol=1e-5, atol=1e-6, msg=name)
        assert rank0["bn0"][0] == pytest.approx(h.train_loss, rel=1e-6)  # the global batch's
        full = evaluate(single, [(x[4:], y[4:])], 5)  # both ranks' halves, pooled
        assert rank0["bn0"][1] == pytest.approx([full["loss"]], rel=1e-5)
        assert rank0["bn0"][3] == full["confusion_matrix"].tolist()
    assert rank0["bn0_epoch_after"] == 1  # set_epoch(0) for the epoch, then the next one's
    assert rank0["stopped_after"] == 1
    assert "different numbers of batches ([1, 2]" in rank0["uneven"]


# --------------------------------------------------------------------------- the command line


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted 2-rank run of EPOCHS epochs (with BatchNorm)."""
    out = tmp_path_factory.mktemp("reference")
    args = ["--standalone", "--nproc-per-node", "2", "-m", "seglab.train"]
    proc = torchrun([*args, *TINY, "--epochs", str(EPOCHS), "--out", str(out)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("epoch ") == EPOCHS, proc.stdout  # rank 0 alone prints
    return out


KILL_SCRIPT = """
import os, signal, sys
from torch.optim.optimizer import register_optimizer_step_pre_hook
steps = [0]
def kill_rank_1(optimizer, args, kwargs):
    steps[0] += 1
    if os.environ["RANK"] == "1" and steps[0] == 6:  # 2 steps per epoch: mid-epoch 3
        os.kill(os.getpid(), signal.SIGKILL)
register_optimizer_step_pre_hook(kill_rank_1)
from seglab.train_cli import main
sys.exit(main())
"""


@pytest.mark.slow  # starts torchrun: 10-20 s on 2 busy cores
def test_a_killed_rank_restarted_with_resume_ends_at_the_uninterrupted_weights(
    tmp_path: Path, reference: Path
) -> None:
    (tmp_path / "kill.py").write_text(textwrap.dedent(KILL_SCRIPT))
    out = tmp_path / "run"
    cli = [*TINY, "--epochs", str(EPOCHS), "--out", str(out)]
    killed = torchrun(["--standalone", "--nproc-per-node", "2", str(tmp_path / "kill.py"), *cli])
    assert killed.returncode != 0, killed.stdout
    assert "SIGKILL" in killed.stderr, killed.stderr[-2000:]  # torchrun names the signal
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)
    assert 1 <= ckpt["epoch"] < EPOCHS  # the last complete epoch, not the end

    resumed = torchrun(
        ["--standalone", "--nproc-per-node", "2", "-m", "seglab.train", *cli, "--resume"]
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming after epoch {ckpt['epoch']} of {EPOCHS}" in resumed.stdout
    assert_same_weights(weights(out), weights(reference))
    ours, theirs = (json.loads((d / "history.json").read_text()) for d in (out, reference))
    assert ours["train_loss"] == theirs["train_loss"] and ours["val_miou"] == theirs["val_miou"]
    assert not list(out.glob("*.tmp"))  # no half-written file left behind


@pytest.mark.slow  # starts torchrun: 10-20 s on 2 busy cores
def test_two_nodes_on_localhost_train_together_and_agree(tmp_path: Path, reference: Path) -> None:
    port = str(free_port())
    out = tmp_path / "run"

    def node(rank: int) -> subprocess.Popen:
        rendezvous = ["--nnodes", "2", "--node-rank", str(rank), "--master-addr", "127.0.0.1"]
        cmd = [*TORCHRUN, *rendezvous, "--master-port", port, "--nproc-per-node", "1"]
        cmd += ["-m", "seglab.train", *TINY, "--epochs", str(EPOCHS), "--out", str(out)]
        return subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV
        )

    nodes = [node(0), node(1)]  # started together, as on two machines
    try:
        outputs = [node.communicate(timeout=120) for node in nodes]
    finally:
        for node in nodes:
            if node.poll() is None:
                node.kill()
    for node, (_, err) in zip(nodes, outputs, strict=True):
        assert node.returncode == 0, err[-3000:]
    assert "2 processes (gloo)" in outputs[0][0] and outputs[0][0].count("epoch ") == EPOCHS
    assert "epoch " not in outputs[1][0]  # node 1 holds rank 1: it trains, rank 0 reports
    assert_same_weights(weights(out), weights(reference))


def test_one_process_resumes_exactly(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    def draws() -> tuple[list[float], float, float]:  # where each random generator stands
        return torch.rand(3).tolist(), float(np.random.rand()), random.random()  # noqa: NPY002

    whole = run([*TINY, "--epochs", "3", "--out", str(tmp_path / "whole")])
    after_whole = draws()
    part = tmp_path / "part"
    first = run([*TINY, "--epochs", "1", "--out", str(part)])
    draws()  # whatever happens between the runs is undone by the checkpoint's states
    rest = run([*TINY, "--epochs", "3", "--out", str(part), "--resume"])
    assert draws() == after_whole  # torch, NumPy and Python random restored and carried on
    assert first.epochs == 1 and rest.epochs == 3
    assert rest.train_loss == whole.train_loss and rest.val_miou == whole.val_miou
    assert_same_weights(weights(part), weights(tmp_path / "whole"))
    assert "1 process on cpu" in capsys.readouterr().out
    before = (part / "checkpoint.pt").read_bytes()
    again = run([*TINY, "--epochs", "3", "--out", str(part), "--resume"])  # a finished job
    assert isinstance(again, History) and again.train_loss == whole.train_loss
    assert (part / "checkpoint.pt").read_bytes() == before
    assert "already trained 3 epochs; nothing to do" in capsys.readouterr().out
    model = load_model(part / "checkpoint.pt")
    assert model.config.base_channels == 4 and not model.training


# --------------------------------------------------------------------------- data folders


def write_folder(root: Path, n: int = 4) -> Path:
    """n scenes as images/<i>.png (grey, RGB, RGBA, JPEG in turn) and labels/<i>.png."""
    from seglab.data import make_scene

    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    for i in range(n):
        scene = make_scene(i, size=32)
        image = Image.fromarray(scene.image)
        kind = ["L", "RGB", "RGBA", "jpg"][i % 4]
        if kind == "jpg":
            image.save(root / "images" / f"img{i}.jpg", quality=95)
        else:
            image.convert(kind).save(root / "images" / f"img{i}.png")
        Image.fromarray(scene.labels.astype(np.uint8)).save(root / "labels" / f"img{i}.png")
    return root


def test_a_labelled_folder_trains_and_images_without_labels_are_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = write_folder(tmp_path / "data", n=5)
    (data / "labels" / "img4.png").unlink()
    args = ["--data", str(data), "--size", "32", "--base-channels", "4", "--depth", "2"]
    history = run([*args, "--batch-size", "2", "--epochs", "1", "--out", str(tmp_path / "o")])
    assert history.epochs == 1 and np.isfinite(history.train_loss[0])
    out = capsys.readouterr().out
    assert "4 training / 0 validation images" in out and "1 images without a label" in out
    largest = max(int(np.asarray(Image.open(p)).max()) for p in (data / "labels").iterdir())
    assert load_model(tmp_path / "o" / "checkpoint.pt").config.num_classes == largest + 1


def test_trains_on_what_seglab_label_writes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The real hand-over: python -m seglab.label's OUT (labels only; the images stay in their
    own folder, hence --images) is what --data reads."""
    pytest.importorskip("pycocotools")  # seglab.label writes RLE masks with it
    from seglab.data import make_scene
    from seglab.label import label_folder

    photos = tmp_path / "photos"
    photos.mkdir()
    images, annotations = [], []
    for i in range(3):
        scene = make_scene(10 + i, size=32)
        Image.fromarray(scene.image).save(photos / f"p{i}.png")
        images.append({"id": i + 1, "file_name": f"p{i}.png", "width": 32, "height": 32})
        for (x0, y0, x1, y1), c in zip(scene.boxes.tolist(), scene.classes.tolist(), strict=True):
            box = [x0, y0, x1 - x0 + 1, y1 - y0 + 1]  # XYWH
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "bbox": box,
                                "category_id": c})  # fmt: skip
    prompts = tmp_path / "boxes.json"
    prompts.write_text(json.dumps({"images": images, "annotations": annotations}))
    summary = label_folder(photos, tmp_path / "labelled", prompts=prompts)
    assert not summary.problems
    args = ["--data", str(tmp_path / "labelled"), "--images", str(photos), "--size", "32"]
    args += ["--base-channels", "4", "--depth", "2", "--batch-size", "2", "--epochs", "1"]
    history = run([*args, "--val-fraction", "0", "--out", str(tmp_path / "unet")])
    assert history.epochs == 1
    assert "3 training / 0 validation images" in capsys.readouterr().out
    labels = sorted((tmp_path / "labelled" / "labels").glob("*.png"))
    assert [p.name for p in labels] == ["p0.png", "p1.png", "p2.png"]
    largest = max(int(np.asarray(Image.open(p)).max()) for p in labels)
    assert largest >= 1  # SAM painted classes
    assert load_model(tmp_path / "unet" / "checkpoint.pt").config.num_classes == largest + 1


# --------------------------------------------------------------------------- bad input


def bad_folder(tmp_path: Path, case: str) -> Path:
    data = write_folder(tmp_path / "data", n=2)
    if case == "rgb label":
        Image.open(data / "labels" / "img1.png").convert("RGB").save(data / "labels" / "img1.png")
    elif case == "size":
        Image.new("L", (16, 16)).save(data / "labels" / "img1.png")
    elif case == "twins":
        Image.new("RGB", (32, 32)).save(data / "images" / "img1.bmp")
    elif case == "no labels":
        for p in (data / "labels").iterdir():
            p.unlink()
    elif case == "no labels folder":
        for p in (data / "labels").iterdir():
            p.unlink()
        (data / "labels").rmdir()
    return data


@pytest.mark.parametrize(
    ("case", "extra", "message"),
    [
        ("rgb label", [], r"img1\.png: this label PNG has mode 'RGB'"),
        ("size", [], r"img1\.png is 32x32 but its label img1\.png is 16x16"),
        ("twins", [], r"'img1\.bmp' and 'img1\.png' .* share the name 'img1'"),
        ("no labels", [], r"none of the 2 images .* has a label PNG .* \(e\.g\. img0\.png"),
        ("no labels folder", [], r"no labels folder .*: label the images first"),
        ("ok", ["--num-classes", "2"], r"class ids up to \d, but --num-classes is 2: pass"),
        ("ok", ["--images", "nowhere"], r"no images folder 'nowhere': pass --images FOLDER"),
    ],
)
def test_bad_data_is_named_with_the_fix(tmp_path, capsys, case, extra, message) -> None:
    data = bad_folder(tmp_path, case)
    args = ["--data", str(data), "--size", "32", "--depth", "2", "--out", str(tmp_path / "o")]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m seglab.train: error: ")
    assert re.search(message, err, flags=re.S), err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--epochs", "0"], r"--epochs must be at least 1, got 0"),
        (["--lr", "-1"], r"--lr must be a positive number, got -1\.0"),
        (["--val-fraction", "1"], r"--val-fraction must be in \[0, 1\)"),
        (["--synthetic", "0"], r"--synthetic N needs N >= 1"),
        (["--size", "16"], r"too small for the synthetic scenes: pass 32"),
        (
            ["--size", "50", "--depth", "3"],
            r"--size 50 cannot be halved 3 times .* --size 48 or 56",
        ),
        (["--images", "x"], r"--images goes with --data"),
        (["--amp"], r"--amp needs a CUDA device"),
        (["--data", "nowhere", "--synthetic", "2"], r"not allowed with argument"),
    ],
)
def test_bad_options_are_named_with_the_fix(tmp_path, capsys, argv, message) -> None:
    if "--amp" in argv and torch.cuda.is_available():
        pytest.skip("CUDA is here: --amp is valid")
    base = ["--synthetic", "4", "--size", "32", "--depth", "2", "--out", str(tmp_path / "o")]
    if "--synthetic" in argv:
        base = base[2:]
    try:
        status = main([*base, *argv])
    except SystemExit as exc:  # argparse's own checks
        status = exc.code
    assert status == 2
    assert re.search(message, capsys.readouterr().err)


def test_the_global_batch_must_split_over_the_processes(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("WORLD_SIZE", "4")  # checked before the process group is joined
    with pytest.raises(UsageError, match=r"--batch-size 6 .* over 4 processes: .* e\.g\. 4 or 8"):
        run(["--synthetic", "8", "--batch-size", "6", "--out", str(tmp_path)])


def test_an_existing_run_is_not_overwritten_and_resume_keeps_its_settings(tmp_path) -> None:
    out = ["--out", str(tmp_path)]
    run([*TINY, "--epochs", "1", *out])
    with pytest.raises(UsageError, match=r"already holds a run: pass --resume .* another --out"):
        run([*TINY, "--epochs", "2", *out])
    with pytest.raises(UsageError, match=r"other settings .*--lr 0\.01 -> 0\.1.*only --epochs"):
        run([*TINY, "--epochs", "2", *out, "--resume", "--lr", "0.1"])
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match=r"--out .* is a file"):
        run([*TINY, "--out", str(tmp_path / "file")])


# --------------------------------------------------------------------------- on a GPU


@pytest.mark.gpu
def test_cuda_trains_with_mixed_precision_and_channels_last(tmp_path: Path) -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA (mixed precision and nccl are CUDA's)")
    history = run([*TINY, "--epochs", "2", "--device", "cuda", "--out", str(tmp_path)])
    assert all(np.isfinite(history.train_loss))
    from seglab.data import SyntheticScenes

    x, y = map(torch.stack, zip(*(SyntheticScenes(4, size=32)[i] for i in range(4)), strict=True))
    torch.manual_seed(0)
    model = UNet(num_classes=5, base_channels=8, depth=2).cuda()
    model.to(memory_format=torch.channels_last)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    h = train(model, [(x, y)] * 3, epochs=5, amp=True, device="cuda", progress=False)
    assert all(np.isfinite(h.train_loss)) and h.train_loss[-1] < h.train_loss[0]
    assert any(not torch.equal(v, model.state_dict()[k]) for k, v in before.items())
    assert model.enc1[0].weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.gpu
def test_two_gpus_train_with_nccl(tmp_path: Path) -> None:
    if torch.cuda.device_count() < 2:
        pytest.skip("needs two CUDA devices")
    args = ["--standalone", "--nproc-per-node", "2", "-m", "seglab.train", *TINY]
    proc = torchrun([*args, "--epochs", "2", "--out", str(tmp_path)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 processes (nccl) on cuda" in proc.stdout
    assert weights(tmp_path)["final.weight"].isfinite().all()
