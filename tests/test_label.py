"""seglab.label: one rank and two gloo ranks write the same bytes; a killed run restarted loses
nothing; every bad input is named; the RLE masks decode (with pycocotools) to the label PNGs.

The command-line runs are subprocesses with one thread each (OMP_NUM_THREADS=1), so that the
outputs of one and of two processes can be compared byte for byte.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from seglab.data import make_scene
from seglab.label import LabelSummary, Problem, label_folder
from seglab.label.__main__ import main
from seglab.label.coco import decode_rle, encode_rle, read_prompts
from seglab.label.segment import paint_labels

pytest.importorskip("pycocotools")
# pycocotools 2.0.11's own decode, under NumPy 2; nothing seglab passes can change it
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SIZE = (64, 96)  # (H, W) of the test images
GOOD = ["a0_rgb.png", "a1_rgba.png", "a2_grey.png", "a3_grey_rgb.png", "a4_photo.jpg"]
# the messages each bad input must produce: (name in the summary, a piece of the reason)
BAD = [
    ("z_corrupt.png", "could not be decoded"),
    ("z_empty.png", "is empty (0 bytes)"),
    ("z_notes.txt", "is not an image file PIL can read"),
    ("z_missing.png", "has no such file"),
    ("annotation 900", "refers to image_id 999"),
    ("annotation 901", "width 0 and height 10; both must be > 0"),
    ("annotation 902", "lies outside a0_rgb.png, which is 96x64 pixels"),
    ("annotation 903", "category_id must be an int in 1..255"),
]
AUTO_KWARGS = {"points_per_side": 6, "pred_iou_thresh": 0.5, "stability_score_thresh": 0.5}
AUTO = [f"--{key.replace('_', '-')}={value}" for key, value in AUTO_KWARGS.items()]


def _boxes(scene, image_id: int, first_id: int) -> list[dict]:
    """COCO annotations (XYWH) for a scene's objects."""
    return [
        {
            "id": first_id + k,
            "image_id": image_id,
            "category_id": int(cls),
            "bbox": [int(x0), int(y0), int(x1 - x0 + 1), int(y1 - y0 + 1)],
        }
        for k, ((x0, y0, x1, y1), cls) in enumerate(zip(scene.boxes, scene.classes, strict=True))
    ]


def _make_inputs(root: Path) -> tuple[Path, Path]:
    """A folder with grey, RGB, RGBA and JPEG images and bad files, and its prompts JSON."""
    folder = root / "images"
    folder.mkdir()
    colour, grey, photo = (make_scene(seed, SIZE, n_objects=(2, 3)) for seed in (0, 1, 2))
    alpha = np.full(SIZE, 77, np.uint8)  # dropped on reading: same pixels as a0
    Image.fromarray(colour.image).save(folder / GOOD[0])
    Image.fromarray(np.dstack([colour.image, alpha])).save(folder / GOOD[1])
    Image.fromarray(grey.image[..., 0]).save(folder / GOOD[2])  # mode L
    Image.fromarray(np.repeat(grey.image[..., :1], 3, axis=2)).save(folder / GOOD[3])
    Image.fromarray(photo.image).save(folder / GOOD[4], quality=95)
    (folder / "z_corrupt.png").write_bytes((folder / GOOD[0]).read_bytes()[:300])
    (folder / "z_empty.png").write_bytes(b"")
    (folder / "z_notes.txt").write_text("not an image\n")
    (folder / "unlisted.png").write_bytes((folder / GOOD[0]).read_bytes())  # not in prompts

    names = [*GOOD, "z_corrupt.png", "z_empty.png", "z_notes.txt", "z_missing.png"]
    images = [
        {"id": 10 + i, "file_name": n, "width": SIZE[1], "height": SIZE[0]}
        for i, n in enumerate(names)
    ]
    scenes = [colour, colour, grey, grey, photo]
    annotations = [a for i, s in enumerate(scenes) for a in _boxes(s, 10 + i, 100 * (i + 1))]
    annotations += [
        {"id": 600, "image_id": 15, "category_id": 1, "bbox": [0, 0, 10, 10]},  # z_corrupt
        {"id": 900, "image_id": 999, "category_id": 1, "bbox": [0, 0, 10, 10]},
        {"id": 901, "image_id": 10, "category_id": 1, "bbox": [5, 5, 0, 10]},
        {"id": 902, "image_id": 10, "category_id": 2, "bbox": [500, 500, 10, 10]},
        {"id": 903, "image_id": 10, "category_id": 300, "bbox": [1, 1, 10, 10]},
    ]
    categories = [{"id": c, "name": f"class {c}"} for c in range(1, 6)]
    prompts = root / "prompts.json"
    prompts.write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": categories})
    )
    return folder, prompts


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return {**env, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}


def _run(*args: str, ranks: int = 1, script: Path | None = None) -> subprocess.CompletedProcess:
    """``python -m seglab.label ARGS`` (or a script) on ``ranks`` gloo processes."""
    program = [str(script)] if script else ["-m", "seglab.label"]
    launch = [sys.executable]
    if ranks > 1:
        launch += ["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks)]
    return subprocess.run(
        [*launch, *program, *args, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=180,
        env=_env(),
    )


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    return _make_inputs(tmp_path_factory.mktemp("label"))


@pytest.fixture(scope="module")
def one_rank(inputs, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The reference: the command on one process."""
    folder, prompts = inputs
    out = tmp_path_factory.mktemp("one") / "out"
    proc = _run("--images", str(folder), "--prompts", str(prompts), "--out", str(out))
    return out, proc


@pytest.fixture(scope="module")
def sam():
    """mini-SAM on the CPU, run on one thread like the subprocesses (quicker on a busy box)."""
    import torch

    from seglab.sam import load_sam

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield load_sam("mini", device="cpu")
    torch.set_num_threads(threads)


# --------------------------------------------------------------------------- one rank vs two


def test_one_rank_labels_the_good_images_and_exits_1_naming_the_bad(one_rank):
    out, proc = one_rank
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert sorted(p.name for p in (out / "labels").iterdir()) == sorted(
        f"{Path(n).stem}.png" for n in GOOD
    )
    for name, reason in BAD:
        assert any(
            line.strip().startswith(f"{name}:") and reason in line
            for line in proc.stdout.splitlines()
        ), (name, proc.stdout)
    assert "unlisted.png" not in proc.stdout  # not in the prompts: not a job, not a problem
    assert f"labelled {len(GOOD)} image(s), skipped 0" in proc.stdout


def test_two_ranks_write_the_same_bytes_as_one(one_rank, inputs, tmp_path):
    folder, prompts = inputs
    out = tmp_path / "out"
    proc = _run("--images", str(folder), "--prompts", str(prompts), "--out", str(out), ranks=2)
    assert proc.returncode == 1, proc.stderr[-3000:]  # the same status: the bad inputs
    reference, got = _files(one_rank[0]), _files(out)
    assert list(got) == list(reference)
    assert [name for name in got if got[name] != reference[name]] == []
    # only rank 0 prints the summary, and it is the one-process summary
    assert proc.stdout.count("problem(s):") == 1
    assert proc.stdout.splitlines()[-len(BAD) :] == one_rank[1].stdout.splitlines()[-len(BAD) :]


def test_automatic_mode_two_ranks_write_the_same_bytes_as_one(inputs, sam, tmp_path):
    folder = tmp_path / "auto"
    folder.mkdir()
    for name in GOOD[:3]:
        (folder / name).write_bytes((inputs[0] / name).read_bytes())
    two = _run("--images", str(folder), "--out", str(tmp_path / "two"), *AUTO, ranks=2)
    assert two.returncode == 0, two.stderr[-3000:]
    # one process: this one, on one thread (the sam fixture) like each rank
    one = label_folder(folder, tmp_path / "one", sam=sam, **AUTO_KWARGS)
    assert one.ok and one.labelled == tuple(GOOD[:3])
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    coco = json.loads((tmp_path / "one" / "annotations.json").read_text())
    assert coco["categories"] == [{"id": 1, "name": "object"}]
    assert coco["annotations"], "no mask found: the test would prove nothing"
    assert {a["category_id"] for a in coco["annotations"]} == {1}
    assert [a["id"] for a in coco["annotations"]] == list(range(1, len(coco["annotations"]) + 1))


# --------------------------------------------------------------------------- killed and restarted

KILLER = """
    import os, signal, sys
    import seglab.label as label
    from seglab._util import atomic_path
    from seglab.distributed import world_info

    written = []
    real = label._write_part

    def write_part(path, data):  # rank 1 dies half-way through writing its second part file
        written.append(path)
        if world_info().rank == 1 and len(written) == 2:
            with atomic_path(path) as tmp:
                tmp.write_bytes(data[: len(data) // 2])
                os.kill(os.getpid(), signal.SIGKILL)
        real(path, data)

    label._write_part = write_part
    from seglab.label.__main__ import main
    sys.exit(main(sys.argv[1:]))
"""


def test_a_rank_killed_mid_write_then_a_restart_loses_nothing(one_rank, inputs, sam, tmp_path):
    folder, prompts = inputs
    out = tmp_path / "out"
    args = ("--images", str(folder), "--prompts", str(prompts), "--out", str(out))
    script = tmp_path / "killer.py"
    script.write_text(textwrap.dedent(KILLER))
    killed = _run(*args, ranks=2, script=script)
    assert killed.returncode != 0 and "Signal 9 (SIGKILL)" in killed.stderr, killed.stderr[-3000:]
    assert "problem(s)" not in killed.stdout  # no rank got as far as the summary
    assert not (out / "annotations.json").exists()
    assert list((out / "parts").glob("*.tmp")), "the kill left no partial file to clean up"
    assert (out / "parts" / "a1_rgba.json").is_file()  # rank 1's first image was finished

    # restarted on one process (this one, one thread): the number of ranks may change
    restart = label_folder(folder, out, prompts=prompts, sam=sam)
    assert "a1_rgba.png" in restart.skipped  # finished before the kill: not done again
    assert "a3_grey_rgb.png" in restart.labelled  # killed while writing its part: redone
    assert _files(out) == _files(one_rank[0])  # same bytes, and no temporary file left


# --------------------------------------------------------------------------- in one process


def test_every_bad_input_is_named_with_its_message(inputs, sam, tmp_path):
    folder, prompts = inputs
    summary = label_folder(folder, tmp_path / "out", prompts=prompts, sam=sam)
    assert isinstance(summary, LabelSummary) and not summary.ok
    assert summary.labelled == tuple(sorted(GOOD))
    assert sorted(p.name for p in summary.problems) == sorted(name for name, _ in BAD)
    for name, reason in BAD:
        (problem,) = [p for p in summary.problems if p.name == name]
        assert reason in problem.reason, problem
    coco = json.loads((tmp_path / "out" / "annotations.json").read_text())
    ids = {a["id"] for a in coco["annotations"]}
    assert not ids & {600, 900, 901, 902, 903}  # bad boxes and boxes of bad images: no output
    expected = {a["id"] for a in json.loads(prompts.read_text())["annotations"] if a["id"] < 600}
    assert ids == expected  # one annotation per good box


def test_rle_decodes_with_pycocotools_to_the_label_png(one_rank):
    from pycocotools import mask as mask_api
    from pycocotools.coco import COCO

    out = one_rank[0]
    coco = COCO(str(out / "annotations.json"))  # COCO's own reader takes the file
    for image in coco.dataset["images"]:
        png = np.asarray(Image.open(out / "labels" / f"{Path(image['file_name']).stem}.png"))
        assert png.dtype == np.uint8 and png.shape == (image["height"], image["width"])
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))
        assert anns
        expected = np.zeros_like(png)
        # paint in increasing score, later annotation wins ties: the higher predicted IoU wins
        for ann in sorted(anns, key=lambda a: a["score"]):
            mask = mask_api.decode(ann["segmentation"]).astype(bool)
            assert np.array_equal(mask, coco.annToMask(ann).astype(bool))
            assert ann["area"] == int(mask.sum()) > 0
            expected[mask] = ann["category_id"]
        assert np.array_equal(png, expected), image["file_name"]


def test_grey_and_rgba_inputs_label_like_their_rgb_twins(one_rank):
    out = one_rank[0]
    labels = {n: (out / "labels" / f"{Path(n).stem}.png").read_bytes() for n in GOOD}
    assert labels["a0_rgb.png"] == labels["a1_rgba.png"]  # alpha is dropped
    assert labels["a2_grey.png"] == labels["a3_grey_rgb.png"]  # grey copied to 3 channels
    assert labels["a0_rgb.png"] != labels["a2_grey.png"]
    coco = json.loads((out / "annotations.json").read_text())
    by_image = {}
    for a in coco["annotations"]:
        by_image.setdefault(a["image_id"], []).append(a["segmentation"])
    assert by_image[10] == by_image[11] and by_image[12] == by_image[13]


def test_each_image_is_embedded_once(inputs, sam, tmp_path, monkeypatch):
    from segment_anything import SamPredictor

    calls = []
    real = SamPredictor.set_image

    def counting(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SamPredictor, "set_image", counting)
    label_folder(inputs[0], tmp_path / "boxes", prompts=inputs[1], sam=sam)
    assert len(calls) == len(GOOD)
    calls.clear()
    auto = tmp_path / "auto"
    auto.mkdir()
    (auto / "x.png").write_bytes((inputs[0] / GOOD[0]).read_bytes())
    label_folder(auto, tmp_path / "auto_out", sam=sam, points_per_side=6)
    assert len(calls) == 1


def _no_segmenter(*args, **kwargs):
    raise AssertionError("a finished image was segmented again")


def test_other_weights_under_the_same_name_redo_every_image(inputs, sam, tmp_path):
    import copy

    import torch

    folder, prompts = inputs
    out = tmp_path / "out"
    label_folder(folder, out, prompts=prompts, sam=sam)
    retrained = copy.deepcopy(sam)  # e.g. a newer seglab's mini-SAM, still called "mini"
    with torch.no_grad():
        retrained.mask_decoder.iou_prediction_head.layers[-1].bias.add_(0.01)
    summary = label_folder(folder, out, prompts=prompts, sam=retrained)
    assert summary.labelled == tuple(sorted(GOOD)) and summary.skipped == ()


def test_rerun_skips_finished_images_and_redoes_changed_prompts(inputs, sam, tmp_path):
    folder, prompts = inputs
    out = tmp_path / "out"
    label_folder(folder, out, prompts=prompts, sam=sam)
    before = _files(out)
    # nothing to do: no image is segmented again (the segmenter would fail if it were built)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("seglab.label.segment.Segmenter", _no_segmenter)
        again = label_folder(folder, out, prompts=prompts, sam=sam)
    assert again.labelled == () and again.skipped == tuple(sorted(GOOD))
    assert _files(out) == before
    # one box moved: that image (and only it) is labelled again
    data = json.loads(prompts.read_text())
    next(a for a in data["annotations"] if a["image_id"] == 12)["bbox"][0] += 1
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data))
    third = label_folder(folder, out, prompts=changed, sam=sam)
    assert third.labelled == ("a2_grey.png",)


def test_automatic_ids_follow_the_folder_so_a_new_file_relabels_those_after_it(sam, tmp_path):
    folder, out = tmp_path / "images", tmp_path / "out"
    folder.mkdir()
    for seed in (3, 4):
        Image.fromarray(make_scene(seed, SIZE).image).save(folder / f"b{seed}.png")
    label_folder(folder, out, sam=sam, **AUTO_KWARGS)
    (folder / "a.png").write_bytes((folder / "b3.png").read_bytes())  # sorts first: ids shift
    summary = label_folder(folder, out, sam=sam, **AUTO_KWARGS)
    assert summary.labelled == ("a.png", "b3.png", "b4.png")
    coco = json.loads((out / "annotations.json").read_text())
    assert [(i["id"], i["file_name"]) for i in coco["images"]] == [
        (1, "a.png"),
        (2, "b3.png"),
        (3, "b4.png"),
    ]
    assert {a["image_id"] for a in coco["annotations"]} <= {1, 2, 3}


def test_out_may_not_be_the_images_folder(tmp_path):
    with pytest.raises(ValueError, match="out is the images folder"):
        label_folder(tmp_path, tmp_path)


def test_a_model_that_does_not_load_is_one_problem_not_a_crash(inputs, tmp_path):
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"not a checkpoint")
    summary = label_folder(inputs[0], tmp_path / "out", prompts=inputs[1], checkpoint=bogus)
    assert not summary.ok and summary.labelled == ()
    (problem,) = [p for p in summary.problems if p.name == "model 'mini'"]
    assert "could not be loaded" in problem.reason


def test_paint_labels_higher_predicted_iou_wins_whatever_the_order():
    masks = np.zeros((3, 4, 4), bool)
    masks[0, :2] = masks[1, 1:3] = masks[2, 3] = True  # rows 0-1, 1-2, 3: overlap on row 1
    for order in ([0, 1, 2], [2, 1, 0], [1, 0, 2]):
        scores = np.array([0.9, 0.5, 0.7])[order]
        labels = paint_labels(masks[order], scores, np.array([1, 2, 3])[order])
        assert labels[:, 0].tolist() == [1, 1, 2, 3]  # row 1: mask 0 (0.9) beats mask 1 (0.5)


def test_rle_round_trip():
    mask = np.zeros((5, 7), bool)
    mask[1:4, 2:6] = True
    rle = encode_rle(mask)
    assert rle["size"] == [5, 7] and isinstance(rle["counts"], str)
    assert np.array_equal(decode_rle(rle), mask)
    json.dumps(rle)


# --------------------------------------------------------------------------- the prompts file


@pytest.mark.parametrize(
    ("content", "error", "match"),
    [
        ("{not json", ValueError, "is not valid JSON"),
        ("[1, 2]", ValueError, "must be a COCO instances JSON.*found list"),
        ('{"images": []}', ValueError, "found \\['images'\\]"),
    ],
)
def test_an_unusable_prompts_file_stops_the_job(tmp_path, content, error, match):
    path = tmp_path / "p.json"
    path.write_text(content)
    with pytest.raises(error, match=match):
        read_prompts(path)


def test_a_missing_prompts_file_names_the_way_out(tmp_path):
    with pytest.raises(FileNotFoundError, match="leave --prompts out"):
        read_prompts(tmp_path / "nope.json")


def test_prompts_entries_with_problems_are_named(tmp_path):
    path = tmp_path / "p.json"
    images = [{"id": 1, "file_name": "a.png"}, {"id": 1, "file_name": "b.png"}, {"file_name": 3}]
    anns = [
        {"id": 1, "image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4]},
        {"id": 1, "image_id": 1, "category_id": 2, "bbox": [1, 2, 3, 4]},
        {"id": 2, "image_id": 1, "category_id": 0, "bbox": [1, 2, 3, 4]},
        {"id": 3, "image_id": 1, "category_id": 2, "bbox": [1, 2, 3]},
        {"id": 4, "image_id": 1, "category_id": True, "bbox": [1, 2, 3, 4]},
        {"image_id": 1},
    ]
    path.write_text(json.dumps({"images": images, "annotations": anns}))
    found = read_prompts(path)
    assert list(found.images) == ["a.png"]
    (box,) = found.images["a.png"].boxes
    assert box.bbox == (1, 2, 3, 4) and box.xyxy == (1, 2, 4, 6) and box.category_id == 2
    assert [str(p) for p in found.problems] == [
        "b.png: image id 1 is used twice in the prompts file",
        "images[2]: needs an int 'id' and a 'file_name' string, got {'file_name': 3}",
        "annotation 1: its id is used twice",
        "annotation 2: category_id must be an int in 1..255 (0 is the background of the uint8 "
        "label PNG), got 0",
        "annotation 3: bbox must be [x, y, width, height] (4 numbers), got [1, 2, 3]",
        "annotation 4: category_id must be an int in 1..255 (0 is the background of the uint8 "
        "label PNG), got True",
        "annotations[5]: needs an int 'id', got None",
    ]


# --------------------------------------------------------------------------- command line


def test_cli_without_an_images_folder_exits_2(tmp_path, capsys):
    assert main(["--images", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_unknown_model_exits_2_listing_the_models(tmp_path, capsys):
    assert main(["--images", str(tmp_path), "--out", str(tmp_path / "o"), "--model", "vit_x"]) == 2
    assert "vit_b" in capsys.readouterr().err


def test_importing_seglab_label_imports_no_torch():
    code = "import sys, seglab.label, seglab.label.__main__; print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env())
    assert proc.stdout.strip() == "False", proc.stderr


def test_problem_reads_as_name_and_reason():
    assert str(Problem("a.png", "is empty")) == "a.png: is empty"
