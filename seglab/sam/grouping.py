"""A dense grouping loss on the image embedding: an optional extra signal for the encoder.

SAM's loss reaches the image encoder only through the few prompts decoded per image (three
entities a scene in mini-SAM's recipe). A scene says more than that: every cell of the
embedding grid belongs to one region - the own pixels of a part, an object, a container, or the
background. :func:`grouping_loss` asks a linear projection of every cell's embedding to cluster
by region (the "discriminative loss" of De Brabandere, Neven and Van Gool, *Semantic Instance
Segmentation with a Discriminative Loss Function*, 2017): cells of one region within ``pull`` of
their region's mean, the means of two regions at least ``2 * push`` apart. It costs one 1 x 1
convolution per image, not per prompt.

The projection (:class:`GroupingHead`) is used only in training; the shipped model does not
contain it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from seglab.sam.interactive import Entities


class GroupingHead(nn.Module):
    """A 1 x 1 convolution: (B, C, g, g) image embeddings -> (B, dim, g, g) grouping vectors."""

    def __init__(self, channels: int, dim: int = 8) -> None:
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, 1)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.proj(embeddings)


def region_grid(
    scene: Entities, size: tuple[int, int], frame: int, grid: int, purity: float = 0.7
) -> np.ndarray:
    """(grid, grid) int64: the region each embedding cell belongs to, -1 where none clearly.

    Arguments:
      scene: its ``masks`` (K, h, w) bool at the model's input scale.
      size: the scene's (h, w); the model's input is the scene padded to ``frame`` x ``frame``.
      frame, grid: the input side and the embedding side (``frame`` a multiple of ``grid``).
      purity: a cell gets a label only if at least this share of its pixels are one region's.

    Labels: 0 the background, ``k + 1`` entity ``k``'s own region (its visible pixels on none
    of its children). Cells in the padding, or mixed (on a boundary), are -1.
    """
    if frame % grid:
        raise ValueError(f"frame ({frame}) must be a multiple of grid ({grid})")
    h, w = size
    k = len(scene.masks)
    onehot = np.zeros((k + 1, frame, frame), np.float32)
    onehot[0, :h, :w] = ~scene.masks.any(0)  # the background: on no entity
    for j in range(k):
        onehot[j + 1, :h, :w] = scene.own_region(j)
    cell = frame // grid
    share = onehot.reshape(k + 1, grid, cell, grid, cell).mean((2, 4))
    label = share.argmax(0)
    label[share.max(0) < purity] = -1
    return label.astype(np.int64)


def discriminative_loss(
    vectors: torch.Tensor, labels: torch.Tensor, pull: float = 0.5, push: float = 1.5
) -> torch.Tensor:
    """One image's discriminative loss (a scalar; 0 when fewer than one region is labelled).

    Arguments:
      vectors: (D, N) float, one grouping vector per cell.
      labels: (N,) int64, region per cell, -1 to ignore.
      pull: cells within this distance of their region's mean cost nothing.
      push: region means at least ``2 * push`` apart cost nothing.

    Returns the mean over regions of the pull term plus the mean over pairs of regions of the
    push term.
    """
    keep = labels >= 0
    if not bool(keep.any()):
        return vectors.sum() * 0
    v, lab = vectors[:, keep], labels[keep]
    regions, idx = torch.unique(lab, return_inverse=True)
    n = len(regions)
    onehot = F.one_hot(idx, n).to(v.dtype)  # (N, n)
    counts = onehot.sum(0)
    means = (v @ onehot) / counts  # (D, n)
    spread = (v - means[:, idx]).norm(dim=0)  # (N,)
    pull_term = ((F.relu(spread - pull) ** 2) @ onehot / counts).mean()
    if n < 2:
        return pull_term
    gaps = torch.cdist(means.T[None], means.T[None])[0]  # (n, n)
    off = ~torch.eye(n, dtype=torch.bool, device=v.device)
    push_term = (F.relu(2 * push - gaps[off]) ** 2).mean()
    return pull_term + push_term


def grouping_loss(
    head: GroupingHead,
    embeddings: torch.Tensor,
    scenes: Sequence[Entities],
    sizes: Sequence[tuple[int, int]],
    frame: int,
) -> torch.Tensor:
    """The mean :func:`discriminative_loss` over a batch.

    Arguments:
      embeddings: (B, C, g, g), the image encoder's output for the B scenes.
      scenes, sizes: the scenes at the model's input scale and their (h, w)
        (:func:`seglab.sam.interactive.prepare_images`).
      frame: the model's input side (``sam.image_encoder.img_size``).
    """
    if len(scenes) != len(embeddings) or len(sizes) != len(scenes):
        raise ValueError(
            f"grouping_loss needs one scene and one size per embedding, got {len(embeddings)} "
            f"embeddings, {len(scenes)} scenes and {len(sizes)} sizes"
        )
    g = embeddings.shape[-1]
    vectors = head(embeddings).float().flatten(2)  # (B, D, g * g)
    total = vectors.sum() * 0
    for i, (scene, size) in enumerate(zip(scenes, sizes, strict=True)):
        labels = torch.from_numpy(region_grid(scene, size, frame, g)).flatten()
        total = total + discriminative_loss(vectors[i], labels.to(vectors.device))
    return total / max(len(scenes), 1)
