"""Export SAM's prompt encoder and mask decoder to ONNX, as Meta's export script does, for any size.

Meta's ``scripts/export_onnx_model.py`` wraps a SAM in ``segment_anything.utils.onnx.SamOnnxModel``
and traces it with ``torch.onnx.export``. Two things go wrong with that recipe today, and
:func:`export_onnx` fixes both while keeping the script's inputs, outputs and dynamic axes:

- **The crop is frozen at export time.** In the segment-anything 1.0 wheel,
  ``SamOnnxModel.mask_postprocessing`` crops the padding away with Python ints
  (``masks[..., : int(h), : int(w)]``), which the tracer records as constants computed from the
  *example* ``orig_im_size``. An export made with a 1500 x 2250 example then crops every image
  as if it were 2 : 3, and the masks of a square image come out stretched. Upstream fixed this
  after 1.0 by slicing with tensors; :class:`SamOnnxExportModel` carries that fix.
- **torch's default exporter changed.** Since torch 2.9 ``torch.onnx.export`` uses the
  ``torch.export``-based exporter (``dynamo=True``), which needs ``onnxscript`` and cannot
  follow the data-dependent crop above. :func:`export_onnx` asks for the TorchScript-based
  exporter (``dynamo=False``) that the script was written for, on every torch from 2.1 on (torch
  before 2.5 has no ``dynamo`` argument and uses it anyway).

Exporting needs the ``onnx`` package (torch's exporter writes the file with it), running the file
``onnxruntime``; both are in seglab's ``dev`` extra (``pip install onnx onnxruntime``)::

    import numpy as np, onnxruntime
    from segment_anything import SamPredictor

    path = export_onnx(sam, "mini_sam_decoder.onnx")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    predictor = SamPredictor(sam)
    predictor.set_image(image)                                   # (H, W, 3) uint8 RGB
    coords = np.array([[[x, y], [0.0, 0.0]]], dtype=np.float32)  # a click + the padding point
    labels = np.array([[1, -1]], dtype=np.float32)               # -1: padding (no box given)
    masks, iou_predictions, low_res_masks = session.run(None, {
        "image_embeddings": predictor.get_image_embedding().cpu().numpy(),
        "point_coords": predictor.transform.apply_coords(coords, image.shape[:2]),
        "point_labels": labels,
        "mask_input": np.zeros((1, 1, 64, 64), dtype=np.float32),  # mini-SAM: 4 x its 16 x 16
        "has_mask_input": np.zeros(1, dtype=np.float32),
        "orig_im_size": np.array(image.shape[:2], dtype=np.float32),
    })
    mask = masks[0, 0] > sam.mask_threshold                      # (H, W) bool

``seglab.sam.export_onnx`` imports this module (and with it torch) only when first used.
"""

from __future__ import annotations

import inspect
import os
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from segment_anything.modeling import Sam
from segment_anything.utils.onnx import SamOnnxModel

from seglab._util import atomic_path, check_int

#: Input names, in order, as in Meta's export script and ``notebooks/onnx_model_example.ipynb``.
ONNX_INPUT_NAMES: tuple[str, ...] = (
    "image_embeddings",
    "point_coords",
    "point_labels",
    "mask_input",
    "has_mask_input",
    "orig_im_size",
)
#: Output names, as in Meta's export script.
ONNX_OUTPUT_NAMES: tuple[str, ...] = ("masks", "iou_predictions", "low_res_masks")
#: Output names with ``return_extra_metrics=True`` (the order ``SamOnnxModel`` returns them in).
ONNX_EXTRA_METRICS_OUTPUT_NAMES: tuple[str, ...] = (
    "masks",
    "iou_predictions",
    "stability_scores",
    "areas",
    "low_res_masks",
)
#: The number of prompt points is free; everything else has the shape of the example inputs.
#: The mask size (H, W) follows the *values* of ``orig_im_size``, so one file serves all sizes.
ONNX_DYNAMIC_AXES: dict[str, dict[int, str]] = {
    "point_coords": {1: "num_points"},
    "point_labels": {1: "num_points"},
}
#: The oldest ONNX opset Meta's script supports; and the default it uses.
MIN_OPSET = 11
DEFAULT_OPSET = 17


class SamOnnxExportModel(SamOnnxModel):
    """``SamOnnxModel`` with upstream's traceable ``mask_postprocessing``.

    Identical to segment-anything's ``SamOnnxModel`` (same inputs, outputs and options) except
    that the crop of the padded ``img_size`` x ``img_size`` mask back to the resized image is
    sliced with tensors, so a traced export crops each image by its own ``orig_im_size``
    instead of by the example's.
    """

    def mask_postprocessing(self, masks: torch.Tensor, orig_im_size: torch.Tensor) -> torch.Tensor:
        """Upscale low-res mask logits to the original image.

        Arguments:
          masks (torch.Tensor): (B, M, h, w) float logits from the decoder (h = w = 4 x the
            embedding grid: 256 for ViT-B/L/H; for mini-SAM, e.g. 128 at a 256-px input).
          orig_im_size (torch.Tensor): (2,) float, the original image's (H, W) in pixels.

        Returns:
          torch.Tensor: (B, M, H, W) float logits; a pixel is in the mask where > 0.
        """
        masks = F.interpolate(
            masks, size=(self.img_size, self.img_size), mode="bilinear", align_corners=False
        )
        # 0-d tensors (not int()) as slice ends: the tracer records them as computed values.
        prepadded_size = self.resize_longest_image_size(orig_im_size, self.img_size)
        masks = masks[..., : prepadded_size[0], : prepadded_size[1]]
        orig_im_size = orig_im_size.to(torch.int64)
        h, w = orig_im_size[0], orig_im_size[1]
        # size: 0-d tensors, not ints (see above); torch's annotation says Sequence[int]
        return F.interpolate(masks, size=(h, w), mode="bilinear", align_corners=False)  # type: ignore[arg-type]


def _example_inputs(sam: Sam) -> dict[str, torch.Tensor]:
    """Inputs to trace with, shaped as in Meta's script (on the CPU)."""
    embed_dim = sam.prompt_encoder.embed_dim
    grid = sam.prompt_encoder.image_embedding_size  # (16, 16) for mini, (64, 64) for ViT-B/L/H
    low_res = [4 * x for x in grid]
    img_size = sam.image_encoder.img_size
    generator = torch.Generator().manual_seed(0)
    return {
        "image_embeddings": torch.randn(1, embed_dim, *grid, generator=generator),
        "point_coords": torch.randint(0, img_size, (1, 5, 2), generator=generator).float(),
        "point_labels": torch.randint(0, 4, (1, 5), generator=generator).float(),
        "mask_input": torch.randn(1, 1, *low_res, generator=generator),
        "has_mask_input": torch.tensor([1.0]),
        "orig_im_size": torch.tensor([1500.0, 2250.0]),  # not square, as in Meta's script
    }


def _check_arguments(sam: object, path: object, opset: object) -> Path:
    if not isinstance(sam, Sam):
        raise TypeError(
            f"export_onnx needs a segment_anything Sam model, got {type(sam).__name__}. Load "
            "one first: sam = seglab.sam.load_sam('mini') (or sam_model_registry[...](...))."
        )
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be a file path (str or Path), got {type(path).__name__}; "
            "e.g. export_onnx(sam, 'sam_decoder.onnx')."
        )
    opset = check_int(opset, "opset", hint=f"Pass e.g. opset={DEFAULT_OPSET}.")
    if opset < MIN_OPSET:
        raise ValueError(
            f"opset {opset} is too old for SAM's decoder: use {MIN_OPSET} or newer "
            f"(Meta's script uses {DEFAULT_OPSET}, the default)."
        )
    target = Path(path).expanduser()
    if str(path) == "" or target.is_dir():
        raise ValueError(
            f"path {str(path)!r} is a folder (or empty), not a file name: "
            "give the file to write, e.g. Path(folder) / 'sam_decoder.onnx'."
        )
    return target


def export_onnx(
    sam: Sam,
    path: str | os.PathLike[str],
    *,
    return_single_mask: bool = False,
    use_stability_score: bool = False,
    return_extra_metrics: bool = False,
    opset: int = DEFAULT_OPSET,
) -> Path:
    """Export ``sam``'s prompt encoder and mask decoder to one ONNX file, for any image size.

    Does what Meta's ``scripts/export_onnx_model.py`` does (same options, input names, output
    names and dynamic axes), with the two fixes described in this module's docstring. The image
    encoder is not exported: compute ``image_embeddings`` with ``SamPredictor.set_image`` and
    ``get_image_embedding()``. The file is written to a temporary file beside ``path`` and
    renamed, so a failed export leaves no file (and an older ``path`` untouched).

    The file's inputs (float32 NumPy arrays; grid = ``sam.prompt_encoder.image_embedding_size``,
    16 x 16 for mini-SAM, 64 x 64 for ViT-B/L/H):

    - ``image_embeddings``: (1, C, *grid), C = ``sam.prompt_encoder.embed_dim``.
    - ``point_coords``: (1, N, 2), (x, y) pixel coordinates already mapped into the model's
      resized frame by ``ResizeLongestSide(img_size).apply_coords(coords, (H, W))``
      (``predictor.transform``). Without a box, append a padding point (0, 0).
    - ``point_labels``: (1, N): 1 foreground, 0 background, 2 / 3 box top-left / bottom-right
      corner, -1 the padding point.
    - ``mask_input``: (1, 1, 4 * grid) low-res logits from an earlier prediction, or zeros.
    - ``has_mask_input``: (1,): 1.0 when ``mask_input`` is used, else 0.0.
    - ``orig_im_size``: (2,): the original image's (H, W).

    Its outputs (float32): ``masks`` (1, M, H, W) logits, a pixel is in a mask where
    > ``sam.mask_threshold`` (0.0); ``iou_predictions`` (1, M); ``low_res_masks``
    (1, M, 4 * grid) logits. M = 4 by default: index 0 is SamPredictor's
    ``multimask_output=False`` mask, 1 to 3 its three ``multimask_output=True`` masks. With
    ``return_single_mask=True`` M = 1: with more than one click the single-mask output, else
    the multimask output with the best predicted IoU. With ``return_extra_metrics=True`` there
    are five outputs (:data:`ONNX_EXTRA_METRICS_OUTPUT_NAMES`).

    Arguments:
      sam (Sam): the model, on any device (mini-SAM: ``seglab.sam.load_sam("mini")``). Its
        weights are not changed.
      path (str | PathLike): the .onnx file to write; missing folders are created.
      return_single_mask (bool): output one mask per prompt instead of four (faster for large
        images).
      use_stability_score (bool): replace the predicted IoU by the stability score of the
        low-res masks.
      return_extra_metrics (bool): also output stability scores and mask areas.
      opset (int): the ONNX opset, at least 11; default 17 as in Meta's script.

    Returns:
      Path: the file written.

    Raises:
      TypeError: ``sam`` is not a SAM, ``path`` not a path, ``opset`` not an int.
      ValueError: ``opset`` below 11, or ``path`` names a folder.
      ModuleNotFoundError: the ``onnx`` package is not installed.
    """
    target = _check_arguments(sam, path, opset)
    try:
        import onnx  # noqa: F401  (torch's exporter imports it late, after the slow tracing)
    except ImportError as error:
        raise ModuleNotFoundError(
            "export_onnx needs the 'onnx' package, which torch uses to write the file: "
            "pip install onnx onnxruntime (or pip install -e '.[dev]' in a seglab checkout)."
        ) from error
    onnx_model = SamOnnxExportModel(
        model=sam,
        return_single_mask=return_single_mask,
        use_stability_score=use_stability_score,
        return_extra_metrics=return_extra_metrics,
    )
    inputs = {name: x.to(sam.device) for name, x in _example_inputs(sam).items()}
    output_names = ONNX_EXTRA_METRICS_OUTPUT_NAMES if return_extra_metrics else ONNX_OUTPUT_NAMES
    options: dict[str, object] = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:  # torch >= 2.5
        options["dynamo"] = False  # the TorchScript exporter (see the module docstring)

    target.parent.mkdir(parents=True, exist_ok=True)
    # written under a temporary name and renamed (0644: a model file is meant to be shared),
    # so a failed export leaves nothing at the target
    with atomic_path(target, mode=0o644) as tmp, warnings.catch_warnings():
        # Expected and harmless, and nothing the caller can act on: the tracer's notes on
        # Python values it sees; torch >= 2.9 calling the TorchScript exporter (and parts of
        # it) deprecated; the note that select_masks' indexing assumes indices >= 0 (they
        # come from argmax).
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="Exporting aten::index operator")
        torch.onnx.export(
            onnx_model,
            tuple(inputs[name] for name in ONNX_INPUT_NAMES),
            str(tmp),  # a str: what every supported torch version accepts
            export_params=True,
            input_names=list(ONNX_INPUT_NAMES),
            output_names=list(output_names),
            dynamic_axes=ONNX_DYNAMIC_AXES,
            opset_version=int(opset),
            **options,  # type: ignore[arg-type]  # only dynamo=False, a bool
        )
    return target
