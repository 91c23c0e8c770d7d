"""seglab.sam.loading: recognising checkpoints, refusing bad or unsafe files, loading SAMs.

Real files written to tmp_path with torch.save / pickle, real models from segment_anything and
seglab.sam.mini; nothing is mocked. The shapes of the official models are checked on models built
on the "meta" device (no memory, no time); one slow test saves and loads a real 375 MB vit_b.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from pathlib import Path

import pytest
import torch
from segment_anything import sam_model_registry
from segment_anything.modeling import Sam

from seglab.sam.loading import UnsafeCheckpointError, detect_model_type, load_sam
from seglab.sam.mini import MINI_WEIGHTS_PATH, MiniSamConfig, build_mini_sam, save_mini_checkpoint

# A deliberately tiny mini-SAM so that building and running it takes milliseconds.
TINY = MiniSamConfig(
    embed_dim=32,
    depth=2,
    num_heads=2,
    global_attn_indexes=(1,),
    prompt_dim=32,
    decoder_depth=1,
    decoder_mlp_dim=64,
    decoder_heads=2,
    iou_head_hidden_dim=32,
)

needs_shipped_mini = pytest.mark.skipif(
    not MINI_WEIGHTS_PATH.is_file(),
    reason="the shipped mini-SAM weights (seglab/sam/weights/mini_sam.pt) are not there yet",
)


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("SEGLAB_SAM_CHECKPOINT", "SEGLAB_SAM_MODEL", "SEGLAB_SAM_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SEGLAB_CACHE_DIR", str(tmp_path / "cache"))  # never the real cache


@pytest.fixture
def tiny_sam() -> Sam:
    torch.manual_seed(0)
    return build_mini_sam(TINY)


@pytest.fixture
def tiny_file(tiny_sam: Sam, tmp_path: Path) -> Path:
    return save_mini_checkpoint(tiny_sam, tmp_path / "tiny.pt", TINY, meta={"steps": 0})


def run(sam: Sam) -> tuple[torch.Tensor, torch.Tensor]:
    """One forward pass through encoder, prompt encoder and decoder, with a fixed input (on the
    model's device: ``Sam.forward`` does not move its inputs)."""
    g = torch.Generator().manual_seed(1)
    size = sam.image_encoder.img_size
    batch = [
        {
            "image": torch.randint(0, 256, (3, size, size), generator=g).float().to(sam.device),
            "original_size": (size, size),
            "point_coords": torch.tensor([[[size * 0.3, size * 0.6]]], device=sam.device),
            "point_labels": torch.tensor([[1]], device=sam.device),
        }
    ]
    out = sam(batch, multimask_output=True)[0]
    return out["low_res_logits"], out["iou_predictions"]


def official_state_dict(name: str) -> dict[str, torch.Tensor]:
    """The real key names and shapes of an official model, as meta tensors (free to make)."""
    with torch.device("meta"):
        return sam_model_registry[name]().state_dict()


def vit_b_lookalike() -> dict[str, torch.Tensor]:
    """Just enough of a vit_b to be recognised as one (a few MB): patch embed + 12 blocks."""
    state = {"image_encoder.patch_embed.proj.weight": torch.zeros(768, 3, 16, 16)}
    for i in range(12):
        state[f"image_encoder.blocks.{i}.norm1.weight"] = torch.ones(768)
    return state


# ---------------------------------------------------------------------------------------------
# detect_model_type
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["vit_b", "vit_l", "vit_h"])
def test_detects_official_models_from_their_state_dicts(name: str) -> None:
    assert detect_model_type(official_state_dict(name)) == name


def test_detects_mini_from_its_marker_and_from_odd_sizes(tiny_sam: Sam, tiny_file: Path) -> None:
    assert detect_model_type(tiny_file) == "mini"
    assert detect_model_type(torch.load(tiny_file, weights_only=True)) == "mini"
    assert detect_model_type(tiny_sam.state_dict()) == "mini"  # SAM-shaped, no official size


def test_detects_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "lookalike.pth"
    torch.save(vit_b_lookalike(), path)
    assert detect_model_type(path) == "vit_b"
    assert detect_model_type(str(path)) == "vit_b"


def test_a_dict_that_is_not_sam_is_named(tmp_path: Path) -> None:
    path = tmp_path / "other.pth"
    torch.save({"model": vit_b_lookalike(), "epoch": 3}, path)
    with pytest.raises(ValueError, match=r"not a SAM checkpoint.*\['model', 'epoch'\].*inner"):
        detect_model_type(path)
    with pytest.raises(ValueError, match="holds a list, not a dict of weights"):
        torch.save([1, 2], path)
        detect_model_type(path)


def test_detect_refuses_other_types() -> None:
    with pytest.raises(TypeError, match="got int"):
        detect_model_type(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Files that are not checkpoints: each gets its own message
# ---------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        detect_model_type(tmp_path / "nope.pth")
    with pytest.raises(FileNotFoundError, match="is a folder"):
        load_sam(None, checkpoint=tmp_path)


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.pth"
    path.write_text("these are my notes\nnot weights\n")
    with pytest.raises(
        ValueError, match="is a text file \\(it starts with 'these are my notes'\\)"
    ):
        detect_model_type(path)


def test_html_error_page(tmp_path: Path) -> None:
    path = tmp_path / "sam_vit_b_01ec64.pth"
    path.write_text("<!DOCTYPE html>\n<html><body>403 Forbidden</body></html>\n")
    with pytest.raises(ValueError, match="is a web page") as excinfo:
        load_sam("vit_b", checkpoint=path)
    # named like the official file: the message says how big it should be and how to get it
    assert "expected 375,042,383 for vit_b" in str(excinfo.value)
    assert "download_checkpoint('vit_b')" in str(excinfo.value)


def test_git_lfs_pointer(tmp_path: Path) -> None:
    path = tmp_path / "mini_sam.pt"
    path.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n")
    with pytest.raises(ValueError, match=r"Git LFS pointer.*git lfs pull"):
        detect_model_type(path)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.pth"
    path.write_bytes(bytes([0x13, 0x37]) + os.urandom(4000))
    with pytest.raises(
        ValueError, match="not a PyTorch checkpoint: it starts with the bytes 13 37"
    ):
        detect_model_type(path)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pth"
    path.touch()
    with pytest.raises(ValueError, match=r"is empty \(0 bytes\)"):
        detect_model_type(path)


def test_truncated_checkpoint(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    torch.save(vit_b_lookalike(), buffer)
    data = buffer.getvalue()
    path = tmp_path / "sam_vit_b_01ec64.pth"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated") as excinfo:
        detect_model_type(path)
    message = str(excinfo.value)
    assert f"{len(data) // 2:,} bytes, expected 375,042,383 for vit_b" in message
    assert "Delete it" in message and "download_checkpoint('vit_b')" in message


def test_truncated_legacy_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "old.pth"
    buffer = io.BytesIO()
    torch.save({"w": torch.zeros(50_000)}, buffer, _use_new_zipfile_serialization=False)
    path.write_bytes(buffer.getvalue()[:-1000])
    with pytest.raises(ValueError, match="is damaged or truncated"):
        detect_model_type(path)


def test_a_damaged_mini_file_of_yours_is_not_blamed_on_the_install(tiny_file: Path) -> None:
    data = tiny_file.read_bytes()
    tiny_file.write_bytes(data[:-100])
    with pytest.raises(ValueError, match="truncated") as excinfo:
        load_sam("mini", checkpoint=tiny_file)
    assert "reinstall" not in str(excinfo.value).lower()
    assert "Check that this is the file you meant" in str(excinfo.value)


def test_a_zip_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "sam.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sam_vit_b_01ec64.pth", b"inner")
    with pytest.raises(ValueError, match=r"zip archive, but not a PyTorch checkpoint.*unzip"):
        detect_model_type(path)


# ---------------------------------------------------------------------------------------------
# Files that would run code: refused, and the code does not run
# ---------------------------------------------------------------------------------------------


class _Payload:
    """Unpickling this creates a marker file: the stand-in for malicious code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _evil_files(tmp_path: Path, marker: Path) -> dict[str, Path]:
    files = {
        "pickle": tmp_path / "evil_pickle.pth",
        "pickle_protocol_2": tmp_path / "evil_p2.pth",
        "torch_save": tmp_path / "evil_zip.pth",
    }
    payload = {"image_encoder.patch_embed.proj.weight": _Payload(marker)}
    files["pickle"].write_bytes(pickle.dumps(payload))
    files["pickle_protocol_2"].write_bytes(pickle.dumps(payload, protocol=2))
    torch.save(payload, files["torch_save"])
    return files


def test_the_malicious_payload_is_live(tmp_path: Path) -> None:
    # Proves the refusal test below means something: plain unpickling does run the code.
    marker = tmp_path / "MARKER"
    path = _evil_files(tmp_path, marker)["pickle"]
    pickle.loads(path.read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("kind", ["pickle", "pickle_protocol_2", "torch_save"])
def test_a_checkpoint_with_code_is_refused_and_nothing_runs(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "MARKER"
    path = _evil_files(tmp_path, marker)[kind]
    with pytest.raises(UnsafeCheckpointError, match="contains code, not just weights") as excinfo:
        load_sam(None, checkpoint=path)
    assert "refuses to run it" in str(excinfo.value)
    assert "https://dl.fbaipublicfiles.com/segment_anything/" in str(excinfo.value)
    with pytest.raises(UnsafeCheckpointError):
        detect_model_type(path)
    assert not marker.exists()
    assert isinstance(excinfo.value, ValueError)


# ---------------------------------------------------------------------------------------------
# load_sam
# ---------------------------------------------------------------------------------------------


def test_mini_round_trip_gives_the_same_outputs(tiny_sam: Sam, tiny_file: Path) -> None:
    loaded = load_sam("mini", checkpoint=tiny_file, device="cpu")
    assert isinstance(loaded, Sam) and not loaded.training
    assert loaded.image_encoder.img_size == TINY.img_size
    assert all(p.dtype == torch.float32 and p.device.type == "cpu" for p in loaded.parameters())
    # The file stores float16: the reference is the original with its weights rounded the same.
    reference = build_mini_sam(TINY)
    reference.load_state_dict({k: v.half().float() for k, v in tiny_sam.state_dict().items()})
    for got, want in zip(run(loaded), run(reference), strict=True):
        assert torch.equal(got, want)
    # and not just any model: a fresh random one gives different outputs
    torch.manual_seed(123)
    assert not torch.equal(run(build_mini_sam(TINY))[0], run(loaded)[0])


def test_model_none_takes_what_the_file_holds(tiny_file: Path) -> None:
    assert load_sam(None, checkpoint=tiny_file).image_encoder.img_size == TINY.img_size


def test_a_loaded_dict_works_and_any_float_becomes_float32(tiny_file: Path) -> None:
    ckpt = torch.load(tiny_file, weights_only=True)
    ckpt["state_dict"] = {k: v.double() for k, v in ckpt["state_dict"].items()}
    sam = load_sam("mini", checkpoint=ckpt, device="cpu")
    tensors = [*sam.parameters(), *sam.buffers()]
    assert {t.dtype for t in tensors} == {torch.float32}


def test_wrong_model_type_is_named(tmp_path: Path, tiny_file: Path) -> None:
    path = tmp_path / "lookalike.pth"
    torch.save(vit_b_lookalike(), path)
    with pytest.raises(
        ValueError, match=r"is a vit_b, not a vit_l: use load_sam\('vit_b', \.\.\.\)"
    ):
        load_sam("vit_l", checkpoint=path)
    with pytest.raises(ValueError, match=r"is a mini, not a vit_h: use load_sam\('mini'"):
        load_sam("ViT-H", checkpoint=tiny_file)


def test_weights_that_do_not_fit_are_summarised(tmp_path: Path) -> None:
    path = tmp_path / "lookalike.pth"
    torch.save(vit_b_lookalike(), path)
    with pytest.raises(ValueError, match=r"do not fit a vit_b: \d+ weights missing") as excinfo:
        load_sam("vit_b", checkpoint=path)
    assert len(str(excinfo.value)) < 600  # a summary, not one line per tensor


def test_non_tensor_values_are_reported(tiny_file: Path) -> None:
    ckpt = torch.load(tiny_file, weights_only=True)
    key = "image_encoder.patch_embed.proj.weight"
    ckpt["state_dict"][key] = 3
    with pytest.raises(ValueError, match=f"1 of the wrong shape \\(e.g. {key}: file int vs model"):
        load_sam("mini", checkpoint=ckpt)


def test_a_plain_state_dict_of_a_mini_is_explained(tiny_sam: Sam, tmp_path: Path) -> None:
    path = tmp_path / "plain.pth"
    torch.save(tiny_sam.state_dict(), path)
    with pytest.raises(ValueError, match=r"no mini-SAM config.*save_mini_checkpoint"):
        load_sam(None, checkpoint=path)


def test_the_plain_state_dict_of_the_shipped_cnn_mini_is_explained(tmp_path: Path) -> None:
    # the shipped mini-SAM has a CNN encoder: no patch embedding to recognise a SAM by
    path = tmp_path / "plain_shipped.pth"
    torch.save(load_sam("mini", device="cpu").state_dict(), path)
    assert detect_model_type(path) == "mini"
    with pytest.raises(ValueError, match=r"a CNN encoder and no mini-SAM config.*save_mini_chec"):
        load_sam(None, checkpoint=path)


def test_a_newer_mini_format_is_explained(tiny_file: Path) -> None:
    ckpt = torch.load(tiny_file, weights_only=True)
    ckpt["version"] = 99
    with pytest.raises(ValueError, match="format version 99; this seglab reads version 1"):
        load_sam("mini", checkpoint=ckpt)


def test_unknown_model_name_lists_the_valid_ones(tiny_file: Path) -> None:
    with pytest.raises(ValueError, match="Valid names: mini, vit_b, vit_l, vit_h"):
        load_sam("vit_x", checkpoint=tiny_file)


def test_bad_checkpoint_argument_type() -> None:
    with pytest.raises(TypeError, match="got int"):
        load_sam("mini", checkpoint=123)  # type: ignore[arg-type]


def test_bad_device_fails_before_any_file_is_read(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'tpu'"):
        load_sam("mini", checkpoint=tmp_path / "does_not_exist.pth", device="tpu")


# --- the environment variables ---------------------------------------------------------------


def test_env_checkpoint_of_another_model_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "lookalike.pth"
    torch.save(vit_b_lookalike(), path)
    monkeypatch.setenv("SEGLAB_SAM_CHECKPOINT", str(path))
    with pytest.raises(ValueError, match="SEGLAB_SAM_CHECKPOINT points at a vit_b") as excinfo:
        load_sam("vit_l")
    assert "load_sam('vit_b')" in str(excinfo.value)
    assert not (tmp_path / "cache").exists()  # and nothing was downloaded instead


def test_env_checkpoint_is_used_when_model_is_none(
    tiny_sam: Sam, tiny_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGLAB_SAM_CHECKPOINT", str(tiny_file))
    sam = load_sam(None)
    assert sam.image_encoder.img_size == TINY.img_size
    assert torch.equal(
        sam.image_encoder.patch_embed.proj.weight,
        tiny_sam.image_encoder.patch_embed.proj.weight.half().float(),
    )


def test_env_checkpoint_that_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGLAB_SAM_CHECKPOINT", str(tmp_path / "gone.pth"))
    with pytest.raises(FileNotFoundError, match=r"SEGLAB_SAM_CHECKPOINT is '.*gone.pth'"):
        load_sam("vit_b")


def test_env_model_and_env_checkpoint_must_agree(
    tiny_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGLAB_SAM_CHECKPOINT", str(tiny_file))
    monkeypatch.setenv("SEGLAB_SAM_MODEL", "vit_b")
    with pytest.raises(ValueError, match=r"points at a mini checkpoint.*asked for vit_b"):
        load_sam(None)


def test_official_model_offline_gives_the_download_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from _http_server import closed_port_url

    from seglab.sam.download import CheckpointDownloadError

    monkeypatch.setenv("SEGLAB_SAM_BASE_URL", closed_port_url().rsplit("/", 1)[0])
    with pytest.raises(CheckpointDownloadError, match=r"sam_vit_b_01ec64\.pth") as excinfo:
        load_sam("vit_b")  # (retries twice, 1 s then 2 s apart)
    assert str(tmp_path / "cache" / "sam_vit_b_01ec64.pth") in str(excinfo.value)


# --- the shipped mini and the real vit_b -----------------------------------------------------


@needs_shipped_mini
def test_shipped_mini_loads_with_no_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    sam = load_sam(device="cpu")
    assert isinstance(sam, Sam) and not sam.training
    assert detect_model_type(MINI_WEIGHTS_PATH) == "mini"
    logits, iou = run(sam)
    assert logits.shape[1] == 3 and torch.isfinite(logits).all() and torch.isfinite(iou).all()
    monkeypatch.setenv("SEGLAB_SAM_MODEL", "mini")
    assert load_sam(None).image_encoder.img_size == sam.image_encoder.img_size


@needs_shipped_mini
def test_mini_ignores_an_env_checkpoint_of_an_official_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "lookalike.pth"
    torch.save(vit_b_lookalike(), path)
    monkeypatch.setenv("SEGLAB_SAM_CHECKPOINT", str(path))
    got = load_sam("mini").state_dict()  # would fail (a vit_b, not a mini) if the env were used
    want = load_sam("mini", checkpoint=MINI_WEIGHTS_PATH).state_dict()
    assert all(torch.equal(got[k], want[k]) for k in want)


@pytest.mark.slow
def test_a_random_vit_b_round_trips_through_a_file(tmp_path: Path) -> None:
    torch.manual_seed(0)
    original = sam_model_registry["vit_b"]()
    path = tmp_path / "random_vit_b.pth"
    torch.save(original.state_dict(), path)  # ~375 MB, like the official file
    try:
        assert detect_model_type(path) == "vit_b"
        sam = load_sam(None, checkpoint=path, device="cpu")
        assert isinstance(sam, Sam) and not sam.training and sam.image_encoder.img_size == 1024
        want = original.state_dict()
        got = sam.state_dict()
        assert got.keys() == want.keys()
        assert all(torch.equal(got[k], want[k]) for k in want)
        with pytest.raises(ValueError, match="is a vit_b, not a vit_h"):
            load_sam("vit_h", checkpoint=path)
    finally:
        path.unlink(missing_ok=True)


@pytest.mark.gpu
def test_loads_onto_the_gpu_in_float32(tiny_file: Path) -> None:
    device = "cuda" if torch.cuda.is_available() else "mps"
    sam = load_sam("mini", checkpoint=tiny_file, device=device)
    tensors = [*sam.parameters(), *sam.buffers()]
    assert {t.device.type for t in tensors} == {device}
    assert {t.dtype for t in tensors} == {torch.float32}
    logits, _ = run(sam)
    assert torch.isfinite(logits).all()
