"""SAM's part of labelling one image: masks for its boxes (or for everything), then a label map.

:class:`Segmenter` wraps one SAM model for :func:`seglab.label.label_folder`. For each image it
computes the image embedding **once** (the encoder is nearly all of SAM's work) and then

- :meth:`Segmenter.masks_for_boxes` decodes one mask per box prompt, all boxes of the image in
  batches through ``SamPredictor.predict_torch`` (one mask per box: SAM's authors recommend a
  single output for box prompts, which are rarely ambiguous), or
- :meth:`Segmenter.all_masks` runs ``SamAutomaticMaskGenerator`` (a grid of point prompts,
  filtered by predicted IoU and stability, duplicates removed) when there are no prompts.

:func:`paint_labels` turns masks into the uint8 label map that the label PNGs hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from segment_anything.modeling import Sam

__all__ = ["AutoSettings", "Segmenter", "paint_labels"]

#: Boxes decoded together in one call of the mask decoder (bounds its memory on many boxes).
BOX_BATCH = 64


@dataclass(frozen=True)
class AutoSettings:
    """Settings of automatic mask generation (SAM's ``SamAutomaticMaskGenerator``).

    Attributes:
      points_per_side (int): the grid of point prompts is points_per_side x points_per_side.
      pred_iou_thresh (float): in [0, 1]; masks whose predicted IoU is lower are dropped.
      stability_score_thresh (float): in [0, 1]; masks that change more than this when the
        mask threshold moves are dropped.

    The defaults are SAM's own (32, 0.88, 0.95).
    """

    points_per_side: int = 32
    pred_iou_thresh: float = 0.88
    stability_score_thresh: float = 0.95


class Segmenter:
    """One SAM model, ready to label images one after another.

    Arguments:
      sam (segment_anything.modeling.Sam): e.g. ``seglab.sam.load_sam("mini")``, on its device.
      auto (AutoSettings): settings for :meth:`all_masks`.
    """

    def __init__(self, sam: Sam, auto: AutoSettings | None = None) -> None:
        from segment_anything import SamAutomaticMaskGenerator, SamPredictor

        self.auto = auto or AutoSettings()
        self._predictor = SamPredictor(sam)
        self._generator = SamAutomaticMaskGenerator(
            sam,
            points_per_side=self.auto.points_per_side,
            pred_iou_thresh=self.auto.pred_iou_thresh,
            stability_score_thresh=self.auto.stability_score_thresh,
            output_mode="binary_mask",
        )

    def masks_for_boxes(
        self, image: np.ndarray, boxes: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One mask per box prompt; the image is embedded once.

        Arguments:
          image (np.ndarray): (H, W, 3) uint8 RGB, values in [0, 255].
          boxes (np.ndarray): (N, 4) float, XYXY (x0, y0, x1, y1) in pixels, x = column.

        Returns:
          masks (np.ndarray): (N, H, W) bool, ``masks[i, y, x]``.
          scores (np.ndarray): (N,) float32, SAM's predicted IoU of each mask, about [0, 1].
        """
        import torch

        h, w = image.shape[:2]
        n = len(boxes)
        masks = np.zeros((n, h, w), dtype=bool)
        scores = np.zeros(n, dtype=np.float32)
        if n == 0:
            return masks, scores
        predictor = self._predictor
        predictor.set_image(image)  # the one encoder pass for this image
        with torch.inference_mode():
            for start in range(0, n, BOX_BATCH):
                chunk = torch.as_tensor(
                    boxes[start : start + BOX_BATCH], dtype=torch.float32, device=predictor.device
                )
                chunk = predictor.transform.apply_boxes_torch(chunk, (h, w))  # (B, 4) model px
                got, iou, _ = predictor.predict_torch(None, None, chunk, multimask_output=False)
                masks[start : start + len(chunk)] = got[:, 0].cpu().numpy()  # (B, H, W)
                scores[start : start + len(chunk)] = iou[:, 0].float().cpu().numpy()
        predictor.reset_image()
        return masks, scores

    def all_masks(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every mask automatic generation finds (one encoder pass: no crops).

        Arguments:
          image (np.ndarray): (H, W, 3) uint8 RGB, values in [0, 255].

        Returns:
          masks (np.ndarray): (N, H, W) bool, in the generator's order.
          scores (np.ndarray): (N,) float32, predicted IoU of each mask.
          boxes (np.ndarray): (N, 4) int64, each mask's bounding box as COCO XYWH in pixels.
        """
        found = self._generator.generate(image)
        h, w = image.shape[:2]
        masks = np.zeros((len(found), h, w), dtype=bool)
        for i, record in enumerate(found):
            masks[i] = record["segmentation"]
        scores = np.array([r["predicted_iou"] for r in found], dtype=np.float32)
        boxes = np.array([r["bbox"] for r in found], dtype=np.int64).reshape(-1, 4)
        return masks, scores, boxes


def paint_labels(masks: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """The label map of some masks: where masks overlap, the higher predicted IoU wins.

    Masks are painted in increasing order of score, so the best one is painted last; between
    equal scores the later mask wins.

    Arguments:
      masks (np.ndarray): (N, H, W) bool.
      scores (np.ndarray): (N,) float, the masks' predicted IoU.
      classes (np.ndarray): (N,) int, class ids in 1..255.

    Returns:
      np.ndarray: (H, W) uint8, the class id of the winning mask at each pixel, 0 elsewhere.
    """
    labels = np.zeros(masks.shape[1:], dtype=np.uint8)
    order = np.argsort(np.asarray(scores, dtype=np.float64), kind="stable")
    for i in order:
        labels[masks[i]] = np.uint8(classes[i])
    return labels
