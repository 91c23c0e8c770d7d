"""Turn whatever image a learner passes into one format, and load sample photos.

Every part of the course that takes an image (SAM's predictor, the overlays in
:mod:`seglab.viz`, the U-Net data) wants the same thing: an **HxWx3 uint8** array, pixel
values in [0, 255], RGB channel order, rows first (``image[y, x]``). Learners arrive with
many other things — a grayscale PNG, an RGBA screenshot, a float image in [0, 1] from a
notebook, a CxHxW torch tensor — and a silent wrong guess (a black image, swapped axes) costs
an afternoon. :func:`as_rgb_uint8` converts what it can convert without guessing and refuses
the rest with a message that says what it saw and what to do.

:func:`load_image` opens an image file (your own photo) into that format.
:func:`load_sample` returns real photos that ship inside scikit-image's wheel, so the course
works offline; :func:`list_samples` names them.

Conversion rules of :func:`as_rgb_uint8` (v = a pixel value, min/max over the image):

==========================  ==========================================================
input dtype and values      result
==========================  ==========================================================
bool                        False -> 0, True -> 255
uint8                       unchanged (copied)
other integers in [0, 255]  unchanged; integers outside [0, 255] are refused
float, 0 <= v <= 1          ``floor(v * 255 + 0.5)``: scaled, rounded half up
                            (0.5 -> 128, 0.2 -> 51)
float, 2 <= max <= 255      already in [0, 255]: ``floor(v + 0.5)`` (127.5 -> 128)
float, 1 < max < 2          refused as ambiguous: a [0, 1] image that overshot
                            (interpolation does that) or a [0, 255] image that is
                            almost black; clip or convert it yourself
float below 0 or above 255  refused: rescale or clip it yourself (an ImageNet-normalized
                            tensor must be un-normalized first)
float with NaN or inf       refused
complex, object, str        refused (TypeError)
==========================  ==========================================================

==========================  ==========================================================
shape                       result
==========================  ==========================================================
(H, W)                      gray, copied into the three channels
(H, W, C), C in 1, 3, 4     channels last ("HWC", the numpy/PIL/matplotlib convention)
(C, H, W), C in 1, 3, 4     channels first ("CHW", the torch convention)
C == 1                      gray, copied into the three channels
C == 4                      RGBA: the alpha channel is dropped (not blended)
(1, H, W, C), (N, ...)      refused: a batch; drop the batch dimension, ``image[0]``
0-D, 1-D, 5-D and more      refused
C == 2, 5, 6, ...           refused (gray + alpha: keep the gray one, ``image[..., 0]``)
a dimension of size 0       refused
==========================  ==========================================================

Layout of a 3-D input when both ends could be channels (e.g. 3x3x3 or 1x5x4): a **torch
tensor** is read as CHW (the torch convention); a **numpy array** is read as HWC (the
numpy/PIL convention). When only one end is 1, 3 or 4, that end is the channel axis.
"""

from __future__ import annotations

import difflib
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeGuard

import numpy as np

from seglab._util import describe_array, format_number, is_tensor, kind_of, tensor_to_numpy

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from seglab._types import ImageLike

_CHANNELS = (1, 3, 4)

# name -> (function in skimage.data, one-line description). Every file ships inside
# scikit-image's wheel (checked offline); samples that scikit-image downloads on first use
# (human_mitosis, cells3d, skin, eagle, kidney, lily, ...) are deliberately left out.
_SAMPLES: dict[str, tuple[str, str]] = {
    "astronaut": ("astronaut", "Eileen Collins in a spacesuit, 512x512 colour: people, flags"),
    "chelsea": ("chelsea", "close-up of Chelsea the cat, 300x451 colour: one large object"),
    "coffee": ("coffee", "a cup of coffee on a saucer, 400x600 colour: round object, shadow"),
    "rocket": ("rocket", "a rocket on the launch pad at dusk, 427x640 colour: thin structures"),
    "coins": ("coins", "Greek coins on a plain background, 303x384 gray: classic thresholding"),
    "camera": ("camera", "the cameraman, 512x512 gray: person against sky and grass"),
    "horse": ("horse", "a black horse on white, 328x400 binary: a ready-made mask (horse = 0)"),
    "immunohistochemistry": (
        "immunohistochemistry",
        "stained tissue under a microscope, 512x512 colour: brown cells, blue nuclei",
    ),
    "retina": ("retina", "a human retina fundus photo, 1411x1411 colour: blood vessels"),
    "hubble_deep_field": (
        "hubble_deep_field",
        "the Hubble deep field, 872x1000 colour: hundreds of small galaxies",
    ),
    "page": ("page", "a scanned page of text with uneven lighting, 191x384 gray: binarization"),
    "moon": ("moon", "the lunar surface, 512x512 gray: low contrast, craters"),
}


def _describe(image: object, array: np.ndarray) -> str:
    """What was passed, for error messages: kind, shape and dtype (a tensor's own dtype)."""
    return describe_array(image, array, kind=_kind(image))


def _kind(image: object) -> str:
    if _is_pil_image(image):
        return f"PIL image (mode {image.mode!r}, size {image.size[0]}x{image.size[1]})"
    return kind_of(image)


def _is_pil_image(image: object) -> TypeGuard[Image.Image]:
    return any(
        cls.__module__.startswith("PIL.") and cls.__name__ == "Image" for cls in type(image).__mro__
    )


def _tensor_to_numpy(tensor: torch.Tensor) -> np.ndarray:
    if tensor.is_complex():
        raise TypeError(
            f"image is a complex torch tensor of shape {tuple(tensor.shape)} and dtype "
            f"{tensor.dtype}; an image needs real values. Pass tensor.abs() or tensor.real "
            "if that is what you mean."
        )
    return tensor_to_numpy(tensor, "image")


def _pil_to_numpy(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode in ("1", "L", "RGB", "RGBA") or mode.startswith(("I", "F")):
        # "1" -> bool, "L"/"RGB"/"RGBA" -> uint8, "I;16*" -> uint16, "I" -> int32, "F" -> float32;
        # the numeric rules below then apply as for any array.
        return np.asarray(image)
    try:  # P (palette), LA, PA, CMYK, YCbCr, HSV, LAB, RGBX, RGBa, ...: let PIL do it right
        return np.asarray(image.convert("RGB"))
    except (ValueError, OSError) as exc:
        raise ValueError(
            f"image is a PIL image of mode {mode!r}, which PIL cannot convert to RGB. "
            "Convert it to 'RGB' or 'L' yourself first (see PIL's Image.convert)."
        ) from exc


def _to_hwc(array: np.ndarray, what: str, channels_first: bool) -> np.ndarray:
    """Return an (H, W, C) view with C in (1, 3, 4), or raise."""
    if array.ndim == 2:
        return array[:, :, None]
    if array.ndim == 3:
        first, last = array.shape[0], array.shape[-1]
        first_ok, last_ok = first in _CHANNELS, last in _CHANNELS
        if first_ok and (channels_first or not last_ok):
            return np.moveaxis(array, 0, -1)
        if last_ok:
            return array
        hint = ""
        if last == 2 or first == 2:
            hint = (
                " Two channels are usually gray + alpha: keep the gray one, e.g. image[..., 0]"
                " (HWC) or image[0] (CHW)."
            )
        raise ValueError(
            f"image is a {what}: neither its first ({first}) nor its last ({last}) dimension "
            f"is a channel count seglab understands (1 = gray, 3 = RGB, 4 = RGBA).{hint} "
            "Pass (H, W), (H, W, C) or (C, H, W) with C in 1, 3, 4."
        )
    if array.ndim == 4:
        if array.shape[0] == 1:
            raise ValueError(
                f"image is a {what}: a batch of one image: drop the batch dimension, e.g. image[0]."
            )
        raise ValueError(
            f"image is a {what}: a batch of {array.shape[0]} images. Pass one image at a "
            "time, e.g. image[0]."
        )
    if array.ndim < 2:
        fix = (
            "pass a 2-D array" if array.ndim == 0 else "reshape it, e.g. image.reshape(height, -1)"
        )
        raise ValueError(
            f"image is a {what}: {array.ndim}-D, but an image has 2 (H, W) or 3 (H, W, C) "
            f"dimensions; {fix}."
        )
    raise ValueError(
        f"image is a {what}: {array.ndim}-D, but an image has 2 (H, W) or 3 (H, W, C) "
        "dimensions. Select one image and one channel layout, e.g. image[0, 0]."
    )


def _range(low: float, high: float) -> str:
    return f"[{format_number(low, digits=4)}, {format_number(high, digits=4)}]"


def _to_uint8(hwc: np.ndarray, what: str) -> np.ndarray:
    """Apply the value rules of the module docstring; always returns a new array."""
    kind = hwc.dtype.kind
    if kind == "b":
        return np.where(hwc, np.uint8(255), np.uint8(0))
    if hwc.dtype == np.uint8:
        return hwc.copy()
    if kind in "iu":
        lowest, highest = int(hwc.min()), int(hwc.max())
        if lowest < 0 or highest > 255:
            raise ValueError(
                f"image is a {what} with values in [{lowest}, {highest}], outside [0, 255], so it "
                "cannot be read as 8-bit without a choice only you can make. Rescale it, "
                "e.g. to floats in [0, 1] with (image - image.min()) / (image.max() - "
                "image.min()), or for 16-bit data image / 65535; or clip with "
                "np.clip(image, 0, 255)."
            )
        return hwc.astype(np.uint8)
    # kind == "f": floats (float16/32/64, longdouble)
    values = hwc.astype(np.float64)
    if not np.isfinite(values).all():
        n_nan = int(np.isnan(values).sum())
        n_inf = int(np.isinf(values).sum())
        raise ValueError(
            f"image is a {what} with {n_nan} NaN and {n_inf} infinite value(s). Find where "
            "they come from (a division by zero?), or replace them, e.g. "
            "np.nan_to_num(image, nan=0.0, posinf=1.0, neginf=0.0)."
        )
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > 255:
        raise ValueError(
            f"image is a {what} with values in {_range(low, high)}: floats must lie in "
            "[0, 1] or [0, 255]. If it was normalized (x - mean) / std, undo that first "
            "(x * std + mean); otherwise rescale it to [0, 1] with (image - image.min()) / "
            "(image.max() - image.min()) or clip it with np.clip(image, 0, 1)."
        )
    if high <= 1:
        values = values * 255.0
    elif high < 2:
        raise ValueError(
            f"image is a {what} with values in {_range(low, high)}: ambiguous. A maximum "
            "a little above 1 looks like a [0, 1] image that overshot (clip it: "
            "np.clip(image, 0, 1)); if it really is a [0, 255] image, it is almost black "
            "(convert it yourself: np.round(image).astype(np.uint8))."
        )
    return np.floor(values + 0.5).astype(np.uint8)  # round half up: 127.5 -> 128


def as_rgb_uint8(image: ImageLike) -> np.ndarray:
    """Convert an image to a new, C-contiguous HxWx3 uint8 RGB array.

    The rules (dtype, value range, layout) are in the module docstring; in short: gray is
    copied to three channels, alpha is dropped, bool becomes 0/255, floats in [0, 1] are
    scaled by 255 and rounded half up (0.5 -> 128), floats already in [0, 255] (max >= 2)
    are rounded, and anything that would need a guess is refused.

    Arguments:
      image (np.ndarray | PIL.Image.Image | torch.Tensor): one image, shaped (H, W),
        (H, W, C) or (C, H, W) with C in 1, 3, 4. Tensors may live on any device and may
        require grad (they are detached and copied to the CPU). PIL modes 1, L, RGB, RGBA,
        I;16, I and F are read as arrays; P, LA, CMYK and the others go through
        ``image.convert("RGB")``.

    Returns:
      np.ndarray: shape (H, W, 3), dtype uint8, values in [0, 255], C-contiguous and
      writeable. It never shares memory with the input, so drawing on it leaves your image
      unchanged.

    Raises:
      TypeError: None, a list or any other type; complex, object, string or other
        non-numeric dtypes.
      ValueError: zero-sized, 0-D, 1-D or 4-D+ input, a channel count other than 1, 3 or
        4, NaN or infinite values, integers outside [0, 255], floats outside [0, 255] or
        ambiguously just above 1. The message names the shape, dtype and value range it saw
        and how to fix it.
    """
    if image is None:
        raise TypeError(
            "image is None. Did a loader fail silently, or did a function return nothing? "
            "Pass a numpy array, PIL image or torch tensor."
        )
    if is_tensor(image):
        array = _tensor_to_numpy(image)
    elif _is_pil_image(image):
        array = _pil_to_numpy(image)
    elif isinstance(image, np.ndarray):
        array = image
    else:
        raise TypeError(
            f"image must be a numpy array, PIL image or torch tensor, got "
            f"{type(image).__name__}. Convert it first, e.g. np.asarray(image)."
        )
    what = _describe(image, array)
    if array.dtype.kind == "c":
        raise TypeError(
            f"image is a {what}: complex values are not an image. Pass np.abs(image) or "
            "image.real if that is what you mean."
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"image is a {what}: expected bool, integer or float pixels. Convert it, e.g. "
            "image.astype(np.uint8) or image.astype(np.float32)."
        )
    if array.size == 0:
        raise ValueError(
            f"image is a {what}: it has no pixels (a dimension is 0). Check the crop or the "
            "file you loaded."
        )
    channels_first = is_tensor(image)
    hwc = _to_hwc(array, what, channels_first)
    channels = hwc.shape[-1]
    if channels == 4:
        hwc = hwc[..., :3]  # drop alpha (not blended: transparent pixels keep their colour)
    pixels = _to_uint8(hwc, what)
    if channels == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    # The result of every path above is a fresh array; ascontiguousarray keeps it when it is
    # already C-contiguous and fixes the moveaxis/alpha-slice layouts otherwise.
    return np.ascontiguousarray(pixels)


def list_samples() -> dict[str, str]:
    """The sample photos :func:`load_sample` knows, as name -> one-line description.

    Returns:
      dict[str, str]: a new dict; all samples ship with scikit-image and load offline.
    """
    return {name: description for name, (_, description) in _SAMPLES.items()}


def load_sample(name: str) -> np.ndarray:
    """Load one of the course's sample photos as an HxWx3 uint8 RGB array.

    The photos ship inside scikit-image's wheel: nothing is downloaded. Gray photos and the
    black-and-white ``horse`` come back with three equal channels (see :func:`as_rgb_uint8`).

    Arguments:
      name (str): one of :func:`list_samples`, e.g. ``"astronaut"``, ``"chelsea"``,
        ``"coins"``.

    Returns:
      np.ndarray: shape (H, W, 3), dtype uint8, values in [0, 255]; a new array each call.

    Raises:
      TypeError: ``name`` is not a string.
      ValueError: unknown name; the message lists the valid names and the closest match.
    """
    if not isinstance(name, str):
        raise TypeError(
            f"name must be a str, got {type(name).__name__} {name!r}. "
            f"Pass one of: {', '.join(_SAMPLES)}."
        )
    if name not in _SAMPLES:
        close = difflib.get_close_matches(name.strip().lower(), list(_SAMPLES), n=1)
        suggestion = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"unknown sample {name!r}.{suggestion} Valid names: {', '.join(_SAMPLES)} "
            "(see seglab.list_samples() for descriptions)."
        )
    from skimage import data  # imported here: scikit-image takes ~0.3 s to import

    loader, _ = _SAMPLES[name]
    return as_rgb_uint8(getattr(data, loader)())


def load_image(source: str | os.PathLike[str] | bytes | BinaryIO) -> np.ndarray:
    """Open any image file PIL reads (PNG, JPEG, GIF, TIFF, BMP, WebP, ...) as HxWx3 uint8 RGB.

    This is how you bring your own photo into the course: ``load_image("my_photo.jpg")``. In
    Colab, upload a file first (``from google.colab import files; up = files.upload()``) and pass
    its bytes: ``load_image(next(iter(up.values())))``.

    - Phone photos are turned upright from their EXIF orientation tag, as a photo viewer shows
      them.
    - 16-bit files (``I;16`` PNG/TIFF) are scaled to 8 bits by ``round(v / 257)`` (65535 -> 255).
    - Animated GIFs and multi-page TIFFs give their first frame.
    - Everything else follows :func:`as_rgb_uint8` (gray copied to 3 channels, alpha dropped,
      palette images converted by PIL).

    Arguments:
      source (str | os.PathLike | bytes | binary file object): a path, the file's bytes, or an
        open binary file.

    Returns:
      np.ndarray: shape (H, W, 3), dtype uint8, values in [0, 255], RGB, ``image[y, x]``.

    Raises:
      TypeError: ``source`` is None, a number, a numpy array (already an image: use
        :func:`as_rgb_uint8`) or a text string of image data.
      FileNotFoundError: no file at the path (the message gives the absolute path tried).
      ValueError: a directory, an empty file, a file that is not an image PIL can read, or a
        truncated image.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise ValueError("load_image got 0 bytes: the upload or read produced no data.")
        stream: BinaryIO | Path = io.BytesIO(bytes(source))
        what = f"the {len(source)} bytes given"
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        if not path.exists():
            raise FileNotFoundError(
                f"no image file at {str(path.resolve())!r}. Check the name and the folder "
                f"(the notebook runs in {os.getcwd()!r})."
            )
        if path.is_dir():
            raise ValueError(f"{str(path)!r} is a folder, not an image file: name a file in it.")
        if path.stat().st_size == 0:
            raise ValueError(f"{str(path)!r} is empty (0 bytes): the file was not written fully.")
        stream, what = path, repr(str(path))
    elif hasattr(source, "read"):
        stream, what = source, "the file object given"
    elif isinstance(source, np.ndarray):
        raise TypeError(
            "load_image opens image files; this is already an array. Use as_rgb_uint8(array)."
        )
    else:
        raise TypeError(
            f"source must be a path, bytes or a binary file object, got "
            f"{type(source).__name__}. Pass e.g. load_image('photo.jpg')."
        )
    try:
        with Image.open(stream) as img:
            img.seek(0)
            img = ImageOps.exif_transpose(img)
            img.load()
            if img.mode.startswith("I;16"):
                wide = np.asarray(img).astype(np.float64)
                return as_rgb_uint8(np.floor(wide / 257 + 0.5).astype(np.uint8))
            return as_rgb_uint8(img)
    except UnidentifiedImageError as exc:
        raise ValueError(
            f"{what} is not an image file PIL can read (PNG, JPEG, GIF, TIFF, BMP, WebP, ...)."
            " Is it a web page or a text file saved with an image name?"
        ) from exc
    except (OSError, SyntaxError) as exc:  # PIL: truncated or broken image data
        raise ValueError(f"{what} could not be decoded ({exc}). Is the file complete?") from exc
