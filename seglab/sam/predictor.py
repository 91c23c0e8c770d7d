"""The Predictor: prompt SAM with clicks and boxes, with checked inputs and named results.

``segment_anything.SamPredictor`` is the official way to use SAM on one image at a time:
``set_image`` runs the heavy image encoder once, then each ``predict`` (a click, a box) runs the
light prompt encoder and mask decoder. :class:`Predictor` wraps it (it does not subclass it;
``predictor.original`` is the SamPredictor, for SAM's raw API) and adds what a learner needs:

- **checked prompts**: points, labels, boxes and ``mask_input`` go through
  :mod:`seglab.prompts` first, so a (row, col) point, an (x, y, w, h) box or a full-size mask
  is refused with an explanation instead of giving silently wrong masks;
- **any image**: whatever :func:`seglab.images.as_rgb_uint8` accepts (gray, RGBA, float, PIL,
  tensor);
- **no stale state**: if ``set_image`` fails for any reason (a bad image, an error inside the
  encoder, Ctrl-C), the predictor holds *no* image afterwards. SamPredictor keeps the previous
  image when the new one is refused before its encoder runs, so the next click would silently
  segment the old image;
- **an embedding cache** (:mod:`seglab.sam.cache`): coming back to an image already seen (same
  pixels, same encoder weights) restores its embedding instead of running the encoder again;
- **named results**: :class:`PredictionResult` instead of an unnamed 3-tuple; many boxes at
  once with :meth:`Predictor.predict_boxes` (a :class:`BatchPredictionResult`);
- **SAM's own argument names too**: ``predict`` takes seglab's short names (``points``,
  ``labels``, ``multimask``) or SAM's (``point_coords``, ``point_labels``,
  ``multimask_output``), in SAM's positional order, and SAM's ``return_logits``; so the
  arguments of a ``SamPredictor.predict`` call work unchanged. The result is still a
  :class:`PredictionResult`, not SAM's 3-tuple: read ``result.masks``, ``result.scores`` and
  ``result.logits``.

Shapes (K masks per prompt: 3 with ``multimask=True``, else 1; H x W the image; h x w SAM's
low-resolution mask grid, ``sam.prompt_encoder.mask_input_size``: 256x256 for vit_b/l/h, 4 x the
embedding grid for mini-SAM, e.g. 128x128 at its 256-px input):

    predict(...)        -> masks (K, H, W) bool, scores (K,) float32, logits (K, h, w) float32
                           (masks are float32 logits with return_logits=True)
    predict_boxes(B x 4) -> masks (B, K, H, W),   scores (B, K),          logits (B, K, h, w)

Results are the official predictor's, unchanged: ``predict`` calls ``SamPredictor.predict``
and ``predict_boxes`` calls ``SamPredictor.predict_torch``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from segment_anything import SamPredictor
from segment_anything.modeling import Sam

from seglab._util import check_bool, check_int, pick_spelling
from seglab.images import as_rgb_uint8
from seglab.prompts import validate_box, validate_labels, validate_mask_input, validate_points
from seglab.sam.cache import CachedEmbedding, CacheKey, EmbeddingCache, ModelFingerprint
from seglab.sam.cache import image_fingerprint as _image_fingerprint

if TYPE_CHECKING:
    from seglab._types import ArrayLike, ImageLike

__all__ = ["BatchPredictionResult", "PredictionResult", "Predictor"]


def _scores_text(scores: np.ndarray) -> str:
    return "[" + ", ".join(f"{s:.2f}" for s in scores.tolist()) + "]"


@dataclass(frozen=True, eq=False, repr=False)
class PredictionResult:
    """The masks SAM predicted for one prompt.

    Attributes:
      masks (np.ndarray): (K, H, W) bool, one mask per candidate at the image's resolution;
        with ``predict(..., return_logits=True)``, float32 logits instead (> 0 means inside).
      scores (np.ndarray): (K,) float32, SAM's own estimate of each mask's IoU with the object
        you meant (higher is better; not a probability).
      logits (np.ndarray): (K, h, w) float32, low-resolution mask logits (> 0 means inside).
        Pass ``logits[best_index]`` back as ``mask_input`` to refine a mask with more clicks.

    ``best()`` is the mask with the highest *score*, not the largest one. ``len(result)`` is
    K, and ``for mask, score in result`` walks the candidates.
    """

    masks: np.ndarray
    scores: np.ndarray
    logits: np.ndarray

    def __post_init__(self) -> None:
        for name in ("masks", "scores", "logits"):  # lists in, arrays out
            object.__setattr__(self, name, np.asarray(getattr(self, name)))
        masks, scores, logits = self.masks, self.scores, self.logits
        if masks.ndim != 3 or scores.ndim != 1 or logits.ndim != 3:
            raise ValueError(
                f"PredictionResult wants masks (K, H, W), scores (K,), logits (K, h, w); got "
                f"shapes {masks.shape}, {scores.shape}, {logits.shape}."
            )
        if not masks.shape[0] == scores.shape[0] == logits.shape[0] >= 1:
            raise ValueError(
                f"PredictionResult got {masks.shape[0]} masks, {scores.shape[0]} scores and "
                f"{logits.shape[0]} logits; they must be the same K >= 1."
            )

    @property
    def best_index(self) -> int:
        """Index of the highest score (the first one on a tie)."""
        return int(np.argmax(self.scores))

    def best(self) -> np.ndarray:
        """The top-scoring mask, (H, W) bool."""
        return self.masks[self.best_index]

    def __len__(self) -> int:
        return int(self.masks.shape[0])

    def __iter__(self) -> Iterator[tuple[np.ndarray, float]]:
        yield from zip(self.masks, self.scores.tolist(), strict=True)

    def __repr__(self) -> str:
        k, h, w = self.masks.shape
        return (
            f"PredictionResult({k} mask{'s' if k != 1 else ''} of {h}x{w}, "
            f"scores={_scores_text(self.scores)}, best={self.best_index})"
        )


@dataclass(frozen=True, eq=False, repr=False)
class BatchPredictionResult:
    """The masks SAM predicted for B prompts (e.g. B boxes) on one image.

    Attributes:
      masks (np.ndarray): (B, K, H, W) bool.
      scores (np.ndarray): (B, K) float32.
      logits (np.ndarray): (B, K, h, w) float32.

    ``result[i]`` is the :class:`PredictionResult` of prompt i; ``best()`` stacks each
    prompt's top-scoring mask into (B, H, W).
    """

    masks: np.ndarray
    scores: np.ndarray
    logits: np.ndarray

    def __post_init__(self) -> None:
        for name in ("masks", "scores", "logits"):  # lists in, arrays out
            object.__setattr__(self, name, np.asarray(getattr(self, name)))
        masks, scores, logits = self.masks, self.scores, self.logits
        if masks.ndim != 4 or scores.ndim != 2 or logits.ndim != 4:
            raise ValueError(
                f"BatchPredictionResult wants masks (B, K, H, W), scores (B, K), logits "
                f"(B, K, h, w); got shapes {masks.shape}, {scores.shape}, {logits.shape}."
            )
        if not masks.shape[:2] == scores.shape == logits.shape[:2]:
            raise ValueError(
                f"BatchPredictionResult: masks {masks.shape}, scores {scores.shape} and logits "
                f"{logits.shape} disagree on (B, K)."
            )

    @property
    def best_indices(self) -> np.ndarray:
        """(B,) int64: the index of each prompt's highest score."""
        return np.argmax(self.scores, axis=1)

    def best(self) -> np.ndarray:
        """Each prompt's top-scoring mask, (B, H, W) bool."""
        return self.masks[np.arange(len(self)), self.best_indices]

    def __len__(self) -> int:
        return int(self.masks.shape[0])

    def __getitem__(self, index: int) -> PredictionResult:
        return PredictionResult(self.masks[index], self.scores[index], self.logits[index])

    def __iter__(self) -> Iterator[PredictionResult]:
        for index in range(len(self)):
            yield self[index]

    def __repr__(self) -> str:
        b, k, h, w = self.masks.shape
        best = self.scores.max(axis=1) if b else self.scores[:, 0]
        return (
            f"BatchPredictionResult({b} prompts x {k} mask{'s' if k != 1 else ''} of {h}x{w}, "
            f"best scores={_scores_text(best)})"
        )


class Predictor:
    """Prompt SAM on one image at a time: ``set_image`` once, then ``predict`` per prompt.

    Arguments:
      sam (segment_anything.modeling.Sam): the model, e.g. from ``seglab.sam.load_sam`` or
        ``seglab.sam.build_mini_sam()``, on the device it should run on (cuda, mps or cpu).
      cache (EmbeddingCache | None | False): where image embeddings are kept. None (default) or
        True: a private ``EmbeddingCache()``, in memory, of ``seglab.sam.cache.DEFAULT_MAX_ITEMS``
        (8) images. An ``EmbeddingCache`` to share one between predictors or keep embeddings on
        disk. False: no cache.

    Attributes:
      model (Sam): the model. ``device`` (torch.device): where it runs. ``original``
      (SamPredictor): the wrapped official predictor. ``cache`` (EmbeddingCache | None).

    Example::

        predictor = Predictor(build_mini_sam())
        predictor.set_image(image)                      # HxWx3 uint8 (or gray, RGBA, float...)
        result = predictor.predict(points=[[120, 80]])  # one foreground click at x=120, y=80
        mask = result.best()                            # (H, W) bool
    """

    def __init__(self, sam: Sam, *, cache: EmbeddingCache | bool | None = None) -> None:
        if isinstance(sam, (SamPredictor, Predictor)):
            raise TypeError(
                f"Predictor wants the SAM model, got a {type(sam).__name__}. "
                "Pass its model: Predictor(predictor.model)."
            )
        if not isinstance(sam, Sam):
            raise TypeError(
                f"Predictor wants a segment_anything Sam model, got {type(sam).__name__}. "
                "Load one with seglab.sam.load_sam(...) or build seglab.sam.build_mini_sam()."
            )
        if cache is None or cache is True:
            cache = EmbeddingCache()  # DEFAULT_MAX_ITEMS in memory, no disk
        elif cache is False:
            cache = None
        elif not isinstance(cache, EmbeddingCache):
            raise TypeError(
                f"cache must be an EmbeddingCache, None (a private one) or False (none), got "
                f"{type(cache).__name__}."
            )
        self._predictor = SamPredictor(sam)
        self._cache: EmbeddingCache | None = cache
        self._fingerprint = ModelFingerprint(sam)

    # ---- what learners may want to look at

    @property
    def model(self) -> Sam:
        return self._predictor.model

    @property
    def device(self) -> torch.device:
        return self._predictor.device

    @property
    def original(self) -> SamPredictor:
        """The wrapped ``segment_anything.SamPredictor`` (SAM's raw API)."""
        return self._predictor

    @property
    def cache(self) -> EmbeddingCache | None:
        return self._cache

    @property
    def is_image_set(self) -> bool:
        return bool(self._predictor.is_image_set)

    @property
    def image_size(self) -> tuple[int, int] | None:
        """(H, W) of the current image, or None when no image is set."""
        if not self._predictor.is_image_set:
            return None
        h, w = self._predictor.original_size
        return int(h), int(w)

    def __repr__(self) -> str:
        size = self.image_size
        image = f"{size[0]}x{size[1]}" if size else "none"
        return (
            f"Predictor(model=Sam(img_size={self.model.image_encoder.img_size}), "
            f"device={self.device}, image={image}, cache={self._cache!r})"
        )

    # ---- the image

    def set_image(self, image: ImageLike) -> None:
        """Compute (or restore from the cache) the embedding of ``image``.

        Arguments:
          image: HxWx3 uint8 RGB is the reference format (values in [0, 255], rows first);
            anything :func:`seglab.images.as_rgb_uint8` converts is accepted (gray, RGBA,
            float in [0, 1], CxHxW tensor, PIL image).

        Raises:
          TypeError, ValueError: the image cannot be converted (see ``as_rgb_uint8``).

        After any failure the predictor holds no image (``is_image_set`` is False).
        """
        self.reset_image()
        try:
            rgb = as_rgb_uint8(image)
            key = None
            if self._cache is not None:
                key = CacheKey(self._fingerprint.get(), _image_fingerprint(rgb))
                entry = self._cache.get(key)
                if entry is not None and self._restore(entry, rgb.shape[:2]):
                    return
            self._predictor.set_image(rgb, image_format="RGB")
            if key is not None and self._cache is not None:
                p = self._predictor
                self._cache.put(key, CachedEmbedding(p.features, p.original_size, p.input_size))
        except BaseException:
            self.reset_image()
            raise

    def _restore(self, entry: CachedEmbedding, hw: tuple[int, int]) -> bool:
        """Put a cached embedding into the SamPredictor; False if it does not fit this model."""
        p, sam = self._predictor, self.model
        expected_input = tuple(
            p.transform.get_preprocess_shape(hw[0], hw[1], p.transform.target_length)
        )
        expected_features = (
            1,
            sam.prompt_encoder.embed_dim,
            *sam.prompt_encoder.image_embedding_size,
        )
        if (
            tuple(entry.original_size) != tuple(hw)
            or tuple(entry.input_size) != expected_input
            or tuple(entry.features.shape) != expected_features
        ):
            return False  # cannot happen for an entry this code wrote; recompute to be safe
        p.reset_image()
        p.original_size = tuple(entry.original_size)
        p.input_size = tuple(entry.input_size)
        p.features = entry.features.to(device=self.device, copy=True)  # the cache keeps its own
        p.is_image_set = True
        return True

    def reset_image(self) -> None:
        """Forget the current image (the cache keeps its embedding)."""
        p = self._predictor
        p.reset_image()
        p.original_size = None
        p.input_size = None

    def refresh_fingerprint(self) -> str:
        """Re-hash the model's encoder weights now.

        Needed only after changing weights behind torch's back (through ``param.data`` or a
        NumPy view); every in-place torch operation is noticed automatically.
        """
        return self._fingerprint.refresh()

    # ---- prompts

    def _require_image(self) -> tuple[int, int]:
        size = self.image_size
        if size is None:
            raise RuntimeError(
                "No image is set: call predictor.set_image(image) first, then predict. "
                "(A failed set_image leaves no image set.)"
            )
        return size

    def predict(
        self,
        points: ArrayLike | None = None,
        labels: ArrayLike | None = None,
        box: ArrayLike | None = None,
        mask_input: ArrayLike | None = None,
        multimask: bool | None = None,
        return_logits: bool = False,
        *,
        point_coords: ArrayLike | None = None,
        point_labels: ArrayLike | None = None,
        multimask_output: bool | None = None,
    ) -> PredictionResult:
        """Predict masks for one prompt on the current image.

        Give at least one of ``points``, ``box`` and ``mask_input``; they combine.

        Arguments:
          points: Nx2 ``(x, y)`` pixel coordinates (x = column, y = row), or one ``[x, y]``.
            SAM's name ``point_coords=`` works too.
          labels: N labels, 1 = foreground, 0 = background; None = all foreground. SAM's name
            ``point_labels=`` works too.
          box: ``(x0, y0, x1, y1)`` in pixels, top-left and bottom-right corners.
          mask_input: (1, h, w) or (h, w) logits from a previous result,
            ``result.logits[result.best_index]``.
          multimask (bool): True (the default, also when None) returns 3 candidate masks (best
            for one ambiguous click), False returns 1 (better for several clicks or a box).
            SAM's name ``multimask_output=`` works too.
          return_logits (bool): False (default): ``masks`` are bool. True: ``masks`` are the
            float32 logits at the image's resolution, before SAM's threshold at 0 (as in SAM).

        The positional order is SAM's (``point_coords, point_labels, box, mask_input,
        multimask_output, return_logits``), so ``SamPredictor.predict`` calls work unchanged.
        Each argument has one value: passing both of its spellings is a TypeError.

        Returns:
          PredictionResult: masks (K, H, W), scores (K,), logits (K, h, w); K = 3 or 1.

        Raises:
          RuntimeError: no image set.
          ValueError, TypeError: no prompt, or a prompt that does not fit the image (see
            :mod:`seglab.prompts`); both spellings of one argument.
        """
        where = "Predictor.predict"
        points = pick_spelling(where, "points", points, "point_coords", point_coords)
        labels = pick_spelling(where, "labels", labels, "point_labels", point_labels)
        multimask = pick_spelling(
            where, "multimask", multimask, "multimask_output", multimask_output
        )
        multimask = True if multimask is None else check_bool(multimask, "multimask")
        return_logits = check_bool(return_logits, "return_logits")
        size = self._require_image()
        if points is None and box is None and mask_input is None:
            raise ValueError(
                "predict needs a prompt: points=[[x, y]] (clicks, with labels 1/0 for "
                "foreground/background), box=[x0, y0, x1, y1], and/or mask_input=logits of "
                "a previous result. Give at least one."
            )
        if points is None and labels is not None:
            raise ValueError("labels were given without points; pass points=[[x, y], ...] too.")
        coords = validate_points(points, size) if points is not None else None
        label_array = validate_labels(labels, len(coords)) if coords is not None else None
        box_array = None
        if box is not None:
            box_array = validate_box(box, size)
            if box_array.ndim == 2:
                if len(box_array) != 1:
                    raise ValueError(
                        f"predict takes one box, got {len(box_array)}. For many boxes at once "
                        "use predictor.predict_boxes(boxes)."
                    )
                box_array = box_array[0]
        low_res = None
        if mask_input is not None:
            low_res = validate_mask_input(mask_input, self.model.prompt_encoder.mask_input_size)

        masks, scores, logits = self._predictor.predict(
            point_coords=coords,
            point_labels=label_array,
            box=box_array,
            mask_input=low_res,
            multimask_output=multimask,
            return_logits=return_logits,
        )
        return PredictionResult(
            masks=np.asarray(masks, dtype=np.float32 if return_logits else bool),
            scores=np.asarray(scores, dtype=np.float32),
            logits=np.asarray(logits, dtype=np.float32),
        )

    def predict_boxes(
        self, boxes: ArrayLike, *, multimask: bool = False, batch_size: int = 16
    ) -> BatchPredictionResult:
        """Predict one object per box, for many boxes at once.

        The boxes go through SAM's batched torch path (``SamPredictor.predict_torch``),
        ``batch_size`` boxes per decoder call (the full-resolution masks of a batch are held in
        float32 before thresholding: batch_size x K x H x W x 4 bytes).

        Arguments:
          boxes: (B, 4) ``(x0, y0, x1, y1)`` pixel boxes, or one box (4,).
          multimask (bool): False (default) gives 1 mask per box, True gives 3.
          batch_size (int): boxes per decoder call (>= 1).

        Returns:
          BatchPredictionResult: masks (B, K, H, W) bool, scores (B, K), logits (B, K, h, w).
        """
        size = self._require_image()
        multimask = check_bool(multimask, "multimask")
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        array = validate_box(boxes, size)
        array = array.reshape(-1, 4)
        p = self._predictor
        # The same coordinate transform as SamPredictor.predict (float64 numpy, then float32),
        # so that a box gives the same mask here as in predict(box=...).
        transformed = p.transform.apply_boxes(array, p.original_size).astype(np.float32)
        masks, scores, logits = [], [], []
        for start in range(0, len(transformed), batch_size):
            chunk = torch.from_numpy(transformed[start : start + batch_size]).to(self.device)
            m, s, lg = p.predict_torch(None, None, boxes=chunk, multimask_output=multimask)
            masks.append(m.cpu().numpy())
            scores.append(s.float().cpu().numpy())
            logits.append(lg.float().cpu().numpy())
        return BatchPredictionResult(
            masks=np.concatenate(masks).astype(bool, copy=False),
            scores=np.concatenate(scores),
            logits=np.concatenate(logits),
        )
