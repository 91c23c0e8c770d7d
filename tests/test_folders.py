"""seglab.folders: images and label PNGs matched by name, served at one size, scanned once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from seglab.distributed import DistInfo
from seglab.folders import LabelFolder, find_pairs, scan_labels


def folder(root: Path) -> Path:
    """grey, RGBA and RGB images of 40x24 (width x height); labels with ids 0, 3 and 7."""
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    label = np.zeros((24, 40), np.uint8)
    label[4:12, 8:20] = 3
    for name, mode in [("a", "L"), ("b", "RGBA"), ("c", "RGB")]:
        Image.new(mode, (40, 24), 200 if mode == "L" else (10, 20, 30, 40)[: len(mode)]).save(
            root / "images" / f"{name}.png"
        )
        Image.fromarray(label if name != "c" else label * 7 // 3).save(
            root / "labels" / f"{name}.png"
        )
    Image.new("RGB", (40, 24)).save(root / "images" / "unlabelled.jpg")
    (root / "images" / "notes.txt").write_text("not an image")
    return root


def test_pairs_by_name_and_the_unlabelled_ones(tmp_path: Path) -> None:
    root = folder(tmp_path)
    pairs, missing = find_pairs(root / "images", root / "labels")
    assert [(i.name, lab.name) for i, lab in pairs] == [
        ("a.png", "a.png"),
        ("b.png", "b.png"),
        ("c.png", "c.png"),
    ]
    assert missing == ["unlabelled.jpg"]


def test_items_are_rgb_floats_and_class_ids_at_one_size(tmp_path: Path) -> None:
    root = folder(tmp_path)
    data = LabelFolder(find_pairs(root / "images", root / "labels")[0], size=16)
    assert len(data) == 3
    for i in range(3):
        x, y = data[i]
        assert x.shape == (3, 16, 16) and x.dtype == torch.float32
        assert 0 <= float(x.min()) and float(x.max()) <= 1
        assert y.shape == (16, 16) and y.dtype == torch.int64
    assert set(data[0][1].unique().tolist()) == {0, 3}  # nearest neighbour: no blended ids
    assert set(data[2][1].unique().tolist()) == {0, 7}
    assert torch.allclose(data[0][0], torch.full((3, 16, 16), 200 / 255))  # grey -> 3 channels


def test_scan_finds_the_largest_id_and_names_broken_pairs(tmp_path: Path) -> None:
    root = folder(tmp_path)
    data = LabelFolder(find_pairs(root / "images", root / "labels")[0], size=16)
    assert scan_labels(data, DistInfo()) == 7
    Image.new("L", (8, 8)).save(root / "labels" / "b.png")
    (root / "images" / "c.png").write_bytes(b"broken")
    with pytest.raises(
        ValueError,
        match=r"2 image/label pairs cannot be used:\n  b\.png: .*is 8x8.*\n  c\.png: .*not an im",
    ):
        scan_labels(data, DistInfo())
