"""seglab.voc: VOC's class names, its palette against the devkit's values, reading label PNGs."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from seglab.voc import VOC_CLASSES, VOC_VOID, read_label_png, voc_palette

# rows of VOCdevkit's VOClabelcolormap, copied from its documentation
DEVKIT = {
    0: (0, 0, 0),
    1: (128, 0, 0),
    2: (0, 128, 0),
    3: (128, 128, 0),
    4: (0, 0, 128),
    8: (64, 0, 0),
    15: (192, 128, 128),
    20: (0, 64, 128),
    255: (224, 224, 192),
}


def test_class_names() -> None:
    assert len(VOC_CLASSES) == 21
    assert VOC_CLASSES[0] == "background"
    assert VOC_CLASSES[15] == "person"
    assert VOC_CLASSES[20] == "tvmonitor"
    assert VOC_VOID == 255


def test_palette_matches_the_devkit() -> None:
    palette = voc_palette()
    assert palette.shape == (256, 3)
    assert palette.dtype == np.uint8
    for k, rgb in DEVKIT.items():
        assert tuple(palette[k]) == rgb, k
    assert len({tuple(row) for row in palette}) == 256  # every id its own colour


def _png(img: Image.Image) -> io.BytesIO:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    return buf


def _label_map() -> np.ndarray:
    labels = np.zeros((6, 8), dtype=np.uint8)
    labels[1:5, 1:4] = 15  # a person
    labels[0, :] = VOC_VOID
    labels[2:4, 5:7] = 1
    return labels


def test_palette_png_reads_as_class_ids() -> None:
    labels = _label_map()
    img = Image.fromarray(labels, mode="P")
    img.putpalette(voc_palette().ravel().tolist())
    out = read_label_png(_png(img))
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, labels)


def test_grey_png_reads_as_class_ids() -> None:
    labels = _label_map()
    np.testing.assert_array_equal(read_label_png(_png(Image.fromarray(labels))), labels)


def test_rgb_png_is_refused_with_the_fix() -> None:
    img = Image.fromarray(_label_map(), mode="P")
    img.putpalette(voc_palette().ravel().tolist())
    with pytest.raises(ValueError, match=r"mode 'RGB'.*colours, not class ids.*never"):
        read_label_png(_png(img.convert("RGB")))


def test_reads_from_a_path(tmp_path) -> None:
    path = tmp_path / "label.png"
    img = Image.fromarray(_label_map(), mode="P")
    img.putpalette(voc_palette().ravel().tolist())
    img.save(path)
    np.testing.assert_array_equal(read_label_png(path), _label_map())
    assert read_label_png(str(path)).shape == (6, 8)
