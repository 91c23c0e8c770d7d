"""Label a folder of images with SAM, on one process or many (``torchrun``).

From the command line (``python -m seglab.label --help``)::

    python -m seglab.label --images photos/ --prompts boxes.json --out labelled/
    torchrun --nproc-per-node 4 -m seglab.label --images photos/ --out labelled/

or from Python: ``label_folder("photos", "labelled", prompts="boxes.json")``.

**Prompts.** With a COCO instances JSON (see :mod:`seglab.label.coco`), every annotation's
``bbox`` (XYWH) is a box prompt and its ``category_id`` (1..255) the class it paints. Without
one, SAM's automatic mask generation segments everything it finds, each mask class 1.

**Outputs**, in the folder ``out``:

- ``labels/<stem>.png``: one per image, (H, W) uint8 class ids, 0 = background; where masks
  overlap, the mask with the higher predicted IoU wins.
- ``annotations.json``: COCO instances, one annotation per box prompt (its input ``id``,
  ``image_id``, ``category_id``, ``bbox``) with the mask as an RLE ``segmentation`` that
  ``pycocotools`` reads, its ``area`` in pixels and SAM's predicted IoU as ``score``; in
  automatic mode one annotation per mask, numbered from 1.
- ``parts/<stem>.json``: each finished image's annotations, from which ``annotations.json`` is
  assembled; they are how a re-run knows what is done.

The outputs hold no timings, hosts or ranks, so any number of processes writes the same bytes
(at the same number of threads per process: floating-point sums depend on it).

**Many processes.** Under ``torchrun`` the images are shared round-robin across the ranks
(:func:`seglab.distributed.shard`); each rank embeds each of its images once and writes its
files. When all ranks are done, rank 0 assembles ``annotations.json`` in file-name order. On
several machines the images and ``out`` must therefore be on a file system they all share.

**Interrupted runs.** Every file is written under a temporary name and renamed when complete,
the label PNG before its part; an image counts as finished when its PNG and part exist and the
part was made from the same image bytes, image id, prompts, model (its name and the SHA-256
of its weights) and settings. A re-run
skips finished images and removes temporary files a killed run left, so a killed job restarted
loses nothing.

**Bad inputs** - a missing, empty, corrupt or non-image file, prompts for an image that is not
in the folder, a broken annotation - are reported by name in the summary
(:class:`LabelSummary`) and do not stop the job. Problems are gathered from all ranks after
every rank has finished, so all ranks return (and the command exits) alike: status 1 when
anything failed, 0 otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seglab._util import check_int, check_real, write_atomically
from seglab.label.coco import BoxPrompt, Problem, encode_rle, read_prompts
from seglab.label.segment import AutoSettings

if TYPE_CHECKING:
    import numpy as np
    import torch
    from segment_anything.modeling import Sam

    from seglab.distributed import DistInfo
    from seglab.label.segment import Segmenter

__all__ = ["AutoSettings", "LabelSummary", "Problem", "label_folder"]

#: The category of every mask in automatic mode.
AUTO_CATEGORY = {"id": 1, "name": "object"}


@dataclass(frozen=True)
class LabelSummary:
    """What :func:`label_folder` did, the same on every rank.

    Attributes:
      out (Path): the output folder.
      labelled (tuple[str, ...]): images labelled by this run (file names, sorted).
      skipped (tuple[str, ...]): images an earlier run had finished, left as they were.
      problems (tuple[Problem, ...]): everything that could not be labelled, sorted by name.
      annotations (int): how many annotations ``annotations.json`` holds.
    """

    out: Path
    labelled: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    annotations: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing failed (the command's exit status 0)."""
        return not self.problems

    def __str__(self) -> str:
        lines = [
            f"labelled {len(self.labelled)} image(s), skipped {len(self.skipped)} finished "
            f"earlier; {self.annotations} annotation(s) in {self.out / 'annotations.json'}"
        ]
        if self.problems:
            lines.append(f"{len(self.problems)} problem(s):")
            lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Job:
    """One image to label: its file, the stem of its outputs, its id and its boxes."""

    file_name: str
    image_id: int
    boxes: tuple[BoxPrompt, ...] | None  # None: automatic mask generation

    @property
    def stem(self) -> str:
        return Path(self.file_name).stem


@dataclass
class _RankResult:
    """What one rank sends to the others: images it labelled or skipped, problems it met."""

    labelled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _plan(
    images: Path, prompts: str | os.PathLike[str] | None
) -> tuple[list[_Job], list[Problem], list[dict[str, Any]]]:
    """The images to label (sorted by file name), problems found before any work, categories."""
    problems: list[Problem] = []
    if prompts is None:
        names = sorted(
            p.name for p in images.iterdir() if p.is_file() and not p.name.startswith(".")
        )
        jobs = [_Job(name, position + 1, None) for position, name in enumerate(names)]
        categories = [dict(AUTO_CATEGORY)]
    else:
        coco = read_prompts(prompts)
        problems += coco.problems
        categories = coco.categories
        jobs = []
        for entry in coco.images.values():
            if (images / entry.file_name).is_file():
                jobs.append(_Job(entry.file_name, entry.image_id, entry.boxes))
            else:
                problems.append(
                    Problem(
                        entry.file_name,
                        f"the prompts name it (image id {entry.image_id}), but {images} has no "
                        "such file",
                    )
                )
        jobs.sort(key=lambda job: job.file_name)
    by_stem: dict[str, list[str]] = {}
    for job in jobs:
        by_stem.setdefault(job.stem, []).append(job.file_name)
    clashes = {stem: names for stem, names in by_stem.items() if len(names) > 1}
    for stem, names in clashes.items():
        for name in names:
            others = ", ".join(n for n in names if n != name)
            problems.append(
                Problem(name, f"shares the output name labels/{stem}.png with {others}; rename one")
            )
    return [job for job in jobs if job.stem not in clashes], problems, categories


def _weights_sha256(sam: Sam) -> str:
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(sam.state_dict().items()):
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _model_identity(model: str, checkpoint: str | os.PathLike[str] | None, sam: Sam | None) -> str:
    """``model`` plus what pins its weights, so that new weights redo finished images.

    The name alone is not enough: the mini-SAM that ships with seglab changes between versions,
    and a checkpoint file can be replaced under the same name. A model passed in as ``sam``,
    and mini-SAM by name (loaded here: 5 MB, milliseconds), are pinned by their weights, so the
    two write the same files; a checkpoint file by its SHA-256 (read once per run); an official
    model by the registry's SHA-256 of its download, so that a re-run with nothing left to do
    never loads a ViT.
    """
    from seglab.sam import get_model_info, load_sam

    if sam is None and checkpoint is None and get_model_info(model).sha256 is None:
        sam = load_sam(model, device="cpu")
    if sam is not None:
        return f"{model}@weights:{_weights_sha256(sam)}"
    if checkpoint is not None:
        import pooch  # the file hash seglab.sam.download checks downloads with

        path = Path(checkpoint)
        digest = pooch.file_hash(str(path), alg="sha256") if path.is_file() else "missing"
        return f"{model}@file:{digest}"
    return f"{model}@{get_model_info(model).sha256}"


def _request(job: _Job, data: bytes, model: str, auto: AutoSettings) -> dict[str, Any]:
    """Everything an image's outputs depend on: a finished part with another request is redone."""
    request: dict[str, Any] = {
        "image_id": job.image_id,
        "model": model,
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    if job.boxes is None:
        request["automatic"] = [
            auto.points_per_side,
            auto.pred_iou_thresh,
            auto.stability_score_thresh,
        ]
    else:
        request["boxes"] = [[b.annotation_id, b.category_id, list(b.bbox)] for b in job.boxes]
    return request


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


def _remove_stale(folder: Path, targets: set[str]) -> None:
    """Delete the temporary files a killed run left for these targets in ``folder``.

    ``seglab._util.atomic_path`` names them ``<target>.<random>.tmp`` (the random part has no
    dot). One scan of the folder, whatever the number of targets.
    """
    for path in folder.iterdir():
        if path.name.endswith(".tmp") and path.name.rsplit(".", 2)[0] in targets:
            path.unlink(missing_ok=True)


def _inside(box: BoxPrompt, width: int, height: int) -> tuple[float, float, float, float] | None:
    """The box as XYXY clipped to the image, or None when it reaches more than 1 px outside."""
    x0, y0, x1, y1 = box.xyxy
    if x0 < -1 or y0 < -1 or x1 > width + 1 or y1 > height + 1 or x0 >= width or y0 >= height:
        return None
    return (max(x0, 0.0), max(y0, 0.0), min(x1, float(width)), min(y1, float(height)))


def _segment(
    job: _Job, image: np.ndarray, segmenter: Segmenter
) -> tuple[np.ndarray, list[dict[str, Any]], list[Problem]]:
    """The label map, the annotations and the problems of one decoded image."""
    import numpy as np

    from seglab.label.segment import paint_labels

    h, w = image.shape[:2]
    problems: list[Problem] = []
    if job.boxes is None:
        masks, scores, xywh = segmenter.all_masks(image)
        classes = np.full(len(masks), AUTO_CATEGORY["id"], dtype=np.int64)
        ids: list[int | None] = [None] * len(masks)
        bboxes: list[list[Any]] = [[int(v) for v in box] for box in xywh]
    else:
        kept: list[BoxPrompt] = []
        xyxy = []
        for box in job.boxes:
            inside = _inside(box, w, h)
            if inside is None:
                problems.append(
                    Problem(
                        f"annotation {box.annotation_id}",
                        f"bbox {list(box.bbox)} (x, y, width, height) lies outside {job.file_name}"
                        f", which is {w}x{h} pixels (width x height)",
                    )
                )
            else:
                kept.append(box)
                xyxy.append(inside)
        masks, scores = segmenter.masks_for_boxes(image, np.array(xyxy, dtype=np.float64))
        classes = np.array([b.category_id for b in kept], dtype=np.int64)
        ids = [b.annotation_id for b in kept]
        bboxes = [list(b.bbox) for b in kept]
    annotations = []
    for i, mask in enumerate(masks):
        annotation: dict[str, Any] = {} if ids[i] is None else {"id": ids[i]}
        annotation.update(
            image_id=job.image_id,
            category_id=int(classes[i]),
            bbox=bboxes[i],
            area=int(mask.sum()),
            segmentation=encode_rle(mask),
            iscrowd=0,
            score=float(scores[i]),  # float32's exact value: it decides overlaps
        )
        annotations.append(annotation)
    return paint_labels(masks, scores, classes), annotations, problems


class _ModelError(Exception):
    """The model could not be loaded: this rank stops labelling (and reports it once)."""


def _label_one(
    job: _Job, images: Path, out: Path, model: str, auto: AutoSettings, segmenter: Any
) -> tuple[bool, Problem | None]:
    """Label one image unless it is finished: (labelled now?, the image's problem or None).

    ``segmenter`` is a callable that builds the :class:`Segmenter` on first use, so a re-run
    with nothing left to do loads no model. Problems with single boxes go into the part file.
    """
    from PIL import Image

    from seglab.images import load_image

    source = images / job.file_name
    png, part = out / "labels" / f"{job.stem}.png", out / "parts" / f"{job.stem}.json"
    data = source.read_bytes()
    request = _request(job, data, model, auto)
    done = _read_json(part)
    if png.is_file() and isinstance(done, dict) and done.get("request") == request:
        return False, None
    try:
        image = load_image(source)  # (H, W, 3) uint8 RGB; grey copied, alpha dropped
    except ValueError as exc:
        return False, Problem(job.file_name, str(exc))
    labels, annotations, problems = _segment(job, image, segmenter())
    h, w = labels.shape
    write_atomically(png, lambda f: Image.fromarray(labels).save(f, format="PNG"))
    record = {
        "request": request,
        "image": {"id": job.image_id, "file_name": job.file_name, "width": w, "height": h},
        "annotations": annotations,
        "problems": [[p.name, p.reason] for p in problems],
    }
    _write_part(part, _json_bytes(record))
    return True, None


def _write_part(path: Path, data: bytes) -> None:
    """Write one image's part file, atomically (a function of its own, so tests can kill it)."""
    write_atomically(path, lambda f: f.write(data))


def _merge(
    jobs: list[_Job], out: Path, categories: list[dict[str, Any]]
) -> tuple[int, list[Problem]]:
    """Write ``annotations.json`` from the parts of the finished images, in file-name order."""
    images: list[Any] = []
    annotations: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for job in jobs:
        record = _read_json(out / "parts" / f"{job.stem}.json")
        if not isinstance(record, dict) or not (out / "labels" / f"{job.stem}.png").is_file():
            continue  # not finished: its problem is already reported
        images.append(record["image"])
        problems += [Problem(name, reason) for name, reason in record["problems"]]
        for annotation in record["annotations"]:
            if job.boxes is None:  # automatic: numbered in order, 1, 2, ...
                annotation = {"id": len(annotations) + 1, **annotation}
            annotations.append(annotation)
    _remove_stale(out, {"annotations.json"})
    coco = {"images": images, "annotations": annotations, "categories": categories}
    write_atomically(out / "annotations.json", lambda f: f.write(_json_bytes(coco)))
    return len(annotations), problems


def _device(info: DistInfo, device: str | torch.device | None) -> torch.device:
    """The rank's device: as asked, else its own GPU (``cuda:LOCAL_RANK``) under torchrun."""
    from seglab.device import get_device

    chosen = get_device(device)
    if device is None and chosen.type == "cuda" and chosen.index is None and info.distributed:
        import torch

        return torch.device("cuda", info.local_rank)
    return chosen


def _work(
    mine: list[_Job],
    images: Path,
    out: Path,
    info: DistInfo,
    *,
    model: str,
    checkpoint: str | os.PathLike[str] | None,
    sam: Sam | None,
    device: str | torch.device | None,
    auto: AutoSettings,
    progress: bool,
) -> _RankResult:
    """This rank's share of the images; nothing raised except KeyboardInterrupt and its kin."""
    from seglab.label.segment import Segmenter

    result = _RankResult()
    built: list[Segmenter] = []
    identity = _model_identity(model, checkpoint, sam)  # part of each image's request
    # A killed run's temporary files: this rank owns these images now, so no one writes them.
    _remove_stale(out / "labels", {f"{job.stem}.png" for job in mine})
    _remove_stale(out / "parts", {f"{job.stem}.json" for job in mine})

    def segmenter() -> Segmenter:
        if not built:
            from seglab.sam import load_sam

            try:
                model_sam = sam or load_sam(model, checkpoint, device=_device(info, device))
            except Exception as exc:
                raise _ModelError(f"could not be loaded: {type(exc).__name__}: {exc}") from exc
            built.append(Segmenter(model_sam, auto))
        return built[0]

    bar: Any = mine
    if progress and info.is_main:
        from tqdm.auto import tqdm

        bar = tqdm(mine, desc=f"labelling (rank 0 of {info.world_size})", unit="image")
    for job in bar:
        try:
            labelled, problem = _label_one(job, images, out, identity, auto, segmenter)
        except _ModelError as exc:
            result.problems.append(Problem(f"model {model!r}", str(exc)))
            break
        except Exception as exc:  # any failure of one image is reported, never fatal
            labelled, problem = False, Problem(job.file_name, f"{type(exc).__name__}: {exc}")
        if labelled:
            result.labelled.append(job.file_name)
        elif problem is None:
            result.skipped.append(job.file_name)
        else:
            result.problems.append(problem)
    return result


def label_folder(
    images: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    prompts: str | os.PathLike[str] | None = None,
    model: str = "mini",
    checkpoint: str | os.PathLike[str] | None = None,
    sam: Sam | None = None,
    device: str | torch.device | None = None,
    points_per_side: int = 32,
    pred_iou_thresh: float = 0.88,
    stability_score_thresh: float = 0.95,
    progress: bool = False,
) -> LabelSummary:
    """Label every image of a folder with SAM; see the module docstring for the outputs.

    Under ``torchrun`` (or inside a process group you opened) every rank calls this with the
    same arguments and gets the same summary; alone, it is one process doing everything.

    Arguments:
      images (str | PathLike): the folder of images (PNG, JPEG, ...; grey, RGB or RGBA). With
        ``prompts``, the files its ``file_name`` fields name; without, every file in the folder
        (not in sub-folders, not hidden ones).
      out (str | PathLike): the output folder (created; may hold an earlier run's outputs).
      prompts (str | PathLike | None): a COCO instances JSON whose ``bbox`` fields (XYWH,
        pixels) are the box prompts; None for automatic mask generation (every mask class 1).
      model (str): ``"mini"`` (default, ships with seglab), ``"vit_b"``, ``"vit_l"`` or
        ``"vit_h"``, as for :func:`seglab.sam.load_sam`; also part of what makes an image
        count as finished.
      checkpoint (str | PathLike | None): a checkpoint file to load the model from.
      sam (Sam | None): an already loaded model, used instead of loading ``model`` (then
        ``model`` only names it).
      device (str | torch.device | None): None: each rank its own GPU if there are any, else
        as :func:`seglab.get_device` chooses.
      points_per_side (int): >= 1; automatic mode's grid of point prompts per side.
      pred_iou_thresh (float): in [0, 1]; automatic mode drops masks with a lower predicted IoU.
      stability_score_thresh (float): in [0, 1]; automatic mode drops less stable masks.
      progress (bool): show a progress bar on rank 0.

    Returns:
      LabelSummary: images labelled and skipped, every problem by name, the annotation count.

    Raises:
      FileNotFoundError: ``images`` is not a folder, or ``prompts`` names no file.
      OSError: the output folders cannot be created.
      ValueError: ``prompts`` is not a COCO instances JSON; a setting is out of range; an
        unknown model name; ``out`` is the images folder.
      TypeError: a setting of the wrong type.
    """
    from seglab.distributed import gather_objects, process_group, shard
    from seglab.sam import get_model_info

    get_model_info(model)  # an unknown name fails here, on every rank, listing the valid ones
    auto = AutoSettings(
        check_int(points_per_side, "points_per_side", minimum=1),
        check_real(pred_iou_thresh, "pred_iou_thresh"),
        check_real(stability_score_thresh, "stability_score_thresh"),
    )
    for name, value in (
        ("pred_iou_thresh", auto.pred_iou_thresh),
        ("stability_score_thresh", auto.stability_score_thresh),
    ):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must lie in [0, 1], got {value}.")
    folder, out = Path(images), Path(out)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"the images folder {str(folder)!r} does not exist or is not a folder."
        )
    if out.resolve() == folder.resolve():
        raise ValueError(
            f"out is the images folder {str(folder)!r}: its annotations.json would be read as an "
            f"image next time. Write elsewhere, e.g. out={str(folder / 'labelled')!r}."
        )
    jobs, early, categories = _plan(folder, prompts)

    with process_group(backend="gloo") as info:  # gloo: object gathers need no GPU
        failed = None
        if info.is_main:
            try:
                (out / "labels").mkdir(parents=True, exist_ok=True)
                (out / "parts").mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                failed = f"cannot create the output folders in {str(out)!r}: {exc}"
        failed = gather_objects(failed)[0]  # the others wait until the folders exist
        if failed:
            raise OSError(failed)  # on every rank alike
        mine = shard(jobs, info)
        try:
            local = _work(
                mine,
                folder,
                out,
                info,
                model=model,
                checkpoint=checkpoint,
                sam=sam,
                device=device,
                auto=auto,
                progress=progress,
            )
        except Exception as exc:  # whatever it is, the other ranks must still hear from us
            local = _RankResult(problems=[Problem("labelling", f"{type(exc).__name__}: {exc}")])
        ranks = gather_objects(local)  # a barrier too: every rank has finished its images
        merged: tuple[int, list[Problem]] | str = (0, [])
        if info.is_main:
            try:
                merged = _merge(jobs, out, categories)
            except Exception as exc:
                merged = f"{type(exc).__name__}: {exc}"
        merged = gather_objects(merged)[0]
    problems = early + [p for rank in ranks for p in rank.problems]
    if isinstance(merged, str):
        problems.append(Problem("annotations.json", f"could not be written: {merged}"))
        count = 0
    else:
        count, from_parts = merged
        problems += from_parts
    unique = sorted(set(problems), key=lambda p: (p.name, p.reason))
    return LabelSummary(
        out=out,
        labelled=tuple(sorted(n for rank in ranks for n in rank.labelled)),
        skipped=tuple(sorted(n for rank in ranks for n in rank.skipped)),
        problems=tuple(unique),
        annotations=count,
    )
