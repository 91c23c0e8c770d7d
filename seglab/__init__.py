"""seglab: the helper package of the seglab image-segmentation course.

``import seglab`` is deliberately light: it imports no torch, matplotlib, Jupyter or widget
code, downloads nothing and probes no GPU. Each public name below is imported from its module
the first time you touch it (PEP 562 module ``__getattr__``), so ``seglab.iou`` costs only the
metrics module and ``seglab.show_mask`` only matplotlib.

Modules, one job each:

- ``seglab.device``   pick a device, describe the environment, seed everything
- ``seglab.images``   turn what you pass into an HxWx3 uint8 image; open image files; sample photos
- ``seglab.prompts``  validate SAM points, labels and boxes against an image size
- ``seglab.viz``      show masks, points and boxes; overlays; all of SAM's generated masks
- ``seglab.legend``   the key of an overlay's class colours
- ``seglab.metrics``  IoU, Dice, pixel accuracy, confusion matrix, mean IoU
- ``seglab.data``     synthetic scenes with exact semantic and instance labels
- ``seglab.voc``      Pascal VOC's 21 class names, its palette, reading label PNGs as class ids
- ``seglab.unet``     the course's U-Net, configurable, with input checks that compute the fix
- ``seglab.losses``   cross-entropy + soft Dice, and the target checks that explain bad labels
- ``seglab.train``    a small training/evaluation loop with progress and history
- ``seglab.callbacks`` ``EarlyStopping``: stop when validation stops improving, keep the best
- ``seglab.sam``      SAM checkpoints, loading, the Predictor, mini-SAM
- ``seglab.widgets``  the click-to-segment widget (its frontend imported only when used)
- ``seglab.checks``   the exercise checkers
- ``seglab.claims``   ``claim``: a lesson's sentence about a result, checked against the run
- ``seglab.quizzes``  ``quiz("02")``: each lesson's Quick Quiz, as a widget or as text

Renamed in 0.2.0 (the old names still work, with a ``DeprecationWarning``, until 0.3.0; see
CHANGELOG.md): ``seglab.predict`` -> ``seglab.predict_labels`` (the U-Net's label maps, not
SAM's ``predictor.predict``) and ``UNet(n_classes=...)`` -> ``UNet(num_classes=...)``.
"""

from __future__ import annotations

import importlib
from typing import Any

from seglab._compat import check_installed_versions
from seglab._util import warn_deprecated

__version__ = "0.2.0"

check_installed_versions()  # a torch built for NumPy 1 beside NumPy 2 fails here, with the fix

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "get_device": "seglab.device",
    "describe_environment": "seglab.device",
    "seed_everything": "seglab.device",
    "as_rgb_uint8": "seglab.images",
    "load_sample": "seglab.images",
    "load_image": "seglab.images",
    "list_samples": "seglab.images",
    "show_mask": "seglab.viz",
    "show_points": "seglab.viz",
    "show_box": "seglab.viz",
    "show_masks": "seglab.viz",
    "show_anns": "seglab.viz",
    "overlay": "seglab.viz",
    "class_legend": "seglab.legend",
    "class_colors": "seglab.legend",
    "iou": "seglab.metrics",
    "dice": "seglab.metrics",
    "pixel_accuracy": "seglab.metrics",
    "confusion_matrix": "seglab.metrics",
    "mean_iou": "seglab.metrics",
    "per_class_iou": "seglab.metrics",
    "iou_from_confusion": "seglab.metrics",
    "mean_iou_from_confusion": "seglab.metrics",
    "UNet": "seglab.unet",
    "UNetConfig": "seglab.unet",
    "shape_trace": "seglab.unet",
    "count_parameters": "seglab.unet",
    "pad_to_multiple": "seglab.unet",
    "crop_to": "seglab.unet",
    "train": "seglab.train",
    "evaluate": "seglab.train",
    "predict_labels": "seglab.train",
    "History": "seglab.train",
    "EarlyStopping": "seglab.callbacks",
    "dice_loss": "seglab.losses",
    "SamClicker": "seglab.widgets",
    "claim": "seglab.claims",
    "quiz": "seglab.quizzes",
    "ClaimError": "seglab.claims",
}

# public name -> its name in the defining module, where the two differ
_DEFINED_AS: dict[str, str] = {
    "predict_labels": "predict",  # seglab.train.predict
}

# old name -> new name: still served, with a DeprecationWarning, until _REMOVED_IN
_RENAMED: dict[str, str] = {
    "predict": "predict_labels",  # collided with SAM's predictor.predict
}
_REMOVED_IN = "0.3.0"

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:  # Any: each lazy name has its own type (PEP 562)
    if name in _RENAMED:
        new = _RENAMED[name]
        warn_deprecated(f"seglab.{name}", f"seglab.{new}", removed_in=_REMOVED_IN)
        return getattr(importlib.import_module(_EXPORTS[new]), _DEFINED_AS.get(new, new))
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'seglab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _DEFINED_AS.get(name, name))
    globals()[name] = value  # cache: the next access is a plain attribute lookup
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
