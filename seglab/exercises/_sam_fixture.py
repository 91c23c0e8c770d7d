"""The small SAM the exercise checkers prompt: mini-SAM with fixed random weights, no file.

The checks compare a learner's masks with the reference's on the same model, so trained weights
are not needed; each question module picks the seed and the scene that make its cases telling.
"""

from __future__ import annotations

import functools

import numpy as np
import torch


@functools.cache
def random_mini_sam(seed: int):  # -> segment_anything Sam; untyped: keeps the import lazy
    """A mini-SAM whose weights come from ``torch.manual_seed(seed)`` (global RNG untouched)."""
    from seglab.sam.mini import build_mini_sam

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_mini_sam()


@functools.cache
def scene_image(seed: int, size: tuple[int, int]) -> np.ndarray:
    """The (H, W, 3) uint8 image of ``make_scene(seed, size, n_objects=3)``."""
    from seglab.data import make_scene

    return make_scene(seed, size=size, n_objects=3).image


def predictor(sam_seed: int, image_seed: int, size: tuple[int, int], image_set: bool = True):
    """A fresh segment_anything ``SamPredictor`` on that SAM, with that scene set (or none)."""
    from segment_anything import SamPredictor

    sam_predictor = SamPredictor(random_mini_sam(sam_seed))
    if image_set:
        sam_predictor.set_image(scene_image(image_seed, size))
    return sam_predictor
