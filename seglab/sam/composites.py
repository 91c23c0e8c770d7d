"""Photo composites with parts and wholes: the data mini-SAM learns the world from.

Flat synthetic shapes teach a SAM where a shape ends, but not where a *photographed* thing ends,
and never that one click can mean three things. A composite is built like a collage (the idea of
simple copy-paste augmentation, Ghiasi et al., CVPR 2021):

- a **background** cut from a real photo or a procedural texture;
- a few **containers** (a tray, a panel, a rug): large silhouettes with their own texture;
- **objects** pasted on them or on the background, at every scale from ~6 % to ~90 % of the side:
  smooth blobs, polygons, ellipses, glyphs rendered from a font, and regions cut from photos by
  a threshold; each filled with a colour-jittered crop of a photo or a procedural texture;
- **parts**: smaller silhouettes inside an object, with another texture;
- later objects occlude earlier ones; edges are softened; the whole picture gets blur, noise,
  a colour cast and JPEG artefacts.

Every entity (container, object, part) has a *visible* mask and a parent, so a click inside a part
has up to three valid answers, from small to large: the part, its object, the object's container
- SAM's subpart / part / whole.

The photos come from two disjoint pools: :data:`TRAIN_PHOTOS` (used to train) and
:data:`EVAL_PHOTOS` (the course's own example photos, used only to evaluate). A test keeps them
apart. Everything is drawn from a ``numpy.random.Generator``: the same seed gives the same
composite.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage as ndi

#: Photos that mini-SAM may train on (they ship offline with scikit-image, scikit-learn or
#: matplotlib). Source and licence of each: ``seglab/sam/weights/MODEL_CARD.md``.
TRAIN_PHOTOS: tuple[str, ...] = (
    "skimage:stereo_motorcycle",
    "skimage:retina",
    "skimage:colorwheel",
    "skimage:clock",
    "skimage:page",
    "skimage:text",
    "skimage:cell",
    "skimage:logo",
    "skimage:microaneurysms",
    "sklearn:china.jpg",
    "sklearn:flower.jpg",
    "matplotlib:grace_hopper.jpg",
    "matplotlib:Minduka_Present_Blue_Pack.png",
    "matplotlib:jacksboro_fault_dem.npz",
    "matplotlib:topobathy.npz",
)

#: The course's example photos: evaluation only, never training material.
EVAL_PHOTOS: tuple[str, ...] = (
    "skimage:coins",
    "skimage:horse",
    "skimage:chelsea",
    "skimage:coffee",
    "skimage:astronaut",
    "skimage:rocket",
    "skimage:immunohistochemistry",
    "skimage:brick",
    "skimage:grass",
    "skimage:gravel",
    "skimage:camera",
    "skimage:moon",
    "skimage:hubble_deep_field",
)

KINDS = ("container", "object", "part")

#: Bumped whenever :func:`make_composite` draws differently; cached banks are keyed by it.
COMPOSITES_VERSION = 3

#: An object or container may be covered by later ones only while this share of the pixels it
#: was painted with stays visible, and ...
MIN_VISIBLE = 0.7
#: ... while its largest connected piece holds this share of them: every target is one clearly
#: visible thing, never a scatter of fragments that no click could ask for.
MIN_CONNECTED = 0.9
#: Placements tried for an entity before it is left out.
PLACEMENT_TRIES = 4
SHAPES = ("blob", "polygon", "ellipse", "glyph", "photo_region")
_GLYPHS = "ABCDEFGHKMNPRSTUVWXYZabdeghkmnpqrsuwxyz0123456789&#%@$?★♥♦♣♠●▲■✚✿☂☎"


@dataclass(frozen=True)
class Composite:
    """One rendered composite.

    Attributes:
      image: (H, W, 3) uint8 RGB.
      masks: (K, H, W) bool, the visible pixels of each entity (occluded pixels excluded).
      parents: (K,) int64, the index of each entity's parent entity, -1 for none.
      kinds: (K,) int64, index into :data:`KINDS` (0 container, 1 object, 2 part).
    """

    image: np.ndarray
    masks: np.ndarray
    parents: np.ndarray
    kinds: np.ndarray

    def ancestors(self, k: int) -> list[int]:
        """``[k, parent, grandparent, ...]``: the valid answers to a click on entity ``k``'s own
        pixels, from the smallest to the largest."""
        chain = [int(k)]
        while self.parents[chain[-1]] >= 0:
            chain.append(int(self.parents[chain[-1]]))
        return chain

    def own_region(self, k: int) -> np.ndarray:
        """(H, W) bool: entity ``k``'s visible pixels that belong to none of its children."""
        children = np.flatnonzero(self.parents == k)
        own = self.masks[k].copy()
        for c in children:
            own &= ~self.masks[c]
        return own


# ----------------------------------------------------------------------------- materials


def _to_rgb(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == bool:
        x = x.astype(np.uint8) * 255
    if x.dtype != np.uint8:
        lo, hi = np.nanpercentile(x, [1, 99])
        x = (np.clip((x - lo) / max(hi - lo, 1e-6), 0, 1) * 255).astype(np.uint8)
    if x.ndim == 2:
        x = np.stack([x] * 3, -1)
    return np.ascontiguousarray(x[..., :3])


def _load_photo(name: str) -> np.ndarray:
    source, _, item = name.partition(":")
    if source == "skimage":
        import skimage.data

        x = getattr(skimage.data, item)()
        x = x[0] if isinstance(x, tuple) else x
    elif source == "sklearn":
        import sklearn.datasets

        path = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images", item)
        x = np.asarray(Image.open(path).convert("RGB"))
    elif source == "matplotlib":
        import matplotlib

        path = os.path.join(matplotlib.get_data_path(), "sample_data", item)
        if item.endswith(".npz"):
            with np.load(path) as z:
                x = z[next(k for k in z.files if np.asarray(z[k]).ndim == 2)].astype(float)
            import matplotlib.pyplot as plt

            x = (plt.get_cmap("terrain")(_to_rgb(x)[..., 0] / 255.0)[..., :3] * 255).astype(
                np.uint8
            )
        else:
            x = np.asarray(Image.open(path).convert("RGB"))
    else:
        raise ValueError(f"unknown photo source {source!r} in {name!r}")
    return _to_rgb(x)


@lru_cache(maxsize=4)
def load_photos(names: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """The photos named ``source:item`` as HxWx3 uint8 arrays; sources whose package is missing
    (scikit-learn is a dev extra) are skipped."""
    out = []
    for name in names:
        try:
            out.append(_load_photo(name))
        except ImportError:
            continue
    if not out:
        raise ValueError(f"none of the photos {names} could be loaded")
    return tuple(out)


def _smooth_noise(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """(h, w) float in [0, 1]: noise blurred at a random scale (clouds, marble, grain)."""
    sigma = float(np.exp(rng.uniform(np.log(0.7), np.log(max(h, w) / 6))))
    x = ndi.gaussian_filter(rng.standard_normal((h, w)), sigma)
    x -= x.min()
    return x / max(x.max(), 1e-6)


def procedural_texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """(h, w, 3) uint8 procedural texture: flat, gradient, stripes, checks, dots or noise."""
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    kind = rng.integers(6)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == 0:
        t = np.zeros((h, w), np.float32)
    elif kind == 1:
        a = rng.uniform(0, 2 * np.pi)
        t = np.cos(a) * xx + np.sin(a) * yy
        t = (t - t.min()) / max(float(np.ptp(t)), 1.0)
    elif kind == 2:
        a, period = rng.uniform(0, np.pi), rng.uniform(3, 24)
        t = (np.sin((np.cos(a) * xx + np.sin(a) * yy) * 2 * np.pi / period) > 0).astype(np.float32)
    elif kind == 3:
        p = rng.uniform(3, 20)
        t = ((xx // p + yy // p) % 2).astype(np.float32)
    elif kind == 4:
        p, r = rng.uniform(5, 18), rng.uniform(0.2, 0.45)
        t = (np.hypot(xx % p - p / 2, yy % p - p / 2) < r * p).astype(np.float32)
    else:
        t = _smooth_noise(rng, h, w)
    img = c0 + t[..., None] * (c1 - c0)
    img += rng.normal(0, rng.uniform(0, 12), (h, w, 1))
    return np.clip(img, 0, 255).astype(np.uint8)


def _jitter_colour(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = img.astype(np.float32)
    if rng.random() < 0.5:  # mix the channels: hue change
        m = np.eye(3) + rng.normal(0, 0.35, (3, 3))
        x = x @ (m / np.abs(m).sum(0, keepdims=True) * 1.2).T.astype(np.float32)
    x = (x - x.mean()) * rng.uniform(0.6, 1.4) + x.mean() + rng.uniform(-50, 50)
    x = x * rng.uniform(0.8, 1.2, 3)
    return np.clip(x, 0, 255).astype(np.uint8)


def texture(rng: np.random.Generator, h: int, w: int, photos: Sequence[np.ndarray]) -> np.ndarray:
    """(h, w, 3) uint8: a colour-jittered crop of a photo (70 %) or a procedural texture."""
    if rng.random() < 0.3 or not photos:
        return procedural_texture(rng, h, w)
    photo = photos[int(rng.integers(len(photos)))]
    ph, pw = photo.shape[:2]
    scale = float(np.exp(rng.uniform(np.log(0.3), np.log(2.0))))
    ch, cw = min(ph, max(8, int(h / scale))), min(pw, max(8, int(w / scale)))
    y0, x0 = rng.integers(ph - ch + 1), rng.integers(pw - cw + 1)
    crop = Image.fromarray(photo[y0 : y0 + ch, x0 : x0 + cw]).resize(
        (w, h), Image.Resampling.BILINEAR
    )
    out = np.asarray(crop)
    if rng.random() < 0.5:
        out = out[:, ::-1]
    return _jitter_colour(out, rng)


# ----------------------------------------------------------------------------- silhouettes


@lru_cache(maxsize=2)
def _font(size: int) -> ImageFont.FreeTypeFont:
    import matplotlib

    path = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans-Bold.ttf")
    return ImageFont.truetype(path, size)


def silhouette(
    rng: np.random.Generator, h: int, w: int, photos: Sequence[np.ndarray], kind: str | None = None
) -> np.ndarray:
    """(h, w) bool shape that touches all four sides of its box roughly: blob, polygon,
    ellipse, glyph, or a region cut from a photo by a threshold."""
    kind = kind or str(rng.choice(SHAPES, p=[0.3, 0.2, 0.15, 0.15, 0.2]))
    if kind == "glyph":
        ch = _GLYPHS[rng.integers(len(_GLYPHS))]
        canvas = Image.new("L", (96, 96))
        ImageDraw.Draw(canvas).text((48, 48), ch, fill=255, font=_font(80), anchor="mm")
        a = np.asarray(canvas) > 127
        if a.sum() > 200:
            ys, xs = np.nonzero(a)
            a = a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
            return np.asarray(Image.fromarray(a).resize((w, h), Image.Resampling.NEAREST)).astype(
                bool
            )
        kind = "blob"
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = (xx + 0.5) / w * 2 - 1, (yy + 0.5) / h * 2 - 1  # [-1, 1] box coordinates
    if kind == "photo_region" and photos:
        t = texture(rng, h, w, photos).mean(-1)
        t = ndi.gaussian_filter(t, rng.uniform(1, 4))
        weight = 1 - np.hypot(u, v) / 1.5  # favour the centre
        t = (t - t.mean()) / (t.std() + 1e-6) + 2 * weight
        m = t > np.quantile(t, rng.uniform(0.35, 0.7))
        lab, n = ndi.label(m)
        if n:
            sizes = ndi.sum(m, lab, range(1, n + 1))
            m = ndi.binary_fill_holes(lab == 1 + int(np.argmax(sizes)))
            if m.sum() > 0.15 * h * w:
                return m
        kind = "blob"
    if kind == "ellipse":
        return u**2 + v**2 <= 1
    ang = np.arctan2(v, u)
    rad = np.hypot(u, v)
    if kind == "polygon":
        n = int(rng.integers(3, 9))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(0.55, 1.0, n)
        pts = [
            (w / 2 * (1 + r * np.cos(a)), h / 2 * (1 + r * np.sin(a)))
            for a, r in zip(angles, radii, strict=True)
        ]
        canvas = Image.new("L", (w, h))
        ImageDraw.Draw(canvas).polygon(pts, fill=255)
        m = np.asarray(canvas) > 0
        return m if m.sum() > 0.1 * h * w else u**2 + v**2 <= 1
    r = np.full_like(ang, 0.8)  # blob: a radius made of a few random harmonics
    for f in range(2, 7):
        r += rng.uniform(0, 0.25 / f * 3) * np.cos(f * ang + rng.uniform(0, 2 * np.pi))
    return rad <= r / max(float(r.max()), 1e-6)


# ----------------------------------------------------------------------------- composing


class _Canvas:
    """The image being painted, an atom map (which paint layer each pixel shows) and the
    entities as sets of atoms."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image.astype(np.float32)
        self.atoms = np.zeros(image.shape[:2], np.int32)  # 0 = background
        self.n_atoms = 0
        self.entities: list[tuple[set[int], int, int]] = []  # (atoms, parent, kind)
        self.painted: list[int] = []  # pixels each entity had when it was painted

    def keeps_visible(self, m: np.ndarray, parent: int) -> bool:
        """Would painting a child of ``parent`` (-1: none) over ``m`` leave every other container
        and object clearly visible (its ancestors grow by it, they lose nothing): at least
        :data:`MIN_VISIBLE` of the pixels it was painted with, in one piece (its largest
        connected part holds :data:`MIN_CONNECTED` of them)?"""
        ancestors = set()
        while parent >= 0:
            ancestors.add(parent)
            parent = self.entities[parent][1]
        for k, (atoms, _, kind) in enumerate(self.entities):
            if kind == 2 or k in ancestors:
                continue
            own = np.isin(self.atoms, list(atoms))
            if not (own & m).any():
                continue
            left = own & ~m
            n = int(left.sum())
            if n < MIN_VISIBLE * self.painted[k]:
                return False
            labels, count = ndi.label(left)
            if count > 1 and np.bincount(labels.ravel())[1:].max() < MIN_CONNECTED * n:
                return False
        return True

    def paint(self, mask: np.ndarray, fill: np.ndarray, soft: float) -> int:
        """Paint ``fill`` (H, W, 3) where ``mask`` (H, W) bool is, edges softened; new atom id."""
        alpha = mask.astype(np.float32)
        if soft > 0:
            alpha = ndi.gaussian_filter(alpha, soft)
        self.image += alpha[..., None] * (fill.astype(np.float32) - self.image)
        self.n_atoms += 1
        self.atoms[mask] = self.n_atoms
        return self.n_atoms

    def add_entity(self, atom: int, parent: int, kind: int) -> int:
        self.entities.append(({atom}, parent, kind))
        self.painted.append(int((self.atoms == atom).sum()))
        p = parent
        while p >= 0:  # an entity's atoms belong to all its ancestors too
            self.entities[p][0].add(atom)
            p = self.entities[p][1]
        return len(self.entities) - 1


def _place(rng: np.random.Generator, h: int, w: int, oh: int, ow: int, inside: np.ndarray | None):
    """Top-left corner for an (oh, ow) box: anywhere (may cross the border) or centred on a
    random pixel of ``inside``."""
    if inside is not None and inside.any():
        ys, xs = np.nonzero(inside)
        k = rng.integers(len(ys))
        return int(ys[k] - oh // 2), int(xs[k] - ow // 2)
    return int(rng.integers(-oh // 4, h - oh * 3 // 4 + 1)), int(
        rng.integers(-ow // 4, w - ow * 3 // 4 + 1)
    )


def _largest_piece(m: np.ndarray) -> np.ndarray:
    """The largest 4-connected piece of mask ``m`` (``m`` itself when it is one piece)."""
    labels, n = ndi.label(m)
    if n <= 1:
        return m
    return labels == 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))


def _stamp(shape: np.ndarray, y0: int, x0: int, h: int, w: int) -> np.ndarray:
    """Put a small (oh, ow) mask at (y0, x0) of an empty (h, w) mask, clipped at the border."""
    out = np.zeros((h, w), bool)
    oh, ow = shape.shape
    ys, xs = max(y0, 0), max(x0, 0)
    ye, xe = min(y0 + oh, h), min(x0 + ow, w)
    if ye > ys and xe > xs:
        out[ys:ye, xs:xe] = shape[ys - y0 : ye - y0, xs - x0 : xe - x0]
    return out


def _degrade(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    x = img
    if rng.random() < 0.5:
        x = ndi.gaussian_filter(x, (rng.uniform(0.3, 1.2), rng.uniform(0.3, 1.2), 0))
    if rng.random() < 0.6:
        x = x + rng.normal(0, rng.uniform(1, 10), x.shape)
    x = np.clip(x * rng.uniform(0.85, 1.15, 3) + rng.uniform(-15, 15), 0, 255).astype(np.uint8)
    if rng.random() < 0.2:
        x = np.repeat(x.mean(-1, keepdims=True).astype(np.uint8), 3, -1)
    if rng.random() < 0.6:
        buf = io.BytesIO()
        Image.fromarray(x).save(buf, "JPEG", quality=int(rng.integers(30, 96)))
        x = np.asarray(Image.open(buf).convert("RGB"))
    return x


def make_composite(
    rng: np.random.Generator,
    size: tuple[int, int] = (256, 256),
    photos: Sequence[np.ndarray] | None = None,
    min_area: int = 48,
) -> Composite:
    """Render one composite of ``size`` (H, W) from ``photos`` (default: :data:`TRAIN_PHOTOS`).

    Entities whose visible area ends below ``min_area`` pixels are dropped (their children
    move up to their parent).
    """
    h, w = size
    photos = load_photos(TRAIN_PHOTOS) if photos is None else photos
    side = min(h, w)
    cv = _Canvas(texture(rng, h, w, photos))
    soft = lambda: float(rng.choice([0.0, 0.6, 1.2], p=[0.4, 0.4, 0.2]))  # noqa: E731

    def obj_size() -> tuple[int, int]:
        s = side * float(np.exp(rng.uniform(np.log(0.07), np.log(0.9))))
        ar = float(np.exp(rng.uniform(-0.5, 0.5)))
        return max(8, int(s * ar)), max(8, int(s / ar))

    def add(parent: int, kind: int, oh: int, ow: int, inside: np.ndarray | None) -> int:
        shape = silhouette(rng, oh, ow, photos)
        for _ in range(PLACEMENT_TRIES):
            y0, x0 = _place(rng, h, w, oh, ow, inside)
            m = _stamp(shape, y0, x0, h, w)
            if inside is not None:
                m &= inside
            m = _largest_piece(m)  # one thing per entity: a click on it has one answer
            # a part may cover its own object; anything else must leave every object visible
            if m.sum() >= min_area and (kind == 2 or cv.keeps_visible(m, parent)):
                break
        else:
            return -1
        atom = cv.paint(m, texture(rng, h, w, photos), soft())
        return cv.add_entity(atom, parent, kind)

    containers = []
    for _ in range(rng.integers(0, 3)):
        s = side * rng.uniform(0.45, 0.85)
        c = add(-1, 0, int(s * rng.uniform(0.7, 1.3)), int(s * rng.uniform(0.7, 1.3)), None)
        if c >= 0:
            containers.append(c)
    for _ in range(rng.integers(2, 8)):
        parent = -1
        inside: np.ndarray | None = None
        if containers and rng.random() < 0.6:
            parent = int(rng.choice(containers))
            inside = cv.atoms == min(cv.entities[parent][0])  # on the container's own surface
        oh, ow = obj_size()
        if inside is not None:  # set exactly when parent >= 0
            ys, xs = np.nonzero(inside)
            if len(ys) == 0:
                continue
            oh, ow = min(oh, int(np.ptp(ys)) // 2 + 8), min(ow, int(np.ptp(xs)) // 2 + 8)
        o = add(parent, 1, oh, ow, inside)
        if o < 0:
            continue
        if rng.random() < 0.55 and min(oh, ow) >= 24:  # parts inside the object
            body = cv.atoms == min(cv.entities[o][0])
            for _ in range(rng.integers(1, 3)):
                f = rng.uniform(0.25, 0.55)
                add(
                    o,
                    2,
                    max(6, int(oh * f)),
                    max(6, int(ow * f)),
                    ndi.binary_erosion(body, iterations=2),
                )
    image = _degrade(cv.image, rng)
    # visible masks; drop entities that ended (almost) fully occluded
    masks: list[np.ndarray] = []
    parents, kinds, keep = [], [], {}
    for k, (atoms, parent, kind) in enumerate(cv.entities):
        m = np.isin(cv.atoms, list(atoms))
        if m.sum() < min_area:
            continue
        p = parent
        while p >= 0 and p not in keep:
            p = cv.entities[p][1]
        keep[k] = len(masks)
        masks.append(m)
        parents.append(keep[p] if p >= 0 else -1)
        kinds.append(kind)
    return Composite(
        image=image,
        masks=np.array(masks, bool).reshape(len(masks), h, w),
        parents=np.array(parents, np.int64),
        kinds=np.array(kinds, np.int64),
    )
