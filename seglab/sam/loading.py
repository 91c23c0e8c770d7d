"""Load a SAM model — the shipped mini-SAM or an official ViT-B/L/H — safely, on your device.

:func:`load_sam` is the one call the notebooks make::

    sam = load_sam("mini")            # the small model inside the package, no download
    sam = load_sam("vit_b")           # Meta's checkpoint, downloaded once into the cache
    sam = load_sam(checkpoint="my.pth", model=None)   # whatever model that file holds

What it does differently from ``segment_anything.sam_model_registry[name](checkpoint=...)``:

- **No code from the file runs.** Checkpoints are read with
  ``torch.load(f, map_location="cpu", weights_only=True)``: a file that holds Python objects
  beyond tensors and plain containers (a pickle can carry code that runs while it loads) is
  refused with :class:`UnsafeCheckpointError`. SAM's own builder calls ``torch.load`` without
  ``weights_only``, so seglab builds the architecture with ``checkpoint=None`` and loads the
  weights itself.
- **Errors that say what the file is.** An HTML error page, a Git LFS pointer, random bytes, a
  truncated download, or a vit_b file given to ``load_sam("vit_l")`` each get their own message
  with the fix, instead of a stack of "size mismatch" lines.
- **It recognises the model from the file** (:func:`detect_model_type`): the official models
  differ in the width of the patch embedding (768 / 1024 / 1280) and the number of encoder
  blocks (12 / 24 / 32); a mini-SAM checkpoint carries a ``"format"`` marker and its config.

The model comes back in eval mode, in float32 (what SAM needs, MPS included; the shipped
mini-SAM weights are stored as float16 and converted), on ``seglab.device.get_device(device)``.
Nothing is built or read at import time.
"""

from __future__ import annotations

import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import torch
from segment_anything.modeling import Sam

from seglab import _env
from seglab.device import get_device
from seglab.sam.download import CHECKPOINT_ENV_VAR, download_checkpoint
from seglab.sam.mini import MINI_FORMAT, MINI_FORMAT_VERSION, MiniSamConfig, build_mini_sam
from seglab.sam.registry import (
    MODELS,
    OFFICIAL_BASE_URL,
    ModelInfo,
    checkpoint_path,
    get_model_info,
    mini_weights_path,
)

#: Environment variable naming the model the notebooks use when ``load_sam(model=None)``.
MODEL_ENV_VAR = _env.SAM_MODEL.name  # "SEGLAB_SAM_MODEL"

_PATCH_KEY = "image_encoder.patch_embed.proj.weight"  # (embed_dim, 3, 16, 16)
_BLOCK_RE = re.compile(r"^image_encoder\.blocks\.(\d+)\.")
#: First weight of mini-SAM's CNN encoder (seglab.sam.conv_encoder), which has no patch embedding.
_CONV_STEM_KEY = "image_encoder.stem.0.0.weight"

Checkpoint = str | os.PathLike | Mapping  # a file path, or an already-loaded dict


class UnsafeCheckpointError(ValueError):
    """The file holds more than weights (Python objects whose loading could run code)."""


# ---------------------------------------------------------------------------------------------
# Reading a file: recognise what it is before trusting torch.load with it.
# ---------------------------------------------------------------------------------------------


def _known_model(path: Path, expect: ModelInfo | None) -> ModelInfo | None:
    """The registry entry this file is meant to be: the one asked for, or the one whose file
    name it has (``sam_vit_b_01ec64.pth`` -> vit_b). For mini only the shipped file counts."""
    if expect is not None and not expect.shipped:
        return expect
    if path.resolve() == mini_weights_path().resolve():
        return MODELS["mini"]
    for info in MODELS.values():
        if path.name == info.filename:
            return info
    return None


def _advice(path: Path, info: ModelInfo | None) -> str:
    if info is not None and info.shipped:
        return (
            "This is the file that ships with seglab: reinstall seglab (from a git checkout: "
            "`git lfs pull` if you use Git LFS, then `pip install -e .`)."
        )
    if info is not None:
        return (
            f"Delete it and get a checked copy: seglab.sam.download_checkpoint({info.name!r}) "
            f"downloads {info.url} to {checkpoint_path(info)} and verifies size and SHA-256."
        )
    return (
        "Check that this is the file you meant. Official SAM checkpoints come from "
        f"{OFFICIAL_BASE_URL} (seglab.sam.download_checkpoint('vit_b') fetches and checks one)."
    )


def _size_note(size: int, info: ModelInfo | None) -> str:
    if info is not None and info.size_bytes is not None:
        return f"{size:,} bytes, expected {info.size_bytes:,} for {info.name}"
    return f"{size:,} bytes"


def _as_text(head: bytes) -> str | None:
    """The start of the file as text when it is text (UTF-8, printable), else None."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not just a character cut at the end of `head`
            return None
        text = head[: error.start].decode("utf-8")
    if all(c.isprintable() or c in "\r\n\t" for c in text):
        return text
    return None


def _what_it_is(head: bytes) -> str:
    """Describe a file that starts neither like a zip nor like a pickle."""
    text = _as_text(head)
    if text is None:
        return (
            f"is not a PyTorch checkpoint: it starts with the bytes {head[:8].hex(' ')}, while "
            "checkpoints start with a zip header (50 4b 03 04) or a pickle marker (80)"
        )
    first_line = text.strip().splitlines()[0][:60] if text.strip() else ""
    if text.startswith("version https://git-lfs"):
        return (
            "is a Git LFS pointer (a small text file standing in for the real one), not a "
            "checkpoint: run `git lfs pull` in the repository it came from"
        )
    if "<html" in text.lower() or "<!doctype" in text.lower():
        return (
            f"is a web page (it starts with {first_line!r}), not a PyTorch checkpoint: "
            "probably an error or login page saved in place of the file"
        )
    return f"is a text file (it starts with {first_line!r}), not a PyTorch checkpoint"


def _torch_reason(error: BaseException) -> str:
    """The useful line of torch's weights_only error, e.g. 'Unsupported global: GLOBAL io.open'."""
    message = str(error)
    tail = message.split("WeightsUnpickler error:", 1)[-1]
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    reason = lines[0] if lines else message.strip()
    return reason.split(". Please", 1)[0][:200]


def _read_checkpoint(path: Path, expect: ModelInfo | None = None) -> object:
    """``torch.load`` a checkpoint file with ``weights_only=True``, after checking what it is.

    Raises FileNotFoundError (no such file), ValueError (not a checkpoint, damaged or
    truncated: one message per case) or UnsafeCheckpointError (it holds code).
    """
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise FileNotFoundError(
            f"No checkpoint at {path}: it {what}. Check the path, or let seglab download one: "
            "load_sam('vit_b') (or load_sam('mini'), which needs no download)."
        )
    info = _known_model(path, expect)
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(64)

    def damaged(what: str) -> ValueError:
        return ValueError(f"The checkpoint file {path} {what.rstrip('.')}. {_advice(path, info)}")

    if size == 0:
        raise damaged(f"is empty ({_size_note(size, info)})")
    if head.startswith(b"PK\x03\x04"):  # the zip format torch.save writes since torch 1.6
        if not zipfile.is_zipfile(path):  # the zip's table of contents sits at the very end
            raise damaged(
                "is a truncated PyTorch checkpoint: the end of the file is missing "
                f"({_size_note(size, info)}), as after an interrupted download or copy"
            )
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if not any(name.endswith("data.pkl") for name in names):
            raise damaged(
                f"is a zip archive, but not a PyTorch checkpoint (it holds {names[:3]}); "
                "if it is a zipped checkpoint, unzip it and pass the file inside"
            )
        mmap = True  # map the file instead of reading it all: cheap for detect_model_type
    elif head[:1] == b"\x80":  # a pickle (protocol >= 2): torch's legacy format, or plain pickle
        mmap = False  # torch can only memory-map the zip format
    else:
        raise damaged(f"{_what_it_is(head)} ({_size_note(size, info)})")

    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols it then refuses
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            # torch < 2.2 warns about its own internals when loading (not the learner's concern)
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
            # str(path): torch < 2.2 memory-maps only a path given as a string
            return torch.load(str(path), map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as error:
        if "Unsupported" not in str(error):  # a damaged pickle, not a forbidden one
            raise damaged(
                f"is damaged or truncated ({_size_note(size, info)}); "
                f"torch says: {_torch_reason(error)}"
            ) from error
        source = info.url if info is not None and info.url else OFFICIAL_BASE_URL
        raise UnsafeCheckpointError(
            f"The file {path} contains code, not just weights: loading it would run Python "
            f"code stored inside it (torch says: {_torch_reason(error)}). seglab refuses to run "
            f"it, and ran nothing. Get the official file from {source}"
            + (f" (seglab.sam.download_checkpoint({info.name!r}) does it)." if info else ".")
        ) from None
    except (RuntimeError, EOFError, OSError) as error:
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else "EOF"
        raise damaged(
            f"is damaged or truncated ({_size_note(size, info)}); torch says: {first}"
        ) from error


# ---------------------------------------------------------------------------------------------
# Recognising the model
# ---------------------------------------------------------------------------------------------


def _detect(checkpoint: object, source: str) -> str:
    if not isinstance(checkpoint, Mapping):
        raise ValueError(
            f"{source} holds a {type(checkpoint).__name__}, not a dict of weights. A SAM "
            "checkpoint is a state dict {name: tensor} (official) or a seglab mini-SAM dict."
        )
    if checkpoint.get("format") == MINI_FORMAT or isinstance(
        checkpoint.get(_CONV_STEM_KEY), torch.Tensor
    ):
        return "mini"  # a seglab mini-SAM file, or the plain state dict of a CNN-encoder mini
    weight = checkpoint.get(_PATCH_KEY)
    if not isinstance(weight, torch.Tensor) or weight.ndim != 4:
        keys = [str(k) for k in list(checkpoint)[:4]]
        raise ValueError(
            f"{source} is not a SAM checkpoint: it has no 4-d tensor {_PATCH_KEY!r} (its first "
            f"keys are {keys}). If the weights are wrapped (e.g. {{'model': state_dict, "
            "'optimizer': ...}), pass the inner state dict, or save just model.state_dict()."
        )
    embed_dim = int(weight.shape[0])
    blocks = {int(m.group(1)) for k in checkpoint if (m := _BLOCK_RE.match(str(k)))}
    for info in MODELS.values():
        if (info.embed_dim, info.depth) == (embed_dim, len(blocks)):
            return info.name
    return "mini"  # SAM-shaped, but no official size: a small model such as mini-SAM


def detect_model_type(checkpoint: Checkpoint) -> str:
    """Tell which SAM a checkpoint holds, from the shapes of its weights.

    Official files are recognised by ``image_encoder.patch_embed.proj.weight``, of shape
    ``(embed_dim, 3, 16, 16)``, and the number of blocks ``image_encoder.blocks.N``:
    768 and 12 -> ``"vit_b"``, 1024 and 24 -> ``"vit_l"``, 1280 and 32 -> ``"vit_h"``.
    A seglab mini-SAM checkpoint (``"format": "seglab-mini-sam"``), the state dict of a mini-SAM
    with a CNN encoder (``image_encoder.stem.0.0.weight``) or any other SAM-shaped size ->
    ``"mini"``. A file is memory-mapped, not read: a 375 MB vit_b file is identified in
    about 0.1 s.

    Arguments:
      checkpoint (str | PathLike | Mapping): a checkpoint file, or a state dict already loaded.

    Returns:
      str: ``"vit_b"``, ``"vit_l"``, ``"vit_h"`` or ``"mini"``.

    Raises:
      ValueError: not a checkpoint (text, HTML page, random bytes), truncated or damaged, or
        not a SAM; the message says which and how to get a good file.
      UnsafeCheckpointError: the file contains code; nothing from it was run.
      FileNotFoundError: no file at that path.
      TypeError: ``checkpoint`` is neither a path nor a mapping.
    """
    return _detect(*_open(checkpoint, None))


# ---------------------------------------------------------------------------------------------
# Choosing the file, building the model, loading the weights
# ---------------------------------------------------------------------------------------------


def _open(checkpoint: Checkpoint, expect: ModelInfo | None) -> tuple[object, str]:
    """(loaded checkpoint, how to name it in messages) for a path or a dict."""
    if isinstance(checkpoint, Mapping):
        return checkpoint, "the checkpoint dict you passed"
    if isinstance(checkpoint, (str, os.PathLike)):
        path = Path(checkpoint).expanduser()
        return _read_checkpoint(path, expect), str(path)
    raise TypeError(
        f"checkpoint must be a path (str or Path) or a state dict, got "
        f"{type(checkpoint).__name__}. Pass e.g. checkpoint='sam_vit_b_01ec64.pth'."
    )


def _env_checkpoint(requested: str | None) -> tuple[object, str]:
    path = Path(_env.SAM_CHECKPOINT.get() or "").expanduser()
    if not path.is_file():
        raise FileNotFoundError(
            f"The environment variable {CHECKPOINT_ENV_VAR} is {str(path)!r}, but there is no "
            "file there. Fix the path, or unset the variable to let seglab download the "
            "checkpoint into its cache."
        )
    expect = get_model_info(requested) if requested else None
    loaded = _read_checkpoint(path, expect)
    source = f"{path} (from {CHECKPOINT_ENV_VAR})"
    found = _detect(loaded, source)
    if requested is not None and found != requested:
        raise ValueError(
            f"{CHECKPOINT_ENV_VAR} points at a {found} checkpoint ({path}), but you asked for "
            f"{requested}. Use load_sam({found!r}), or unset {CHECKPOINT_ENV_VAR} to have "
            f"seglab download {requested}."
        )
    return loaded, source


def _build_mini(loaded: Mapping, source: str) -> tuple[Sam, Mapping]:
    if loaded.get("format") != MINI_FORMAT:
        if _PATCH_KEY in loaded:
            blocks = {int(m.group(1)) for k in loaded if (m := _BLOCK_RE.match(str(k)))}
            what = (
                f"SAM weights of no official size (embed_dim {loaded[_PATCH_KEY].shape[0]}, "
                f"{len(blocks)} encoder blocks)"
            )
        else:
            what = "the plain state dict of a mini-SAM with a CNN encoder"
        raise ValueError(
            f"{source} holds {what} and no mini-SAM config, so seglab cannot rebuild the "
            "model. Save mini-SAMs with seglab.sam.mini.save_mini_checkpoint(sam, path, config), "
            "which stores the config with the weights."
        )
    version = loaded.get("version")
    if version != MINI_FORMAT_VERSION:
        raise ValueError(
            f"{source} is a mini-SAM checkpoint of format version {version!r}; this seglab reads "
            f"version {MINI_FORMAT_VERSION}. Update seglab (pip install -U seglab) or re-save it."
        )
    try:
        config = MiniSamConfig.from_dict(loaded["config"])
    except (KeyError, TypeError) as error:
        raise ValueError(
            f"{source} has a mini-SAM config this seglab does not understand ({error}). "
            "Update seglab, or re-save the model with save_mini_checkpoint."
        ) from error
    return build_mini_sam(config), loaded["state_dict"]


def _shape(value: object) -> tuple[int, ...] | str:
    return tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__


def _fit_weights(sam: Sam, state: Mapping, name: str, source: str) -> None:
    """Load ``state`` into ``sam``, or explain in a few lines why it does not fit."""
    expected = sam.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [
        f"{k}: file {_shape(state[k])} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and _shape(state[k]) != tuple(v.shape)
    ]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} weights missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            parts.append(f"{len(wrong)} of the wrong shape (e.g. {wrong[0]})")
        raise ValueError(
            f"The weights in {source} do not fit a {name}: {'; '.join(parts)}. Was the file "
            "saved from a different model, or edited? Use the official file or one saved with "
            "model.state_dict()."
        )
    # float16 (mini-SAM files) or float64 weights become float32, SAM's working precision.
    state = {k: v.to(torch.float32) if v.is_floating_point() else v for k, v in state.items()}
    sam.load_state_dict(state, strict=True)


def load_sam(
    model: str | None = "mini",
    checkpoint: Checkpoint | None = None,
    device: str | torch.device | None = None,
) -> Sam:
    """Build a SAM and load its weights, safely; ready for ``SamPredictor`` / seglab's Predictor.

    Which file is loaded:

    - ``checkpoint`` given: that file (or state dict). With ``model=None`` whatever model it
      holds is built; with a model name the file must hold that model.
    - ``checkpoint=None`` and ``model="mini"``: the weights that ship with seglab.
    - ``checkpoint=None`` and an official model (``"vit_b"``, ``"vit_l"``, ``"vit_h"``): the
      file named by the environment variable ``SEGLAB_SAM_CHECKPOINT`` when it is set (it must
      hold that model, else ValueError — seglab will not silently download a different one);
      otherwise the cached download, fetched first if missing (see ``download_checkpoint``).
    - ``checkpoint=None`` and ``model=None``: the model named by ``SEGLAB_SAM_MODEL`` if set,
      else whatever ``SEGLAB_SAM_CHECKPOINT`` holds if set, else ``"mini"``; then as above.

    Arguments:
      model (str | None): ``"mini"`` (default), ``"vit_b"``, ``"vit_l"``, ``"vit_h"`` (case,
        dashes and spaces are forgiven: ``"ViT-B"``), or None to decide from the file.
      checkpoint (str | PathLike | Mapping | None): a checkpoint file or a loaded state dict.
      device (str | torch.device | None): where the model goes; None chooses CUDA, then MPS,
        then CPU (see ``seglab.device.get_device``).

    Returns:
      segment_anything.modeling.Sam: in eval mode, float32 weights, on the chosen device. Its
      input size is ``sam.image_encoder.img_size`` (1024 for official models, 256 for mini).

    Raises:
      ValueError: unknown model name; a file that holds another model than asked for ("this
        checkpoint is a vit_b, not a vit_l: use load_sam('vit_b', ...)"); a file that is not a
        checkpoint, is truncated, or does not fit.
      UnsafeCheckpointError: the file contains code (a ValueError too); nothing from it ran.
      FileNotFoundError: the checkpoint path (or SEGLAB_SAM_CHECKPOINT) names no file, or the
        shipped mini weights are missing from this install.
      CheckpointDownloadError: an official checkpoint had to be downloaded and could not be.
    """
    target = get_device(device)  # check the device before reading gigabytes
    requested = None if model is None else get_model_info(model).name

    if checkpoint is None and requested is None:  # let the environment decide
        env_model = _env.SAM_MODEL.get()
        if env_model is not None:
            requested = get_model_info(env_model).name
        elif _env.SAM_CHECKPOINT.get() is None:
            requested = "mini"
        # else: requested stays None and the model is whatever SEGLAB_SAM_CHECKPOINT holds

    if checkpoint is not None:
        loaded, source = _open(checkpoint, get_model_info(requested) if requested else None)
    elif requested != "mini" and _env.SAM_CHECKPOINT.get() is not None:
        loaded, source = _env_checkpoint(requested)
    else:
        name = requested or "mini"  # (requested is set here; `or` only satisfies type checkers)
        path = download_checkpoint(name)  # mini: the shipped file, no network
        loaded, source = _read_checkpoint(path, get_model_info(name)), str(path)

    found = _detect(loaded, source)
    if requested is not None and found != requested:
        raise ValueError(
            f"This checkpoint is a {found}, not a {requested}: use load_sam({found!r}, ...) "
            f"(or model=None to take whatever the file holds). File: {source}."
        )

    if found == "mini":
        sam, state = _build_mini(cast(Mapping, loaded), source)  # _detect: a state dict
    else:
        from segment_anything import sam_model_registry  # the official builders

        builder = MODELS[found].builder
        sam = sam_model_registry[builder](checkpoint=None)  # random weights, no torch.load
        state = cast(Mapping, loaded)  # _detect: a state dict
    _fit_weights(sam, state, found, source)
    del loaded, state  # drop the (memory-mapped) file before moving the model
    return sam.to(device=target, dtype=torch.float32).eval()
