"""Check SAM prompts (points, labels, boxes, a previous mask) before SAM sees them.

``segment_anything.SamPredictor.predict`` trusts its inputs: a point given as (row, col)
instead of (x, y), a box given as (x, y, w, h), a 2xN array of points or a full-size binary
mask as ``mask_input`` all produce *some* masks, just wrong ones, or an assertion deep inside
the model. The functions here check a prompt against the image it is meant for and either
return it in the exact form SAM expects or raise an error that says what was passed and how to
fix it.

Conventions (the same as SAM's):

- an image is H rows by W columns; ``image_size`` is ``(H, W)``, i.e. ``image.shape[:2]``;
- a point is ``(x, y)`` in pixels: x is the column, from 0 (left) to W; y is the row, from 0
  (top) to H. A pixel ``image[r, c]`` is the point ``(c, r)``;
- a box is ``(x0, y0, x1, y1)``: top-left and bottom-right corners in pixels (``XYXY``);
- a label is 1 for a foreground click ("this object") and 0 for a background click ("not
  this");
- ``mask_input`` is SAM's own low-resolution *logits* from a previous prediction (one
  ``1 x h x w`` map, h = w = 256 for the official models, 4 x the embedding grid for mini-SAM,
  ``sam.prompt_encoder.mask_input_size``), not a binary mask.

Everything here is pure NumPy (torch tensors are accepted and converted); ``None`` is handled
by the callers (``seglab.sam.Predictor``), so every function here expects a real prompt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import numpy as np

from seglab._util import check_int, describe_array, format_number, is_int, is_tensor, numeric_array

if TYPE_CHECKING:
    from collections.abc import Iterable

    from seglab._types import ArrayLike

__all__ = [
    "parse_box",
    "parse_labels",
    "parse_points",
    "validate_box",
    "validate_image_size",
    "validate_labels",
    "validate_mask_input",
    "validate_points",
]


# --------------------------------------------------------------------------- helpers


def _corners(row: np.ndarray) -> str:
    x0, y0, x1, y1 = (format_number(v) for v in row)
    return f"(x0={x0}, y0={y0}, x1={x1}, y1={y1})"


def _check_finite(array: np.ndarray, name: str, what: str) -> None:
    """Refuse NaN/inf, naming the first offending row ("point 3", "box 0")."""
    bad = ~np.isfinite(array)
    if bad.any():
        index = int(np.argwhere(bad.reshape(len(array), -1).any(axis=1))[0, 0])
        raise ValueError(
            f"{name} contains NaN or inf: {what} {index} is {array[index].tolist()}. "
            "Every coordinate must be a finite number of pixels."
        )


def validate_image_size(image_size: object) -> tuple[int, int]:
    """Check an image size and return it as ``(H, W)`` Python ints.

    Arguments:
      image_size (tuple[int, int]): ``(H, W)``, rows then columns, e.g. ``image.shape[:2]``.

    Returns:
      tuple[int, int]: ``(H, W)``, both >= 1.

    Raises:
      TypeError: not a pair of integers.
      ValueError: a size < 1, or three numbers such as ``image.shape`` (pass ``image.shape[:2]``).
    """
    try:
        if isinstance(image_size, (str, bytes)):
            raise TypeError
        values = tuple(cast("Iterable[object]", image_size))  # not iterable: TypeError
    except TypeError:
        raise TypeError(
            f"image_size must be (H, W), got {type(image_size).__name__} {image_size!r}. "
            "Pass image.shape[:2]."
        ) from None
    if len(values) != 2:
        hint = " Pass image.shape[:2], not image.shape." if len(values) == 3 else ""
        raise ValueError(f"image_size must be (H, W), got {values!r}.{hint}")
    ints = [int(v) for v in values if is_int(v)]
    if len(ints) != len(values):
        raise TypeError(
            f"image_size must be two integers (H, W), got {values!r}. Pass image.shape[:2]."
        )
    h, w = ints
    if h < 1 or w < 1:
        raise ValueError(f"image_size must be positive (H, W), got ({h}, {w}).")
    return h, w


# --------------------------------------------------------------------------- points


def parse_points(points: ArrayLike, *, allow_empty: bool = False) -> np.ndarray:
    """Read click points without an image to check them against: the rules of
    :func:`validate_points` for types, shape and finiteness, but no bounds.

    :func:`seglab.viz.show_points` draws with these rules, so a prompt that draws is a prompt
    that :func:`validate_points` reads the same way.

    Arguments:
      points: N points as ``(x, y)`` pixel coordinates: an Nx2 array, list of pairs or tensor,
        or a single point ``[x, y]``.
      allow_empty (bool): accept no points at all (``[]`` or an empty (0, 2) array).

    Returns:
      np.ndarray: shape (N, 2), float64, ``(x, y)`` in pixels.

    Raises:
      TypeError, ValueError: as :func:`validate_points`, except for the bounds.
    """
    array = numeric_array(points, "points")
    if array.dtype.kind == "b":
        raise TypeError(
            f"points is a {describe_array(points, array)}; points are pixel coordinates (x, y), "
            "not a mask. To click on the pixels of a mask m, use np.argwhere(m)[:, ::-1]."
        )
    if array.size == 0:
        if allow_empty and array.shape in ((0,), (0, 2)):
            return np.zeros((0, 2))
        raise ValueError(
            f"points is empty ({describe_array(points, array)}). Pass at least one (x, y) point, "
            "or pass points=None and use a box instead."
        )
    if array.ndim == 1:
        if array.shape[0] != 2:
            hint = (
                f" If these are {array.shape[0] // 2} points flattened, use "
                "np.reshape(points, (-1, 2))."
                if array.shape[0] % 2 == 0
                else ""
            )
            raise ValueError(
                f"points must be one point [x, y] or an Nx2 array, got {array.shape[0]} "
                f"numbers {array.tolist()}.{hint}"
            )
        array = array.reshape(1, 2)
    elif array.ndim == 2 and array.shape[1] != 2:
        if array.shape[0] == 2:
            raise ValueError(
                f"points has shape {tuple(array.shape)}: it looks transposed (2xN, one row "
                "of x and one row of y). SAM wants Nx2, one (x, y) row per point: pass "
                "points.T."
            )
        raise ValueError(
            f"points must have shape (N, 2), one (x, y) row per point; got "
            f"{describe_array(points, array)}."
        )
    elif array.ndim != 2:
        hint = " Drop the batch dimension, e.g. points[0]." if array.shape[0] == 1 else ""
        raise ValueError(
            f"points must have shape (N, 2), got {describe_array(points, array)}.{hint} "
            "Prompt one image with one Nx2 set of points."
        )
    array = array.astype(np.float64, copy=False)
    _check_finite(array, "points", "point")
    return array


def validate_points(points: ArrayLike, image_size: object) -> np.ndarray:
    """Check click points against an image and return them as SAM wants them.

    Arguments:
      points: N points as ``(x, y)`` pixel coordinates: an Nx2 array, list of pairs or
        tensor, or a single point ``[x, y]``. x is the column in [0, W), y the row in [0, H).
      image_size (tuple[int, int]): ``(H, W)`` of the image the points belong to.

    Returns:
      np.ndarray: shape (N, 2), float32, ``(x, y)`` in pixels, N >= 1.

    Raises:
      TypeError: not numbers (e.g. strings, bools, None).
      ValueError: no points, NaN/inf, a wrong shape (a 2xN array "looks transposed"), or a
        point outside the image (the message names the point and the image size, and asks
        whether you passed (row, col) when swapping the coordinates would fit).
    """
    h, w = validate_image_size(image_size)
    array = parse_points(points)
    x, y = array[:, 0], array[:, 1]
    outside = (x < 0) | (x >= w) | (y < 0) | (y >= h)
    if outside.any():
        index = int(np.flatnonzero(outside)[0])
        px, py = array[index]
        message = (
            f"point {index} (x={format_number(px)}, y={format_number(py)}) is outside the "
            f"image of size H={h}, W={w}: x must be in [0, {w}) and y in [0, {h})."
        )
        swapped_fits = ((y >= 0) & (y < w) & (x >= 0) & (x < h)).all()
        if swapped_fits:
            message += (
                " Did you pass (row, col) instead of (x, y)? Swapped, every point fits: use "
                + ("points.flip(-1)" if is_tensor(points) else "np.asarray(points)[:, ::-1]")
                + " (np.argwhere, for one, gives (row, col))."
            )
        else:
            message += f" {int(outside.sum())} of {len(array)} points are outside."
        raise ValueError(message)
    return array.astype(np.float32)


def validate_labels(labels: ArrayLike | None, n_points: int) -> np.ndarray:
    """Check point labels and return them as SAM wants them.

    Arguments:
      labels: one label per point: 1 = foreground ("this object"), 0 = background
        ("not this"). A list, array or tensor of ints, bools or floats equal to 0/1; a single
        number when there is one point; None means "all foreground".
      n_points (int): the number of points the labels belong to (>= 1).

    Returns:
      np.ndarray: shape (n_points,), int32, values in {0, 1}.

    Raises:
      TypeError: not numbers, or ``n_points`` not an int.
      ValueError: a length that differs from ``n_points``, or a value other than 0 and 1.
    """
    return parse_labels(labels, check_int(n_points, "n_points", minimum=1))


def parse_labels(labels: ArrayLike | None, n_points: int) -> np.ndarray:
    """:func:`validate_labels` for ``n_points >= 0`` (no points: no labels, or None)."""
    n_points = check_int(n_points, "n_points", minimum=0)
    if labels is None:
        return np.ones(n_points, dtype=np.int32)
    array = numeric_array(labels, "labels")
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        hint = " Flatten it: np.ravel(labels)." if array.size == n_points else ""
        raise ValueError(
            f"labels must be 1-D, one label per point; got {describe_array(labels, array)}.{hint}"
        )
    if array.shape[0] != n_points:
        raise ValueError(
            f"got {array.shape[0]} labels for {n_points} point(s); pass exactly one label per "
            "point (1 = foreground, 0 = background), or labels=None for all foreground."
        )
    bad = ~np.isin(array, (0, 1))
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"labels must be 1 (foreground) or 0 (background); label {index} is "
            f"{array[index].item()!r} (labels: {array.tolist()}). SAM's internal values -1 "
            "(padding) and 2/3 (box corners) are not click labels."
        )
    return array.astype(np.int32)


# --------------------------------------------------------------------------- boxes


def parse_box(box: ArrayLike) -> np.ndarray:
    """Read one box (or a batch) without an image to check it against: the rules of
    :func:`validate_box` for types, shape, finiteness and corner order, but no bounds.

    :func:`seglab.viz.show_box` draws with these rules.

    Arguments:
      box: ``(x0, y0, x1, y1)`` in pixels with x0 < x1 and y0 < y1; or a Bx4 array of boxes.

    Returns:
      np.ndarray: float64 of shape (4,) for one box, (B, 4) for a batch (B >= 1).

    Raises:
      TypeError, ValueError: as :func:`validate_box`, except for the bounds.
    """
    array = numeric_array(box, "box")
    if array.dtype.kind == "b":
        raise TypeError(
            f"box is a {describe_array(box, array)}; a box is 4 pixel coordinates "
            "(x0, y0, x1, y1), not a mask."
        )
    if array.size == 0:
        raise ValueError(f"box is empty ({describe_array(box, array)}); pass at least one box.")
    single = array.ndim == 1
    if single:
        if array.shape[0] != 4:
            raise ValueError(
                f"box must be 4 numbers (x0, y0, x1, y1), got {array.shape[0]}: {array.tolist()}."
            )
        array = array.reshape(1, 4)
    elif array.ndim == 2 and array.shape[1] != 4:
        if array.shape[0] == 4 and array.shape[1] > 0:
            raise ValueError(
                f"box has shape {tuple(array.shape)}: it looks transposed (4xB). Pass Bx4, "
                "one (x0, y0, x1, y1) row per box: box.T."
            )
        hint = (
            " For two corners [[x0, y0], [x1, y1]] use np.ravel(box)."
            if array.shape == (2, 2)
            else ""
        )
        raise ValueError(
            f"box must have shape (4,) or (B, 4), got {describe_array(box, array)}.{hint}"
        )
    elif array.ndim != 2:
        raise ValueError(f"box must have shape (4,) or (B, 4), got {describe_array(box, array)}.")
    array = array.astype(np.float64, copy=False)
    _check_finite(array, "box", "box")

    x0, y0, x1, y1 = array.T
    reversed_ = (x1 < x0) | (y1 < y0)
    empty = (x1 == x0) | (y1 == y0)
    if reversed_.any() or empty.any():
        index = int(np.flatnonzero(reversed_ | empty)[0])
        corners = _corners(array[index])
        name = "box" if single else f"box {index}"
        if reversed_[index]:
            which = "x1 < x0" if x1[index] < x0[index] else "y1 < y0"
            raise ValueError(
                f"{name} {corners} has {which}: it looks like (x, y, w, h) or swapped "
                "corners. SAM wants (x0, y0, x1, y1), the top-left then the bottom-right "
                "corner; from (x, y, w, h) pass (x, y, x + w, y + h)."
            )
        raise ValueError(
            f"{name} {corners} is empty (zero width or height); a box needs x0 < x1 and y0 < y1."
        )
    return array[0] if single else array


def validate_box(box: ArrayLike, image_size: object) -> np.ndarray:
    """Check one box (or a batch of boxes) against an image.

    Arguments:
      box: ``(x0, y0, x1, y1)`` in pixels, top-left and bottom-right corners (XYXY), with
        x0 < x1 <= W and y0 < y1 <= H; or a Bx4 array of such boxes.
      image_size (tuple[int, int]): ``(H, W)`` of the image.

    Returns:
      np.ndarray: float32 of shape (4,) for one box, (B, 4) for a batch (B >= 1).

    Raises:
      TypeError: not numbers.
      ValueError: not 4 numbers per box (a 4xB array "looks transposed"), NaN/inf, corners in
        the wrong order (x1 < x0 "looks like (x, y, w, h) or swapped corners"), an empty box,
        or a box outside the image.
    """
    h, w = validate_image_size(image_size)
    parsed = parse_box(box)
    single = parsed.ndim == 1
    array = parsed.reshape(-1, 4)
    x0, y0, x1, y1 = array.T
    outside = (x0 < 0) | (y0 < 0) | (x1 > w) | (y1 > h)
    if outside.any():
        index = int(np.flatnonzero(outside)[0])
        name = "box" if single else f"box {index}"
        message = (
            f"{name} {_corners(array[index])} is outside the image of size H={h}, W={w}: "
            f"x must be in [0, {w}] and y in [0, {h}]."
        )
        if ((y0 >= 0) & (x0 >= 0) & (y1 <= w) & (x1 <= h)).all():
            message += (
                " Did you pass (row, col) corners instead of (x, y)? Swapped, every box "
                "fits: use box[..., [1, 0, 3, 2]]."
            )
        raise ValueError(message)
    array = array.astype(np.float32)
    return array[0] if single else array


# --------------------------------------------------------------------------- mask input


def validate_mask_input(mask_input: ArrayLike, expected_hw: object) -> np.ndarray:
    """Check a low-resolution mask prompt (logits from a previous prediction).

    SAM can refine a mask from its own previous output: pass the *logits* of the mask you
    liked, ``result.logits[result.best_index]``, together with new clicks. It wants logits
    (unbounded floats, > 0 means "inside") at the low resolution of its mask decoder, not a
    binary mask at the image's resolution.

    Arguments:
      mask_input: one logit map, shape ``(1, h, w)`` or ``(h, w)``, float.
      expected_hw (tuple[int, int]): ``(h, w)`` the model expects:
        ``sam.prompt_encoder.mask_input_size`` (256x256 for the official SAM; for mini-SAM,
        4 x its embedding grid, e.g. 128x128 at a 256-px input).

    Returns:
      np.ndarray: shape (1, h, w), float32.

    Raises:
      TypeError: not numbers.
      ValueError: a bool/integer or 0/1-only array (a mask, not logits), a wrong shape (e.g.
        a full-resolution mask, or all K logits of a result), NaN/inf.
    """
    eh, ew = validate_image_size(expected_hw)
    array = numeric_array(mask_input, "mask_input")
    described = describe_array(mask_input, array)
    fix = "pass result.logits[result.best_index] (the logits), not the mask."
    is_integer = array.dtype.kind in "biu"
    looks_binary = is_integer or (array.size > 0 and bool(((array == 0) | (array == 1)).all()))
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1:] != (eh, ew):
        if array.ndim == 4 and array.shape[:2] == (1, 1) and array.shape[2:] == (eh, ew):
            hint = " Drop the batch dimension: mask_input[0]."
        elif looks_binary or (array.ndim == 3 and (array.shape[1] > eh or array.shape[2] > ew)):
            hint = f" This looks like a mask at image resolution: {fix}"
        else:
            hint = f" It should be SAM's low-resolution logits: {fix}"
        raise ValueError(
            f"mask_input must have shape (1, {eh}, {ew}) or ({eh}, {ew}) for this model, got "
            f"{described}.{hint}"
        )
    if array.shape[0] != 1:
        raise ValueError(
            f"mask_input must be one logit map (1, {eh}, {ew}), got {array.shape[0]} maps "
            f"({described}). Pick one: result.logits[result.best_index] "
            "or result.logits[[i]]."
        )
    if is_integer:
        raise ValueError(
            f"mask_input is a {described}: a mask, not logits. SAM wants "
            f"float logits (> 0 means inside); {fix}"
        )
    if looks_binary:
        raise ValueError(
            f"mask_input is a {described} holding only 0 and 1: a binary "
            f"mask, not logits. SAM would read it as logits (0 = undecided, 1 = barely "
            f"inside); {fix}"
        )
    array = array.astype(np.float32, copy=False)
    if not np.isfinite(array).all():
        raise ValueError("mask_input contains NaN or inf; logits must be finite numbers.")
    return np.ascontiguousarray(array)
