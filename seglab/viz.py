"""Draw masks, SAM prompts and overlays: the plotting helpers every notebook uses.

Segment Anything's example notebooks paste ``show_mask``, ``show_points`` and ``show_box`` into
every notebook. Here they are defined once, validated (a mask of the wrong shape or with values
other than 0/1 is an error that says how to fix it, not a strange picture), and colour-blind
safe:

- :data:`PALETTE` is the Okabe-Ito palette (without its black), distinguishable with the common
  forms of colour blindness. Colour ``i`` is ``PALETTE[i % len(PALETTE)]``.
- Positive and negative points differ by **shape** (star vs. X), not only by colour.

Conventions, the same as SAM's:

- images are HxWx3 uint8 (anything :func:`seglab.images.as_rgb_uint8` accepts is fine);
- masks are HxW bool (or 0/1), ``mask[y, x]``;
- points are Nx2 ``(x, y)`` in pixels, labels 1 = positive (foreground), 0 = negative;
- boxes are ``(x0, y0, x1, y1)`` in pixels.

The ``show_*`` functions draw on the Axes you pass, or on the current one (``plt.gca()``), so
``plt.imshow(image); show_mask(mask)`` works like SAM's notebooks and leaves no stray empty
figure. :func:`show_masks` makes its own figure; :func:`show_anns` draws all the records of SAM's
automatic mask generator at once. :func:`overlay` is pure numpy: it returns a new image, handy
for saving or for side-by-side comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, cast

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from seglab._colors import (
    BOX_COLOR,
    NEGATIVE_COLOR,
    PALETTE,
    POSITIVE_COLOR,
    palette_color,
)
from seglab._util import check_int, check_real, is_bool, is_int, numeric_array, summarize_values
from seglab.images import as_rgb_uint8
from seglab.prompts import parse_box, parse_labels, parse_points

if TYPE_CHECKING:
    from seglab._types import ArrayLike, ImageLike

__all__ = [
    "BOX_COLOR",
    "NEGATIVE_COLOR",
    "PALETTE",
    "POSITIVE_COLOR",
    "overlay",
    "palette_color",
    "show_anns",
    "show_box",
    "show_mask",
    "show_masks",
    "show_points",
]

Color = str | int | Sequence[float] | None


# --- validation helpers ------------------------------------------------------------------


def _mask_2d(mask: ArrayLike, name: str = "mask") -> np.ndarray:
    """(H, W) array from (H, W) or (1, H, W); errors for anything else."""
    array = numeric_array(mask, name)
    shape = tuple(array.shape)
    if array.ndim == 3 and shape[0] == 1:
        array = array[0]  # SAM's predict(multimask_output=False) returns (1, H, W)
    elif array.ndim == 3:
        raise ValueError(
            f"{name} has shape {shape}: {shape[0]} masks, but this draws one (H, W) mask. "
            f"Pick one, e.g. {name}[0], or draw them all with show_masks(image, {name})."
        )
    elif array.ndim != 2:
        raise ValueError(
            f"{name} has shape {shape}; expected (H, W) or (1, H, W). "
            + (
                f"For a (batch, masks, H, W) array pick one, e.g. {name}[0, 0]."
                if array.ndim == 4
                else "A mask has one value per pixel: reshape it to (H, W)."
            )
        )
    if array.size == 0:
        raise ValueError(f"{name} has shape {shape}: it has no pixels.")
    return array


def _binary(array: np.ndarray, name: str = "mask") -> np.ndarray:
    """bool array, from bool or numbers that are all 0 or 1; ValueError naming the values."""
    if array.dtype == bool:
        return array.copy()
    if not np.isin(array, (0, 1)).all():
        raise ValueError(
            f"{name} must be binary (bool, or only 0 and 1) but has values "
            f"{summarize_values(array)} (dtype {array.dtype}). Threshold it first: "
            f"{name} > 0 for logits (SAM's return_logits=True) or any nonzero pixel, "
            f"{name} > 0.5 for probabilities, labels == k for object k of a label map."
        )
    return array.astype(bool)


def _check_alpha(alpha: object) -> float:
    alpha = check_real(alpha, "alpha", hint="Pass a number in [0, 1], e.g. 0.5.")
    if not 0 <= alpha <= 1:
        raise ValueError(
            f"alpha must be in [0, 1] (0 = invisible, 1 = opaque), got {alpha}. Try 0.5."
        )
    return alpha


def _rgb255(color: Color, default_index: int = 0) -> tuple[int, int, int]:
    """Parse a colour into (R, G, B) in [0, 255].

    None -> ``palette_color(default_index)``; an int -> ``palette_color(color)``; a string ->
    any matplotlib colour ("red", "#ff8800", "C1"); 3 numbers -> in [0, 1] (matplotlib's
    convention) when none exceeds 1, else integers in [0, 255].
    """
    if color is None:
        return palette_color(default_index)
    if is_bool(color):
        raise TypeError("color must be a palette index, a colour name or an RGB triple, not bool.")
    if is_int(color):
        return palette_color(int(color))
    if isinstance(color, str):
        try:
            rgb = mcolors.to_rgb(color)
        except ValueError as exc:
            raise ValueError(
                f"color {color!r} is not a colour matplotlib knows. Use a name ('tab:blue'), "
                "hex ('#56b4e9'), an RGB triple, or an int to pick from seglab.viz.PALETTE."
            ) from exc
        return _triple(np.asarray(rgb) * 255)
    try:
        values = np.asarray(color, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"color must be a palette index, a colour name or an RGB triple, got {color!r}."
        ) from exc
    if values.shape != (3,) or not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(
            f"color {color!r} is not an RGB triple: pass 3 numbers, all in [0, 1] or all in "
            "[0, 255] (transparency goes in alpha=, not in the colour)."
        )
    if values.max() > 1:
        if values.max() > 255:
            raise ValueError(f"color {color!r} has values above 255; use [0, 255] or [0, 1].")
        return _triple(values)
    return _triple(values * 255)


def _triple(values: np.ndarray) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in np.floor(values + 0.5))  # round half up, like overlay
    return (r, g, b)


def _float_rgb(rgb: tuple[int, int, int]) -> tuple[float, float, float]:
    return (rgb[0] / 255, rgb[1] / 255, rgb[2] / 255)


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        return plt.gca()
    if not isinstance(ax, Axes):
        raise TypeError(
            f"ax must be a matplotlib Axes (e.g. from fig, ax = plt.subplots()), got "
            f"{type(ax).__name__}."
        )
    return ax


def _check_against_axes_image(ax: Axes, shape: tuple[int, int], name: str) -> None:
    """If an image is already shown on ax at pixel coordinates, the mask must match it."""
    if not ax.images:
        return
    image = ax.images[0]
    array = image.get_array()
    if array is None or array.ndim < 2:
        return
    h, w = array.shape[:2]
    pixel_extents = ((-0.5, w - 0.5, h - 0.5, -0.5), (-0.5, w - 0.5, -0.5, h - 0.5))
    if tuple(image.get_extent()) not in pixel_extents:
        return  # the learner placed the image with extent=...; trust them
    if (h, w) != shape:
        raise ValueError(
            f"{name} is {shape[0]}x{shape[1]} (HxW) but the image already on these axes is "
            f"{h}x{w}. Pass the mask that belongs to this image (SamPredictor.predict returns "
            "masks at the size of the image given to set_image), or draw on fresh axes."
        )


def _points(points: ArrayLike, labels: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) float points and (N,) int labels, by the rules of :mod:`seglab.prompts` (no
    image bounds: a point may lie outside the axes); N may be 0."""
    pts = parse_points(points, allow_empty=True)
    return pts, parse_labels(labels, len(pts)).astype(int)


def _box(box: ArrayLike) -> np.ndarray:
    """One box (4,) by the rules of :mod:`seglab.prompts`; (1, 4) is accepted, (B, 4) not."""
    b = parse_box(box)
    if b.ndim == 2 and len(b) > 1:
        raise ValueError(
            f"box must be one box (x0, y0, x1, y1), got shape {tuple(b.shape)} ({len(b)} boxes). "
            "Draw several boxes with one show_box call each."
        )
    return b.reshape(4)


# --- drawing -----------------------------------------------------------------------------


def show_mask(
    mask: ArrayLike,
    ax: Axes | None = None,
    color: Color = None,
    alpha: float = 0.5,
    outline: bool = True,
) -> Axes:
    """Draw a binary mask as a translucent colour layer, with its outline.

    Arguments:
      mask (array-like): shape (H, W) or (1, H, W) (SAM's single-mask output); bool, or
        numbers that are all 0 or 1. ``mask[y, x]`` is True inside the object.
      ax (Axes | None): where to draw; None draws on the current axes (``plt.gca()``), i.e.
        on top of the image you just showed with ``plt.imshow``.
      color (str | int | tuple | None): None = ``PALETTE[0]``; an int i = ``PALETTE[i % 7]``;
        a matplotlib colour name/hex; or an RGB triple in [0, 1] or [0, 255].
      alpha (float): opacity of the layer in [0, 1]; the outline is drawn opaque.
      outline (bool): also draw the mask's contour (skipped for an empty or full mask).

    Returns:
      Axes: the axes drawn on.

    Raises:
      ValueError: several masks ((N, H, W), N > 1: use :func:`show_masks`), a wrong number
        of dimensions, values other than 0/1 (the message lists them), alpha outside
        [0, 1], or a mask whose size differs from the image already on ``ax``.
      TypeError: not an array, tensor or list; non-numeric dtype; ``ax`` not an Axes.
    """
    m = _binary(_mask_2d(mask))
    alpha = _check_alpha(alpha)
    rgb = _float_rgb(_rgb255(color))
    ax = _axes(ax)
    _check_against_axes_image(ax, m.shape, "mask")
    layer = np.zeros((*m.shape, 4), dtype=np.float32)  # (H, W, RGBA), transparent outside
    layer[m] = (*rgb, alpha)
    ax.imshow(layer, interpolation="nearest")
    if outline and 0 < m.sum() < m.size:
        # contour's x, y are column and row indices: the pixel centres imshow uses.
        ax.contour(m.astype(np.float32), levels=[0.5], colors=[rgb], linewidths=1.5)
    return ax


def show_points(
    points: ArrayLike,
    labels: ArrayLike | None = None,
    ax: Axes | None = None,
    marker_size: float = 200,
) -> Axes:
    """Draw SAM point prompts: positive as green stars, negative as vermillion X's.

    The two kinds differ by marker shape as well as colour, so they stay apart in grayscale
    and for colour-blind readers. Both have a white edge to stand out on any photo.

    Arguments:
      points (array-like): shape (N, 2), ``(x, y)`` in pixels (x = column, y = row), like
        ``SamPredictor.predict(point_coords=...)``, or one point ``[x, y]``. N may be 0. The
        rules are those of :func:`seglab.prompts.validate_points`, without the image bounds.
      labels (array-like | None): shape (N,), 1 = positive (part of the object), 0 =
        negative (not part of it). None means all positive.
      ax (Axes | None): where to draw; None = ``plt.gca()``.
      marker_size (float): marker area in points² (matplotlib's ``s``), > 0.

    Returns:
      Axes: the axes drawn on.

    Raises:
      ValueError: points not (N, 2) or not finite; labels not (N,) or not 0/1;
        marker_size not positive.
      TypeError: non-numeric input, bool points, marker_size not a number, or ``ax`` not an
        Axes.
    """
    pts, lab = _points(points, labels)
    marker_size = check_real(marker_size, "marker_size")
    if not marker_size > 0:
        raise ValueError(f"marker_size must be > 0 (an area in points²), got {marker_size}.")
    ax = _axes(ax)
    pos, neg = pts[lab == 1], pts[lab == 0]
    if len(pos):
        ax.scatter(
            pos[:, 0],
            pos[:, 1],
            marker="*",
            color=_float_rgb(POSITIVE_COLOR),
            label="positive (1)",
            s=marker_size,
            edgecolors="white",
            linewidths=1.25,
            zorder=3,
        )
    if len(neg):
        ax.scatter(
            neg[:, 0],
            neg[:, 1],
            marker="X",
            color=_float_rgb(NEGATIVE_COLOR),
            label="negative (0)",
            s=marker_size,
            edgecolors="white",
            linewidths=1.25,
            zorder=3,
        )
    return ax


def show_box(
    box: ArrayLike,
    ax: Axes | None = None,
    color: Color = BOX_COLOR,
    label: str | None = None,
) -> Axes:
    """Draw a box prompt as an unfilled rectangle, optionally with a text label.

    Arguments:
      box (array-like): ``(x0, y0, x1, y1)`` in pixels, top-left then bottom-right corner
        (SAM's XYXY format); shape (4,) or (1, 4). The rules are those of
        :func:`seglab.prompts.validate_box`, without the image bounds.
      ax (Axes | None): where to draw; None = ``plt.gca()``.
      color (str | int | tuple): edge colour (see :func:`show_mask`); default bluish green.
      label (str | None): text written above the top-left corner.

    Returns:
      Axes: the axes drawn on.

    Raises:
      ValueError: not 4 numbers, not finite, x1 < x0 / y1 < y0 (the message shows how to
        convert an (x, y, width, height) box), or an empty box (zero width or height).
    """
    x0, y0, x1, y1 = _box(box)
    rgb = _float_rgb(_rgb255(color))
    ax = _axes(ax)
    ax.add_patch(
        Rectangle(
            (x0, y0),
            x1 - x0,
            y1 - y0,
            fill=False,
            edgecolor=rgb,
            linewidth=2,
            label=label,
            zorder=3,
        )
    )
    if label is not None:
        ax.text(
            x0,
            y0,
            str(label),
            color="white",
            fontsize=9,
            verticalalignment="bottom",
            bbox={"facecolor": rgb, "edgecolor": "none", "pad": 1.5},
            zorder=4,
        )
    return ax


def show_masks(
    image: ImageLike,
    masks: ArrayLike,
    scores: ArrayLike | None = None,
    points: ArrayLike | None = None,
    labels: ArrayLike | None = None,
    box: ArrayLike | None = None,
    ncols: int = 3,
    titles: Sequence[str] | None = None,
) -> Figure:
    """Show an image with each of several masks in its own panel, titled with its score.

    Each panel reads "Mask i: score=0.953, pixels=12,345", where ``i`` is the index into
    ``masks`` (so ``masks[i]`` is the one you want), like the walk-through in SAM's
    notebooks. Mask i is drawn in ``PALETTE[i % 7]``; the prompts, when given, on every panel.

    In a notebook, assign the result (``fig = show_masks(...)``): a figure that is the last
    value of a cell is otherwise displayed twice.

    Arguments:
      image (array-like): the image, anything :func:`seglab.images.as_rgb_uint8` accepts.
      masks (array-like): shape (N, H, W) (or one (H, W) mask), binary, the image's H and W.
      scores (array-like | None): N numbers, e.g. SAM's predicted IoU per mask.
      points, labels: prompts to draw, as in :func:`show_points`.
      box: a box prompt to draw, as in :func:`show_box`.
      ncols (int): panels per row (at least 1).
      titles (Sequence[str] | None): N titles that replace the generated ones.

    Returns:
      Figure: a new pyplot figure with one axes per mask.

    Raises:
      ValueError: masks not (N, H, W), not binary, N == 0, a size different from the
        image's (both shapes are named), scores or titles not of length N, ncols < 1.
      TypeError: non-numeric masks or scores, or ncols not an int (a bool or a float).
    """
    img = as_rgb_uint8(image)
    stack = numeric_array(masks, "masks")
    if stack.ndim == 2:
        stack = stack[None]
    if stack.ndim != 3:
        raise ValueError(
            f"masks must have shape (N, H, W), got {tuple(stack.shape)}. "
            + (
                "For (batch, N, H, W) pick one batch item, e.g. masks[0]."
                if stack.ndim == 4
                else ""
            )
        )
    n = stack.shape[0]
    if n == 0:
        raise ValueError("masks is empty (N = 0): there is nothing to show.")
    if stack.shape[1:] != img.shape[:2]:
        raise ValueError(
            f"masks are {stack.shape[1]}x{stack.shape[2]} (shape {tuple(stack.shape)}) but the "
            f"image is {img.shape[0]}x{img.shape[1]} (shape {tuple(img.shape)}); the mask "
            "size must equal the image size. Did you pass a different image, or low-res logits?"
        )
    binary = _binary(stack, "masks")
    score_values = None
    if scores is not None:
        score_values = numeric_array(scores, "scores").astype(float).reshape(-1)
        if len(score_values) != n:
            raise ValueError(
                f"scores has {len(score_values)} value(s) but there are {n} masks; "
                "pass one score per mask."
            )
    if titles is not None:
        titles = [str(t) for t in titles] if not isinstance(titles, str) else [titles]
        if len(titles) != n:
            raise ValueError(
                f"titles has {len(titles)} entries but there are {n} masks; give one per mask."
            )
    ncols = check_int(ncols, "ncols")
    if ncols < 1:
        raise ValueError(f"ncols must be an integer >= 1, got {ncols!r}.")
    # Validate the prompts before creating a figure, so an error leaves no stray figure.
    if points is not None:
        _points(points, labels)
    if box is not None:
        _box(box)

    cols = min(int(ncols), n)
    rows = math.ceil(n / cols)
    height, width = img.shape[:2]
    panel_w = 4.0
    panel_h = min(max(panel_w * height / width, 1.5), 8.0) + 0.4  # room for the title
    fig, axes = plt.subplots(
        rows, cols, figsize=(panel_w * cols, panel_h * rows), squeeze=False, layout="constrained"
    )
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.remove()
            continue
        ax.imshow(img)
        show_mask(binary[i], ax=ax, color=i)
        if points is not None:
            show_points(points, labels, ax=ax)
        if box is not None:
            show_box(box, ax=ax)
        if titles is not None:
            title = titles[i]
        elif score_values is not None:
            title = f"Mask {i}: score={score_values[i]:.3f}, pixels={int(binary[i].sum()):,}"
        else:
            title = f"Mask {i}: pixels={int(binary[i].sum()):,}"
        ax.set_title(title)
        ax.axis("off")
    return fig


def show_anns(
    records: Sequence[Mapping[str, object]],
    ax: Axes | None = None,
    alpha: float = 0.35,
    seed: int | None = 0,
    outline: bool = True,
) -> Axes:
    """Draw every mask of ``SamAutomaticMaskGenerator.generate``, each in a random colour.

    SAM's ``show_anns``, validated: largest ``"area"`` first, so smaller masks stay visible on
    top, each in a random RGB colour at opacity ``alpha``. Returns the axes drawn on.

    Arguments:
      records (list of dict): the generator's output, each ``"segmentation"`` an (H, W) binary
        mask (``output_mode="binary_mask"``), all of one size; ``[]`` draws nothing.
      ax (Axes | None): where to draw; None = ``plt.gca()`` (on the image you just showed).
      alpha (float): opacity of each mask in [0, 1]; SAM uses 0.35.
      seed (int | None): colours from ``np.random.default_rng(seed)`` (not NumPy's global state).
      outline (bool): also draw each mask's contour, opaque, in its colour.

    Raises:
      TypeError: records not a list of dicts; a record without an array under
        ``"segmentation"`` (e.g. a COCO RLE from ``output_mode="coco_rle"``).
      ValueError: a mask not 2-D or not binary, masks of different sizes, a size different
        from the image on ``ax``, alpha outside [0, 1], a negative seed.
    """
    if isinstance(records, Mapping) or not isinstance(records, Sequence):
        records = [records]  # refused below, as records[0]
    masks: list[np.ndarray] = []
    for i, record in enumerate(records):
        seg = record.get("segmentation") if isinstance(record, Mapping) else record
        if seg is None or isinstance(seg, Mapping) or not isinstance(record, Mapping):
            raise TypeError(
                f"records[{i}] has no (H, W) mask under 'segmentation' (got {type(seg).__name__})"
                ". Pass generator.generate(image), made with output_mode='binary_mask'."
            )
        name = f"records[{i}]['segmentation']"
        m = _binary(_mask_2d(cast("ArrayLike", seg), name), name)
        if masks and m.shape != masks[0].shape:
            raise ValueError(
                f"{name} is {m.shape} but records[0]'s is {masks[0].shape}: pass the records "
                "of one image (one generate() call)."
            )
        masks.append(m)
    alpha = _check_alpha(alpha)
    rng = np.random.default_rng(None if seed is None else check_int(seed, "seed", minimum=0))
    ax = _axes(ax)
    if not masks:
        return ax
    _check_against_axes_image(ax, masks[0].shape, "the masks")
    layer = np.zeros((*masks[0].shape, 4), np.float32)  # (H, W, RGBA), transparent
    for m in sorted(masks, key=lambda m: -int(m.sum())):  # largest first, like SAM's
        layer[m] = (*(rgb := rng.random(3)), alpha)
        if outline and 0 < m.sum() < m.size:
            ax.contour(m.astype(np.float32), levels=[0.5], colors=[rgb], linewidths=1)
    ax.imshow(layer, interpolation="nearest")
    return ax


def overlay(
    image: ImageLike, mask: ArrayLike, color: Color = None, alpha: float = 0.5
) -> np.ndarray:
    """Blend a binary mask or an integer label map into an image; returns a new image.

    Each foreground pixel becomes ``floor((1 - alpha) * pixel + alpha * colour + 0.5)``
    (rounded half up), background pixels are unchanged. So ``alpha=0`` returns the image
    unchanged and ``alpha=1`` paints the colour exactly.

    Colours: with ``color=None``, label k (k >= 1) gets ``PALETTE[(k - 1) % 7]``, so a binary
    mask (label 1) gets ``PALETTE[0]``, the same colour :func:`show_mask` uses by default;
    label 0 is background. A given ``color`` is used for every foreground label.

    Arguments:
      image (array-like): anything :func:`seglab.images.as_rgb_uint8` accepts.
      mask (array-like): shape (H, W) or (1, H, W), the image's H and W; bool or 0/1 values
        (binary mask), or non-negative integers (label map: 0 = background, k = object k).
      color (str | int | tuple | None): see :func:`show_mask`.
      alpha (float): opacity in [0, 1].

    Returns:
      np.ndarray: shape (H, W, 3), dtype uint8; the input image is not modified.

    Raises:
      ValueError: mask and image sizes differ (both shapes named), negative labels, float
        masks with values other than 0/1, alpha outside [0, 1].
    """
    img = as_rgb_uint8(image)  # a new array: safe to write into
    labels = _mask_2d(mask)
    alpha = _check_alpha(alpha)
    if labels.shape != img.shape[:2]:
        raise ValueError(
            f"mask has shape {tuple(labels.shape)} but the image is {img.shape[0]}x"
            f"{img.shape[1]} (shape {tuple(img.shape)}); they must have the same height and "
            "width. Resize the mask to the image, or pass the image the mask was made from."
        )
    if labels.dtype == bool or labels.dtype.kind == "f":
        labels = _binary(labels).astype(np.int64)  # floats: only 0/1 (threshold them first)
    elif labels.min() < 0:
        raise ValueError(
            f"mask is a label map with negative values {summarize_values(labels[labels < 0])}; "
            "labels must be 0 (background) or k >= 1 (object k). Shift or clip them, e.g. "
            "np.where(mask < 0, 0, mask)."
        )
    foreground = labels > 0
    if color is None:
        colors = np.asarray(PALETTE, dtype=np.float64)[(labels[foreground] - 1) % len(PALETTE)]
    else:
        colors = np.asarray(_rgb255(color), dtype=np.float64)
    blended = (1.0 - alpha) * img[foreground].astype(np.float64) + alpha * colors
    img[foreground] = np.floor(blended + 0.5).astype(np.uint8)
    return img
