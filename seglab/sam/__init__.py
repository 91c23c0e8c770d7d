"""Segment Anything in seglab: checkpoints, loading, the Predictor and mini-SAM.

Modules, one job each:

- ``registry``   the models (vit_b, vit_l, vit_h, mini): files, sizes, SHA-256; ``list_models``
- ``download``   ``download_checkpoint``: pooch, hash-checked, retried, never a corrupt file
- ``loading``    ``load_sam`` and ``detect_model_type``: safe loading that explains bad files
- ``predictor``  ``Predictor``: SamPredictor with checked prompts and named results
- ``cache``      ``EmbeddingCache``: one encode per image and model, in memory or on disk
- ``mini``       mini-SAM, the small SAM that ships with seglab; ``train_mini`` trains it and
                 ``evaluate_mini`` measures it on held-out scenes
- ``hub``        ``register_in_segment_anything``: ``sam_model_registry["mini"]`` for Meta's tools
- ``onnx``       ``export_onnx``: the prompt encoder and mask decoder as one ONNX file, any size

Importing ``seglab.sam`` imports nothing heavy; names resolve on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "MiniSamConfig": "seglab.sam.mini",
    "build_mini_sam": "seglab.sam.mini",
    "ModelInfo": "seglab.sam.registry",
    "get_model_info": "seglab.sam.registry",
    "get_cache_dir": "seglab.sam.registry",
    "list_models": "seglab.sam.registry",
    "download_checkpoint": "seglab.sam.download",
    "CheckpointDownloadError": "seglab.sam.download",
    "load_sam": "seglab.sam.loading",
    "detect_model_type": "seglab.sam.loading",
    "UnsafeCheckpointError": "seglab.sam.loading",
    "Predictor": "seglab.sam.predictor",
    "PredictionResult": "seglab.sam.predictor",
    "BatchPredictionResult": "seglab.sam.predictor",
    "EmbeddingCache": "seglab.sam.cache",
    "register_in_segment_anything": "seglab.sam.hub",
    "export_onnx": "seglab.sam.onnx",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:  # Any: each lazy name has its own type (PEP 562)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'seglab.sam' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
