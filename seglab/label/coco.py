"""COCO instances files in and out: box prompts to read, RLE masks to write.

A COCO *instances* JSON (the format of COCO's ``instances_train2017.json``, and of most labelling
tools' exports) holds three lists::

    {"images":      [{"id": 1, "file_name": "cat.jpg", "width": 640, "height": 480}, ...],
     "annotations": [{"id": 7, "image_id": 1, "category_id": 3,
                      "bbox": [x, y, width, height]}, ...],
     "categories":  [{"id": 3, "name": "cat"}, ...]}

``bbox`` is **XYWH in pixels**: the top-left corner (x = column, y = row) and the box's width and
height, floats allowed. SAM wants XYXY (x0, y0, x1, y1), so :class:`BoxPrompt` carries both.

:func:`read_prompts` reads such a file for :func:`seglab.label.label_folder`. A file that is not
JSON, or not a dict with ``images`` and ``annotations`` lists, is refused (``ValueError``): the
whole job depends on it. One broken *entry* - an annotation for an image id the file does not
list, a ``bbox`` that is not four numbers with positive width and height, a ``category_id`` that
a uint8 label PNG cannot hold - is kept as a :class:`Problem` with its name, so the job labels
everything else and reports it at the end.

:func:`encode_rle` and :func:`decode_rle` turn an HxW mask into COCO's run-length encoding and
back, with ``pycocotools`` (the ``label`` extra: ``pip install "seglab[label]"``), so that
``pycocotools.coco.COCO`` and every COCO tool read the masks seglab writes.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seglab._util import is_int, is_real

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "BoxPrompt",
    "CocoPrompts",
    "ImagePrompts",
    "Problem",
    "decode_rle",
    "encode_rle",
    "read_prompts",
]

#: Category ids a uint8 label PNG can hold (0 is the background).
MAX_CATEGORY = 255


@dataclass(frozen=True)
class Problem:
    """Something that could not be labelled, by name, and why.

    Attributes:
      name (str): the image file (``"cat.jpg"``) or the entry (``"annotation 7"``) concerned.
      reason (str): a sentence that says what is wrong and, where it can, how to fix it.
    """

    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason}"


@dataclass(frozen=True)
class BoxPrompt:
    """One COCO annotation used as a SAM box prompt.

    Attributes:
      annotation_id (int): the annotation's ``id`` (kept in the output annotation).
      category_id (int): 1 .. 255, the class id written into the label PNG.
      bbox (tuple[float, float, float, float]): COCO's XYWH in pixels, as in the file.
    """

    annotation_id: int
    category_id: int
    bbox: tuple[float, float, float, float]

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        """The box as SAM wants it: (x0, y0, x1, y1) in pixels, x = column, y = row."""
        x, y, w, h = self.bbox
        return (x, y, x + w, y + h)


@dataclass(frozen=True)
class ImagePrompts:
    """One image of the prompts file and its boxes.

    Attributes:
      image_id (int): the image's ``id`` in the file (the output annotations' ``image_id``).
      file_name (str): its path relative to the images folder, e.g. ``"cat.jpg"``.
      boxes (tuple[BoxPrompt, ...]): its annotations, in file order (may be empty).
    """

    image_id: int
    file_name: str
    boxes: tuple[BoxPrompt, ...] = ()


@dataclass
class CocoPrompts:
    """What :func:`read_prompts` found.

    Attributes:
      images (dict[str, ImagePrompts]): by ``file_name``, in the file's order.
      categories (list[dict]): the file's ``categories`` list, unchanged (may be empty).
      problems (list[Problem]): entries that cannot be used, by name.
    """

    images: dict[str, ImagePrompts] = field(default_factory=dict)
    categories: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _load_json(path: Path) -> object:
    if not path.is_file():
        where = "is a folder" if path.is_dir() else "does not exist"
        raise FileNotFoundError(
            f"the prompts file {str(path)!r} {where}: pass a COCO instances JSON with --prompts, "
            "or leave --prompts out to segment everything automatically."
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(
            f"the prompts file {str(path)!r} is not valid JSON ({exc}); it must be a COCO "
            "instances file with 'images' and 'annotations' lists."
        ) from exc


def _bbox(value: object) -> tuple[float, float, float, float] | str:
    """The four finite numbers of a COCO bbox, or why not."""
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        return f"bbox must be [x, y, width, height] (4 numbers), got {value!r}"
    if not all(is_real(v) and math.isfinite(v) for v in value):
        return f"bbox must hold 4 finite numbers [x, y, width, height], got {value!r}"
    x, y, w, h = (float(v) for v in value)
    if w <= 0 or h <= 0:
        return (
            f"bbox {list(value)!r} has width {w:g} and height {h:g}; both must be > 0 "
            "(COCO boxes are [x, y, width, height], not [x0, y0, x1, y1])"
        )
    return (x, y, w, h)


def _images(entries: list[object], problems: list[Problem]) -> dict[int, tuple[str, int]]:
    """image id -> (file_name, position); bad or repeated entries become problems."""
    by_id: dict[int, tuple[str, int]] = {}
    names: set[str] = set()
    for position, entry in enumerate(entries):
        name = f"images[{position}]"
        if not isinstance(entry, dict):
            problems.append(
                Problem(name, f"must be a dict with 'id' and 'file_name', got {entry!r}")
            )
            continue
        image_id, file_name = entry.get("id"), entry.get("file_name")
        if not is_int(image_id) or not isinstance(file_name, str) or not file_name:
            problems.append(
                Problem(name, f"needs an int 'id' and a 'file_name' string, got {entry!r}")
            )
        elif int(image_id) in by_id:
            problems.append(
                Problem(file_name, f"image id {image_id} is used twice in the prompts file")
            )
        elif file_name in names:
            problems.append(Problem(file_name, "is listed twice in the prompts file's images"))
        else:
            by_id[int(image_id)] = (file_name, position)
            names.add(file_name)
    return by_id


def _box(
    entry: object, position: int, images: dict[int, tuple[str, int]]
) -> tuple[int, BoxPrompt] | Problem:
    """(image id, its box prompt) from one annotation, or the problem with it."""
    if not isinstance(entry, dict):
        return Problem(f"annotations[{position}]", f"must be a dict, got {entry!r}")
    ann_id = entry.get("id")
    if not is_int(ann_id):
        return Problem(f"annotations[{position}]", f"needs an int 'id', got {entry.get('id')!r}")
    name = f"annotation {ann_id}"
    image_id = entry.get("image_id")
    if not is_int(image_id) or int(image_id) not in images:
        return Problem(
            name,
            f"refers to image_id {image_id!r}, which the prompts file's images list lacks",
        )
    category = entry.get("category_id")
    if not is_int(category) or not 1 <= int(category) <= MAX_CATEGORY:
        return Problem(
            name,
            f"category_id must be an int in 1..{MAX_CATEGORY} (0 is the background of the "
            f"uint8 label PNG), got {category!r}",
        )
    bbox = _bbox(entry.get("bbox"))
    if isinstance(bbox, str):
        return Problem(name, bbox)
    return int(image_id), BoxPrompt(int(ann_id), int(category), bbox)


def read_prompts(path: str | os.PathLike[str]) -> CocoPrompts:
    """Read box prompts from a COCO instances JSON.

    Arguments:
      path (str | PathLike): the JSON file.

    Returns:
      CocoPrompts: the usable images with their boxes (by ``file_name``), the categories, and
      the entries that cannot be used as :class:`Problem` s (an annotation for an unknown
      ``image_id``, a malformed ``bbox``, a ``category_id`` outside 1..255, a repeated image).
      An annotation with a repeated ``id`` is a problem too: the output keeps input ids.

    Raises:
      FileNotFoundError: no file at ``path``.
      ValueError: not JSON, or not a dict with ``images`` and ``annotations`` lists.
    """
    path = Path(path)
    data = _load_json(path)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("images"), list)
        or not isinstance(data.get("annotations"), list)
    ):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise ValueError(
            f"the prompts file {str(path)!r} must be a COCO instances JSON: a dict with "
            f"'images' and 'annotations' lists (and optionally 'categories'); found {found}."
        )
    categories = data.get("categories", [])
    problems: list[Problem] = []
    images = _images(data["images"], problems)
    boxes: dict[int, list[BoxPrompt]] = {image_id: [] for image_id in images}
    seen: set[int] = set()
    for position, entry in enumerate(data["annotations"]):
        found_box = _box(entry, position, images)
        if isinstance(found_box, Problem):
            problems.append(found_box)
        elif found_box[1].annotation_id in seen:
            problems.append(
                Problem(f"annotation {found_box[1].annotation_id}", "its id is used twice")
            )
        else:
            seen.add(found_box[1].annotation_id)
            boxes[found_box[0]].append(found_box[1])
    result = CocoPrompts(
        categories=list(categories) if isinstance(categories, list) else [], problems=problems
    )
    for image_id, (file_name, _) in sorted(images.items(), key=lambda item: item[1][1]):
        result.images[file_name] = ImagePrompts(image_id, file_name, tuple(boxes[image_id]))
    return result


def _mask_api() -> Any:
    try:
        from pycocotools import mask as mask_api
    except ImportError as exc:
        raise ImportError(
            "COCO run-length encoding needs pycocotools: pip install 'seglab[label]' "
            "(or pip install pycocotools)."
        ) from exc
    return mask_api


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO's run-length encoding of one mask, ready for JSON.

    Arguments:
      mask (np.ndarray): shape (H, W), bool or 0/1 integers; ``mask[y, x]``.

    Returns:
      dict: ``{"size": [H, W], "counts": str}`` (COCO's compressed RLE, counts as text), as
      ``pycocotools.mask.decode`` and COCO's ``annToMask`` read it.
    """
    import numpy as np

    rle = _mask_api().encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return {"size": [int(rle["size"][0]), int(rle["size"][1])], "counts": rle["counts"].decode()}


def decode_rle(rle: dict[str, Any]) -> np.ndarray:
    """The (H, W) bool mask of a COCO RLE dict (counts as text or bytes), ``mask[y, x]``."""
    counts = rle["counts"]
    compressed = {
        "size": list(rle["size"]),
        "counts": counts.encode() if isinstance(counts, str) else counts,
    }
    return _mask_api().decode(compressed).astype(bool)
