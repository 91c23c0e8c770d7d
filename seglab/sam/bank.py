"""A bank of rendered composites: drawn once, cached on disk, sampled by training steps.

Rendering a composite (:func:`seglab.sam.composites.make_composite`) takes ~40 ms of CPU; a
training step needs several. Rendering them once into a bank, outside the repository (the
default is ``runs/composite_bank``, gitignored), leaves the CPU to training. The bank is split in
chunk files ``chunk_XXXX.npz``, each written atomically by its own seeded job, so an interrupted
build resumes where it stopped and the same seed always gives the same bank.

In memory a bank is a :class:`Bank`: images padded to S x S, each composite's (h, w), its entity
masks bit-packed, and the parent of each entity.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seglab._util import write_atomically
from seglab.sam.composites import TRAIN_PHOTOS, Composite, load_photos, make_composite

#: Seed tag of the bank: composite i of chunk c is drawn from rng([BANK_TAG, seed, c, i]).
BANK_TAG = 0x62616E6B
#: Seed tag of evaluation composites (the evaluation photos only): rng([EVAL_TAG, i]).
EVAL_TAG = 0x6576616C
CHUNK = 250


@dataclass
class Bank:
    """Rendered composites, ready to sample.

    Attributes:
      images: (N, S, S, 3) uint8, each composite at the top left, zero padding after it.
      sizes: (N, 2) int64, each composite's (h, w).
      offsets: (N + 1,) int64, composite i's entities are rows offsets[i]:offsets[i + 1].
      masks: (E, S * S // 8) uint8, each entity's visible mask (S x S, bit-packed).
      parents: (E,) int64, the parent entity as an index within its composite, -1 for none.
      kinds: (E,) int64, see :data:`seglab.sam.composites.KINDS`.
    """

    images: np.ndarray
    sizes: np.ndarray
    offsets: np.ndarray
    masks: np.ndarray
    parents: np.ndarray
    kinds: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    def get(self, i: int) -> Composite:
        """Composite ``i``, cropped to its own size."""
        s = self.images.shape[1]
        h, w = (int(v) for v in self.sizes[i])
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        masks = np.unpackbits(self.masks[a:b], axis=1, count=s * s).reshape(b - a, s, s)
        return Composite(
            image=self.images[i, :h, :w],
            masks=masks[:, :h, :w].astype(bool),
            parents=self.parents[a:b],
            kinds=self.kinds[a:b],
        )


def composite_size(rng: np.random.Generator, side: int, nonsquare: float) -> tuple[int, int]:
    """(h, w) with longest side ``side``; with chance ``nonsquare`` the other side is shorter."""
    if rng.random() >= nonsquare:
        return side, side
    short = int(rng.integers(side * 5 // 8, side))
    return (short, side) if rng.random() < 0.5 else (side, short)


def _render_chunk(args: tuple[Path, int, int, int, int, float]) -> Path:
    path, seed, chunk, n, side, nonsquare = args
    photos = load_photos(TRAIN_PHOTOS)
    images = np.zeros((n, side, side, 3), np.uint8)
    sizes, counts, masks, parents, kinds = [], [], [], [], []
    for i in range(n):
        rng = np.random.default_rng([BANK_TAG, seed, chunk, i])
        h, w = composite_size(rng, side, nonsquare)
        c = make_composite(rng, (h, w), photos)
        images[i, :h, :w] = c.image
        sizes.append((h, w))
        counts.append(len(c.masks))
        padded = np.zeros((len(c.masks), side, side), bool)
        padded[:, :h, :w] = c.masks
        masks.append(np.packbits(padded.reshape(len(c.masks), side * side), axis=1))
        parents.append(c.parents)
        kinds.append(c.kinds)
    arrays: dict[str, np.ndarray] = {
        "images": images,
        "sizes": np.array(sizes, np.int64),
        "counts": np.array(counts, np.int64),
        "masks": np.concatenate(masks),
        "parents": np.concatenate(parents),
        "kinds": np.concatenate(kinds),
    }
    # a chunk on disk is always complete: an interrupted build leaves no half file to reuse
    # savez(**kwds) takes arrays; mypy matches them against allow_pickle (a bool) too
    write_atomically(path, lambda f: np.savez(f, **arrays))  # type: ignore[arg-type]
    return path


def build_bank(
    folder: str | os.PathLike[str],
    n: int,
    seed: int = 0,
    side: int = 256,
    nonsquare: float = 0.25,
    workers: int = 2,
) -> Bank:
    """Render (or reuse) ``n`` composites in ``folder`` and load them.

    Chunks already on disk are reused, so a build that was interrupted continues. The folder
    name should change with ``seed``, ``side`` or ``nonsquare`` (they are not re-checked).

    Arguments:
      folder: where the chunk files live, e.g. ``runs/composite_bank``.
      n: number of composites (rounded up to whole chunks of 250).
      seed: bank seed.
      side: longest side of every composite in pixels (the model's input size).
      nonsquare: share of composites whose shorter side is 5/8 to 1 of ``side``.
      workers: rendering processes.
    """
    if n <= 0:
        raise ValueError(f"a bank needs at least one composite, got n={n}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n_chunks = -(-n // CHUNK)
    jobs = [
        (folder / f"chunk_{c:04d}.npz", seed, c, CHUNK, side, nonsquare)
        for c in range(n_chunks)
        if not (folder / f"chunk_{c:04d}.npz").exists()
    ]
    if jobs:
        if workers > 1 and len(jobs) > 1:
            with ProcessPoolExecutor(workers) as pool:
                list(pool.map(_render_chunk, jobs))
        else:
            for job in jobs:
                _render_chunk(job)
    return load_bank([folder / f"chunk_{c:04d}.npz" for c in range(n_chunks)])


def load_bank(paths: list[Path]) -> Bank:
    """Concatenate chunk files into one :class:`Bank`."""
    parts = [np.load(p) for p in paths]
    counts = np.concatenate([z["counts"] for z in parts])
    return Bank(
        images=np.concatenate([z["images"] for z in parts]),
        sizes=np.concatenate([z["sizes"] for z in parts]),
        offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        masks=np.concatenate([z["masks"] for z in parts]),
        parents=np.concatenate([z["parents"] for z in parts]),
        kinds=np.concatenate([z["kinds"] for z in parts]),
    )


def eval_composite(i: int, side: int = 256, nonsquare: float = 0.25) -> Composite:
    """Evaluation composite ``i``: made only from :data:`~seglab.sam.composites.EVAL_PHOTOS`,
    from its own seed family, so never a training composite."""
    from seglab.sam.composites import EVAL_PHOTOS

    rng = np.random.default_rng([EVAL_TAG, i])
    return make_composite(rng, composite_size(rng, side, nonsquare), load_photos(EVAL_PHOTOS))
