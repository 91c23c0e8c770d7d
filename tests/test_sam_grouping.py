"""Tests for seglab.sam.grouping: the region labels of the embedding grid, the discriminative
loss against hand values, and the loss in the training recipe (saved, resumed, not shipped)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seglab.sam.composites import Composite
from seglab.sam.grouping import GroupingHead, discriminative_loss, grouping_loss, region_grid


def nested(h: int = 32, w: int = 32) -> Composite:
    """An object (rows 0-15, cols 0-15) with a part (rows 0-7, cols 0-7) on a background."""
    masks = np.zeros((2, h, w), bool)
    masks[0, :16, :16] = True  # the object, its part included
    masks[1, :8, :8] = True  # the part
    image = np.zeros((h, w, 3), np.uint8)
    return Composite(image, masks, np.array([-1, 0]), np.array([1, 2]))


def test_region_grid_labels_parts_objects_background_and_ignores_padding_and_boundaries():
    grid = region_grid(nested(), (32, 32), 32, 4)  # cells of 8 x 8 pixels
    assert grid[0, 0] == 2  # the part's own pixels
    assert grid[0, 1] == grid[1, 0] == grid[1, 1] == 1  # the object's own pixels
    assert (grid[2:, :] == 0).all() and (grid[:, 2:] == 0).all()  # the background
    # a non-square scene, padded to the frame: the padding is no region
    c = nested(32, 24)
    grid = region_grid(c, (32, 24), 32, 4)
    assert (grid[:, 3] == -1).all() and grid[0, 0] == 2
    # cells of 16 x 16: (0, 0) is 3/4 the object's own pixels, 1/4 the part's
    assert region_grid(nested(), (32, 32), 32, 2)[0, 0] == 1
    assert region_grid(nested(), (32, 32), 32, 2, purity=0.8)[0, 0] == -1  # a boundary cell


def test_region_grid_refuses_a_frame_that_is_not_a_multiple_of_the_grid():
    with pytest.raises(ValueError, match=r"frame \(30\) must be a multiple of grid \(4\)"):
        region_grid(nested(), (32, 32), 30, 4)


def test_discriminative_loss_against_hand_values():
    labels = torch.tensor([0, 0, 1, 1, -1])
    # tight clusters (spread 0.1 < pull) 4 apart (> 2 * push = 3): nothing to pay
    far = torch.tensor([[0.0, 0.2, 4.0, 4.2, 99.0]])
    assert float(discriminative_loss(far, labels)) == pytest.approx(0.0)
    # means 1 apart: each ordered pair pays (3 - 1)^2 = 4; spread 0 pays nothing
    near = torch.tensor([[0.0, 0.0, 1.0, 1.0, 0.0]])
    assert float(discriminative_loss(near, labels)) == pytest.approx(4.0)
    # one region, cells 1 from their mean: each pays (1 - 0.5)^2 = 0.25
    spread = torch.tensor([[-1.0, 1.0, 0.0, 0.0, 0.0]])
    assert float(discriminative_loss(spread, torch.tensor([0, 0, -1, -1, -1]))) == 0.25
    # nothing labelled: zero, and still differentiable
    x = torch.ones(2, 3, requires_grad=True)
    loss = discriminative_loss(x, torch.full((3,), -1))
    loss.backward()
    assert float(loss.detach()) == 0 and x.grad is not None


def test_a_gradient_step_on_the_grouping_loss_separates_the_regions():
    torch.manual_seed(0)
    head = GroupingHead(16, dim=4)
    emb = torch.randn(1, 16, 4, 4, requires_grad=True)
    scene = nested()
    before = grouping_loss(head, emb, [scene], [(32, 32)], 32)
    before.backward()
    with torch.no_grad():
        emb -= 0.5 * emb.grad
    after = grouping_loss(head, emb, [scene], [(32, 32)], 32)
    assert float(after.detach()) < float(before.detach())


def test_grouping_loss_needs_one_scene_and_size_per_embedding():
    emb = torch.zeros(2, 8, 4, 4)
    with pytest.raises(ValueError, match="got 2 embeddings, 1 scenes and 1 sizes"):
        grouping_loss(GroupingHead(8), emb, [nested()], [(32, 32)], 32)
