"""seglab.sam.hub: mini-SAM in segment_anything's model registry, used as Meta's scripts use it.

``scripts/amg.py`` in facebookresearch/segment-anything builds its model with
``sam_model_registry[model_type](checkpoint=checkpoint)`` and, with ``--convert-to-rle``, runs
``SamAutomaticMaskGenerator(sam, output_mode="coco_rle")`` and writes the masks as JSON; the tests
below do the same with ``model_type="mini"``. (The ONNX export script is in test_sam_onnx.py.)
Real models and files throughout; the registry is restored after every test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils
from segment_anything import SamAutomaticMaskGenerator, SamPredictor, sam_model_registry
from segment_anything.modeling import Sam

import seglab.sam
from seglab.data import make_scene
from seglab.sam.hub import build_sam_mini, register_in_segment_anything
from seglab.sam.loading import load_sam
from seglab.sam.mini import MINI_WEIGHTS_PATH, MiniSamConfig, build_mini_sam, save_mini_checkpoint

pytestmark = pytest.mark.skipif(
    not MINI_WEIGHTS_PATH.is_file(),
    reason="the shipped mini-SAM weights (seglab/sam/weights/mini_sam.pt) are not there",
)

#: mini-SAM's AMG settings (MODEL_CARD.md; amg.py's --points-per-side, --pred-iou-thresh and
#: --stability-score-thresh): with SAM's default filters mini-SAM finds fewer objects.
MINI_AMG = {"points_per_side": 16, "pred_iou_thresh": 0.7, "stability_score_thresh": 0.85}

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
    img_size=64,
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """No SEGLAB_* variables from the caller, one thread, and the registry as it was after."""
    for var in ("SEGLAB_SAM_CHECKPOINT", "SEGLAB_SAM_MODEL", "SEGLAB_SAM_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SEGLAB_CACHE_DIR", str(tmp_path / "cache"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    saved = dict(sam_model_registry)
    yield
    sam_model_registry.clear()
    sam_model_registry.update(saved)
    torch.set_num_threads(threads)


def _same_weights(a: Sam, b: Sam) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# ------------------------------------------------------------------------------- registration


def test_register_adds_mini_and_leaves_the_official_entries():
    sam_model_registry.pop("mini", None)
    before = dict(sam_model_registry)
    register_in_segment_anything()
    assert sam_model_registry["mini"] is build_sam_mini
    assert {k: v for k, v in sam_model_registry.items() if k != "mini"} == before
    assert {"default", "vit_h", "vit_l", "vit_b"} <= set(before)


def test_register_twice_changes_nothing():
    register_in_segment_anything()
    once = dict(sam_model_registry)
    register_in_segment_anything()
    assert sam_model_registry == once


def test_exported_from_seglab_sam():
    assert seglab.sam.register_in_segment_anything is register_in_segment_anything
    assert "register_in_segment_anything" in seglab.sam.__all__


def test_another_packages_mini_is_not_overwritten():
    def theirs(checkpoint=None):
        return None

    sam_model_registry["mini"] = theirs
    with pytest.raises(ValueError, match=r"already .*theirs.*del sam_model_registry"):
        register_in_segment_anything()
    assert sam_model_registry["mini"] is theirs


# ------------------------------------------------------------------------------- the builder


def test_registry_mini_without_checkpoint_is_the_shipped_model_like_meta_builders():
    register_in_segment_anything()
    sam = sam_model_registry["mini"](checkpoint=None)
    assert isinstance(sam, Sam)
    # what Meta's builders give: eval mode, on the CPU, float32
    assert not sam.training and sam.device == torch.device("cpu")
    assert {p.dtype for p in sam.parameters()} == {torch.float32}
    assert sam.image_encoder.img_size == 256
    assert _same_weights(sam, load_sam("mini", device="cpu"))
    assert _same_weights(sam_model_registry["mini"](), sam)  # checkpoint defaults to None


@pytest.mark.parametrize("as_type", [str, Path], ids=["str", "Path"])
def test_registry_mini_with_a_checkpoint_path_loads_that_file(tmp_path, as_type):
    torch.manual_seed(0)
    tiny = build_mini_sam(TINY)
    path = save_mini_checkpoint(tiny, tmp_path / "tiny.pt", TINY)
    register_in_segment_anything()
    sam = sam_model_registry["mini"](checkpoint=as_type(path))
    assert sam.image_encoder.img_size == 64 and not sam.training
    for key, value in tiny.state_dict().items():
        torch.testing.assert_close(sam.state_dict()[key], value.half().float())
    # and it works: SamPredictor sizes everything from the model
    predictor = SamPredictor(sam)
    predictor.set_image(make_scene(0, size=(48, 80)).image)
    masks, scores, low_res = predictor.predict(np.array([[40, 24]]), np.array([1]))
    assert masks.shape == (3, 48, 80) and scores.shape == (3,) and low_res.shape == (3, 16, 16)


def test_registry_mini_with_the_shipped_file_as_a_path():
    register_in_segment_anything()
    sam = sam_model_registry["mini"](checkpoint=str(MINI_WEIGHTS_PATH))
    assert _same_weights(sam, sam_model_registry["mini"](checkpoint=None))


@pytest.mark.parametrize("bad", [3, 2.5, b"mini_sam.pt", ["mini_sam.pt"], True])
def test_checkpoint_of_the_wrong_type_says_what_to_pass(bad):
    with pytest.raises(TypeError, match=r"checkpoint=None .*path of a mini-SAM checkpoint"):
        build_sam_mini(checkpoint=bad)


def test_empty_checkpoint_string_is_refused():
    with pytest.raises(ValueError, match=r"names no file.*checkpoint=None"):
        build_sam_mini(checkpoint="  ")


def test_missing_checkpoint_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_sam_mini(checkpoint=tmp_path / "nope.pt")


def test_an_official_sized_checkpoint_is_not_taken_for_mini(tmp_path):
    # The shapes of a ViT-B (768 wide, 12 blocks), without its 375 MB: only the detected keys.
    state = {"image_encoder.patch_embed.proj.weight": torch.zeros(768, 3, 16, 16)}
    state |= {f"image_encoder.blocks.{i}.norm1.weight": torch.zeros(1) for i in range(12)}
    with pytest.raises(ValueError, match=r"is a vit_b, not a mini"):
        build_sam_mini(checkpoint=state)


# ------------------------------------------------------------------------------- scripts/amg.py


@pytest.fixture(scope="module")
def scene():
    return make_scene(3, size=(240, 320), n_objects=(3, 4))


@pytest.fixture(scope="module")
def registry_sam():
    saved = dict(sam_model_registry)
    register_in_segment_anything()
    sam = sam_model_registry["mini"](checkpoint=None)
    sam_model_registry.clear()
    sam_model_registry.update(saved)
    return sam


# pycocotools 2.0 under NumPy 2 (its own code, harmless): "__array__ ... copy keyword"
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't:DeprecationWarning")
def test_amg_coco_rle_output_as_in_amg_script(registry_sam, scene):
    h, w = scene.image.shape[:2]
    generator = SamAutomaticMaskGenerator(registry_sam, output_mode="coco_rle", **MINI_AMG)
    records = generator.generate(scene.image)

    assert len(records) >= 2, "mini-SAM should find a few of the scene's objects"
    decoded = []
    for record in records:
        rle = record["segmentation"]
        assert set(rle) == {"size", "counts"} and rle["size"] == [h, w]
        assert isinstance(rle["counts"], str)  # decoded to text: JSON-ready, as amg.py writes
        mask = mask_utils.decode(rle).astype(bool)  # (H, W)
        # AMG computes area and box from its binary mask: the RLE must decode to that mask
        assert record["area"] == int(mask.sum()) == int(mask_utils.area(rle))
        x, y, bw, bh = record["bbox"]  # XYWH, as in COCO
        ys, xs = np.nonzero(mask)
        assert (x, y) == (xs.min(), ys.min()) and (bw, bh) == (np.ptp(xs), np.ptp(ys))
        assert 0 <= record["predicted_iou"] and 0 <= record["stability_score"] <= 1
        decoded.append(mask)
    # the masks are the scene's objects: most objects are found with IoU > 0.5
    found = [max((m & gt).sum() / (m | gt).sum() for m in decoded) > 0.5 for gt in scene.masks]
    assert np.mean(found) >= 0.75, found  # measured: all 4, IoU 0.91 to 0.97
    # amg.py dumps the records with json.dump; they come back equal
    assert json.loads(json.dumps(records)) == records
