"""Questions of exercises/02_robust_images.ipynb: your own image converter, then robust.

- ``q1`` ``to_rgb_uint8(image)``: turn a numpy image (gray HxW or HxWx1, RGB, RGBA; uint8,
  float in [0, 1] or bool) into an HxWx3 uint8 array: gray copied into three channels, alpha
  dropped, floats scaled by 255 and rounded, bool as 0/255.
- ``q2`` ``safe_to_rgb_uint8(image)``: the same, refusing what cannot be an image (None ->
  TypeError; no pixels, NaN or infinity, values below 0 or above 255 -> ValueError, because
  uint8 would wrap them around: 300 -> 44, -1 -> 255) and not scaling twice: a float image
  whose values already go above 1 is in [0, 255] and is only rounded; integer images are
  never rescaled, however dark.

These are the rules of :func:`seglab.as_rgb_uint8`, trimmed to numpy input and HWC layout
(as_rgb_uint8 also refuses a float image whose maximum lies between 1 and 2 as ambiguous).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from seglab.checks import Case, Mistake, Question

__all__ = ["q1", "q2", "safe_to_rgb_uint8", "to_rgb_uint8"]


# --------------------------------------------------------------------------- reference solutions


def to_rgb_uint8(image):
    """An (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) numpy image as (H, W, 3) uint8."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]  # (H, W) -> (H, W, 1)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)  # gray: the same value in R, G and B
    image = image[:, :, :3]  # RGBA: drop the alpha channel
    if image.dtype == bool:
        return np.where(image, 255, 0).astype(np.uint8)
    if image.dtype.kind == "f":  # floats in [0, 1]: scale, then round (not truncate)
        return np.round(image * 255).astype(np.uint8)
    return image.astype(np.uint8)


def safe_to_rgb_uint8(image):
    """to_rgb_uint8 that refuses None, empty, non-finite and out-of-range images, and never
    scales twice."""
    if image is None:
        raise TypeError("image is None; pass a numpy array (did a loader return nothing?).")
    image = np.asarray(image)
    if image.size == 0:
        raise ValueError(f"image has no pixels (shape {image.shape}); check the crop or file.")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError("image contains NaN or infinite values; find where they come from.")
    low, high = image.min(), image.max()
    if low < 0 or high > 255:  # uint8 would wrap them around: 300 -> 44, -1 -> 255
        raise ValueError(
            f"image has values from {low} to {high}, outside [0, 255]; rescale or clip it first."
        )
    if image.dtype.kind == "f" and high > 1:  # already in [0, 255]: do not scale by 255 again
        image = image / 255
    return to_rgb_uint8(image)


# --------------------------------------------------------------------------- test images

_RNG = np.random.default_rng(2)
_RGB = _RNG.integers(0, 256, size=(2, 3, 3), dtype=np.uint8)
_GRAY = np.array([[0, 64, 128], [192, 250, 255]], dtype=np.uint8)
_GRAY3 = np.repeat(_GRAY[:, :, None], 3, axis=2)
_ALPHA = np.array([[255, 128, 0], [7, 200, 31]], dtype=np.uint8)[:, :, None]
_RGBA = np.concatenate([_RGB, _ALPHA], axis=2)
# floats with no value exactly halfway between two integers after * 255, so every way of
# rounding agrees; 0.999 * 255 = 254.7 tells rounding (255) from truncation (254)
_FLOAT = np.array([[[0.0, 0.2, 0.4], [0.6, 0.8, 1.0], [0.999, 0.001, 0.55]]] * 2, dtype=np.float32)
_FLOAT_EXPECTED = np.floor(_FLOAT.astype(np.float64) * 255 + 0.5).astype(np.uint8)
_FLOAT_GRAY = np.array([[0.0, 0.25], [0.75, 0.999]], dtype=np.float64)
_FLOAT_GRAY_EXPECTED = np.repeat(
    np.floor(_FLOAT_GRAY * 255 + 0.5).astype(np.uint8)[:, :, None], 3, axis=2
)
_MASK = np.array([[True, False, False], [True, True, False]])
_MASK_EXPECTED = np.repeat(np.where(_MASK, 255, 0).astype(np.uint8)[:, :, None], 3, axis=2)
_DARK = np.array([[0, 1, 1], [1, 0, 0]], dtype=np.uint8)  # a valid, very dark uint8 image
_FLOAT255 = np.array([[0.0, 100.4, 200.6], [254.9, 17.0, 3.2]], dtype=np.float64)
_FLOAT255_EXPECTED = np.repeat(np.floor(_FLOAT255 + 0.5).astype(np.uint8)[:, :, None], 3, axis=2)


_INT16_260 = np.array([[0, 260, 17], [3, 4, 5]], dtype=np.int16)
_INT16_NEGATIVE = np.array([[0, -1, 17], [3, 4, 5]], dtype=np.int16)


def _with(value: float) -> np.ndarray:
    image = _FLOAT.copy()
    image[1, 2, 0] = value
    return image


_CONVERSION_CASES = [
    Case(
        "an RGB uint8 image of shape (2, 3, 3)",
        (_RGB,),
        expected=_RGB.copy(),
        why="an RGB uint8 image is already in the right format: return the same values.",
    ),
    Case(
        "a gray uint8 image of shape (2, 3)",
        (_GRAY,),
        expected=_GRAY3,
        why="gray has one value per pixel: copy it into R, G and B to get shape (H, W, 3).",
    ),
    Case(
        "a gray uint8 image of shape (2, 3, 1)",
        (_GRAY[:, :, None],),
        expected=_GRAY3,
        why="a single channel is gray too, with the channel axis already there.",
    ),
    Case(
        "an RGBA uint8 image of shape (2, 3, 4)",
        (_RGBA,),
        expected=_RGB.copy(),
        why="the 4th channel is alpha (transparency): keep the first three, image[:, :, :3].",
    ),
    Case(
        "a float32 RGB image with values in [0, 1]",
        (_FLOAT,),
        expected=_FLOAT_EXPECTED,
        why=(
            "floats in [0, 1] become 0..255 by multiplying by 255. Round before casting: "
            "astype(np.uint8) cuts off the fraction, so 0.999 * 255 = 254.7 would become 254."
        ),
    ),
    Case(
        "a float64 gray image of shape (2, 2) with values in [0, 1]",
        (_FLOAT_GRAY,),
        expected=_FLOAT_GRAY_EXPECTED,
        why="both rules at once: scale and round, then copy into three channels.",
    ),
    Case(
        "a bool mask of shape (2, 3)",
        (_MASK,),
        expected=_MASK_EXPECTED,
        why="True is full brightness: 255, not 1 (a 0/1 uint8 image looks black).",
    ),
]

# --------------------------------------------------------------------------- known mistakes


def _convert(image, *, rounding=True, bool255=True, channels="first", cast=True, floats="kind"):
    """Variants of to_rgb_uint8: truncation instead of rounding, bool as 0/1, the last three
    channels, no cast to uint8, floats recognised as float32 only."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    image = image[:, :, :3] if channels == "first" else image[:, :, -3:]
    if image.dtype == bool:
        return np.where(image, 255, 0).astype(np.uint8) if bool255 else image.astype(np.uint8)
    if image.dtype.kind == "f" if floats == "kind" else image.dtype == np.float32:
        scaled = np.round(image * 255) if rounding else image * 255
        return scaled.astype(np.uint8) if cast else scaled
    return image.astype(np.uint8)


_ROUND = "Round before the cast: np.round(image * 255).astype(np.uint8)"
_CONVERT_MISTAKES = [
    Mistake(
        "a cast that truncates, (image * 255).astype(np.uint8)",
        partial(_convert, rounding=False),
        f"{_ROUND}; astype cuts 0.999 * 255 = 254.7 down to 254.",
    ),
    Mistake(
        "a cast without rounding or uint8, image * 255",
        partial(_convert, rounding=False, cast=False),
        f"{_ROUND}: the result must be uint8.",
    ),
    Mistake(
        "floats scaled and rounded but not cast to uint8",
        partial(_convert, cast=False),
        "Finish with .astype(np.uint8): the result must be uint8, not float.",
    ),
    Mistake(
        "a scaling of float32 images only",
        partial(_convert, floats="float32"),
        "Test the kind, image.dtype.kind == 'f', so that float64 and float16 are scaled too.",
    ),
    Mistake(
        "a bool mask kept as 0/1",
        partial(_convert, bool255=False),
        "True is full brightness: np.where(image, 255, 0).astype(np.uint8).",
    ),
    Mistake(
        "the last three channels, image[:, :, -3:]",
        partial(_convert, channels="last"),
        "Alpha is the 4th channel: keep the first three, image[:, :, :3].",
    ),
]


def _safe(
    image,
    *,
    convert=True,
    empty="size",
    low=True,
    high=True,
    ints=True,
    rescale=True,
    by_value=False,
):
    """Variants of safe_to_rgb_uint8 (which empty check, which parts of the range check,
    scaling decided by the values); built on the reference to_rgb_uint8. (np.isnan instead
    of np.isfinite is no mistake here: the range check refuses infinity.)"""
    if image is None:
        raise TypeError("image is None")
    image = np.asarray(image)
    if {"size": image.size == 0, "len": len(image) == 0, "any": not image.any()}[empty]:
        raise ValueError(f"image has shape {image.shape}")
    if image.dtype.kind == "f" and not np.isfinite(image).all():
        raise ValueError("image is not finite")
    if ints or image.dtype.kind == "f":
        if (low and image.min() < 0) or (high and image.max() > 255):
            raise ValueError("image is outside [0, 255]")
    if by_value and image.dtype != bool and image.max() <= 1:
        image = image * 255.0
    if image.dtype.kind == "f" and image.max() > 1 and rescale:
        image = image / 255
    return to_rgb_uint8(image) if convert else image


_RANGE = "image.min() < 0 or image.max() > 255"
_SAFE_MISTAKES = [
    Mistake(
        "the checks without the conversion (the image returned as it came)",
        partial(_safe, convert=False),
        "After the checks, return to_rgb_uint8(image): the result must be (H, W, 3) uint8.",
    ),
    Mistake(
        "an empty check with len(image) == 0, which counts the rows only",
        partial(_safe, empty="len"),
        "A (3, 0, 3) image has 3 rows and no pixels: test image.size == 0.",
    ),
    Mistake(
        "an empty check that refuses black images, not image.any()",
        partial(_safe, empty="any"),
        "Test the number of pixels, image.size == 0, not the values: black is a valid image.",
    ),
    Mistake(
        "a converter with no range check (uint8 wraps 300 around to 44)",
        partial(_safe, low=False, high=False),
        f"Refuse values below 0 or above 255 with a ValueError, whatever the dtype: {_RANGE}.",
    ),
    Mistake(
        "a range check of the maximum only",
        partial(_safe, low=False),
        "Check the minimum as well: uint8 turns -1 into 255 and -0.5 * 255 into 128.",
    ),
    Mistake(
        "a range check of float images only",
        partial(_safe, ints=False),
        f"Integers wrap around too (260 becomes 4): check {_RANGE} for every dtype.",
    ),
    Mistake(
        "a second scaling of a [0, 255] float image",
        partial(_safe, rescale=False),
        "A float image whose max() is above 1 is already in [0, 255]: divide it by 255 "
        "before to_rgb_uint8, which multiplies it by 255 again.",
    ),
    Mistake(
        "a scaling decided by the values (max <= 1), not by the dtype",
        partial(_safe, by_value=True),
        "Integer images are never rescaled, however dark: only floats in [0, 1] are "
        "multiplied by 255.",
    ),
]


# --------------------------------------------------------------------------- questions

q1 = Question(
    "q1",
    "an image converter",
    _CONVERSION_CASES,
    arg_names=("image",),
    hints=[
        "Handle the shape first, then the values. Shape: (H, W) -> add a channel axis; one "
        "channel -> repeat it 3 times; four channels -> keep the first three. Values: bool "
        "-> 0/255, float -> * 255 and round, uint8 -> as is.",
        "image[:, :, None] adds an axis; np.repeat(image, 3, axis=2) copies a channel; "
        "np.round(image * 255).astype(np.uint8) scales floats; np.where(mask, 255, 0) "
        "turns a bool mask into 0/255.",
    ],
    solution=to_rgb_uint8,
    mistakes=_CONVERT_MISTAKES,
    on_pass="seglab.as_rgb_uint8 does the same for numpy, PIL and torch input.",
)

q2 = Question(
    "q2",
    "a converter that refuses bad images",
    [
        Case(
            "a float32 RGB image with values in [0, 1]",
            (_FLOAT,),
            expected=_FLOAT_EXPECTED,
            why="after the checks, convert the image with your to_rgb_uint8 and return that.",
        ),
        Case(
            "image is None",
            (None,),
            raises=TypeError,
            why="None is not an image at all (often a loader that failed): raise TypeError.",
        ),
        Case(
            "an empty uint8 image of shape (0, 0)",
            (np.zeros((0, 0), dtype=np.uint8),),
            raises=ValueError,
            why="an image with no pixels is a bad crop or a failed load: say so (ValueError).",
        ),
        Case(
            "an empty RGB image of shape (0, 4, 3)",
            (np.zeros((0, 4, 3), dtype=np.uint8),),
            raises=ValueError,
            why="zero rows is still no pixels: check image.size, not only the number of axes.",
        ),
        Case(
            "an RGB image of zero width, shape (3, 0, 3)",
            (np.zeros((3, 0, 3), dtype=np.uint8),),
            raises=ValueError,
            why=(
                "len(image) counts the rows only: this image has 3 rows and no pixels. "
                "image.size == 0 whenever any dimension is 0."
            ),
        ),
        Case(
            "an all-black uint8 image (every value 0)",
            (np.zeros((2, 3, 3), dtype=np.uint8),),
            expected=np.zeros((2, 3, 3), dtype=np.uint8),
            why=(
                "a black photo is a valid image: decide 'empty' by the number of pixels "
                "(image.size == 0), never by the values (`not image.any()` is True for black)."
            ),
        ),
        Case(
            "a float image with one NaN pixel",
            (_with(np.nan),),
            raises=ValueError,
            why=(
                "NaN * 255 cast to uint8 is an arbitrary number (often 0): a silent wrong "
                "pixel. Refuse it; np.isfinite(image).all() is False when there is any."
            ),
        ),
        Case(
            "a float image with one infinite pixel",
            (_with(np.inf),),
            raises=ValueError,
            why="np.isnan misses infinity; np.isfinite catches both.",
        ),
        Case(
            "a float image with one value of 300.0 (above 255)",
            (_with(300.0),),
            raises=ValueError,
            why=(
                "300 is no pixel value, in [0, 1] or in [0, 255]: uint8 wraps it around to 44 "
                "without a word. Refuse values above 255 (ValueError)."
            ),
        ),
        Case(
            "a float image in [0, 1] with one value of -0.5 (below 0)",
            (_with(-0.5),),
            raises=ValueError,
            why=(
                "-0.5 * 255 rounds to -128, which uint8 wraps around to 128. Negative values "
                "often mean a normalized image, (x - mean) / std: refuse values below 0 too."
            ),
        ),
        Case(
            "a float image already in [0, 255] (values up to 254.9)",
            (_FLOAT255,),
            expected=_FLOAT255_EXPECTED,
            why=(
                "values above 1 mean the image is already in 0..255 (e.g. the mean of uint8 "
                "images). Multiplying by 255 again overflows uint8: only round it."
            ),
        ),
        Case(
            "a very dark uint8 image (values 0 and 1 only)",
            (_DARK,),
            expected=np.repeat(_DARK[:, :, None], 3, axis=2),
            why=(
                "uint8 is already 0..255: decide on scaling by the dtype, never by the values "
                "of an integer image, or a dark photo becomes white."
            ),
        ),
        Case(
            "an int16 image with one value of 260",
            (_INT16_260,),
            raises=ValueError,
            why=(
                "integers are refused outside [0, 255] too: astype(np.uint8) turns 260 into 4. "
                "The range check is for every dtype, not only floats."
            ),
        ),
        Case(
            "an int16 image with one value of -1",
            (_INT16_NEGATIVE,),
            raises=ValueError,
            why="-1 becomes 255 in uint8, white instead of black: check the minimum as well.",
        ),
        Case("a bool mask of shape (2, 3)", (_MASK,), expected=_MASK_EXPECTED, sanity=True),
    ],
    arg_names=("image",),
    hints=[
        "Check before converting: None first (TypeError), then image.size == 0 "
        "(ValueError), then, for floats, np.isfinite (ValueError), then the range: "
        "image.min() < 0 or image.max() > 255 (ValueError). Then call your to_rgb_uint8.",
        "For a float image whose max() is above 1, divide by 255 first so that to_rgb_uint8 "
        "scales it back exactly once. Leave integer images alone whatever their values.",
    ],
    solution=safe_to_rgb_uint8,
    mistakes=_SAFE_MISTAKES,
    uses=[q1],
    on_pass=(
        "seglab.as_rgb_uint8 also refuses a float maximum between 1 and 2 as ambiguous, and "
        "takes PIL images and torch tensors."
    ),
)
