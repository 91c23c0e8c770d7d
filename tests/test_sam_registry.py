"""seglab.sam.registry: model names, facts about the files, the cache folder and list_models."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pooch
import pytest

from seglab.sam.registry import (
    MODELS,
    ModelInfo,
    checkpoint_path,
    get_cache_dir,
    get_model_info,
    human_size,
    list_models,
    mini_weights_path,
)

# Published facts (DESIGN.md; SHA-256 as in micro-sam's registry), copied here on purpose so
# that an accidental edit of the registry fails a test.
OFFICIAL = {
    "vit_b": ("sam_vit_b_01ec64.pth", 375_042_383, "ec2df627", 768, 12),
    "vit_l": ("sam_vit_l_0b3195.pth", 1_249_524_607, "3adcc431", 1024, 24),
    "vit_h": ("sam_vit_h_4b8939.pth", 2_564_550_879, "a7bf3b02", 1280, 32),
}


@pytest.mark.parametrize("name", list(OFFICIAL))
def test_official_entries_match_the_published_files(name: str) -> None:
    filename, size, sha_start, embed_dim, depth = OFFICIAL[name]
    info = MODELS[name]
    assert info.name == name and info.builder == name
    assert info.filename == filename
    assert info.url == f"https://dl.fbaipublicfiles.com/segment_anything/{filename}"
    assert info.size_bytes == size
    assert info.sha256 is not None and info.sha256.startswith(sha_start) and len(info.sha256) == 64
    assert (info.embed_dim, info.depth) == (embed_dim, depth)
    assert not info.shipped


def test_builders_exist_in_segment_anything_and_sizes_match_the_architecture() -> None:
    import torch
    from segment_anything import sam_model_registry

    for name in OFFICIAL:
        with torch.device("meta"):  # shapes only, no memory, no random init cost
            sam = sam_model_registry[MODELS[name].builder]()
        weight = sam.state_dict()["image_encoder.patch_embed.proj.weight"]
        assert weight.shape[0] == MODELS[name].embed_dim
        assert len(sam.image_encoder.blocks) == MODELS[name].depth


def test_mini_is_shipped_and_points_at_the_package_file() -> None:
    from seglab.sam.mini import MINI_WEIGHTS_PATH

    info = MODELS["mini"]
    assert info.shipped and info.url is None and info.builder is None
    assert mini_weights_path() == MINI_WEIGHTS_PATH
    assert checkpoint_path("mini", "/anywhere") == MINI_WEIGHTS_PATH


def test_model_info_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        MODELS["vit_b"].url = "http://evil.example/x.pth"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("vit_b", "vit_b"),
        ("ViT-B", "vit_b"),
        (" vit b ", "vit_b"),
        ("VIT_L", "vit_l"),
        ("sam_vit_h", "vit_h"),
        ("vith", "vit_h"),
        ("Mini", "mini"),
        ("mini-sam", "mini"),
    ],
)
def test_names_forgive_case_dashes_and_spaces(spelling: str, name: str) -> None:
    assert get_model_info(spelling).name == name


def test_unknown_name_lists_the_valid_ones_and_suggests_the_closest() -> None:
    with pytest.raises(ValueError, match="Unknown SAM model 'vit_x'") as excinfo:
        get_model_info("vit_x")
    message = str(excinfo.value)
    for name in MODELS:
        assert name in message
    assert "Did you mean" in message
    with pytest.raises(ValueError, match="Valid names: mini, vit_b, vit_l, vit_h") as excinfo:
        get_model_info("resnet50")


def test_non_string_name_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="got int 3"):
        get_model_info(3)  # type: ignore[arg-type]


def test_a_model_info_passes_through() -> None:
    info = dataclasses.replace(MODELS["vit_b"], name="custom")
    assert get_model_info(info) is info


def test_downloadable_entries_must_be_checkable() -> None:
    common = dict(name="x", filename="x.pth", url="http://h/x.pth", builder=None, description="")
    with pytest.raises(ValueError, match="size_bytes=None"):
        ModelInfo(size_bytes=None, sha256="0" * 64, **common)
    with pytest.raises(ValueError, match="64 lowercase hex digits"):
        ModelInfo(size_bytes=10, sha256="abc", **common)
    assert ModelInfo(size_bytes=10, sha256="0" * 64, **common).size_bytes == 10


def test_cache_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SEGLAB_CACHE_DIR", raising=False)
    assert get_cache_dir() == Path(pooch.os_cache("seglab")).absolute()
    monkeypatch.setenv("SEGLAB_CACHE_DIR", str(tmp_path / "env"))
    assert get_cache_dir() == tmp_path / "env"
    assert get_cache_dir(tmp_path / "arg") == tmp_path / "arg"  # the argument wins
    monkeypatch.setenv("SEGLAB_CACHE_DIR", "  ")  # blank counts as unset
    assert get_cache_dir() == Path(pooch.os_cache("seglab")).absolute()
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_cache_dir("~/c") == tmp_path / "c"
    assert not (tmp_path / "env").exists()  # looking the folder up creates nothing


def test_checkpoint_path_is_cache_dir_plus_file_name(tmp_path: Path) -> None:
    assert checkpoint_path("vit_l", tmp_path) == tmp_path / "sam_vit_l_0b3195.pth"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (None, "?"),
        (512, "512 B"),
        (300_000, "300.0 kB"),
        (375_042_383, "375.0 MB"),
        (1_249_524_607, "1.25 GB"),
        (2_564_550_879, "2.56 GB"),
    ],
)
def test_human_size(n: int | None, text: str) -> None:
    assert human_size(n) == text


def test_list_models_reports_what_is_on_disk(tmp_path: Path) -> None:
    # vit_b complete (a sparse file of exactly the right size), vit_l partial, vit_h absent.
    with open(tmp_path / "sam_vit_b_01ec64.pth", "wb") as f:
        f.truncate(375_042_383)
    (tmp_path / "sam_vit_l_0b3195.pth").write_bytes(b"\0" * 1000)
    table = list_models(tmp_path)

    assert [row.name for row in table] == ["mini", "vit_b", "vit_l", "vit_h"]
    assert table["vit_b"].on_disk and table["vit_b"].status == "downloaded"
    assert not table["vit_l"].on_disk and table["vit_l"].status == "wrong size (1000 bytes)"
    assert not table["vit_h"].on_disk and table["vit_h"].status == "not downloaded"
    assert table["ViT-H"].path == tmp_path / "sam_vit_h_4b8939.pth"
    assert table["vit_b"].size == "375.0 MB" and table[1] is table["vit_b"]
    mini = table["mini"]
    assert mini.on_disk == mini_weights_path().is_file()
    if mini.on_disk:
        assert mini.size_bytes == mini_weights_path().stat().st_size
    with pytest.raises(ValueError, match="Unknown SAM model"):
        table["vit_z"]


def test_list_models_prints_as_a_table(tmp_path: Path) -> None:
    text = str(list_models(tmp_path))
    lines = text.splitlines()
    assert lines[0].split() == ["name", "size", "on", "disk", "status", "path"]
    assert lines[2].startswith("vit_b  375.0 MB  no ") and lines[2].endswith(
        str(tmp_path / "sam_vit_b_01ec64.pth")
    )
    # the path column starts at the same place on every row
    starts = {line.index("/") for line in lines[1:5]}
    assert len(starts) == 1
    assert f"Downloads go to {tmp_path}" in text and "SEGLAB_CACHE_DIR" in text
    assert repr(list_models(tmp_path)) == text


def test_list_models_pretty_prints_in_ipython(tmp_path: Path) -> None:
    class Printer:  # the one method IPython's pretty printer calls
        def __init__(self) -> None:
            self.out = ""

        def text(self, s: str) -> None:
            self.out += s

    printer = Printer()
    table = list_models(tmp_path)
    table._repr_pretty_(printer, cycle=False)
    assert printer.out == str(table)


def test_registry_imports_no_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, seglab.sam.registry, seglab.sam.download; "
        "print('torch' in sys.modules, 'segment_anything' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
