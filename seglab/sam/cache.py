"""The embedding cache: compute SAM's image embedding once per image, not once per visit.

SAM splits its work in two. ``set_image`` runs the big image encoder (a ViT) once and keeps the
result, the *image embedding* (``features``: 1x256x64x64 float32 for vit_b/l/h, 4 MB; 1x128x16x16
for mini-SAM, 128 KB). Every click after that only runs the small prompt encoder and mask
decoder. On a laptop CPU the encoder is ~97 % of the time (vit_b: ~15 s per image, a click:
~0.07 s), so a notebook that comes back to an image it has already seen should not pay again.

This module keeps embeddings keyed by *what they were computed from*:

    key = (model fingerprint, image fingerprint)

- :func:`image_fingerprint`: SHA-256 of the image's shape and its HxWx3 uint8 bytes. Equal
  pixels give equal keys (whatever array object holds them); one changed pixel gives a new key.
- :func:`model_fingerprint`: SHA-256 over everything the embedding depends on, and nothing
  else: the image encoder's parameters and buffers (names, dtypes, shapes, bytes), its
  architecture settings (e.g. ``num_heads``, ``window_size``), ``pixel_mean``/``pixel_std``, the
  encoder input size ``img_size`` and ``image_format``. The prompt encoder and mask decoder do
  not enter: fine-tuning the decoder leaves the embeddings right, so they stay cached. Hashing
  costs ~0.35 s for vit_b's 360 MB of encoder weights and milliseconds for mini-SAM.
- :class:`ModelFingerprint` hashes once, then re-hashes only when torch reports that an encoder
  tensor changed: a tensor replaced (another object), moved (another ``data_ptr``), reshaped, or
  modified in place (its ``_version`` counter, bumped by every in-place torch op:
  ``optimizer.step()``, ``load_state_dict``, ``nn.init.*``, ``p.add_(...)``, also under
  ``torch.no_grad()`` and ``torch.inference_mode()``). Two kinds of edits bypass torch's
  counter and are NOT seen: writes through ``param.data`` and through a NumPy view
  (``param.detach().numpy()[...] = ...``). After such an edit call
  ``Predictor.refresh_fingerprint()`` (or clear the cache).

:class:`EmbeddingCache` is a bounded in-memory LRU (least recently used entries are dropped
first) with an optional folder on disk. Disk entries are plain dicts of tensors, ints and
strings written with ``torch.save`` to a temporary file and renamed (an interrupted write leaves
no half file), read back with ``torch.load(weights_only=True)`` and checked against their key; a
file that cannot be read or does not match is ignored with a warning and recomputed, never
served.

Memory: one entry holds one embedding, 4 MB for vit_b/l/h; the default of
:data:`DEFAULT_MAX_ITEMS` (8) entries is 32 MB (on the device the model runs on). A
``seglab.sam.Predictor`` built without a cache gets a private one of this size.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from segment_anything.modeling import Sam

from seglab._util import atomic_path, check_int, is_int

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "CacheKey",
    "CacheStats",
    "CachedEmbedding",
    "EmbeddingCache",
    "ModelFingerprint",
    "default_disk_dir",
    "image_fingerprint",
    "model_fingerprint",
]

#: Embeddings an :class:`EmbeddingCache` keeps in memory unless told otherwise (4 MB each for
#: vit_b/l/h); also the size of a Predictor's private cache. The one default cache size.
DEFAULT_MAX_ITEMS = 8

#: Marker and version stored in every on-disk entry.
DISK_FORMAT = "seglab-sam-embedding"
DISK_FORMAT_VERSION = 1

_FINGERPRINT_SALT = b"seglab-sam-encoder-fingerprint/1"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ENTRY_FILE = re.compile(r"[0-9a-f]{64}\.pt(\.[A-Za-z0-9_]+\.tmp)?")
_SIMPLE = (bool, int, float, str)


# --------------------------------------------------------------------------- fingerprints


def image_fingerprint(image: np.ndarray) -> str:
    """SHA-256 (hex) of an HxWx3 uint8 image: its shape and its pixel bytes.

    Arguments:
      image (np.ndarray): HxWx3 uint8, RGB (what ``seglab.images.as_rgb_uint8`` returns).

    Returns:
      str: 64 hex characters; equal for equal pixels, different for any changed pixel.

    Raises:
      TypeError: not a numpy array of dtype uint8.
      ValueError: not of shape (H, W, 3).
    """
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        kind = f"{type(image).__name__} of dtype {getattr(image, 'dtype', '?')}"
        raise TypeError(
            f"image_fingerprint wants a numpy uint8 array, got {kind}. "
            "Convert it first with seglab.images.as_rgb_uint8(image)."
        )
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(
            f"image_fingerprint wants shape (H, W, 3), got {image.shape}. "
            "Convert it first with seglab.images.as_rgb_uint8(image)."
        )
    h, w, _ = image.shape
    digest = hashlib.sha256(f"rgb-uint8:{h}x{w}x3;".encode())
    digest.update(np.ascontiguousarray(image).data)
    return digest.hexdigest()


def _encoder_tensors(sam: Sam) -> list[tuple[str, torch.Tensor]]:
    """Every tensor the image embedding depends on, with a stable name."""
    encoder = sam.image_encoder
    tensors = [("image_encoder." + n, t) for n, t in encoder.named_parameters()]
    tensors += [("image_encoder." + n, t) for n, t in encoder.named_buffers()]
    tensors += [("pixel_mean", sam.pixel_mean), ("pixel_std", sam.pixel_std)]
    return tensors


def _architecture(sam: Sam) -> str:
    """The encoder's modules and their plain settings (num_heads, window_size, eps, ...)."""
    lines = [f"img_size={sam.image_encoder.img_size}", f"image_format={sam.image_format}"]
    for name, module in sam.image_encoder.named_modules():
        settings = {
            k: v
            for k, v in sorted(vars(module).items())
            if not k.startswith("_")
            and k != "training"
            and (
                isinstance(v, _SIMPLE)
                or (isinstance(v, tuple) and all(isinstance(x, _SIMPLE) for x in v))
            )
        }
        lines.append(f"{name or '.'}:{type(module).__qualname__}:{settings!r}")
    return "\n".join(lines)


def model_fingerprint(sam: Sam) -> str:
    """SHA-256 (hex) of everything a SAM image embedding depends on.

    Covers the image encoder's parameters and buffers (name, dtype, shape and bytes), its
    architecture settings, ``pixel_mean``/``pixel_std``, ``image_encoder.img_size`` and
    ``image_format``. Not the prompt encoder or the mask decoder, and not the device. Costs one
    pass over the encoder's weights (~0.35 s for vit_b on a CPU).

    Arguments:
      sam (segment_anything.modeling.Sam): the model.

    Returns:
      str: 64 hex characters.
    """
    digest = hashlib.sha256(_FINGERPRINT_SALT)
    digest.update(_architecture(sam).encode())
    for name, tensor in sorted(_encoder_tensors(sam), key=lambda item: item[0]):
        flat = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(f"\n{name}:{flat.dtype}:{tuple(tensor.shape)}:".encode())
        digest.update(flat.view(torch.uint8).numpy().data)
    return digest.hexdigest()


class ModelFingerprint:
    """A model's fingerprint, hashed once and again only when torch reports a change.

    Every call to :meth:`get` compares a cheap token (for each encoder tensor: which object,
    its ``data_ptr``, shape, dtype and in-place ``_version`` counter; plus ``img_size`` and
    ``image_format``; ~1 ms for vit_b) with the token of the last hash, and re-hashes the
    weights when it differs. Edits through ``param.data`` or a NumPy view do not move the
    counter: call :meth:`refresh` after those.

    Attributes:
      computations (int): how many times the weights were hashed (for tests and curiosity).
    """

    def __init__(self, sam: Sam) -> None:
        self._sam = sam
        self._value: str | None = None
        self._token: tuple | None = None
        self._refs: list[weakref.ref] = []
        self.computations = 0

    def _snapshot(self) -> tuple[tuple | None, list[torch.Tensor]]:
        sam = self._sam
        tensors = _encoder_tensors(sam)
        rows: list[object] = [id(sam.image_encoder), sam.image_encoder.img_size, sam.image_format]
        for name, t in tensors:
            try:
                version = t._version
            except RuntimeError:  # inference tensors have no version counter: always re-hash
                return None, []
            rows.append((name, id(t), t.data_ptr(), version, t.shape, t.dtype))
        return tuple(rows), [sam.image_encoder] + [t for _, t in tensors]

    def get(self) -> str:
        """The fingerprint of the model as it is now (re-hashed if its encoder changed)."""
        token, objects = self._snapshot()
        unchanged = (
            token is not None
            and token == self._token
            and all(ref() is obj for ref, obj in zip(self._refs, objects, strict=True))
        )
        if self._value is None or not unchanged:
            self._value = model_fingerprint(self._sam)
            self._token = token
            # weak references: ids stay meaningful (an object alive cannot share its id) without
            # keeping replaced weights in memory.
            self._refs = [weakref.ref(obj) for obj in objects]
            self.computations += 1
        return self._value

    def refresh(self) -> str:
        """Hash the weights now, whatever the token says (after edits through ``.data``)."""
        self._value = None
        return self.get()


# --------------------------------------------------------------------------- cache


@dataclass(frozen=True)
class CacheKey:
    """What an embedding was computed from: model and image fingerprints (64 hex chars each)."""

    model: str
    image: str

    def __post_init__(self) -> None:
        for field_name in ("model", "image"):
            value = getattr(self, field_name)
            if not isinstance(value, str) or not _HEX64.fullmatch(value):
                raise ValueError(
                    f"CacheKey.{field_name} must be 64 lowercase hex characters (a SHA-256), "
                    f"got {value!r}. Use model_fingerprint(sam) and image_fingerprint(image)."
                )

    @property
    def relative_path(self) -> str:
        """Where the entry lives under a cache folder: ``<model>/<image>.pt``."""
        return f"{self.model}/{self.image}.pt"


@dataclass(frozen=True)
class CachedEmbedding:
    """What ``SamPredictor`` needs to restore an image without running the encoder.

    Attributes:
      features (torch.Tensor): the image embedding, (1, C, h, w) (C=256, h=w=64 for vit_*).
      original_size (tuple[int, int]): (H, W) of the image given to ``set_image``.
      input_size (tuple[int, int]): (h, w) of the image after resizing its longest side to the
        encoder's ``img_size`` (before padding).
    """

    features: torch.Tensor
    original_size: tuple[int, int]
    input_size: tuple[int, int]

    @property
    def nbytes(self) -> int:
        return self.features.numel() * self.features.element_size()


@dataclass(frozen=True)
class CacheStats:
    """Counters of an :class:`EmbeddingCache` since it was made or last cleared.

    Attributes:
      hits: lookups answered (from memory or disk).
      disk_hits: the part of ``hits`` read from disk.
      misses: lookups not answered (the caller then runs the encoder).
      evictions: entries dropped from memory to stay within ``max_items``.
      ignored_files: disk entries that could not be read or did not match, and were ignored.
      items: entries in memory now.
    """

    hits: int
    disk_hits: int
    misses: int
    evictions: int
    ignored_files: int
    items: int


def default_disk_dir() -> Path:
    """The default folder for on-disk embeddings.

    ``$SEGLAB_CACHE_DIR/embeddings`` when the environment variable is set, else
    ``pooch.os_cache("seglab") / "embeddings"`` (e.g. ``~/.cache/seglab/embeddings`` on Linux).
    Nothing is created until an embedding is written.
    """
    from seglab.sam.registry import get_cache_dir

    return get_cache_dir() / "embeddings"


class EmbeddingCache:
    """Bounded in-memory LRU of SAM image embeddings, optionally backed by a folder on disk.

    Arguments:
      max_items (int): how many embeddings to keep in memory (>= 0; 0 keeps none in memory,
        useful with ``disk_dir``); :data:`DEFAULT_MAX_ITEMS` (8) by default. vit_b/l/h
        embeddings are 4 MB each.
      disk_dir (str | PathLike | None): a folder to also keep every embedding in, so that a
        new Python session starts warm (e.g. :func:`default_disk_dir`). None: memory only.

    Entries returned by :meth:`get` belong to the cache: copy before modifying
    (``seglab.sam.Predictor`` does).
    """

    def __init__(
        self, max_items: int = DEFAULT_MAX_ITEMS, disk_dir: str | os.PathLike[str] | None = None
    ):
        max_items = check_int(
            max_items, "max_items", minimum=0, hint=f"Pass e.g. max_items={DEFAULT_MAX_ITEMS}."
        )
        if disk_dir is not None and not isinstance(disk_dir, (str, os.PathLike)):
            raise TypeError(
                f"disk_dir must be a folder path (str or pathlib.Path) or None, got "
                f"{type(disk_dir).__name__}. Pass e.g. seglab.sam.cache.default_disk_dir()."
            )
        self.max_items = int(max_items)
        self.disk_dir = Path(disk_dir).expanduser() if disk_dir is not None else None
        self._entries: OrderedDict[CacheKey, CachedEmbedding] = OrderedDict()
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._hits = self._disk_hits = self._misses = self._evictions = self._ignored = 0

    # ---- lookups

    def get(self, key: CacheKey) -> CachedEmbedding | None:
        """The embedding stored under ``key`` (memory first, then disk), or None."""
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self._hits += 1
            return entry
        entry = self._load(key) if self.disk_dir is not None else None
        if entry is None:
            self._misses += 1
            return None
        self._hits += 1
        self._disk_hits += 1
        self._remember(key, entry)
        return entry

    def put(self, key: CacheKey, entry: CachedEmbedding) -> None:
        """Store an embedding (a copy of its features) in memory and, if set, on disk.

        A failed disk write is reported as a warning and leaves no file behind; the entry is
        still kept in memory.
        """
        if not isinstance(key, CacheKey):
            raise TypeError(f"key must be a CacheKey, got {type(key).__name__}.")
        if not isinstance(entry, CachedEmbedding):
            raise TypeError(f"entry must be a CachedEmbedding, got {type(entry).__name__}.")
        entry = CachedEmbedding(
            features=entry.features.detach().clone(),
            original_size=(int(entry.original_size[0]), int(entry.original_size[1])),
            input_size=(int(entry.input_size[0]), int(entry.input_size[1])),
        )
        self._remember(key, entry)
        if self.disk_dir is not None:
            path = self.disk_dir / key.relative_path
            try:
                _atomic_save(self._payload(key, entry), path)
            except Exception as exc:
                warnings.warn(
                    f"could not write the cached embedding {path} ({exc}); it stays in memory "
                    "only.",
                    RuntimeWarning,
                    stacklevel=2,
                )

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, CacheKey):
            return False
        if key in self._entries:
            return True
        return self.disk_dir is not None and (self.disk_dir / key.relative_path).is_file()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def stats(self) -> CacheStats:
        """Hits, misses, evictions, ignored disk files and items in memory."""
        return CacheStats(
            hits=self._hits,
            disk_hits=self._disk_hits,
            misses=self._misses,
            evictions=self._evictions,
            ignored_files=self._ignored,
            items=len(self._entries),
        )

    @property
    def nbytes(self) -> int:
        """Bytes of features held in memory."""
        return sum(entry.nbytes for entry in self._entries.values())

    def clear(self, *, disk: bool = False) -> None:
        """Forget every entry in memory and reset the counters.

        Arguments:
          disk (bool): also delete the embedding files this cache layout wrote under
            ``disk_dir`` (``<64 hex>/<64 hex>.pt``; nothing else in the folder is touched).
        """
        self._entries.clear()
        self._reset_counters()
        if disk and self.disk_dir is not None and self.disk_dir.is_dir():
            for folder in self.disk_dir.iterdir():
                if not (folder.is_dir() and _HEX64.fullmatch(folder.name)):
                    continue
                for file in folder.iterdir():
                    # entries, and temporary files left by a process killed while writing
                    if _ENTRY_FILE.fullmatch(file.name):
                        file.unlink(missing_ok=True)
                if not any(folder.iterdir()):
                    folder.rmdir()

    def __repr__(self) -> str:
        s = self.stats
        disk = f", disk_dir={str(self.disk_dir)!r}" if self.disk_dir is not None else ""
        return (
            f"EmbeddingCache({s.items}/{self.max_items} items, {self.nbytes / 2**20:.1f} MB in "
            f"memory, hits={s.hits}, misses={s.misses}{disk})"
        )

    # ---- internals

    def _remember(self, key: CacheKey, entry: CachedEmbedding) -> None:
        if self.max_items == 0:
            return
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_items:
            self._entries.popitem(last=False)
            self._evictions += 1

    @staticmethod
    def _payload(key: CacheKey, entry: CachedEmbedding) -> dict[str, object]:
        return {
            "format": DISK_FORMAT,
            "version": DISK_FORMAT_VERSION,
            "model": key.model,
            "image": key.image,
            "features": entry.features.detach().to("cpu").contiguous(),
            "original_size": list(entry.original_size),
            "input_size": list(entry.input_size),
        }

    def _load(self, key: CacheKey) -> CachedEmbedding | None:
        if self.disk_dir is None:
            return None
        path = self.disk_dir / key.relative_path
        if not path.is_file():
            return None
        try:
            data = torch.load(path, map_location="cpu", weights_only=True)
            return _check_payload(data, key)
        except Exception as exc:  # any unreadable or foreign file: ignore it, never serve it
            self._ignored += 1
            warnings.warn(
                f"ignoring the cached embedding {path}: {exc}. It will be recomputed and "
                "overwritten.",
                RuntimeWarning,
                stacklevel=3,
            )
            return None


def _check_payload(data: object, key: CacheKey) -> CachedEmbedding:
    """Turn a loaded disk entry back into a CachedEmbedding, or raise ValueError."""
    if not isinstance(data, dict) or data.get("format") != DISK_FORMAT:
        raise ValueError("not a seglab embedding file")
    if data.get("version") != DISK_FORMAT_VERSION:
        raise ValueError(f"format version {data.get('version')!r} is not {DISK_FORMAT_VERSION}")
    if data.get("model") != key.model or data.get("image") != key.image:
        raise ValueError("the file was written for another model or image")
    features = data.get("features")
    if (
        not isinstance(features, torch.Tensor)
        or features.ndim != 4
        or features.shape[0] != 1
        or not features.is_floating_point()
    ):
        raise ValueError("features is not a (1, C, h, w) float tensor")
    sizes = []
    for name in ("original_size", "input_size"):
        value = data.get(name)
        if (
            not isinstance(value, (list, tuple))
            or len(value) != 2
            or not all(is_int(v) and v > 0 for v in value)
        ):
            raise ValueError(f"{name} is not two positive ints")
        sizes.append((int(value[0]), int(value[1])))
    return CachedEmbedding(features=features, original_size=sizes[0], input_size=sizes[1])


def _atomic_save(payload: dict[str, object], path: Path) -> None:
    """torch.save to a temporary file in the same folder, then rename over ``path``
    (``<name>.<random>.tmp``, which ``clear`` recognises if a killed process left one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, mode=None) as tmp:  # owner-only (0600), as the cache always was
        torch.save(payload, str(tmp))
