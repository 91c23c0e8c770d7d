"""Tests for seglab.prompts: each bad prompt gets its error; good ones come out as SAM wants."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seglab.prompts import (
    parse_box,
    parse_labels,
    parse_points,
    validate_box,
    validate_image_size,
    validate_labels,
    validate_mask_input,
    validate_points,
)

SIZE = (534, 800)  # (H, W): 534 rows, 800 columns


# --------------------------------------------------------------------------- image size


@pytest.mark.parametrize("size", [(534, 800), [534, 800], np.array([534, 800])])
def test_image_size_accepts_pairs_of_ints(size):
    assert validate_image_size(size) == (534, 800)
    assert all(type(v) is int for v in validate_image_size(size))


def test_image_size_refuses_image_shape_with_hint():
    with pytest.raises(ValueError, match=r"image\.shape\[:2\]"):
        validate_image_size((534, 800, 3))


@pytest.mark.parametrize("size", [(534.0, 800), (True, 800), 534, "534x800"])
def test_image_size_refuses_non_integers(size):
    with pytest.raises(TypeError, match="H, W"):
        validate_image_size(size)


def test_image_size_refuses_zero():
    with pytest.raises(ValueError, match="positive"):
        validate_image_size((0, 800))


# --------------------------------------------------------------------------- points


def test_points_lists_arrays_tensors_all_give_float32_nx2():
    expected = np.array([[10, 20], [799.5, 533]], dtype=np.float32)
    for given in (
        [[10, 20], [799.5, 533]],
        ((10, 20), (799.5, 533)),
        np.array([[10, 20], [799.5, 533]]),
        torch.tensor([[10, 20], [799.5, 533]], dtype=torch.float64),
    ):
        out = validate_points(given, SIZE)
        assert out.dtype == np.float32 and out.shape == (2, 2)
        np.testing.assert_array_equal(out, expected)


def test_single_point_becomes_1x2():
    out = validate_points([5, 7], SIZE)
    assert out.shape == (1, 2)
    np.testing.assert_array_equal(out, [[5, 7]])


def test_integer_points_are_accepted():
    out = validate_points(np.array([[0, 0]], dtype=np.int64), SIZE)
    assert out.dtype == np.float32


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_points_refuse_nan_and_inf_naming_the_point(bad):
    with pytest.raises(ValueError, match=r"NaN or inf: point 1 is"):
        validate_points([[1, 2], [3, bad]], SIZE)


def test_points_2xn_looks_transposed():
    points = np.array([[10, 20, 30], [5, 6, 7]])  # a row of x, a row of y
    with pytest.raises(ValueError, match=r"looks transposed.*points\.T"):
        validate_points(points, SIZE)


def test_points_wrong_width_is_refused_with_shape():
    with pytest.raises(ValueError, match=r"shape \(N, 2\).*\(3, 3\)"):
        validate_points(np.zeros((3, 3)), SIZE)


def test_points_flat_list_suggests_reshape():
    with pytest.raises(ValueError, match=r"reshape\(points, \(-1, 2\)\)"):
        validate_points([1, 2, 3, 4], SIZE)


def test_points_batched_3d_suggests_dropping_batch():
    with pytest.raises(ValueError, match=r"points\[0\]"):
        validate_points(np.zeros((1, 2, 2)), SIZE)


@pytest.mark.parametrize("empty", [[], np.zeros((0, 2)), torch.zeros(0, 2)])
def test_points_empty_is_refused(empty):
    with pytest.raises(ValueError, match="empty"):
        validate_points(empty, SIZE)


def test_point_outside_names_index_value_and_image_size():
    with pytest.raises(ValueError) as info:
        validate_points([[10, 10], [900, 40]], SIZE)
    message = str(info.value)
    assert "point 1 (x=900, y=40)" in message
    assert "H=534, W=800" in message
    assert "[0, 800)" in message and "[0, 534)" in message
    assert "row, col" not in message  # swapped (40, 900) does not fit either


def test_point_outside_that_fits_when_swapped_asks_row_col():
    # y=700 is below the image (H=534); read as (row, col) = (100, 700) it fits.
    with pytest.raises(ValueError, match=r"point 0 \(x=100, y=700\).*\(row, col\) instead of"):
        validate_points([[100, 700]], SIZE)
    with pytest.raises(ValueError, match=r"points\.flip\(-1\)"):  # the fix that works on tensors
        validate_points(torch.tensor([[100, 700]]), SIZE)


def test_point_exactly_at_width_is_outside():
    with pytest.raises(ValueError, match="outside"):
        validate_points([[800, 0]], SIZE)
    with pytest.raises(ValueError, match="outside"):
        validate_points([[-0.5, 0]], SIZE)


def test_points_refuse_bool_strings_and_none():
    with pytest.raises(TypeError, match="not a mask"):
        validate_points(np.ones((2, 2), dtype=bool), SIZE)
    with pytest.raises(TypeError, match="str"):
        validate_points("10,20", SIZE)
    with pytest.raises(TypeError, match="None"):
        validate_points(None, SIZE)
    with pytest.raises(TypeError, match="dtype"):
        validate_points(np.array([["a", "b"]]), SIZE)


def test_points_ragged_list_is_a_value_error():
    with pytest.raises(ValueError, match="rectangular"):
        validate_points([[1, 2], [3]], SIZE)


# --------------------------------------------------------------------------- labels


def test_labels_default_all_foreground():
    out = validate_labels(None, 3)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [1, 1, 1])


@pytest.mark.parametrize(
    "labels",
    [[1, 0], np.array([True, False]), np.array([1.0, 0.0]), torch.tensor([1, 0])],
)
def test_labels_accept_ints_bools_floats_tensors(labels):
    out = validate_labels(labels, 2)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [1, 0])


def test_scalar_label_for_one_point():
    np.testing.assert_array_equal(validate_labels(0, 1), [0])


def test_labels_length_mismatch_names_both_counts():
    with pytest.raises(ValueError, match=r"got 3 labels for 2 point"):
        validate_labels([1, 1, 0], 2)


@pytest.mark.parametrize("value", [2, -1, 0.5])
def test_labels_only_zero_and_one(value):
    with pytest.raises(ValueError, match=r"1 \(foreground\) or 0 \(background\); label 1 is"):
        validate_labels([1, value], 2)


def test_labels_2d_suggests_ravel():
    with pytest.raises(ValueError, match="ravel"):
        validate_labels([[1, 0]], 2)


def test_labels_refuse_strings_and_bad_n_points():
    with pytest.raises(TypeError, match="str"):
        validate_labels("1", 1)
    with pytest.raises(ValueError, match=">= 1"):
        validate_labels(None, 0)
    with pytest.raises(TypeError, match="n_points"):
        validate_labels(None, 2.0)


# --------------------------------------------------------------------------- boxes


def test_box_single_and_batched():
    single = validate_box([10, 20, 300, 400], SIZE)
    assert single.shape == (4,) and single.dtype == np.float32
    batched = validate_box(torch.tensor([[10, 20, 300, 400], [0, 0, 800, 534]]), SIZE)
    assert batched.shape == (2, 4) and batched.dtype == np.float32
    np.testing.assert_array_equal(batched[1], [0, 0, 800, 534])  # the full image is a box


def test_box_reversed_x_looks_like_xywh():
    with pytest.raises(ValueError, match=r"x1 < x0: it looks like \(x, y, w, h\) or swapped"):
        validate_box([300, 20, 100, 50], SIZE)


def test_box_reversed_y_names_batch_index():
    with pytest.raises(ValueError, match=r"box 1 \(x0=0, y0=300.*y1 < y0.*\(x, y, x \+ w"):
        validate_box([[0, 0, 10, 10], [0, 300, 10, 100]], SIZE)


def test_box_zero_width_is_empty():
    with pytest.raises(ValueError, match="zero width or height"):
        validate_box([10, 10, 10, 50], SIZE)


def test_box_outside_names_box_and_image():
    with pytest.raises(ValueError) as info:
        validate_box([10, 10, 900, 50], SIZE)
    message = str(info.value)
    assert "x1=900" in message and "H=534, W=800" in message
    assert "row, col" not in message


def test_box_outside_that_fits_when_swapped_asks_row_col():
    # (row0, col0, row1, col1) = (10, 20, 700, 500) -> as XYXY y1=700 > H but swapped fits
    with pytest.raises(ValueError, match=r"\(row, col\) corners"):
        validate_box([10, 20, 500, 700], SIZE)


def test_box_negative_is_outside():
    with pytest.raises(ValueError, match="outside"):
        validate_box([-1, 0, 10, 10], SIZE)


def test_box_shapes():
    with pytest.raises(ValueError, match=r"4 numbers .* got 3"):
        validate_box([1, 2, 3], SIZE)
    with pytest.raises(ValueError, match="looks transposed"):
        validate_box(np.zeros((4, 3)), SIZE)
    with pytest.raises(ValueError, match=r"np\.ravel\(box\)"):
        validate_box([[0, 0], [10, 10]], SIZE)
    with pytest.raises(ValueError, match=r"\(4,\) or \(B, 4\)"):
        validate_box(np.zeros((1, 1, 4)), SIZE)


@pytest.mark.parametrize("empty", [[], np.zeros((0, 4))])
def test_box_empty(empty):
    with pytest.raises(ValueError, match="empty"):
        validate_box(empty, SIZE)


def test_box_nan_and_types():
    with pytest.raises(ValueError, match="NaN or inf: box 0"):
        validate_box([0, 0, np.nan, 10], SIZE)
    with pytest.raises(TypeError, match="not a mask"):
        validate_box(np.ones(4, dtype=bool), SIZE)
    with pytest.raises(TypeError, match="str"):
        validate_box("0 0 10 10", SIZE)


# --------------------------------------------------------------------------- mask input


def test_mask_input_accepts_1hw_and_hw():
    logits = np.random.default_rng(0).normal(size=(1, 64, 64))
    out = validate_mask_input(logits, (64, 64))
    assert out.shape == (1, 64, 64) and out.dtype == np.float32
    np.testing.assert_allclose(out, logits.astype(np.float32))
    out2 = validate_mask_input(torch.from_numpy(logits[0]), (64, 64))
    assert out2.shape == (1, 64, 64)
    np.testing.assert_array_equal(out, out2)


def test_mask_input_full_resolution_mask_gets_the_hint():
    mask = np.zeros((534, 800), dtype=bool)
    with pytest.raises(ValueError, match=r"result\.logits\[result\.best_index\].*not the mask"):
        validate_mask_input(mask, (256, 256))
    with pytest.raises(ValueError, match=r"image resolution"):
        validate_mask_input(mask.astype(np.float32) * 3.5, (256, 256))


def test_mask_input_binary_at_right_size_is_refused():
    with pytest.raises(ValueError, match="a mask, not logits"):
        validate_mask_input(np.ones((256, 256), dtype=bool), (256, 256))
    with pytest.raises(ValueError, match="only 0 and 1"):
        validate_mask_input(np.eye(256, dtype=np.float32), (256, 256))


def test_mask_input_all_k_logits_asks_for_one():
    with pytest.raises(ValueError, match=r"got 3 maps.*best_index"):
        validate_mask_input(np.full((3, 64, 64), 0.3), (64, 64))


def test_mask_input_batched_asks_to_drop_batch():
    with pytest.raises(ValueError, match=r"mask_input\[0\]"):
        validate_mask_input(np.full((1, 1, 64, 64), 0.3), (64, 64))


def test_mask_input_wrong_model_size_names_expected_shape():
    with pytest.raises(ValueError, match=r"\(1, 64, 64\).*\(1, 256, 256\)"):
        validate_mask_input(np.full((1, 256, 256), -0.5), (64, 64))


def test_mask_input_nan_refused():
    logits = np.full((64, 64), 0.25)
    logits[3, 3] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        validate_mask_input(logits, (64, 64))


# ------------------------------------------------------------------- parsing without an image


def test_parse_points_has_the_rules_of_validate_points_but_no_bounds():
    far = parse_points([[9000, -5]])  # outside any image, still a well-formed point
    assert far.shape == (1, 2) and far.dtype == np.float64
    np.testing.assert_array_equal(parse_points([3, 4]), [[3, 4]])  # one point [x, y]
    assert parse_points(np.zeros((0, 2)), allow_empty=True).shape == (0, 2)
    assert parse_points([], allow_empty=True).shape == (0, 2)
    for bad in ([], np.zeros((0, 3))):
        with pytest.raises(ValueError, match="empty"):
            parse_points(bad)
    with pytest.raises(ValueError, match="looks transposed"):
        parse_points(np.zeros((2, 5)), allow_empty=True)
    with pytest.raises(TypeError, match="not a mask"):
        parse_points(np.ones((1, 2), bool))


def test_parse_labels_allows_zero_points():
    assert parse_labels(None, 0).shape == (0,)
    assert parse_labels(np.zeros(0), 0).shape == (0,)
    with pytest.raises(ValueError, match="got 1 labels for 0 point"):
        parse_labels([1], 0)
    with pytest.raises(ValueError, match=">= 0"):
        parse_labels(None, -1)
    with pytest.raises(TypeError, match="n_points must be an int, got bool"):
        parse_labels(None, True)


def test_parse_box_keeps_the_corner_rules_without_bounds():
    np.testing.assert_array_equal(parse_box([-10, -10, 5000, 20]), [-10, -10, 5000, 20])
    assert parse_box([[0, 0, 1, 1], [2, 2, 3, 4]]).shape == (2, 4)
    with pytest.raises(ValueError, match="zero width or height"):
        parse_box([5, 5, 5, 9])
    with pytest.raises(ValueError, match="x1 < x0"):
        parse_box([9, 0, 5, 9])
