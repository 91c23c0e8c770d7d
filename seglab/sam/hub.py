"""Put mini-SAM into ``segment_anything.sam_model_registry``, beside Meta's ViT-B/L/H.

Code written for the official models picks its model by name from that registry, as Meta's
``scripts/amg.py`` and ``scripts/export_onnx_model.py`` do::

    sam = sam_model_registry[model_type](checkpoint=checkpoint)

After :func:`register_in_segment_anything` the same line works with ``model_type="mini"``::

    import seglab.sam
    from segment_anything import SamAutomaticMaskGenerator, sam_model_registry

    seglab.sam.register_in_segment_anything()
    sam = sam_model_registry["mini"](checkpoint=None)   # the weights that ship with seglab
    masks = SamAutomaticMaskGenerator(sam, points_per_side=16).generate(image)

The builder goes through :func:`seglab.sam.load_sam`, so a checkpoint file is read with
``torch.load(..., weights_only=True)`` and a bad file gets an explanation, not a stack of
"size mismatch" lines.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keep importing this module as light as importing seglab.sam
    from segment_anything.modeling import Sam

#: The key under which mini-SAM is registered.
REGISTRY_NAME = "mini"


def build_sam_mini(checkpoint: str | os.PathLike[str] | Mapping[str, object] | None = None) -> Sam:
    """Build mini-SAM the way ``segment_anything.build_sam_vit_b(checkpoint)`` builds ViT-B.

    This is the function registered as ``sam_model_registry["mini"]``. Like Meta's builders it
    returns the model on the CPU, in eval mode; move it with ``sam.to(device)``.

    Arguments:
      checkpoint (str | PathLike | Mapping | None): None for the mini-SAM weights that ship
        inside seglab (no download); else a mini-SAM checkpoint file, e.g. one written by
        ``seglab.sam.mini.save_mini_checkpoint``, or the dict such a file holds.

    Returns:
      segment_anything.modeling.Sam: float32 weights, on the CPU, in eval mode. It takes
      256 x 256 inputs (``sam.image_encoder.img_size``); ``SamPredictor`` and
      ``SamAutomaticMaskGenerator`` resize images to that themselves.

    Raises:
      TypeError: ``checkpoint`` is not None, a path or a dict.
      ValueError: the file is not a mini-SAM checkpoint (an official ViT file, a damaged or
        non-checkpoint file); the message says which and what to use instead.
      FileNotFoundError: no file at ``checkpoint``.
    """
    if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike, Mapping)):
        raise TypeError(
            f'sam_model_registry["{REGISTRY_NAME}"] takes checkpoint=None (the weights that '
            "ship with seglab) or the path of a mini-SAM checkpoint file, got "
            f"{type(checkpoint).__name__}: {checkpoint!r:.60}."
        )
    if isinstance(checkpoint, str) and not checkpoint.strip():
        raise ValueError(
            f'sam_model_registry["{REGISTRY_NAME}"] got checkpoint="", which names no file. '
            "Pass checkpoint=None for the weights that ship with seglab, or a file path."
        )
    from seglab.sam.loading import load_sam

    return load_sam("mini", checkpoint=checkpoint, device="cpu")


def _is_ours(builder: object) -> bool:
    # By name, not identity: importlib.reload(seglab.sam.hub) makes a new, equivalent function.
    return (
        getattr(builder, "__module__", None) == __name__
        and getattr(builder, "__qualname__", None) == build_sam_mini.__qualname__
    )


def register_in_segment_anything() -> None:
    """Register mini-SAM as ``segment_anything.sam_model_registry["mini"]``.

    Afterwards ``sam_model_registry["mini"]`` is :func:`build_sam_mini`:
    ``sam_model_registry["mini"](checkpoint=None)`` returns the mini-SAM that ships with
    seglab, and ``sam_model_registry["mini"](checkpoint=path)`` one saved in a file. Scripts
    written for the official models run with ``model_type="mini"``.

    Calling it again does nothing (idempotent). The other entries (``"default"``, ``"vit_h"``,
    ``"vit_l"``, ``"vit_b"`` and any added by other code) are left as they are. It imports
    segment_anything (and so torch), and builds or reads nothing.

    Raises:
      ValueError: another package already registered a different builder as ``"mini"``;
        seglab does not overwrite it. Remove that entry first (``del
        sam_model_registry["mini"]``) if you want seglab's.
    """
    from segment_anything import sam_model_registry

    existing = sam_model_registry.get(REGISTRY_NAME)
    if existing is not None and not _is_ours(existing):
        where = f"{getattr(existing, '__module__', '?')}.{getattr(existing, '__qualname__', '?')}"
        raise ValueError(
            f'segment_anything.sam_model_registry["{REGISTRY_NAME}"] is already {where}, not '
            "seglab's mini-SAM builder; seglab leaves it alone. Delete that entry first "
            f'(del sam_model_registry["{REGISTRY_NAME}"]) to register seglab\'s.'
        )
    sam_model_registry[REGISTRY_NAME] = build_sam_mini
