"""Training data from folders: images and their label PNGs, matched by file name::

    IMAGES/<name>.<ext>         any image PIL reads: grey, RGB or RGBA; PNG, JPEG, ...
    DIR/labels/<name>.png       (H, W) uint8 class ids, 0 = background (mode L or P)

``python -m seglab.label --images photos --out labelled`` writes ``labelled/labels/`` and leaves
the images in ``photos/``; train on them with ``python -m seglab.train --data labelled --images
photos``. Without ``--images``, the images are looked for in ``DIR/images/``.

:func:`find_pairs` matches the two by file name, :class:`LabelFolder` serves them as tensors of
one size for a ``DataLoader``, and :func:`scan_labels` reads every label once to find the
number of classes and every broken pair before training starts (shared out over the ranks of a
``torchrun`` job). ``python -m seglab.train --data DIR`` uses all three.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from seglab import distributed
from seglab.distributed import DistInfo

__all__ = ["IMAGE_SUFFIXES", "LabelFolder", "find_pairs", "scan_labels"]

#: file suffixes taken as images (any case)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif")


def find_pairs(images: Path, labels: Path) -> tuple[list[tuple[Path, Path]], list[str]]:
    """(image, label PNG) pairs matched by file stem, sorted by name, and the names of images
    without a label (left out). The layout is the labelling tool's: ``labels/<stem>.png``.

    Raises:
      ValueError: a folder is missing, holds no images, two images share a stem, or no image
        has a label - each message names the folder and what to do.
    """
    if not images.is_dir():
        raise ValueError(
            f"no images folder {str(images)!r}: pass --images FOLDER, the folder you labelled "
            "(python -m seglab.label leaves the images where they are), or put them in "
            "DIR/images/ beside DIR/labels/."
        )
    if not labels.is_dir():
        raise ValueError(
            f"no labels folder {str(labels)!r}: label the images first, e.g. python -m "
            f"seglab.label --images {images} --out {labels.parent}"
        )
    files = sorted(p for p in images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(
            f"{str(images)!r} holds no image files (suffixes {' '.join(IMAGE_SUFFIXES)})."
        )
    stems: dict[str, Path] = {}
    for f in files:
        if f.stem in stems:
            raise ValueError(
                f"{stems[f.stem].name!r} and {f.name!r} in {str(images)!r} share the name "
                f"{f.stem!r}, so both would use labels/{f.stem}.png: rename or remove one."
            )
        stems[f.stem] = f
    pairs = [(f, labels / f"{f.stem}.png") for f in files]
    missing = [f.name for f, lab in pairs if not lab.is_file()]
    pairs = [(f, lab) for f, lab in pairs if lab.is_file()]
    if not pairs:
        raise ValueError(
            f"none of the {len(files)} images in {str(images)!r} has a label PNG of the same "
            f"name in {str(labels)!r} (e.g. {files[0].stem}.png for {files[0].name})."
        )
    return pairs, missing


def _resized(array: np.ndarray, size: int, nearest: bool) -> np.ndarray:
    from PIL import Image

    if array.shape[:2] == (size, size):
        return array
    resample = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(array).resize((size, size), resample))


class LabelFolder(Dataset):
    """Images and their label PNGs, resized to ``size`` x ``size`` (labels nearest-neighbour).

    Items: ``(image, target)``: image (3, size, size) float32 in [0, 1] (grey and RGBA files
    become RGB), target (size, size) int64 class ids as stored in the label PNG.
    """

    def __init__(self, pairs: Sequence[tuple[Path, Path]], size: int) -> None:
        self.pairs, self.size = list(pairs), size

    def __len__(self) -> int:
        return len(self.pairs)

    def read(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Item ``i`` at its own size: (H, W, 3) uint8 image and (H, W) uint8 label ids."""
        from seglab.images import load_image
        from seglab.voc import read_label_png

        image_path, label_path = self.pairs[i]
        image, label = load_image(image_path), read_label_png(label_path)
        if image.shape[:2] != label.shape:
            raise ValueError(
                f"{image_path.name} is {image.shape[1]}x{image.shape[0]} but its label "
                f"{label_path.name} is {label.shape[1]}x{label.shape[0]} (width x height): "
                "label the image again, or remove the pair."
            )
        return image, label

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        image, label = self.read(i)
        image = _resized(image, self.size, nearest=False)
        label = _resized(label, self.size, nearest=True)
        x = torch.from_numpy(image.copy()).permute(2, 0, 1).float().div_(255.0)  # (3, H, W)
        return x, torch.from_numpy(label.astype(np.int64))  # (H, W)


def scan_labels(data: LabelFolder, info: DistInfo) -> int:
    """The largest class id in any label of ``data``, read by all ranks in shares (a collective
    call inside a process group; one process reads them all).

    Raises:
      ValueError: on every rank, listing every unreadable or mismatched pair of every rank.
    """
    largest, problems = 0, []
    for i in distributed.shard(range(len(data)), info):
        try:
            largest = max(largest, int(data.read(i)[1].max()))
        except (OSError, ValueError) as exc:
            problems.append(f"{data.pairs[i][0].name}: {exc}")
    everyone = distributed.gather_objects((largest, problems))
    problems = [p for _, ps in everyone for p in ps]
    if problems:
        shown = "\n  ".join(problems[:10]) + ("\n  ..." if len(problems) > 10 else "")
        raise ValueError(f"{len(problems)} image/label pairs cannot be used:\n  {shown}")
    return max(m for m, _ in everyone)
