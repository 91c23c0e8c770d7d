"""Every exercise question against its reference, its placeholder and known wrong answers.

For each question: the reference solution passes; the learner copy's placeholder (a function
that raises NotImplementedError("your code here"), or ``...``) is "not attempted yet"; and
each of several typical mistakes fails with a message that names the case it fails on.
The reference functions must also be the code of the solution notebooks, so that
``q.solution()`` shows what the notebook shows.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import numpy as np
import pytest

import seglab.exercises
from seglab.checks import PLACEHOLDER_MESSAGE, Question
from seglab.prompts import validate_points
from seglab.sam.predictor import PredictionResult
from seglab.unet import UNet, count_parameters

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "exercises" / "solutions"


def _modules():
    names = [m.name for m in pkgutil.iter_modules(seglab.exercises.__path__) if m.name[:2] == "ex"]
    return [importlib.import_module(f"seglab.exercises.{name}") for name in sorted(names)]


MODULES = _modules()
QUESTIONS = {
    f"{module.__name__.rsplit('.', 1)[1]}.{name}": value
    for module in MODULES
    for name, value in vars(module).items()
    if isinstance(value, Question)
}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """The models here are tiny: one thread is faster than two fighting for a busy CPU."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _placeholder(*args, **kwargs):
    raise NotImplementedError(PLACEHOLDER_MESSAGE)


# --------------------------------------------------------------------------- known wrong answers
# "module.qN": [(what the mistake is, the wrong function, a fragment the message must contain)]

WRONG: dict[str, list[tuple[str, Callable, str]]] = {}


def wrong(question: str, fragment: str):
    """Register the decorated function as a known wrong answer to ``question``."""

    def register(fn: Callable) -> Callable:
        WRONG.setdefault(question, []).append((fn.__name__, fn, fragment))
        return fn

    return register


def _b(x):
    return np.asarray(x, dtype=bool)


# ---- ex01 q1: IoU


@wrong("ex01_masks.q1", "pred has 3 pixels, target 2")
def iou_divides_by_the_target_only(pred, target):
    return float((_b(pred) & _b(target)).sum() / _b(target).sum())


@wrong("ex01_masks.q1", "identical masks")
def iou_union_counts_the_overlap_twice(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() / (pred.sum() + target.sum()))


@wrong("ex01_masks.q1", "identical masks")
def iou_off_by_one_in_the_union(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() / ((pred | target).sum() + 1))


@wrong("ex01_masks.q1", "0/1 uint8 arrays instead of bool")
def iou_adds_integer_masks(pred, target):
    pred, target = np.asarray(pred), np.asarray(target)
    inter = (pred * target).sum()
    return float(inter / (pred + target).sum())


@wrong("ex01_masks.q1", "pred has 3 pixels, target 2")
def iou_integer_division(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() // (pred | target).sum())


@wrong("ex01_masks.q1", "pred has 3 pixels, target 2")
def iou_recall_by_another_name(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() / min(pred.sum(), target.sum()))


# ---- ex01 q2: Dice


@wrong("ex01_masks.q2", "identical masks")
def dice_over_the_union(pred, target):
    pred, target = _b(pred), _b(target)
    return float(2 * (pred & target).sum() / (pred | target).sum())


@wrong("ex01_masks.q2", "identical masks")
def dice_without_the_two(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() / (pred.sum() + target.sum()))


@wrong("ex01_masks.q2", "pred has 3 pixels, target 2")
def dice_is_really_iou(pred, target):
    pred, target = _b(pred), _b(target)
    return float((pred & target).sum() / (pred | target).sum())


@wrong("ex01_masks.q2", "identical masks")
def dice_counts_agreeing_background(pred, target):
    pred, target = _b(pred), _b(target)
    return float(2 * (pred == target).sum() / (pred.sum() + target.sum()))


# ---- ex01 q3: robust IoU


@wrong("ex01_masks.q3", "both masks empty")
def robust_iou_divides_by_zero(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    if pred.shape != target.shape:
        raise ValueError(f"shapes {pred.shape} and {target.shape} differ")
    return float((pred & target).sum() / (pred | target).sum())


@wrong("ex01_masks.q3", "both masks empty")
def robust_iou_scores_empty_as_zero(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    if pred.shape != target.shape:
        raise ValueError(f"shapes {pred.shape} and {target.shape} differ")
    union = (pred | target).sum()
    return 0.0 if union == 0 else float((pred & target).sum() / union)


@wrong("ex01_masks.q3", "both masks empty")
def robust_iou_python_division(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    if pred.shape != target.shape:
        raise ValueError(f"shapes {pred.shape} and {target.shape} differ")
    return int((pred & target).sum()) / int((pred | target).sum())


@wrong("ex01_masks.q3", "numpy would broadcast it silently")
def robust_iou_trusts_broadcasting(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    union = (pred | target).sum()
    return 1.0 if union == 0 else float((pred & target).sum() / union)


@wrong("ex01_masks.q3", "1x3x3 (a SAM mask that was not squeezed)")
def robust_iou_compares_sizes_not_shapes(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    if pred.size != target.size:
        raise ValueError(f"sizes {pred.size} and {target.size} differ")
    union = (pred | target).sum()
    return 1.0 if union == 0 else float((pred & target).sum() / union)


@wrong("ex01_masks.q3", "pred is None")
def robust_iou_lets_none_become_a_shape_error(pred, target):
    pred, target = _b(pred), _b(target)  # np.asarray(None, bool) is a 0-d False
    if pred.shape != target.shape:
        raise ValueError(f"shapes {pred.shape} and {target.shape} differ")
    union = (pred | target).sum()
    return 1.0 if union == 0 else float((pred & target).sum() / union)


@wrong("ex01_masks.q3", "pred is 3x3, target is 3x4")
def robust_iou_raises_type_error_for_shapes(pred, target):
    if pred is None or target is None:
        raise TypeError("None given")
    pred, target = _b(pred), _b(target)
    if pred.shape != target.shape:
        raise TypeError(f"shapes {pred.shape} and {target.shape} differ")
    union = (pred | target).sum()
    return 1.0 if union == 0 else float((pred & target).sum() / union)


# ---- ex02 q1: an image converter


def _gray_to_rgb(image):
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return image[:, :, :3]


@wrong("ex02_images.q1", "a float32 RGB image with values in [0, 1]")
def convert_truncates_floats(image):
    image = _gray_to_rgb(image)
    if image.dtype == bool:
        return np.where(image, 255, 0).astype(np.uint8)
    return (image * 255).astype(np.uint8) if image.dtype.kind == "f" else image


@wrong("ex02_images.q1", "a bool mask of shape (2, 3)")
def convert_leaves_bool_as_0_1(image):
    image = _gray_to_rgb(image)
    if image.dtype.kind == "f":
        return np.round(image * 255).astype(np.uint8)
    return image.astype(np.uint8)


@wrong("ex02_images.q1", "a gray uint8 image of shape (2, 3, 1)")
def convert_forgets_single_channel_gray(image):
    image = np.asarray(image)
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    image = image[:, :, :3]
    if image.dtype == bool:
        return np.where(image, 255, 0).astype(np.uint8)
    if image.dtype.kind == "f":
        return np.round(image * 255).astype(np.uint8)
    return image


@wrong("ex02_images.q1", "an RGBA uint8 image of shape (2, 3, 4)")
def convert_keeps_the_last_three_channels(image):
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    image = image[:, :, -3:]  # G, B, A for RGBA
    if image.dtype == bool:
        return np.where(image, 255, 0).astype(np.uint8)
    if image.dtype.kind == "f":
        return np.round(image * 255).astype(np.uint8)
    return image


@wrong("ex02_images.q1", "a float32 RGB image with values in [0, 1]")
def convert_forgets_the_cast(image):
    image = _gray_to_rgb(image)
    if image.dtype == bool:
        return np.where(image, 255, 0).astype(np.uint8)
    return np.round(image * 255) if image.dtype.kind == "f" else image


@wrong("ex02_images.q1", "a gray uint8 image of shape (2, 3)")
def convert_repeats_along_the_rows(image):
    image = np.asarray(image)
    if image.ndim == 2:
        return np.repeat(image, 3, axis=0)
    return image[:, :, :3]


# ---- ex02 q2: refuse bad images


def _finish(image):
    from seglab.exercises.ex02_images import to_rgb_uint8

    return to_rgb_uint8(image)


@wrong("ex02_images.q2", "a float image with one NaN pixel")
def safe_convert_lets_nan_through(image):
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if image.size == 0:
        raise ValueError(f"image has shape {image.shape}")
    if image.dtype.kind == "f" and image.max() > 1:
        image = image / 255
    return _finish(image)


@wrong("ex02_images.q2", "a float image with one infinite pixel")
def safe_convert_checks_isnan_only(image):
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if image.size == 0:
        raise ValueError(f"image has shape {image.shape}")
    if image.dtype.kind == "f":
        if np.isnan(image).any():
            raise ValueError("image contains NaN")
        if image.max() > 1:
            image = image / 255
    return _finish(image)


@wrong("ex02_images.q2", "a float image already in [0, 255]")
def safe_convert_scales_twice(image):
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if image.size == 0:
        raise ValueError(f"image has shape {image.shape}")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError("image contains NaN or infinity")
    return _finish(image)


@wrong("ex02_images.q2", "a very dark uint8 image")
def safe_convert_scales_by_value(image):
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if image.size == 0:
        raise ValueError(f"image has shape {image.shape}")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError("image contains NaN or infinity")
    if image.dtype != bool and image.max() <= 1:
        image = image * 255.0
    return _finish(image / 255 if image.dtype.kind == "f" else image)


@wrong("ex02_images.q2", "image is None")
def safe_convert_without_a_none_check(image):
    image = np.asarray(image)  # None becomes a 0-d object array
    if image.size == 0:
        raise ValueError(f"image has shape {image.shape}")
    return _finish(image)


@wrong("ex02_images.q2", "an empty uint8 image of shape (0, 0)")
def safe_convert_without_an_empty_check(image):
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if image.dtype.kind == "f":
        if not np.isfinite(image).all():
            raise ValueError("image contains NaN or infinity")
        if image.max() > 1:
            image = image / 255
    return _finish(image)


@wrong("ex02_images.q2", "an empty RGB image of shape (0, 4, 3)")
def safe_convert_checks_ndim_not_size(image):
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if image.ndim < 2 or image.shape[1] == 0:
        raise ValueError(f"image has shape {image.shape}")
    if image.dtype.kind == "f":
        if not np.isfinite(image).all():
            raise ValueError("image contains NaN or infinity")
        if image.max() > 1:
            image = image / 255
    return _finish(image)


# ---- ex05 q1: count trainable parameters


@wrong("ex05_unet.q1", "Linear(3, 2) frozen")
def count_includes_frozen(model):
    return sum(p.numel() for p in model.parameters())


@wrong("ex05_unet.q1", "followed by BatchNorm2d(4)")
def count_state_dict(model):
    return sum(t.numel() for t in model.state_dict().values())


@wrong("ex05_unet.q1", "nn.Linear(3, 2)")
def count_tensors_not_values(model):
    return len([p for p in model.parameters() if p.requires_grad])


@wrong("ex05_unet.q1", "nn.Linear(3, 2)")
def count_weights_only(model):
    return sum(p.numel() for n, p in model.named_parameters() if n.endswith("weight"))


@wrong("ex05_unet.q1", "nn.Conv2d(3, 4, kernel_size=3)")
def count_first_axis_only(model):
    return sum(p.shape[0] * (p.shape[1] if p.ndim > 1 else 1) for p in model.parameters())


# ---- ex05 q2: any input size


def _pad_run_crop(model, images, pad, crop="top-left"):
    import torch.nn.functional as F

    h, w = images.shape[-2:]
    logits = model(F.pad(images, pad, mode="reflect"))
    if crop == "none":
        return logits
    if crop == "center":
        top = (logits.shape[-2] - h) // 2
        left = (logits.shape[-1] - w) // 2
        return logits[..., top : top + h, left : left + w]
    return logits[..., :h, :w]


@wrong("ex05_unet.q2", "a 16x16 image (already a multiple of 8)")
def any_size_pads_a_full_multiple(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    return _pad_run_crop(model, images, (0, m - w % m, 0, m - h % m))


@wrong("ex05_unet.q2", "a 13x10 image")
def any_size_swaps_height_and_width(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    return _pad_run_crop(model, images, (0, -h % m, 0, -w % m))


@wrong("ex05_unet.q2", "a 13x10 image")
def any_size_pads_on_both_sides(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    ph, pw = -h % m, -w % m
    pad = (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2)
    return _pad_run_crop(model, images, pad, crop="center")


@wrong("ex05_unet.q2", "a 13x10 image")
def any_size_forgets_to_crop(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    return _pad_run_crop(model, images, (0, -w % m, 0, -h % m), crop="none")


@wrong("ex05_unet.q2", "a 13x10 image")
def any_size_pads_top_left_crops_top_left(model, images):
    m = 2**model.config.depth
    h, w = images.shape[-2:]
    return _pad_run_crop(model, images, (-w % m, 0, -h % m, 0))


@wrong("ex05_unet.q2", "a depth-2 U-Net")
def any_size_hard_codes_eight(model, images):
    h, w = images.shape[-2:]
    return _pad_run_crop(model, images, (0, -w % 8, 0, -h % 8))


@wrong("ex05_unet.q2", "a 13x10 image")
def any_size_resizes_instead(model, images):
    import torch.nn.functional as F

    m = 2**model.config.depth
    h, w = images.shape[-2:]
    size = (h + -h % m, w + -w % m)
    logits = model(F.interpolate(images, size=size, mode="bilinear", align_corners=False))
    return F.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)


# ---- ex05 q3: fix the training step


def _step(model, optimizer, images, targets, *, zero_grad=True, step=True, item=True, **loss_kw):
    import torch.nn.functional as F

    loss = F.cross_entropy(model(images), targets, **loss_kw)
    if zero_grad:
        optimizer.zero_grad()
    loss.backward()
    if step:
        optimizer.step()
    return loss.item() if item else loss


@wrong("ex05_unet.q3", "0/255 masks")
def step_unchanged(model, optimizer, images, masks):
    return _step(model, optimizer, images, masks.long())


@wrong("ex05_unet.q3", "already 0/1")
def step_divides_by_255(model, optimizer, images, masks):
    return _step(model, optimizer, images, (masks // 255).long())


@wrong("ex05_unet.q3", "already 0/1")
def step_keeps_only_255(model, optimizer, images, masks):
    return _step(model, optimizer, images, (masks == 255).long())


@wrong("ex05_unet.q3", "anti-aliased edges")
def step_replaces_255_by_1(model, optimizer, images, masks):
    import torch

    return _step(model, optimizer, images, torch.where(masks == 255, 1, masks).long())


@wrong("ex05_unet.q3", "0/255 masks")
def step_ignores_the_object(model, optimizer, images, masks):
    return _step(model, optimizer, images, masks.long(), ignore_index=255)


@wrong("ex05_unet.q3", "0/255 masks")
def step_fixes_the_masks_in_place(model, optimizer, images, masks):
    masks[masks > 0] = 1
    return _step(model, optimizer, images, masks.long())


@wrong("ex05_unet.q3", "gradients still hold those of a previous step")
def step_forgets_zero_grad(model, optimizer, images, masks):
    return _step(model, optimizer, images, (masks > 0).long(), zero_grad=False)


@wrong("ex05_unet.q3", "0/255 masks")
def step_forgets_the_optimizer(model, optimizer, images, masks):
    return _step(model, optimizer, images, (masks > 0).long(), step=False)


@wrong("ex05_unet.q3", "0/255 masks")
def step_returns_the_loss_tensor(model, optimizer, images, masks):
    return _step(model, optimizer, images, (masks > 0).long(), item=False)


# ---- ex03 q1: the best of SAM's masks


@wrong("ex03_sam_prompts.q1", "the largest scores lowest")
def best_is_the_largest(masks, scores):
    masks = np.asarray(masks)
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return masks[int(np.argmax(masks.reshape(len(masks), -1).sum(1)))]


@wrong("ex03_sam_prompts.q1", "the largest scores lowest")
def best_is_the_first(masks, scores):
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return np.asarray(masks)[0]


@wrong("ex03_sam_prompts.q1", "the largest scores lowest")
def best_is_the_lowest_score(masks, scores):
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return np.asarray(masks)[int(np.argmin(scores))]


@wrong("ex03_sam_prompts.q1", "scores as a Python list")
def best_uses_the_array_method(masks, scores):
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return masks[scores.argmax()]


@wrong("ex03_sam_prompts.q1", "the same top score")
def best_by_argsort(masks, scores):
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return np.asarray(masks)[np.argsort(scores)[-1]]


@wrong("ex03_sam_prompts.q1", "3 masks but only 2 scores")
def best_without_checks(masks, scores):
    return np.asarray(masks)[int(np.argmax(scores))]


@wrong("ex03_sam_prompts.q1", "the largest scores lowest")
def best_returns_the_index(masks, scores):
    if len(masks) == 0 or len(masks) != len(scores):
        raise ValueError("masks and scores differ")
    return int(np.argmax(scores))


# ---- ex03 q2: check click points


def _points(points):
    if points is None:
        raise TypeError("points is None")
    points = np.asarray(points, dtype=np.float32)
    if points.shape == (2,):
        points = points[None]
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points has shape {points.shape}")
    if len(points) == 0:
        raise ValueError("no points")
    return points


@wrong("ex03_sam_prompts.q2", "one click [50, 10]")
def points_compared_with_the_wrong_side(points, image_size):
    points = _points(points)
    h, w = image_size
    if ((points[:, 0] < 0) | (points[:, 0] >= h) | (points[:, 1] < 0) | (points[:, 1] >= w)).any():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "a click at x=60 on an image 60 pixels wide")
def points_off_by_one(points, image_size):
    points = _points(points)
    h, w = image_size
    if ((points[:, 0] < 0) | (points[:, 0] > w) | (points[:, 1] < 0) | (points[:, 1] > h)).any():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "a click with a negative y")
def points_forget_negatives(points, image_size):
    points = _points(points)
    h, w = image_size
    if ((points[:, 0] >= w) | (points[:, 1] >= h)).any():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "a NaN coordinate")
def points_test_outside_not_inside(points, image_size):
    points = _points(points)
    h, w = image_size
    x, y = points[:, 0], points[:, 1]
    if ((x < 0) | (x >= w) | (y < 0) | (y >= h)).any():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "transposed")
def points_reshaped(points, image_size):
    if points is None:
        raise TypeError("points is None")
    points = np.asarray(points, dtype=np.float32).reshape(-1, 2)
    if len(points) == 0:
        raise ValueError("no points")
    h, w = image_size
    x, y = points[:, 0], points[:, 1]
    if not ((x >= 0) & (x < w) & (y >= 0) & (y < h)).all():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "an empty (0, 2) array")
def points_allow_none_at_all(points, image_size):
    if points is None:
        raise TypeError("points is None")
    points = np.asarray(points, dtype=np.float32)
    if points.shape == (2,):
        points = points[None]
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points has shape {points.shape}")
    h, w = image_size
    x, y = points[:, 0], points[:, 1]
    if not ((x >= 0) & (x < w) & (y >= 0) & (y < h)).all():
        raise ValueError("a point is outside")
    return points


@wrong("ex03_sam_prompts.q2", "one click [50, 10]")
def points_as_float64(points, image_size):
    return _points(points).astype(np.float64)


# ---- ex03 q3: a click to a mask, safely


def _click(predictor, points, labels=None, *, pick="best", check_image=True, check_prompt=True):
    from seglab.exercises.ex03_sam_prompts import check_points

    if check_image and not predictor.is_image_set:
        raise RuntimeError("no image set")
    if check_prompt and points is None:
        raise ValueError("no prompt")
    points = check_points(points, predictor.original_size)
    labels = np.ones(len(points), dtype=int) if labels is None else np.asarray(labels)
    if labels.shape != (len(points),):
        raise ValueError("one label per point")
    masks, scores, _ = predictor.predict(point_coords=points, point_labels=labels)
    if pick == "first":
        return masks[0]
    if pick == "largest":
        return masks[int(np.argmax(masks.reshape(len(masks), -1).sum(1)))]
    if pick == "all":
        return masks
    return masks[int(np.argmax(scores))]


@wrong("ex03_sam_prompts.q3", "one click at (20, 30)")
def click_takes_the_first_mask(predictor, points, labels=None):
    return _click(predictor, points, labels, pick="first")


@wrong("ex03_sam_prompts.q3", "one click at (20, 30)")
def click_takes_the_largest_mask(predictor, points, labels=None):
    return _click(predictor, points, labels, pick="largest")


@wrong("ex03_sam_prompts.q3", "one click at (20, 30)")
def click_returns_all_candidates(predictor, points, labels=None):
    return _click(predictor, points, labels, pick="all")


@wrong("ex03_sam_prompts.q3", "labels [1, 0]")
def click_ignores_the_labels(predictor, points, labels=None):
    return _click(predictor, points, None)


@wrong("ex03_sam_prompts.q3", "before set_image was called")
def click_checks_points_before_the_image(predictor, points, labels=None):
    return _click(predictor, points, labels, check_image=False)


@wrong("ex03_sam_prompts.q3", "no prompt at all")
def click_lets_none_become_a_type_error(predictor, points, labels=None):
    return _click(predictor, points, labels, check_prompt=False)


@wrong("ex03_sam_prompts.q3", "one click at (20, 30)")
def click_swaps_x_and_y(predictor, points, labels=None):
    if points is None:
        raise ValueError("no prompt")
    return _click(predictor, np.asarray(points)[:, ::-1], labels)


# ---- ex03 q4: refine with a background click


def _refine(predictor, points, labels, multimask=False, pick=0):
    from seglab.exercises.ex03_sam_prompts import check_points

    points = check_points(points, predictor.original_size)
    masks, scores, _ = predictor.predict(
        point_coords=points, point_labels=np.array(labels), multimask_output=multimask
    )
    return masks[int(np.argmax(scores))] if pick == "best" else masks[pick]


@wrong("ex03_sam_prompts.q4", "a click on the object (20, 30)")
def refine_with_swapped_labels(predictor, positive, negative):
    return _refine(predictor, [positive, negative], [0, 1])


@wrong("ex03_sam_prompts.q4", "a click on the object (20, 30)")
def refine_with_two_foreground_clicks(predictor, positive, negative):
    return _refine(predictor, [positive, negative], [1, 1])


@wrong("ex03_sam_prompts.q4", "a click on the object (20, 30)")
def refine_with_three_candidates(predictor, positive, negative):
    return _refine(predictor, [positive, negative], [1, 0], multimask=True, pick="best")


@wrong("ex03_sam_prompts.q4", "a click on the object (20, 30)")
def refine_forgets_the_positive_click(predictor, positive, negative):
    return _refine(predictor, [negative], [0])


@wrong("ex03_sam_prompts.q4", "a background click outside the image")
def refine_without_checking(predictor, positive, negative):
    masks, _, _ = predictor.predict(
        point_coords=np.array([positive, negative], dtype=float),
        point_labels=np.array([1, 0]),
        multimask_output=False,
    )
    return masks[0]


# ---- ex03 q5: which SAM is in this checkpoint?

_KEY = "image_encoder.patch_embed.proj.weight"


def _model_type(state_dict, *, check_type=True, check_key=True, count="blocks", width_only=False):
    if check_type and not isinstance(state_dict, dict):
        raise TypeError("not a dict")
    if check_key and _KEY not in state_dict:
        raise ValueError("not a SAM")
    width = state_dict[_KEY].shape[0]
    if width_only:
        return {768: "vit_b", 1024: "vit_l", 1280: "vit_h"}[width]
    keys = [k for k in state_dict if k.startswith("image_encoder.blocks.")]
    n = len({k.split(".")[2] for k in keys}) if count == "blocks" else len(keys)
    sizes = {(768, 12): "vit_b", (1024, 24): "vit_l", (1280, 32): "vit_h"}
    name = sizes.get((width, n))
    if name is None:
        raise ValueError(f"unknown SAM: {width} wide, {n} blocks")
    return name


@wrong("ex03_sam_prompts.q5", "768 channels but 24 blocks")
def model_type_by_width_only(state_dict):
    return _model_type(state_dict, width_only=True)


@wrong("ex03_sam_prompts.q5", "a vit_b state dict")
def model_type_counts_keys_not_blocks(state_dict):
    return _model_type(state_dict, count="keys")


@wrong("ex03_sam_prompts.q5", "wrapped as {'model': state_dict}")
def model_type_guesses_vit_b(state_dict):
    if isinstance(state_dict, dict) and _KEY not in state_dict:
        return "vit_b"
    return _model_type(state_dict)


@wrong("ex03_sam_prompts.q5", "wrapped as {'model': state_dict}")
def model_type_raises_key_error(state_dict):
    return _model_type(state_dict, check_key=False)


@wrong("ex03_sam_prompts.q5", "None")
def model_type_calls_none_empty(state_dict):
    if not state_dict:
        raise ValueError("the state dict is empty")
    return _model_type(state_dict, check_type=False)


# --------------------------------------------------------------------------- the tests

WRONG_CASES = [
    pytest.param(qid, fn, fragment, id=f"{qid}-{label}")
    for qid, entries in WRONG.items()
    for label, fn, fragment in entries
]


def test_the_question_list_is_complete():
    assert QUESTIONS, "no exercise questions found"
    assert set(WRONG) <= set(QUESTIONS), set(WRONG) - set(QUESTIONS)


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_each_question_has_at_least_three_known_wrong_answers(qid):
    assert len(WRONG.get(qid, [])) >= 3, f"{qid}: add known wrong answers to this file"


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_the_reference_passes(qid, capsys):
    question = QUESTIONS[qid]
    result = question.check(question.reference)
    assert result.passed, result.message
    assert capsys.readouterr().out.startswith(f"{question.name} ({question.title}): correct.")


def _best_by_prediction_result(masks, scores):
    """seglab's PredictionResult.best(): its own answer to ex03 q1."""
    masks = np.asarray(masks)
    return PredictionResult(masks, scores, np.zeros((len(masks), 2, 2))).best()


def _padding_unet(model, images):
    """UNet(pad_input=True) with the same weights: seglab's own answer to ex05 q2."""
    twin = UNet(model.config, pad_input=True)
    twin.load_state_dict(model.state_dict())
    return twin.eval()(images)


def _independent() -> dict[str, Callable]:
    """seglab's own functions that answer a question: a second, independent reference."""
    import seglab

    return {
        "ex01_masks.q1": seglab.iou,
        "ex01_masks.q2": seglab.dice,
        "ex01_masks.q3": seglab.iou,
        "ex02_images.q1": seglab.as_rgb_uint8,
        "ex02_images.q2": seglab.as_rgb_uint8,
        "ex03_sam_prompts.q1": _best_by_prediction_result,
        "ex03_sam_prompts.q2": validate_points,
        "ex05_unet.q1": count_parameters,
        "ex05_unet.q2": _padding_unet,
    }


@pytest.mark.parametrize("qid", sorted(_independent()))
def test_seglab_itself_passes_the_questions_it_answers(qid):
    result = QUESTIONS[qid].check(_independent()[qid])
    assert result.passed, result.message


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_the_placeholder_is_not_attempted(qid):
    question = QUESTIONS[qid]
    answer = _placeholder if question.kind == "function" else ...
    result = question.check(answer)
    assert result.status == "not attempted"
    assert "not attempted yet" in result.message


@pytest.mark.parametrize(("qid", "fn", "fragment"), WRONG_CASES)
def test_a_known_wrong_answer_fails_naming_the_case(qid, fn, fragment):
    result = QUESTIONS[qid].check(fn)
    assert result.status == "failed", f"{fn.__name__} passed {qid}"
    first_line = result.message.splitlines()[0]
    assert "failed:" in first_line and fragment in first_line, result.message
    assert any(word in result.message for word in ("Expected", "raised", "in place"))
    assert "Traceback" not in result.message


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_the_solution_text_is_valid_python(qid, capsys):
    QUESTIONS[qid].solution()
    out = capsys.readouterr().out
    ast.parse(QUESTIONS[qid].solution_text())
    assert "BEGIN SOLUTION" not in out


# --------------------------------------------------------------------------- notebooks agree


def _notebook_functions(path: Path) -> dict[str, str]:
    """Top-level function definitions in a notebook's code cells, as AST dumps."""
    found = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = ast.dump(node)
    return found


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_reference_solutions_are_the_solution_notebooks_code(module):
    number = module.__name__.rsplit(".", 1)[1][2:4]
    notebooks = sorted(SOLUTIONS.glob(f"{number}_*.ipynb"))
    assert len(notebooks) == 1, f"one solution notebook {number}_*.ipynb expected"
    in_notebook = _notebook_functions(notebooks[0])
    questions = [q for q in vars(module).values() if isinstance(q, Question)]
    for question in questions:
        if question.kind != "function":
            continue
        name = question.reference.__name__
        assert name in in_notebook, f"{notebooks[0].name} does not define {name}"
        source = ast.parse(question.solution_text()).body
        mine = next(n for n in source if isinstance(n, ast.FunctionDef) and n.name == name)
        assert ast.dump(mine) == in_notebook[name], f"{name} differs from {notebooks[0].name}"
