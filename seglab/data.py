"""Synthetic segmentation scenes: images with exact instance and semantic labels, from a seed.

Real labelled data is slow to download and slow to label; for learning how segmentation models
behave, a scene generator is better: every pixel's answer is known, any number of scenes can be
made, and the same seed always gives the same scene. Each scene is a textured background with a
few shapes drawn on top of each other (later shapes occlude earlier ones):

- ellipses, rotated rectangles, triangles and "blobs" (a circle whose radius wobbles smoothly
  with the angle), listed in :data:`CLASSES`;
- flat, striped, checkered or noisy fills, colour gradients, a textured background and pixel
  noise, so that a model has to look at more than one colour.

:func:`make_scene` returns a :class:`Scene` (numpy arrays); :class:`SyntheticScenes` wraps it as
a ``torch.utils.data.Dataset`` for training a U-Net (semantic labels) or anything that needs
instance ids. mini-SAM (``seglab.sam.train_mini``) is trained on these scenes, so the course's
mini-SAM knows these shapes - and nothing else.

Conventions: images are ``(H, W, 3)`` uint8 in [0, 255]; ``x`` is the column and ``y`` the row;
boxes are ``(x0, y0, x1, y1)`` with the maximum pixel *included* (as
``segment_anything.utils.amg.batched_mask_to_box`` computes them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from seglab._util import check_int, is_int

#: Semantic class names, indexed by class id (0 is the background).
CLASSES: tuple[str, ...] = ("background", "ellipse", "rectangle", "triangle", "blob")

#: Smallest scene side that :func:`make_scene` accepts, in pixels.
MIN_SIZE = 32
#: Most objects a scene may ask for.
MAX_OBJECTS = 20

_TEXTURES = ("flat", "stripes", "checker", "noise")


@dataclass(frozen=True)
class Scene:
    """One synthetic scene and its exact labels (N = number of visible objects).

    Attributes:
      image (np.ndarray): (H, W, 3) uint8 RGB in [0, 255].
      masks (np.ndarray): (N, H, W) bool, the *visible* part of each object, in drawing order
        (back to front). Masks never overlap; objects hidden completely are dropped.
      labels (np.ndarray): (H, W) int64 semantic map, each pixel's class id from
        :data:`CLASSES` (0 where no object is visible).
      boxes (np.ndarray): (N, 4) int64 tight boxes ``(x0, y0, x1, y1)`` around ``masks``, in
        pixels, maximum included.
      classes (np.ndarray): (N,) int64 class id of each object (1..4).
    """

    image: np.ndarray
    masks: np.ndarray
    labels: np.ndarray
    boxes: np.ndarray
    classes: np.ndarray

    @property
    def instance_map(self) -> np.ndarray:
        """(H, W) int64 map: 0 for background, i + 1 where ``masks[i]`` is visible."""
        ids = np.zeros(self.labels.shape, dtype=np.int64)
        for i, m in enumerate(self.masks):
            ids[m] = i + 1
        return ids


def _check_size(size: object) -> tuple[int, int]:
    if is_int(size):
        size = (int(size), int(size))
    if not isinstance(size, (tuple, list)) or len(size) != 2 or not all(is_int(s) for s in size):
        raise TypeError(
            f"size must be an int or a pair of ints (H, W), got {size!r}. Pass e.g. (256, 256)."
        )
    h, w = int(size[0]), int(size[1])
    if h < MIN_SIZE or w < MIN_SIZE:
        raise ValueError(
            f"size {(h, w)} is too small: both sides must be at least {MIN_SIZE} pixels so "
            f"shapes fit. Pass e.g. (256, 256)."
        )
    return h, w


def _check_n_objects(n_objects: object) -> tuple[int, int]:
    if is_int(n_objects):
        lo = hi = int(n_objects)
    elif (
        isinstance(n_objects, (tuple, list))
        and len(n_objects) == 2
        and all(is_int(v) for v in n_objects)
    ):
        lo, hi = int(n_objects[0]), int(n_objects[1])
    else:
        raise TypeError(
            f"n_objects must be an int or a pair (min, max) of ints, got {n_objects!r}. "
            "Pass e.g. 4 or (2, 6)."
        )
    if not 1 <= lo <= hi <= MAX_OBJECTS:
        raise ValueError(
            f"n_objects {n_objects!r} is invalid: need 1 <= min <= max <= {MAX_OBJECTS}. "
            "Pass e.g. (2, 6)."
        )
    return lo, hi


def _as_rng(seed: object) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    if is_int(seed):
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}. Pass e.g. 0 or 1234.")
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"seed must be a non-negative int or a numpy Generator, got {type(seed).__name__}. "
        "Pass e.g. make_scene(0) or make_scene(np.random.default_rng(0))."
    )


def _texture(
    rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray, kind: str, strength: float
) -> np.ndarray:
    """A (h, w) float32 modulation in about [-strength, strength] on the given grids."""
    if kind == "flat":
        return np.zeros(np.broadcast_shapes(yy.shape, xx.shape), np.float32)
    angle = rng.uniform(0, np.pi)
    period = rng.uniform(4.0, 14.0)
    if kind == "stripes":
        u = xx * np.cos(angle) + yy * np.sin(angle)
        return (strength * np.sign(np.sin(u * (2 * np.pi / period)))).astype(np.float32)
    if kind == "checker":
        cx = np.floor(xx / period).astype(np.int32)
        cy = np.floor(yy / period).astype(np.int32)
        return (strength * (((cx + cy) & 1) * 2 - 1)).astype(np.float32)
    shape = np.broadcast_shapes(yy.shape, xx.shape)
    return (strength * rng.uniform(-1, 1, size=shape)).astype(np.float32)


def _paint(
    rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray, base: np.ndarray, texture: str
) -> np.ndarray:
    """(h, w, 3) float32 colours: ``base`` RGB + a linear gradient + a texture."""
    gy, gx = rng.uniform(-0.6, 0.6, size=2)  # gradient, in colour units per pixel
    grad = (gy * (yy - yy.mean()) + gx * (xx - xx.mean())).astype(np.float32)
    tex = _texture(rng, yy, xx, texture, strength=rng.uniform(12, 35))
    return base[None, None, :] + (grad + tex)[..., None]


def _shape_mask(
    rng: np.random.Generator, kind: int, yy: np.ndarray, xx: np.ndarray, r: float
) -> np.ndarray:
    """Boolean mask of one shape of class ``kind`` and radius ``r`` centred at (0, 0)."""
    angle = rng.uniform(0, np.pi)
    c, s = np.cos(angle), np.sin(angle)
    u = xx * c + yy * s  # rotated coordinates
    v = -xx * s + yy * c
    if kind == 1:  # ellipse
        a, b = r, r * rng.uniform(0.45, 1.0)
        return (u / a) ** 2 + (v / b) ** 2 <= 1.0
    if kind == 2:  # rotated rectangle
        a, b = r * 0.9, r * 0.9 * rng.uniform(0.4, 1.0)
        return (np.abs(u) <= a) & (np.abs(v) <= b)
    if kind == 3:  # triangle: three vertices around the centre, jittered angles
        base = rng.uniform(0, 2 * np.pi)
        angles = base + np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3]) + rng.uniform(-0.35, 0.35, 3)
        radii = r * rng.uniform(0.85, 1.1, 3)
        px, py = radii * np.cos(angles), radii * np.sin(angles)
        inside = np.ones(np.broadcast_shapes(yy.shape, xx.shape), bool)
        for i in range(3):  # counter-clockwise vertices: inside = left of every edge
            j = (i + 1) % 3
            cross = (px[j] - px[i]) * (yy - py[i]) - (py[j] - py[i]) * (xx - px[i])
            inside &= cross >= 0
        return inside
    # blob: the radius varies smoothly with the polar angle
    phi = np.arctan2(yy, xx)
    rad = np.full(phi.shape, r * 0.85, np.float32)
    for k in (2, 3, 4, 5):
        rad += r * rng.uniform(0.0, 0.18 / (k - 1)) * np.cos(k * phi + rng.uniform(0, 2 * np.pi))
    return xx**2 + yy**2 <= rad**2


def _distinct_colour(rng: np.random.Generator, used: list[np.ndarray]) -> np.ndarray:
    best, best_d = rng.uniform(20, 235, size=3).astype(np.float32), -1.0
    for _ in range(12):  # keep the candidate farthest from the colours already used
        col = rng.uniform(20, 235, size=3).astype(np.float32)
        d = min(float(np.abs(col - u).sum()) for u in used) if used else 1e9
        if d > best_d:
            best, best_d = col, d
        if d >= 150:
            break
    return best


def make_scene(
    seed: int | np.random.Generator,
    size: int | tuple[int, int] = (256, 256),
    n_objects: int | tuple[int, int] = (2, 6),
) -> Scene:
    """Draw one synthetic scene; the same seed always gives the same scene.

    Arguments:
      seed (int | np.random.Generator): a non-negative int, or a Generator to draw from (it is
        advanced, so successive calls give different scenes).
      size (int | tuple[int, int]): (H, W) in pixels, each side >= 32; an int means square.
      n_objects (int | tuple[int, int]): how many shapes to draw, or an inclusive range
        (min, max) to sample from; 1 <= min <= max <= 20. Shapes hidden completely by later
        ones are dropped, so the scene may hold fewer.

    Returns:
      Scene: image (H, W, 3) uint8, masks (N, H, W) bool, labels (H, W) int64,
      boxes (N, 4) int64 (x0, y0, x1, y1), classes (N,) int64.
    """
    h, w = _check_size(size)
    lo, hi = _check_n_objects(n_objects)
    rng = _as_rng(seed)
    n = int(rng.integers(lo, hi + 1))

    ys = np.arange(h, dtype=np.float32)[:, None]  # (H, 1) row coordinates
    xs = np.arange(w, dtype=np.float32)[None, :]  # (1, W) column coordinates

    # background: colour + gradient + low-contrast texture
    bg = rng.uniform(30, 225, size=3).astype(np.float32)
    canvas = _paint(rng, ys, xs, bg, str(rng.choice(_TEXTURES)))
    owner = np.full((h, w), -1, np.int64)  # which object is visible at each pixel
    kinds: list[int] = []
    used = [bg]
    side = min(h, w)
    for i in range(n):
        kind = int(rng.integers(1, len(CLASSES)))
        r = float(rng.uniform(0.07, 0.2) * side)
        cy, cx = rng.uniform(0.1, 0.9) * h, rng.uniform(0.1, 0.9) * w
        # draw inside the shape's bounding square only (fast), clipped to the canvas
        y0, y1 = max(int(cy - 1.2 * r), 0), min(int(cy + 1.2 * r) + 2, h)
        x0, x1 = max(int(cx - 1.2 * r), 0), min(int(cx + 1.2 * r) + 2, w)
        yy, xx = ys[y0:y1] - np.float32(cy), xs[:, x0:x1] - np.float32(cx)
        m = _shape_mask(rng, kind, yy, xx, r)
        colour = _distinct_colour(rng, used)
        used.append(colour)
        fill = _paint(rng, ys[y0:y1], xs[:, x0:x1], colour, str(rng.choice(_TEXTURES)))
        canvas[y0:y1, x0:x1][m] = fill[m]
        owner[y0:y1, x0:x1][m] = i
        kinds.append(kind)

    noise_sigma = rng.uniform(0, 10)
    canvas += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(noise_sigma)  # grey
    canvas += np.float32(0.5)  # so that the uint8 cast below rounds to nearest
    image = np.clip(canvas, 0, 255, out=canvas).astype(np.uint8)

    visible = np.unique(owner)
    visible = visible[visible >= 0]  # (N,) drawing indices of objects still visible
    masks = owner[None] == visible[:, None, None]  # (N, H, W)
    classes = np.array(kinds, dtype=np.int64)[visible]
    lut = np.array([0, *kinds], dtype=np.int64)  # owner -1 (background) -> class 0
    labels = lut[owner + 1]
    boxes = np.array([mask_box(m) for m in masks], np.int64).reshape(-1, 4)
    return Scene(image=image, masks=masks, labels=labels, boxes=boxes, classes=classes)


def mask_box(mask: np.ndarray) -> np.ndarray:
    """The tight box ``(x0, y0, x1, y1)`` of a non-empty (H, W) bool mask, max pixel included.

    Returns (4,) int64, the box prompt format of SAM (XYXY, pixels).
    """
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if not len(rows):
        raise ValueError("mask_box needs a non-empty mask; this one has no pixel set.")
    return np.array([cols[0], rows[0], cols[-1], rows[-1]], np.int64)


def erode(mask: np.ndarray, iterations: int = 1) -> np.ndarray:
    """Shrink a (H, W) bool mask by ``iterations`` pixels (4-neighbour erosion, numpy only).

    Pixels outside the image count as background, so the result never touches the border.
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D (H, W), got shape {m.shape}. Pass one mask.")
    for _ in range(int(iterations)):
        out = m.copy()
        out[1:] &= m[:-1]
        out[:-1] &= m[1:]
        out[:, 1:] &= m[:, :-1]
        out[:, :-1] &= m[:, 1:]
        out[0] = out[-1] = False
        out[:, 0] = out[:, -1] = False
        m = out
    return m


def interior_point(mask: np.ndarray) -> tuple[int, int]:
    """The ``(x, y)`` pixel deepest inside a (H, W) bool mask (4-neighbour distance).

    A good single-click prompt: far from every edge. Erodes the mask until one more step would
    empty it, then returns the remaining pixel closest to that core's centroid. Deterministic.

    Raises:
      ValueError: if the mask is empty.
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2 or not m.any():
        raise ValueError(
            f"interior_point needs a non-empty 2-D bool mask, got shape {m.shape} with "
            f"{int(m.sum())} pixels set. Pass one object's mask."
        )
    rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
    y0, x0 = rows[0], cols[0]
    core = np.pad(m[y0 : rows[-1] + 1, x0 : cols[-1] + 1], 1)  # crop: fast; pad: border = bg
    while True:
        nxt = erode(core)
        if not nxt.any():
            break
        core = nxt
    ys, xs = np.nonzero(core)
    k = int(np.argmin((ys - ys.mean()) ** 2 + (xs - xs.mean()) ** 2))
    return int(xs[k] + x0 - 1), int(ys[k] + y0 - 1)


class SyntheticScenes(torch.utils.data.Dataset):
    """A fixed, reproducible set of ``n`` synthetic scenes as tensors.

    Scene ``i`` is ``make_scene(np.random.default_rng([seed, i]), size, n_objects)``: the same
    (seed, i) always gives the same scene, and datasets with different seeds share no scene.
    Scenes are drawn on access (a few ms each), so the dataset costs no memory.

    Arguments:
      n (int): number of scenes (> 0).
      size (int | tuple[int, int]): (H, W) of every scene.
      seed (int): non-negative; use different seeds for training and validation sets.
      task (str): ``'semantic'`` - the target is the (H, W) int64 class-id map (0..4, see
        :data:`CLASSES`); ``'instance'`` - the target is the (H, W) int64 instance-id map
        (0 = background, 1..N = objects in drawing order).
      n_objects (int | tuple[int, int]): as in :func:`make_scene`.

    Items:
      ``(image, target)``: image (3, H, W) float32 in [0, 1]; target (H, W) int64.
    """

    def __init__(
        self,
        n: int,
        size: int | tuple[int, int] = (128, 128),
        seed: int = 0,
        task: str = "semantic",
        n_objects: int | tuple[int, int] = (2, 6),
    ) -> None:
        n = check_int(n, "n", hint="Pass e.g. 200.")
        if n <= 0:
            raise ValueError(f"n must be a positive int, got {n!r}. Pass e.g. 200.")
        if task not in ("semantic", "instance"):
            raise ValueError(f"task must be 'semantic' or 'instance', got {task!r}.")
        self.size = _check_size(size)
        self.n_objects = _check_n_objects(n_objects)
        _as_rng(seed)  # validate now, not at the first item
        self.n, self.seed, self.task = int(n), int(seed), task
        self.num_classes = len(CLASSES)

    def __len__(self) -> int:
        return self.n

    def scene(self, i: int) -> Scene:
        """The :class:`Scene` behind item ``i`` (numpy arrays, for plotting)."""
        if not -self.n <= i < self.n:
            raise IndexError(f"index {i} out of range for {self.n} scenes")
        i = i % self.n
        return make_scene(np.random.default_rng([self.seed, i]), self.size, self.n_objects)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.scene(i)
        image = torch.from_numpy(s.image).permute(2, 0, 1).float().div_(255.0)  # (3, H, W)
        target = s.labels if self.task == "semantic" else s.instance_map
        return image, torch.from_numpy(target)
