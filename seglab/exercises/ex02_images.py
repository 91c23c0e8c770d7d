"""Questions of exercises/02_robust_images.ipynb: your own image converter, then robust.

- ``q1`` ``to_rgb_uint8(image)``: turn a numpy image (gray HxW or HxWx1, RGB, RGBA; uint8,
  float in [0, 1] or bool) into an HxWx3 uint8 array: gray copied into three channels, alpha
  dropped, floats scaled by 255 and rounded, bool as 0/255.
- ``q2`` ``safe_to_rgb_uint8(image)``: the same, refusing what cannot be an image (None ->
  TypeError; no pixels, NaN or infinity -> ValueError) and not scaling twice: a float image
  whose values already go above 1 is in [0, 255] and is only rounded; integer images are
  never rescaled, however dark.

These are the rules of :func:`seglab.as_rgb_uint8`, trimmed to numpy input and HWC layout.
"""

from __future__ import annotations

import numpy as np

from seglab.checks import Case, Question

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
    """to_rgb_uint8 that refuses None, empty and non-finite images, and never scales twice."""
    if image is None:
        raise TypeError("image is None; pass a numpy array (did a loader return nothing?).")
    image = np.asarray(image)
    if image.size == 0:
        raise ValueError(f"image has no pixels (shape {image.shape}); check the crop or file.")
    if image.dtype.kind == "f":
        if not np.isfinite(image).all():
            raise ValueError("image contains NaN or infinite values; find where they come from.")
        if image.max() > 1:  # already in [0, 255]: scaling by 255 again would overflow
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
    on_pass="seglab.as_rgb_uint8 does the same for numpy, PIL and torch input.",
)

q2 = Question(
    "q2",
    "a converter that refuses bad images",
    [
        Case("a float32 RGB image with values in [0, 1]", (_FLOAT,), expected=_FLOAT_EXPECTED),
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
        Case("a bool mask of shape (2, 3)", (_MASK,), expected=_MASK_EXPECTED),
    ],
    arg_names=("image",),
    hints=[
        "Check before converting: None first (TypeError), then image.size == 0 "
        "(ValueError), then, for floats, np.isfinite (ValueError). Then call your "
        "to_rgb_uint8.",
        "For a float image whose max() is above 1, divide by 255 first so that to_rgb_uint8 "
        "scales it back exactly once. Leave integer images alone whatever their values.",
    ],
    solution=safe_to_rgb_uint8,
    on_pass="seglab.as_rgb_uint8 also refuses negative floats and integers above 255.",
)
