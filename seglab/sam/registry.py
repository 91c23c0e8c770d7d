"""Which SAM models seglab knows, where their checkpoint files come from and where they live.

One frozen :class:`ModelInfo` per model, kept in the plain dict :data:`MODELS` (like
``segment_anything.sam_model_registry``, but each entry also carries its URL, exact size and
SHA-256, so a download can be checked byte for byte):

========  ==================================  ============  ==========================
name      file                                size          where it comes from
========  ==================================  ============  ==========================
mini      ``seglab/sam/weights/mini_sam.pt``  a few MB      ships inside the package
vit_b     ``sam_vit_b_01ec64.pth``            375,042,383   Meta's download server
vit_l     ``sam_vit_l_0b3195.pth``            1,249,524,607 Meta's download server
vit_h     ``sam_vit_h_4b8939.pth``            2,564,550,879 Meta's download server
========  ==================================  ============  ==========================

The suffix in the official file names (``01ec64`` …) is the start of an MD5, which
``torch.hub`` does not check for these files; seglab checks the full SHA-256 instead (the values
published in micro-sam's registry).

Downloaded checkpoints live in one folder, chosen by :func:`get_cache_dir`: the ``cache_dir``
argument, else the environment variable ``SEGLAB_CACHE_DIR``, else the operating system's cache
folder (``pooch.os_cache("seglab")``, e.g. ``~/.cache/seglab`` on Linux). :func:`list_models`
shows every model with its size and whether its file is already there.

This module imports neither torch nor segment_anything; it only names things.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pooch

from seglab import _env
from seglab._util import is_int

#: Environment variable naming the folder for downloaded checkpoints (and on-disk caches).
CACHE_DIR_ENV_VAR = _env.CACHE_DIR.name  # "SEGLAB_CACHE_DIR"

#: Where Meta publishes the official checkpoints.
OFFICIAL_BASE_URL = "https://dl.fbaipublicfiles.com/segment_anything/"


@dataclass(frozen=True)
class ModelInfo:
    """Everything seglab knows about one SAM model, before any file is touched.

    Attributes:
      name: the short name used everywhere in seglab, e.g. ``"vit_b"``.
      filename: the checkpoint's file name, e.g. ``"sam_vit_b_01ec64.pth"``.
      url: where to download it; None for a model that ships inside the package (mini).
      size_bytes: the exact size of the file in bytes; None when not fixed (mini).
      sha256: the file's SHA-256 as 64 lowercase hex digits; None when not fixed (mini).
      builder: the key of ``segment_anything.sam_model_registry`` that builds this model's
        architecture; None for mini (built from the config stored in its checkpoint).
      description: one line for people.
      embed_dim: width of the image encoder (the first dimension of
        ``image_encoder.patch_embed.proj.weight``); used to recognise a checkpoint.
      depth: number of image-encoder blocks (``image_encoder.blocks.N``); used likewise.
    """

    name: str
    filename: str
    url: str | None
    size_bytes: int | None
    sha256: str | None
    builder: str | None
    description: str
    embed_dim: int | None = None
    depth: int | None = None

    def __post_init__(self) -> None:
        # A downloadable entry must be checkable, or a broken download could be trusted.
        if self.url is not None:
            if not is_int(self.size_bytes) or self.size_bytes <= 0:
                raise ValueError(
                    f"ModelInfo {self.name!r} has a url but size_bytes={self.size_bytes!r}; "
                    "give the exact file size in bytes (a positive int)."
                )
            if not (isinstance(self.sha256, str) and re.fullmatch(r"[0-9a-f]{64}", self.sha256)):
                raise ValueError(
                    f"ModelInfo {self.name!r} has a url but sha256={self.sha256!r}; give the "
                    "file's SHA-256 as 64 lowercase hex digits (e.g. from `sha256sum FILE`)."
                )

    @property
    def shipped(self) -> bool:
        """True for a model whose file comes with the package instead of a download."""
        return self.url is None


#: Every model seglab can load, by name.
MODELS: dict[str, ModelInfo] = {
    "mini": ModelInfo(
        name="mini",
        filename="mini_sam.pt",
        url=None,
        size_bytes=None,
        sha256=None,
        builder=None,
        description="small SAM that ships with seglab (256 px input); no download needed",
    ),
    "vit_b": ModelInfo(
        name="vit_b",
        filename="sam_vit_b_01ec64.pth",
        url=OFFICIAL_BASE_URL + "sam_vit_b_01ec64.pth",
        size_bytes=375_042_383,
        sha256="ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912",
        builder="vit_b",
        description=(
            "official SAM with a ViT-B image encoder; 94M parameters in all, 90M in the "
            "encoder; the smallest official one"
        ),
        embed_dim=768,
        depth=12,
    ),
    "vit_l": ModelInfo(
        name="vit_l",
        filename="sam_vit_l_0b3195.pth",
        url=OFFICIAL_BASE_URL + "sam_vit_l_0b3195.pth",
        size_bytes=1_249_524_607,
        sha256="3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622",
        builder="vit_l",
        description=(
            "official SAM with a ViT-L image encoder; 312M parameters in all, 308M in the encoder"
        ),
        embed_dim=1024,
        depth=24,
    ),
    "vit_h": ModelInfo(
        name="vit_h",
        filename="sam_vit_h_4b8939.pth",
        url=OFFICIAL_BASE_URL + "sam_vit_h_4b8939.pth",
        size_bytes=2_564_550_879,
        sha256="a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e",
        builder="vit_h",
        description=(
            "official SAM with a ViT-H image encoder; 641M parameters in all, 637M in the "
            "encoder; the most accurate"
        ),
        embed_dim=1280,
        depth=32,
    ),
}

# Spellings people use for the same model, after lower-casing and turning '-' and spaces into '_'.
_ALIASES = {"vitb": "vit_b", "vitl": "vit_l", "vith": "vit_h", "mini_sam": "mini"}


def _normalize(name: str) -> str:
    key = re.sub(r"[\s\-]+", "_", name.strip().lower())
    if key.startswith("sam_"):
        key = key[len("sam_") :]
    return _ALIASES.get(key, key)


def get_model_info(model: str | ModelInfo) -> ModelInfo:
    """Look a model up by name.

    Names are forgiving about case, dashes and spaces: ``"ViT-B"``, ``"vit b"``, ``"sam_vit_b"``
    and ``"vitb"`` all mean ``"vit_b"``; ``"mini-sam"`` means ``"mini"``.

    Arguments:
      model (str | ModelInfo): a name from :data:`MODELS`, or a ModelInfo (returned as it is,
        so functions can take either; tests use this to describe a file on a local server).

    Returns:
      ModelInfo: the entry.

    Raises:
      ValueError: unknown name; the message lists the valid names and the closest one.
      TypeError: ``model`` is neither a str nor a ModelInfo.
    """
    if isinstance(model, ModelInfo):
        return model
    if not isinstance(model, str):
        raise TypeError(
            f"model must be a model name (str) or a ModelInfo, got {type(model).__name__} "
            f"{model!r}. Use one of: {', '.join(MODELS)}."
        )
    key = _normalize(model)
    if key in MODELS:
        return MODELS[key]
    close = difflib.get_close_matches(key, list(MODELS), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"Unknown SAM model {model!r}. Valid names: {', '.join(MODELS)}.{hint} "
        "(mini runs anywhere and needs no download; vit_b is the smallest official model.)"
    )


def get_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The folder where downloaded checkpoints live (it is not created here).

    Order of precedence: ``cache_dir`` when given; else the environment variable
    ``SEGLAB_CACHE_DIR`` when set and not empty; else ``pooch.os_cache("seglab")`` (the
    operating system's per-user cache, e.g. ``~/.cache/seglab`` on Linux,
    ``~/Library/Caches/seglab`` on macOS).

    Returns:
      Path: an absolute path, with ``~`` expanded.
    """
    if cache_dir is None:
        cache_dir = _env.CACHE_DIR.get() or pooch.os_cache("seglab")
    return Path(cache_dir).expanduser().absolute()


def mini_weights_path() -> Path:
    """Where the shipped mini-SAM weights are (``seglab.sam.mini.MINI_WEIGHTS_PATH``)."""
    from seglab.sam.mini import MINI_WEIGHTS_PATH  # imports torch: only when asked

    return MINI_WEIGHTS_PATH


def checkpoint_path(
    model: str | ModelInfo, cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """Where a model's checkpoint file is, or will be once downloaded.

    Arguments:
      model (str | ModelInfo): e.g. ``"vit_b"``.
      cache_dir (str | PathLike | None): see :func:`get_cache_dir`.

    Returns:
      Path: for mini the file inside the package; otherwise ``<cache dir>/<filename>``, e.g.
      ``~/.cache/seglab/sam_vit_b_01ec64.pth``. The file may not exist yet.
    """
    info = get_model_info(model)
    if info.shipped:
        return mini_weights_path()
    return get_cache_dir(cache_dir) / info.filename


def human_size(n_bytes: int | None) -> str:
    """``375042383`` -> ``'375.0 MB'`` (decimal units, as download pages use); None -> ``'?'``."""
    if n_bytes is None:
        return "?"
    if n_bytes >= 1e9:
        return f"{n_bytes / 1e9:.2f} GB"
    if n_bytes >= 1e6:
        return f"{n_bytes / 1e6:.1f} MB"
    if n_bytes >= 1e3:
        return f"{n_bytes / 1e3:.1f} kB"
    return f"{n_bytes} B"


@dataclass(frozen=True)
class ModelStatus:
    """One row of :func:`list_models`.

    Attributes:
      name: model name, e.g. ``"vit_b"``.
      size_bytes: file size in bytes (mini: the shipped file's size; None if it is missing).
      size: the same, readable, e.g. ``"375.0 MB"``.
      on_disk: True when the file is ready to load (mini: shipped; official: in the cache
        folder with exactly the right size).
      status: a few words: ``"ships with seglab"``, ``"downloaded"``, ``"not downloaded"``,
        ``"wrong size (N bytes)"``, ``"missing from this install"``.
      path: where the file is or would be.
      description: one line about the model.
    """

    name: str
    size_bytes: int | None
    size: str
    on_disk: bool
    status: str
    path: Path
    description: str


class ModelTable(tuple):
    """The rows of :func:`list_models`, shown as a text table in a notebook or ``print``.

    It is a tuple of :class:`ModelStatus`; ``table["vit_b"]`` also finds a row by name.
    """

    cache_dir: Path

    def __new__(cls, rows: list[ModelStatus], cache_dir: Path) -> ModelTable:
        table = super().__new__(cls, rows)
        table.cache_dir = cache_dir
        return table

    def __getitem__(self, key):
        if isinstance(key, str):
            name = get_model_info(key).name
            for row in self:
                if row.name == name:
                    return row
            raise KeyError(key)
        return super().__getitem__(key)

    def __str__(self) -> str:
        header = ("name", "size", "on disk", "status", "path")
        cells = [
            (r.name, r.size, "yes" if r.on_disk else "no", r.status, str(r.path)) for r in self
        ]
        widths = [max(len(row[i]) for row in [header, *cells]) for i in range(len(header) - 1)]

        def line(row: tuple[str, ...]) -> str:
            padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
            return "  ".join([*padded, row[-1]])

        lines = [line(header), *(line(c) for c in cells)]
        lines.append(
            f"\nDownloads go to {self.cache_dir} (set {CACHE_DIR_ENV_VAR} to change it); "
            "get one with seglab.sam.download_checkpoint('vit_b')."
        )
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython: show the table as text
        printer.text(str(self))


def list_models(cache_dir: str | os.PathLike[str] | None = None) -> ModelTable:
    """Every model seglab knows, with its size and whether its file is already on disk.

    Looks only at file sizes (cheap); it reads no file and downloads nothing.

    Arguments:
      cache_dir (str | PathLike | None): the folder to look in; see :func:`get_cache_dir`.

    Returns:
      ModelTable: a tuple of :class:`ModelStatus` rows (mini, vit_b, vit_l, vit_h) that prints
      as a table; ``list_models()["vit_b"].on_disk`` tells whether vit_b is ready.
    """
    folder = get_cache_dir(cache_dir)
    rows = []
    for info in MODELS.values():
        path = checkpoint_path(info, folder)
        size = path.stat().st_size if path.is_file() else None
        if info.shipped:
            on_disk = size is not None
            status = "ships with seglab" if on_disk else "missing from this install"
            expected = size
        else:
            on_disk = size == info.size_bytes
            expected = info.size_bytes
            if size is None:
                status = "not downloaded"
            elif on_disk:
                status = "downloaded"
            else:
                status = f"wrong size ({size} bytes)"
        rows.append(
            ModelStatus(
                name=info.name,
                size_bytes=expected,
                size=human_size(expected),
                on_disk=on_disk,
                status=status,
                path=path,
                description=info.description,
            )
        )
    return ModelTable(rows, folder)
