"""Tests for seglab.viz: artists on an Agg figure, hand-checked overlay pixels, every refusal."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.markers import MarkerStyle
from matplotlib.patches import Rectangle

from seglab.prompts import validate_labels, validate_points
from seglab.viz import (
    NEGATIVE_COLOR,
    PALETTE,
    POSITIVE_COLOR,
    overlay,
    palette_color,
    show_anns,
    show_box,
    show_mask,
    show_masks,
    show_points,
)

H, W = 12, 16


@pytest.fixture(autouse=True)
def _close_figures():
    plt.close("all")
    yield
    plt.close("all")


@pytest.fixture
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)


@pytest.fixture
def mask() -> np.ndarray:
    m = np.zeros((H, W), dtype=bool)
    m[3:7, 4:10] = True  # 24 pixels
    return m


def rgb01(rgb: tuple[int, int, int]) -> np.ndarray:
    return np.asarray(rgb) / 255


def marker_vertices(marker: str) -> np.ndarray:
    style = MarkerStyle(marker)
    return style.get_path().transformed(style.get_transform()).vertices


# --- palette -----------------------------------------------------------------------------


def test_palette_is_okabe_ito_without_black_and_wraps():
    assert len(PALETTE) == 7
    assert len(set(PALETTE)) == 7
    assert (0, 0, 0) not in PALETTE
    assert all(0 <= c <= 255 for rgb in PALETTE for c in rgb)
    assert palette_color(0) == PALETTE[0]
    assert palette_color(7) == PALETTE[0]
    assert palette_color(9) == PALETTE[2]
    assert palette_color(-1) == PALETTE[-1]


# --- show_mask ---------------------------------------------------------------------------


def test_show_mask_draws_a_translucent_palette_layer_and_an_outline(image, mask):
    ax = plt.figure().add_subplot()
    ax.imshow(image)
    limits = (ax.get_xlim(), ax.get_ylim())
    out = show_mask(mask, ax=ax, alpha=0.4)
    assert out is ax
    assert len(ax.images) == 2
    layer = np.asarray(ax.images[1].get_array())
    assert layer.shape == (H, W, 4)
    np.testing.assert_allclose(layer[4, 5], [*rgb01(PALETTE[0]), 0.4], rtol=1e-6)
    np.testing.assert_array_equal(layer[0, 0], [0, 0, 0, 0])  # outside: fully transparent
    assert (layer[..., 3] > 0).sum() == mask.sum()
    assert len(ax.collections) == 1  # the contour
    np.testing.assert_allclose(ax.collections[0].get_edgecolor()[0][:3], rgb01(PALETTE[0]))
    ax.figure.canvas.draw()
    assert (ax.get_xlim(), ax.get_ylim()) == limits  # the view still shows the image


def test_show_mask_accepts_sam_single_mask_shape_and_0_1_values(mask):
    ax = plt.figure().add_subplot()
    show_mask(mask[None].astype(np.uint8), ax=ax, outline=False)
    assert len(ax.collections) == 0
    layer = np.asarray(ax.images[0].get_array())
    assert (layer[..., 3] > 0).sum() == mask.sum()


def test_show_mask_accepts_a_torch_mask(mask):
    ax = plt.figure().add_subplot()
    show_mask(torch.from_numpy(mask)[None], ax=ax)
    assert len(ax.images) == 1


def test_show_mask_on_current_axes_makes_no_extra_figure(image, mask):
    plt.figure()
    plt.imshow(image)
    ax = show_mask(mask)
    assert ax is plt.gca()
    assert len(plt.get_fignums()) == 1
    assert len(ax.images) == 2


def test_show_mask_empty_or_full_mask_draws_no_outline_and_no_warning():
    ax = plt.figure().add_subplot()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        show_mask(np.zeros((H, W), bool), ax=ax)
        show_mask(np.ones((H, W), bool), ax=ax)
    assert len(ax.collections) == 0
    assert len(ax.images) == 2


@pytest.mark.parametrize(
    ("color", "expected"),
    [
        (None, PALETTE[0]),
        (3, PALETTE[3]),
        (10, PALETTE[3]),
        ("red", (255, 0, 0)),
        ("#0072b2", (0, 114, 178)),
        ((1.0, 0.5, 0.0), (255, 128, 0)),
        ((255, 128, 0), (255, 128, 0)),
        ([0, 0, 1], (0, 0, 255)),
    ],
)
def test_show_mask_colors(mask, color, expected):
    ax = plt.figure().add_subplot()
    show_mask(mask, ax=ax, color=color, alpha=1.0)
    layer = np.asarray(ax.images[0].get_array())
    np.testing.assert_allclose(layer[4, 5, :3], rgb01(expected), atol=1e-6)


@pytest.mark.parametrize(
    ("color", "error", "match"),
    [
        ("not-a-colour", ValueError, "not a colour matplotlib knows"),
        ((300, 0, 0), ValueError, "above 255"),
        ((1, 0, 0, 0.5), ValueError, "3 numbers.*alpha="),
        ((-1, 0, 0), ValueError, "not an RGB triple"),
        (True, TypeError, "not bool"),
        (object(), TypeError, "palette index, a colour name or an RGB triple"),
    ],
)
def test_show_mask_bad_colors(mask, color, error, match):
    ax = plt.figure().add_subplot()
    with pytest.raises(error, match=match):
        show_mask(mask, ax=ax, color=color)


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (np.zeros((3, H, W), bool), ValueError, r"\(3, 12, 16\): 3 masks.*show_masks"),
        (np.zeros((1, 1, H, W), bool), ValueError, r"mask\[0, 0\]"),
        (np.zeros(H, bool), ValueError, r"expected \(H, W\) or \(1, H, W\)"),
        (np.zeros((0, W), bool), ValueError, "no pixels"),
        (np.array([[0, 1], [2, 255]]), ValueError, r"values \[0, 1, 2, 255\].*mask > 0.*== k"),
        (np.array([[-3.5, 0.2], [4.0, 0]]), ValueError, r"\[-3.5, 0, 0.2, 4\].*logits.*> 0.5"),
        (np.array([[np.nan, 1.0]]), ValueError, "must be binary.*nan"),
        (None, TypeError, "mask is None"),
        ("mask", TypeError, "got str"),
        (np.array([["a"]]), TypeError, "dtype <U1"),
        ([[0, 1], [1]], ValueError, "not rectangular"),
    ],
)
def test_show_mask_refusals(bad, error, match):
    ax = plt.figure().add_subplot()
    with pytest.raises(error, match=match):
        show_mask(bad, ax=ax)
    assert len(ax.images) == 0  # nothing half-drawn


def test_show_mask_unique_values_are_summarised_when_many():
    ax = plt.figure().add_subplot()
    with pytest.raises(ValueError, match=r"\.\.\. \(100 distinct values\)"):
        show_mask(np.arange(100).reshape(10, 10), ax=ax)


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_show_mask_alpha_out_of_range(mask, alpha):
    ax = plt.figure().add_subplot()
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        show_mask(mask, ax=ax, alpha=alpha)


def test_show_mask_must_match_the_image_on_the_axes(image):
    ax = plt.figure().add_subplot()
    ax.imshow(image)
    with pytest.raises(ValueError, match=r"mask is 6x8 \(HxW\).*on these axes is 12x16"):
        show_mask(np.ones((6, 8), bool), ax=ax)
    assert len(ax.images) == 1


def test_show_mask_trusts_an_image_placed_with_extent(image):
    ax = plt.figure().add_subplot()
    ax.imshow(image, extent=(0, 8, 6, 0))
    show_mask(np.ones((6, 8), bool), ax=ax)
    assert len(ax.images) == 2


def test_show_mask_ax_must_be_axes(mask):
    with pytest.raises(TypeError, match=r"ax must be a matplotlib Axes.*got Figure"):
        show_mask(mask, ax=plt.figure())


# --- show_points -------------------------------------------------------------------------


def test_show_points_positive_star_negative_x(image):
    ax = plt.figure().add_subplot()
    ax.imshow(image)
    limits = (ax.get_xlim(), ax.get_ylim())
    points = np.array([[2.0, 3.0], [5.0, 6.0], [7.0, 1.0]])
    out = show_points(points, [1, 0, 1], ax=ax)
    assert out is ax
    assert len(ax.collections) == 2
    pos, neg = ax.collections
    np.testing.assert_array_equal(pos.get_offsets(), [[2, 3], [7, 1]])
    np.testing.assert_array_equal(neg.get_offsets(), [[5, 6]])
    np.testing.assert_allclose(pos.get_facecolor()[0][:3], rgb01(POSITIVE_COLOR))
    np.testing.assert_allclose(neg.get_facecolor()[0][:3], rgb01(NEGATIVE_COLOR))
    # shapes differ, not only colours (colour-blind safe)
    np.testing.assert_allclose(pos.get_paths()[0].vertices, marker_vertices("*"))
    np.testing.assert_allclose(neg.get_paths()[0].vertices, marker_vertices("X"))
    assert pos.get_sizes()[0] == 200
    ax.figure.canvas.draw()
    assert (ax.get_xlim(), ax.get_ylim()) == limits


def test_show_points_default_labels_are_positive():
    ax = plt.figure().add_subplot()
    show_points(torch.tensor([[1.0, 2.0], [3.0, 4.0]]), ax=ax, marker_size=50)
    assert len(ax.collections) == 1
    np.testing.assert_allclose(ax.collections[0].get_facecolor()[0][:3], rgb01(POSITIVE_COLOR))
    assert ax.collections[0].get_sizes()[0] == 50


def test_show_points_no_points_draws_nothing():
    ax = plt.figure().add_subplot()
    show_points(np.zeros((0, 2)), np.zeros(0), ax=ax)
    show_points([], ax=ax)
    assert len(ax.collections) == 0


def test_show_points_reads_points_like_the_prompts_do():
    # one point [x, y] and a scalar label, as seglab.prompts.validate_points accepts them
    ax = plt.figure().add_subplot()
    show_points([10, 20], 0, ax=ax)
    (neg,) = ax.collections
    np.testing.assert_array_equal(neg.get_offsets(), [[10, 20]])
    np.testing.assert_allclose(neg.get_facecolor()[0][:3], rgb01(NEGATIVE_COLOR))
    for points, labels in (([[1, 2]], [2]), (np.ones((1, 2), bool), None), ([[1, 2, 3]], None)):
        with pytest.raises((TypeError, ValueError)) as from_viz:
            show_points(points, labels, ax=ax)
        with pytest.raises(type(from_viz.value)) as from_prompts:
            validate_labels(labels, len(validate_points(points, (100, 100))))
        assert str(from_viz.value) == str(from_prompts.value)


@pytest.mark.parametrize(
    ("points", "labels", "match"),
    [
        ([10, 20, 30], None, r"one point \[x, y\] or an Nx2 array, got 3 numbers"),
        (np.zeros((3, 3)), None, r"shape \(N, 2\).*shape \(3, 3\)"),
        ([[1, 2], [3, 4]], [1], r"got 1 labels for 2 point"),
        ([[1, 2]], [[1]], r"labels must be 1-D.*shape \(1, 1\)"),
        ([[1, 2], [3, 4]], [1, 2], r"1 \(foreground\) or 0 \(background\).*\[1, 2\]"),
        ([[1, np.nan]], None, "NaN or inf"),
        (np.zeros((2, 5)), None, "looks transposed"),
    ],
)
def test_show_points_refusals(points, labels, match):
    ax = plt.figure().add_subplot()
    with pytest.raises(ValueError, match=match):
        show_points(points, labels, ax=ax)
    assert len(ax.collections) == 0


def test_show_points_marker_size_must_be_positive():
    with pytest.raises(ValueError, match="marker_size must be > 0"):
        show_points([[1, 2]], marker_size=0)


# --- show_box ----------------------------------------------------------------------------


def test_show_box_draws_an_unfilled_rectangle_with_label():
    ax = plt.figure().add_subplot()
    show_box([2, 3, 10, 8], ax=ax, label="cat")
    (rect,) = ax.patches
    assert isinstance(rect, Rectangle)
    assert rect.get_xy() == (2, 3)
    assert (rect.get_width(), rect.get_height()) == (8, 5)
    assert not rect.get_fill()
    assert rect.get_label() == "cat"
    assert [t.get_text() for t in ax.texts] == ["cat"]


def test_show_box_color_and_sam_1x4_shape():
    ax = plt.figure().add_subplot()
    show_box(np.array([[0, 0, 4, 4]]), ax=ax, color=1)
    np.testing.assert_allclose(ax.patches[0].get_edgecolor()[:3], rgb01(PALETTE[1]))
    assert len(ax.texts) == 0


@pytest.mark.parametrize(
    ("box", "match"),
    [
        ([1, 2, 3], r"4 numbers \(x0, y0, x1, y1\), got 3"),
        ([[0, 0, 1, 1], [0, 0, 2, 2]], r"shape \(2, 4\).*one show_box call each"),
        ([10, 2, 5, 8], r"x1 < x0.*\(x, y, x \+ w, y \+ h\)"),
        ([0, 9, 5, 8], "y1 < y0"),
        ([0, 0, np.inf, 5], "NaN or inf"),
        ([2, 3, 2, 8], r"empty \(zero width or height\)"),  # SAM's prompts refuse it too
    ],
)
def test_show_box_refusals(box, match):
    ax = plt.figure().add_subplot()
    with pytest.raises(ValueError, match=match):
        show_box(box, ax=ax)
    assert len(ax.patches) == 0


# --- show_masks --------------------------------------------------------------------------


def test_show_masks_titles_colours_and_prompts(image, mask):
    masks = np.stack([mask, ~mask, np.zeros_like(mask)])
    scores = np.array([0.9534, 0.5, 0.01])
    fig = show_masks(image, masks, scores=scores, points=[[5, 5]], labels=[1], box=[4, 3, 9, 6])
    assert len(fig.axes) == 3
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "Mask 0: score=0.953, pixels=24",
        "Mask 1: score=0.500, pixels=168",
        "Mask 2: score=0.010, pixels=0",
    ]
    for i, ax in enumerate(fig.axes):
        assert len(ax.images) == 2  # the image and the mask layer
        layer = np.asarray(ax.images[1].get_array())
        on = np.argwhere(layer[..., 3] > 0)
        if len(on):
            y, x = on[0]
            np.testing.assert_allclose(layer[y, x, :3], rgb01(PALETTE[i]), atol=1e-6)
        assert len(ax.patches) == 1  # the box
        offsets = [c.get_offsets() for c in ax.collections if len(c.get_offsets())]
        assert any(np.array_equal(o, [[5, 5]]) for o in offsets)
    assert plt.get_fignums() == [fig.number]


def test_show_masks_grid_and_titles_override(image, mask):
    masks = np.stack([mask] * 5)
    fig = show_masks(image, masks, ncols=3, titles=list("abcde"))
    assert [ax.get_title() for ax in fig.axes] == list("abcde")
    assert fig.axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 3)


def test_show_masks_without_scores_and_single_mask(image, mask):
    fig = show_masks(image, mask.astype(np.uint8))
    assert [ax.get_title() for ax in fig.axes] == ["Mask 0: pixels=24"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"masks": np.zeros((2, 6, 8), bool)}, ValueError, r"masks are 6x8.*image is 12x16"),
        ({"masks": np.zeros((0, H, W), bool)}, ValueError, "N = 0"),
        ({"masks": np.zeros((1, 2, H, W), bool)}, ValueError, r"\(N, H, W\).*masks\[0\]"),
        ({"masks": np.full((2, H, W), 2)}, ValueError, "masks must be binary"),
        ({"scores": [0.5]}, ValueError, "scores has 1 value.*2 masks"),
        ({"titles": ["a"]}, ValueError, "titles has 1 entries but there are 2 masks"),
        ({"ncols": 0}, ValueError, "ncols must be an integer >= 1"),
        ({"points": np.zeros((3, 3))}, ValueError, r"shape \(N, 2\)"),
        ({"ncols": 1.5}, TypeError, "ncols must be an int, got float"),
        ({"ncols": True}, TypeError, "ncols must be an int, got bool"),
        ({"box": [5, 5, 1, 1]}, ValueError, "x1 < x0"),
    ],
)
def test_show_masks_refusals_leave_no_figure(image, mask, kwargs, error, match):
    args = {"masks": np.stack([mask, mask]), **kwargs}
    with pytest.raises(error, match=match):
        show_masks(image, **args)
    assert plt.get_fignums() == []


# --- overlay -----------------------------------------------------------------------------


def test_overlay_hand_checked_pixels():
    image = np.zeros((2, 2, 3), np.uint8)
    image[...] = (100, 50, 200)
    labels = np.array([[0, 2], [1, 0]])
    out = overlay(image, labels, alpha=0.5)
    # label 2 -> PALETTE[1] = (230, 159, 0): 0.5*(100, 50, 200) + 0.5*(230, 159, 0)
    #   = (165, 104.5, 100) -> (165, 105, 100), halves rounded up
    assert PALETTE[1] == (230, 159, 0)
    assert tuple(out[0, 1]) == (165, 105, 100)
    # label 1 -> PALETTE[0] = (86, 180, 233): (93, 115, 216.5) -> (93, 115, 217)
    assert PALETTE[0] == (86, 180, 233)
    assert tuple(out[1, 0]) == (93, 115, 217)
    assert tuple(out[0, 0]) == (100, 50, 200)  # background untouched
    assert out.dtype == np.uint8 and out.shape == (2, 2, 3)


def test_overlay_alpha_0_and_1(image, mask):
    np.testing.assert_array_equal(overlay(image, mask, alpha=0.0), image)
    out = overlay(image, mask, color="red", alpha=1.0)
    assert (out[mask] == (255, 0, 0)).all()
    np.testing.assert_array_equal(out[~mask], image[~mask])


def test_overlay_label_map_colours_wrap_around_the_palette(image):
    labels = np.arange(1, 9).reshape(1, 8).repeat(H, 0)
    labels = np.pad(labels, ((0, 0), (0, W - 8)))
    out = overlay(image, labels, alpha=1.0)
    for k in range(1, 9):
        assert tuple(out[0, k - 1]) == PALETTE[(k - 1) % len(PALETTE)]
    assert tuple(out[0, 7]) == PALETTE[0]  # label 8 wraps to the first colour
    np.testing.assert_array_equal(out[:, 8:], image[:, 8:])


def test_overlay_given_colour_for_all_labels(image):
    labels = np.zeros((H, W), np.int32)
    labels[0, 0], labels[1, 1] = 1, 5
    out = overlay(image, labels, color=(0, 0, 255), alpha=1.0)
    assert tuple(out[0, 0]) == tuple(out[1, 1]) == (0, 0, 255)


def test_overlay_returns_a_new_array_and_accepts_other_inputs(image, mask):
    before = image.copy()
    out = overlay(image, mask)
    np.testing.assert_array_equal(image, before)
    assert not np.shares_memory(out, image)
    float_image = image.astype(np.float32) / 255
    np.testing.assert_array_equal(overlay(float_image, mask.astype(np.float32)), out)
    np.testing.assert_array_equal(overlay(torch.from_numpy(image), torch.from_numpy(mask)), out)
    np.testing.assert_array_equal(overlay(image, mask[None]), out)


@pytest.mark.parametrize(
    ("bad_mask", "match"),
    [
        (np.zeros((6, 8), bool), r"mask has shape \(6, 8\) but the image is 12x16 \(shape"),
        (np.full((H, W), -1), r"negative values \[-1\].*0 \(background\)"),
        (np.full((H, W), 0.7), r"values \[0.7\].*> 0.5"),
        (np.zeros((2, H, W), bool), "show_masks"),
    ],
)
def test_overlay_refusals(image, bad_mask, match):
    with pytest.raises(ValueError, match=match):
        overlay(image, bad_mask)


def test_overlay_alpha_and_image_are_checked(image, mask):
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        overlay(image, mask, alpha=2)
    with pytest.raises(TypeError, match="alpha must be a number"):
        overlay(image, mask, alpha="0.5")
    with pytest.raises(ValueError, match="ambiguous"):
        overlay(np.full((H, W), 1.5), mask)


# --- show_anns: the automatic mask generator's records ---------------------------------------


def records_of(*masks: np.ndarray) -> list[dict]:
    """Records shaped like SamAutomaticMaskGenerator.generate's (the keys show_anns reads)."""
    return [{"segmentation": m, "area": int(m.sum()), "predicted_iou": 0.9} for m in masks]


def anns_layer(ax) -> np.ndarray:
    """The RGBA layer show_anns drew: the last image on the axes, (H, W, 4) float."""
    return np.asarray(ax.images[-1].get_array())


def test_show_anns_paints_largest_first_so_small_masks_stay_on_top(image):
    big = np.zeros((H, W), bool)
    big[2:10, 2:14] = True  # 96 pixels
    small = np.zeros((H, W), bool)
    small[4:6, 4:6] = True  # 4 pixels, inside big
    _, ax = plt.subplots()
    ax.imshow(image)
    for records in (records_of(big, small), records_of(small, big)):  # order given is irrelevant
        layer = anns_layer(show_anns(records, ax=ax, alpha=0.35, seed=3))
        colours = np.random.default_rng(3).random((2, 3))  # big drawn first, then small
        np.testing.assert_allclose(layer[3, 3], [*colours[0], 0.35], rtol=1e-6)  # big only
        np.testing.assert_allclose(layer[4, 4], [*colours[1], 0.35], rtol=1e-6)  # small on top
        assert layer[0, 0, 3] == 0  # transparent where no mask is
    assert len(ax.images) == 3  # the image and one layer per call


def test_show_anns_colours_follow_the_seed_and_leave_numpy_global_state(image, mask):
    global_state = np.random.get_state()[1].copy()  # noqa: NPY002  # the legacy state it spares
    _, ax = plt.subplots()
    ax.imshow(image)
    first = anns_layer(show_anns(records_of(mask), ax=ax, seed=1)).copy()
    again = anns_layer(show_anns(records_of(mask), ax=ax, seed=1)).copy()
    other = anns_layer(show_anns(records_of(mask), ax=ax, seed=2)).copy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    np.testing.assert_array_equal(np.random.get_state()[1], global_state)  # noqa: NPY002


def test_show_anns_outlines_and_defaults(image, mask):
    _, ax = plt.subplots()
    ax.imshow(image)
    assert show_anns(records_of(mask)) is ax  # the current axes by default
    assert len(ax.collections) >= 1  # the contour
    _, ax2 = plt.subplots()
    show_anns(records_of(mask), ax=ax2, outline=False)
    assert not ax2.collections
    assert anns_layer(ax2)[4, 5, 3] == pytest.approx(0.35)  # SAM's opacity


def test_show_anns_without_records_draws_nothing():
    _, ax = plt.subplots()
    assert show_anns([], ax=ax) is ax
    assert not ax.images and not ax.collections


def test_show_anns_accepts_one_record_and_0_1_masks(mask):
    _, ax = plt.subplots()
    show_anns({"segmentation": mask.astype(np.uint8)}, ax=ax)
    assert anns_layer(ax)[4, 5, 3] > 0


@pytest.mark.parametrize(
    ("records", "error", "match"),
    [
        (None, TypeError, r"records\[0\] has no \(H, W\) mask.*got NoneType"),
        (np.zeros((2, H, W), bool), TypeError, r"records\[0\].*got ndarray"),
        ([{"area": 3}], TypeError, r"records\[0\] has no.*output_mode='binary_mask'"),
        (
            [{"segmentation": {"size": [H, W], "counts": "abc"}}],
            TypeError,
            r"got dict.*binary_mask",
        ),
        (
            [{"segmentation": np.zeros((H, W), bool)}, {"segmentation": np.zeros((5, 5), bool)}],
            ValueError,
            r"records\[1\]\['segmentation'\] is \(5, 5\) but records\[0\]'s is \(12, 16\)",
        ),
        ([{"segmentation": np.full((H, W), 0.7)}], ValueError, r"must be binary.*> 0.5"),
        ([{"segmentation": np.zeros((H,), bool)}], ValueError, r"expected \(H, W\)"),
    ],
)
def test_show_anns_refusals(records, error, match):
    _, ax = plt.subplots()
    with pytest.raises(error, match=match):
        show_anns(records, ax=ax)


def test_show_anns_checks_size_alpha_and_seed(image, mask):
    _, ax = plt.subplots()
    ax.imshow(image[:6])
    with pytest.raises(ValueError, match=r"the masks is 12x16 \(HxW\) but the image.*6x16"):
        show_anns(records_of(mask), ax=ax)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        show_anns(records_of(mask), ax=ax, alpha=1.5)
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        show_anns(records_of(mask), ax=ax, seed=-1)
    with pytest.raises(TypeError, match="seed must be an int"):
        show_anns(records_of(mask), ax=ax, seed=0.5)
