"""Known wrong answers to exercises/02_robust_images.ipynb: an image converter, then a safe one."""

from __future__ import annotations

import numpy as np
from _wrong_answers import wrong

# ---- ex02 q1: an image converter


def _gray_to_rgb(image):
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    return image[:, :, :3]


@wrong(
    "ex02_images.q1",
    "a float32 RGB image with values in [0, 1]",
    "a cast that truncates, (image * 255).astype(np.uint8)",
)
def convert_truncates_floats(image):
    image = _gray_to_rgb(image)
    if image.dtype == bool:
        return np.where(image, 255, 0).astype(np.uint8)
    return (image * 255).astype(np.uint8) if image.dtype.kind == "f" else image


@wrong("ex02_images.q1", "a bool mask of shape (2, 3)", "a bool mask kept as 0/1")
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


@wrong(
    "ex02_images.q1",
    "an RGBA uint8 image of shape (2, 3, 4)",
    "the last three channels, image[:, :, -3:]",
)
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


@wrong(
    "ex02_images.q1",
    "a float32 RGB image with values in [0, 1]",
    "floats scaled and rounded but not cast to uint8",
)
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


@wrong("ex02_images.q1", "an RGB uint8 image of shape (2, 3, 3)")
def convert_to_channels_first(image):
    return np.transpose(_gray_to_rgb(image), (2, 0, 1))  # torch's (C, H, W), not (H, W, C)


@wrong("ex02_images.q1", "a float64 gray image", "a scaling of float32 images only")
def convert_scales_float32_only(image):
    image = _gray_to_rgb(image)
    if image.dtype == bool:
        return np.where(image, 255, 0).astype(np.uint8)
    if image.dtype == np.float32:
        return np.round(image * 255).astype(np.uint8)
    return image.astype(np.uint8)


@wrong("ex02_images.q1", "a float32 RGB image", "a cast without rounding or uint8, image * 255")
def convert_only_multiplies(image):
    image = _gray_to_rgb(image)
    if image.dtype == bool:
        return np.where(image, 255, 0).astype(np.uint8)
    return image * 255 if image.dtype.kind == "f" else image


# ---- ex02 q2: refuse bad images


def _finish(image):
    from seglab.exercises.ex02_images import to_rgb_uint8

    return to_rgb_uint8(image)


def _safe_convert(image, *, empty=None, low=True, ints=True):
    """A safe converter with every check but the ones switched off or replaced."""
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if empty(image) if empty else image.size == 0:
        raise ValueError(f"image of shape {image.shape} is empty")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError("image contains NaN or infinity")
    if image.dtype.kind == "f" or ints:
        if image.max() > 255 or (low and image.min() < 0):
            raise ValueError(f"values from {image.min()} to {image.max()}")
    if image.dtype.kind == "f" and image.max() > 1:
        image = image / 255
    return _finish(image)


@wrong(
    "ex02_images.q2",
    "a float32 RGB image with values in [0, 1]",
    "the checks without the conversion (the image returned as it came)",
)
def safe_convert_forgets_to_convert(image):
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if image.size == 0 or (image.dtype.kind == "f" and not np.isfinite(image).all()):
        raise ValueError(f"image of shape {image.shape} is empty or not finite")
    return image


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


@wrong(
    "ex02_images.q2",
    "a float image already in [0, 255]",
    "a second scaling of a [0, 255] float image",
)
def safe_convert_scales_twice(image):
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if image.size == 0:
        raise ValueError(f"image has shape {image.shape}")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError("image contains NaN or infinity")
    if image.min() < 0 or image.max() > 255:
        raise ValueError("values outside [0, 255]")
    return _finish(image)


@wrong(
    "ex02_images.q2",
    "a very dark uint8 image",
    "a scaling decided by the values (max <= 1), not by the dtype",
)
def safe_convert_scales_by_value(image):
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if image.size == 0:
        raise ValueError(f"image has shape {image.shape}")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError("image contains NaN or infinity")
    if image.min() < 0 or image.max() > 255:
        raise ValueError("values outside [0, 255]")
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


@wrong("ex02_images.q2", "an empty uint8 image of shape (0, 0)")
def safe_convert_lets_numpy_refuse_empty_images(image):
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if image.max() > 255 or image.min() < 0:  # numpy's max() of no pixels raises ValueError
        raise ValueError("values outside [0, 255]")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError("image contains NaN or infinity")
    return _finish(image / 255 if image.dtype.kind == "f" and image.max() > 1 else image)


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


@wrong(
    "ex02_images.q2",
    "zero width",
    "an empty check with len(image) == 0, which counts the rows only",
)
def safe_convert_counts_rows(image):
    return _safe_convert(image, empty=lambda image: len(image) == 0)


@wrong(
    "ex02_images.q2",
    "an all-black uint8 image",
    "an empty check that refuses black images, not image.any()",
)
def safe_convert_refuses_black(image):
    return _safe_convert(image, empty=lambda image: not image.any())


@wrong(
    "ex02_images.q2",
    "one value of 300.0 (above 255)",
    "a converter with no range check (uint8 wraps 300 around to 44)",
)
def safe_convert_without_range_checks(image):  # this question's old reference: 300.0 -> 44
    if image is None:
        raise TypeError("image is None; pass a numpy array (did a loader return nothing?).")
    image = np.asarray(image)
    if image.size == 0:
        raise ValueError(f"image has no pixels (shape {image.shape}); check the crop or file.")
    if image.dtype.kind == "f":
        if not np.isfinite(image).all():
            raise ValueError("image contains NaN or infinite values; find where they come from.")
        if image.max() > 1:
            image = image / 255
    return _finish(image)


@wrong("ex02_images.q2", "one value of -0.5 (below 0)", "a range check of the maximum only")
def safe_convert_checks_only_the_maximum(image):
    return _safe_convert(image, low=False)


@wrong(
    "ex02_images.q2", "an int16 image with one value of 260", "a range check of float images only"
)
def safe_convert_checks_floats_only(image):
    return _safe_convert(image, ints=False)


@wrong("ex02_images.q2", "an int16 image with one value of -1")
def safe_convert_checks_only_the_top_of_integers(image):
    image = np.asarray(image) if image is not None else image
    if image is not None and image.dtype.kind in "iu" and image.size and image.max() > 255:
        raise ValueError("integer values above 255")  # uint8 is never negative, is it?
    return _safe_convert(image, ints=False)
