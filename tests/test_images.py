"""Tests for seglab.images: conversions against hand-worked values, every refusal, samples."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from seglab.images import as_rgb_uint8, list_samples, load_image, load_sample


def check_result(out: np.ndarray, height: int, width: int) -> None:
    assert isinstance(out, np.ndarray)
    assert out.shape == (height, width, 3)
    assert out.dtype == np.uint8
    assert out.flags.c_contiguous
    assert out.flags.writeable


# --- conversions, hand-worked ------------------------------------------------------------


def test_uint8_rgb_is_copied_unchanged():
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    out = as_rgb_uint8(image)
    check_result(out, 2, 3)
    np.testing.assert_array_equal(out, image)
    assert not np.shares_memory(out, image)


def test_drawing_on_the_result_leaves_the_input_unchanged():
    for image in (
        np.zeros((4, 5, 3), np.uint8),
        np.zeros((4, 5), np.uint8),
        np.zeros((4, 5, 4), np.uint8),
        np.zeros((3, 4, 5), np.uint8),
    ):
        before = image.copy()
        out = as_rgb_uint8(image)
        out[...] = 200
        np.testing.assert_array_equal(image, before)
        assert not np.shares_memory(out, image)


def test_tensor_result_does_not_alias_the_tensor():
    tensor = torch.zeros(4, 5, 3, dtype=torch.uint8)  # HWC tensor: .numpy() would share memory
    out = as_rgb_uint8(tensor)
    out[...] = 7
    assert int(tensor.sum()) == 0


def test_gray_2d_is_copied_to_three_channels():
    gray = np.array([[0, 10], [200, 255]], dtype=np.uint8)
    out = as_rgb_uint8(gray)
    check_result(out, 2, 2)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray)


def test_single_channel_hwc_and_chw_are_gray():
    gray = np.array([[0, 10], [200, 255]], dtype=np.uint8)
    np.testing.assert_array_equal(as_rgb_uint8(gray[:, :, None]), as_rgb_uint8(gray))
    np.testing.assert_array_equal(as_rgb_uint8(gray[None]), as_rgb_uint8(gray))


def test_rgba_drops_alpha():
    rgba = np.array([[[10, 20, 30, 0], [40, 50, 60, 255]]], dtype=np.uint8)
    out = as_rgb_uint8(rgba)
    np.testing.assert_array_equal(out, [[[10, 20, 30], [40, 50, 60]]])


def test_bool_maps_to_0_and_255():
    out = as_rgb_uint8(np.array([[False, True]]))
    np.testing.assert_array_equal(out[..., 0], [[0, 255]])


def test_float_unit_range_rounds_half_up():
    # 0.5 * 255 = 127.5 -> 128 (half up); 0.2 * 255 = 51.0 -> 51; 1/255 -> 1; 0.499/255*255 -> 0
    image = np.array([[0.0, 0.5, 0.2, 1.0, 1 / 255, 0.499 / 255]])
    out = as_rgb_uint8(image)
    np.testing.assert_array_equal(out[0, :, 0], [0, 128, 51, 255, 1, 0])


def test_float_unit_range_round_trips_every_uint8_value():
    values = np.arange(256, dtype=np.uint8).reshape(16, 16)
    for dtype in (np.float16, np.float32, np.float64):
        out = as_rgb_uint8(values.astype(dtype) / dtype(255))
        np.testing.assert_array_equal(out[..., 0], values, err_msg=str(dtype))


def test_float_0_255_range_is_rounded_not_scaled():
    image = np.array([[0.0, 2.0, 127.5, 127.4, 254.6, 255.0]], dtype=np.float32)
    out = as_rgb_uint8(image)
    np.testing.assert_array_equal(out[0, :, 0], [0, 2, 128, 127, 255, 255])


def test_float_max_exactly_one_is_unit_range():
    out = as_rgb_uint8(np.array([[0.0, 1.0]]))
    np.testing.assert_array_equal(out[0, :, 0], [0, 255])


def test_other_integer_dtypes_in_range_are_accepted():
    for dtype in (np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64, np.uint64):
        image = np.array([[0, 7, 127]], dtype=dtype)
        np.testing.assert_array_equal(as_rgb_uint8(image)[0, :, 1], [0, 7, 127])


def test_chw_tensor_and_hwc_array_give_the_same_result():
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, size=(6, 7, 3), dtype=np.uint8)
    chw = torch.from_numpy(hwc).permute(2, 0, 1)
    np.testing.assert_array_equal(as_rgb_uint8(chw), hwc)
    np.testing.assert_array_equal(as_rgb_uint8(np.ascontiguousarray(hwc.transpose(2, 0, 1))), hwc)
    # float CHW tensor in [0, 1], the torchvision convention
    np.testing.assert_array_equal(as_rgb_uint8(chw.float() / 255), hwc)


def test_hwc_tensor_is_recognised():
    hwc = np.random.default_rng(1).integers(0, 256, size=(6, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(as_rgb_uint8(torch.from_numpy(hwc)), hwc)


def test_ambiguous_3x3x3_follows_each_library_convention():
    cube = np.arange(27, dtype=np.uint8).reshape(3, 3, 3)
    np.testing.assert_array_equal(as_rgb_uint8(cube), cube)  # numpy: HWC
    np.testing.assert_array_equal(as_rgb_uint8(torch.from_numpy(cube)), cube.transpose(1, 2, 0))


def test_tensor_with_grad_and_half_precision():
    tensor = torch.full((3, 2, 2), 0.5, requires_grad=True)
    assert as_rgb_uint8(tensor)[0, 0, 0] == 128
    assert as_rgb_uint8(torch.full((3, 2, 2), 0.5, dtype=torch.bfloat16))[0, 0, 0] == 128
    assert as_rgb_uint8(torch.full((2, 2), True))[0, 0, 0] == 255


@pytest.mark.parametrize(
    ("mode", "color", "expected"),
    [
        ("L", 100, (100, 100, 100)),
        ("RGB", (1, 2, 3), (1, 2, 3)),
        ("RGBA", (1, 2, 3, 4), (1, 2, 3)),
        ("1", 1, (255, 255, 255)),
        ("I;16", 200, (200, 200, 200)),
        ("I", 17, (17, 17, 17)),
        ("F", 0.5, (128, 128, 128)),
        ("LA", (90, 10), (90, 90, 90)),
        ("CMYK", (0, 0, 0, 0), (255, 255, 255)),
    ],
)
def test_pil_modes(mode, color, expected):
    out = as_rgb_uint8(Image.new(mode, (5, 4), color))
    check_result(out, 4, 5)
    assert tuple(out[2, 3]) == expected


def test_pil_palette_image():
    image = Image.new("P", (3, 2))
    image.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    image.putpixel((1, 0), 1)
    out = as_rgb_uint8(image)
    assert tuple(out[0, 1]) == (10, 20, 30)
    assert tuple(out[0, 0]) == (0, 0, 0)


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("image", "error", "match"),
    [
        (None, TypeError, "image is None"),
        ([[0, 1], [2, 3]], TypeError, "got list.*np.asarray"),
        (np.float32(0.5), TypeError, "got float32"),
        (np.zeros((0, 4, 3)), ValueError, r"shape \(0, 4, 3\).*no pixels"),
        (np.zeros((4, 0)), ValueError, "no pixels"),
        (np.zeros(5), ValueError, r"shape \(5,\).*1-D.*reshape"),
        (np.array(3.0), ValueError, "0-D"),
        (
            np.zeros((1, 4, 4, 3)),
            ValueError,
            r"batch of one.*drop the batch dimension.*image\[0\]",
        ),
        (np.zeros((2, 4, 4, 3)), ValueError, "batch of 2 images.*one image at a time"),
        (np.zeros((1, 1, 4, 4, 3)), ValueError, "5-D"),
        (np.zeros((8, 8, 2)), ValueError, r"\(8, 8, 2\).*gray \+ alpha.*image\[\.\.\., 0\]"),
        (np.zeros((8, 8, 5)), ValueError, r"first \(8\).*last \(5\).*1 = gray, 3 = RGB"),
        (np.zeros((5, 6, 7)), ValueError, "channel count"),
        (np.zeros((4, 4), complex), TypeError, "complex128.*np.abs"),
        (np.array([["a", "b"]]), TypeError, "<U1.*bool, integer or float"),
        (np.array([[None, 1]], dtype=object), TypeError, "object.*astype"),
        (np.array([[0.5, np.nan]]), ValueError, "1 NaN and 0 infinite.*nan_to_num"),
        (np.array([[0.5, np.inf]]), ValueError, "0 NaN and 1 infinite"),
        (np.array([[0, 256]], np.int32), ValueError, r"int32 with values in \[0, 256\].*Rescale"),
        (np.array([[-1, 3]], np.int16), ValueError, r"\[-1, 3\].*np.clip"),
        (np.array([[1000]], np.uint16), ValueError, "uint16.*image / 65535"),
        (np.array([[-0.2, 0.5]]), ValueError, r"\[-0.2, 0.5\].*normalized.*x \* std \+ mean"),
        (np.array([[0.0, 256.0]]), ValueError, r"\[0, 256\].*rescale.*np.clip"),
        (np.array([[0.0, 1.04]]), ValueError, r"\[0, 1.04\].*ambiguous.*np.clip\(image, 0, 1\)"),
        (np.array([[0.0, 1.999]]), ValueError, "ambiguous"),
    ],
)
def test_refusals(image, error, match):
    with pytest.raises(error, match=match):
        as_rgb_uint8(image)


def test_refusal_names_the_kind_of_input():
    with pytest.raises(ValueError, match=r"torch tensor of shape \(1, 3, 4, 4\)"):
        as_rgb_uint8(torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match=r"PIL image \(mode 'I;16', size 3x2\).*\[1000, 1000\]"):
        as_rgb_uint8(Image.new("I;16", (3, 2), 1000))
    with pytest.raises(TypeError, match="complex torch tensor"):
        as_rgb_uint8(torch.zeros(3, 4, 4, dtype=torch.complex64))


def test_ambiguous_float_is_not_a_silent_black_image():
    # An interpolated [0, 1] image that overshoots must not become ~all zeros.
    with pytest.raises(ValueError, match="overshot"):
        as_rgb_uint8(np.array([[0.2, 0.9, 1.01]]))


def test_pil_mode_that_cannot_become_rgb():
    with pytest.raises(ValueError, match=r"mode 'La'.*convert"):
        as_rgb_uint8(Image.new("La", (3, 2)))


# --- property test -----------------------------------------------------------------------

_DTYPES = st.sampled_from(
    [
        *(np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.int32, np.int64),
        *(np.float16, np.float32, np.float64, np.complex64),
    ]
)


_ANY_ARRAY = _DTYPES.flatmap(
    lambda dtype: hnp.arrays(
        dtype, hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=5)
    )
)


@st.composite
def _image_like(draw) -> np.ndarray:
    """Arrays shaped and valued like images, so that the accepting paths are exercised too."""
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    c = draw(st.sampled_from([1, 2, 3, 4, 5]))
    shape = draw(st.sampled_from([(h, w), (h, w, c), (c, h, w)]))
    dtype = draw(st.sampled_from([np.bool_, np.uint8, np.int16, np.float32, np.float64]))
    if dtype in (np.float32, np.float64):
        top = draw(st.sampled_from([1.0, 255.0]))
        elements = st.floats(0, top, width=32)
    elif dtype == np.int16:
        elements = st.integers(0, 255)
    else:
        elements = None
    return draw(hnp.arrays(dtype, shape, elements=elements))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(array=st.one_of(_ANY_ARRAY, _image_like()), as_tensor=st.booleans())
def test_any_input_gives_an_image_or_a_clear_error(array, as_tensor):
    image = array
    if as_tensor and array.dtype not in (np.uint16,):  # torch < 2.3 has no uint16 tensors
        image = torch.from_numpy(array.copy())
    before = array.copy()
    try:
        out = as_rgb_uint8(image)
    except (ValueError, TypeError) as exc:
        assert str(exc)  # a message, always
        event(f"refused with {type(exc).__name__}")
        return
    event("accepted")
    assert out.ndim == 3 and out.shape[2] == 3
    assert out.dtype == np.uint8
    assert out.flags.c_contiguous
    assert out.shape[0] > 0 and out.shape[1] > 0
    assert not np.shares_memory(out, array)
    # the spatial size is the input's, whichever layout was chosen
    if array.ndim == 2:
        assert out.shape[:2] == array.shape
    else:
        assert out.shape[:2] in (array.shape[:2], array.shape[1:])
    np.testing.assert_array_equal(array, before)


# --- samples -----------------------------------------------------------------------------


def test_list_samples_has_descriptions():
    samples = list_samples()
    assert {"astronaut", "chelsea", "coins", "horse"} <= set(samples)
    assert all(isinstance(d, str) and len(d) > 10 for d in samples.values())
    samples.clear()  # a copy: clearing it changes nothing
    assert list_samples()


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("load_sample tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("name", list(list_samples()))
def test_every_sample_loads_offline(name, no_network):
    image = load_sample(name)
    check_result(image, *image.shape[:2])
    assert image.shape[0] >= 100 and image.shape[1] >= 100
    assert image.max() > image.min()  # a real picture, not a blank


def test_sample_sizes_and_gray_conversion():
    assert load_sample("astronaut").shape == (512, 512, 3)
    coins = load_sample("coins")
    assert coins.shape == (303, 384, 3)
    np.testing.assert_array_equal(coins[..., 0], coins[..., 2])
    horse = load_sample("horse")
    assert set(np.unique(horse)) == {0, 255}


def test_load_sample_returns_a_new_array_each_time():
    first = load_sample("coins")
    first[...] = 0
    assert load_sample("coins").max() > 0


def test_unknown_sample_lists_valid_names_and_suggests():
    with pytest.raises(ValueError, match=r"Did you mean 'astronaut'.*Valid names: .*chelsea"):
        load_sample("astronot")
    with pytest.raises(ValueError, match=r"unknown sample 'skin'.*Valid names"):
        load_sample("skin")  # downloaded by scikit-image on demand: deliberately not offered


def test_sample_name_must_be_a_string():
    with pytest.raises(TypeError, match="name must be a str, got int"):
        load_sample(3)


# ------------------------------------------------------------------------------ load_image


def _save(img: Image.Image, path, **kw) -> None:
    img.save(path, **kw)


def test_load_image_png_round_trips_pixels(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    _save(Image.fromarray(rgb), tmp_path / "a.png")
    for source in (tmp_path / "a.png", str(tmp_path / "a.png"), (tmp_path / "a.png").read_bytes()):
        out = load_image(source)
        assert out.dtype == np.uint8 and out.shape == (20, 30, 3)
        np.testing.assert_array_equal(out, rgb)
    with open(tmp_path / "a.png", "rb") as f:
        np.testing.assert_array_equal(load_image(f), rgb)


def test_load_image_gray_rgba_and_palette_become_rgb(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    _save(Image.fromarray(gray), tmp_path / "g.png")
    np.testing.assert_array_equal(load_image(tmp_path / "g.png"), np.repeat(gray[..., None], 3, -1))
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 0
    _save(Image.fromarray(rgba), tmp_path / "a.png")
    assert (load_image(tmp_path / "a.png")[..., 0] == 200).all()  # alpha dropped, not blended
    pal = Image.fromarray(np.full((5, 5, 3), (10, 200, 30), np.uint8)).quantize(colors=4)
    _save(pal, tmp_path / "p.gif")
    assert tuple(load_image(tmp_path / "p.gif")[2, 2]) == (10, 200, 30)


def test_load_image_sixteen_bit_is_scaled_not_refused(tmp_path):
    wide = np.array([[0, 257, 65535, 32896]], np.uint16)
    _save(Image.fromarray(wide), tmp_path / "w.png")
    out = load_image(tmp_path / "w.png")
    assert out[0, :, 0].tolist() == [0, 1, 255, 128]


def test_load_image_applies_exif_orientation(tmp_path):
    rgb = np.zeros((10, 20, 3), np.uint8)
    rgb[:, :5] = 255  # white band on the left of the stored pixels
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    _save(img, tmp_path / "phone.jpg", exif=exif, quality=95)
    out = load_image(tmp_path / "phone.jpg")
    assert out.shape == (20, 10, 3)  # upright, as a viewer shows it
    assert out[:5].mean() > 200 and out[-5:].mean() < 50  # the band is now on top


def test_load_image_first_frame_of_animation(tmp_path):
    frames = [Image.fromarray(np.full((4, 4, 3), v, np.uint8)) for v in (0, 255)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    assert load_image(tmp_path / "anim.gif").max() == 0


def test_load_image_errors_name_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="no image file at"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="is a folder"):
        load_image(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        load_image(tmp_path / "empty.png")
    (tmp_path / "page.jpg").write_text("<html>404 not found</html>")
    with pytest.raises(ValueError, match="not an image file"):
        load_image(tmp_path / "page.jpg")
    good = tmp_path / "good.png"
    _save(Image.fromarray(np.zeros((64, 64, 3), np.uint8) + 7), good)
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:60])
    with pytest.raises(ValueError):
        load_image(tmp_path / "cut.png")
    with pytest.raises(ValueError, match="0 bytes"):
        load_image(b"")
    with pytest.raises(TypeError, match="already an array"):
        load_image(np.zeros((2, 2, 3), np.uint8))
    for bad in (None, 3, 2.5):
        with pytest.raises(TypeError, match="path, bytes or a binary file"):
            load_image(bad)


def test_load_image_is_exported_lazily():
    import seglab

    assert seglab.load_image is load_image
