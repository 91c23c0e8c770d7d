"""Segment Anything in seglab: checkpoints, loading, the Predictor and mini-SAM.

Importing ``seglab.sam`` imports nothing heavy; names resolve on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    "MiniSamConfig": "seglab.sam.mini",
    "build_mini_sam": "seglab.sam.mini",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'seglab.sam' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
