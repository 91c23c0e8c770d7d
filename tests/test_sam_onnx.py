"""seglab.sam.onnx: Meta's ONNX export of the prompt encoder + mask decoder, for mini-SAM.

Repeats ``scripts/export_onnx_model.py`` (facebookresearch/segment-anything) through the package
(the model from ``sam_model_registry["mini"]``, the script's input names, output names and
dynamic axes) and feeds the file as ``notebooks/onnx_model_example.ipynb`` does: point
coordinates mapped by ``ResizeLongestSide``, a padding point labelled -1 when there is no box.
ONE exported file must then agree with ``SamPredictor`` on images of two sizes, neither of them
the size the export was traced with (1500 x 2250), which is what segment-anything 1.0's own
``SamOnnxModel`` gets wrong.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch
from segment_anything import SamPredictor, sam_model_registry
from segment_anything.modeling import Sam

import seglab.sam
from seglab.data import interior_point, make_scene
from seglab.sam import onnx as sam_onnx
from seglab.sam.hub import register_in_segment_anything
from seglab.sam.mini import MINI_WEIGHTS_PATH
from seglab.sam.onnx import (
    ONNX_DYNAMIC_AXES,
    ONNX_EXTRA_METRICS_OUTPUT_NAMES,
    ONNX_INPUT_NAMES,
    ONNX_OUTPUT_NAMES,
    export_onnx,
)

pytestmark = pytest.mark.skipif(
    not MINI_WEIGHTS_PATH.is_file(),
    reason="the shipped mini-SAM weights (seglab/sam/weights/mini_sam.pt) are not there",
)

#: The bars: SamPredictor's masks and low-res logits, reproduced by onnxruntime.
MIN_PIXEL_AGREEMENT = 0.995
MAX_LOGIT_DIFF = 1e-3


def _grid(sam: Sam) -> int:
    """Side of the model's image embedding; its low-res masks are 4 x this."""
    return sam.prompt_encoder.image_embedding_size[0]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def sam() -> Sam:
    """The model as export_onnx_model.py gets it: from the registry, by name."""
    saved = dict(sam_model_registry)
    try:
        register_in_segment_anything()
        return sam_model_registry["mini"](checkpoint=None)
    finally:
        sam_model_registry.clear()
        sam_model_registry.update(saved)


@pytest.fixture(scope="module")
def onnx_path(sam: Sam, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_onnx(sam, tmp_path_factory.mktemp("onnx") / "mini_sam_decoder.onnx")


def _session(path: Path) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def session(onnx_path: Path) -> onnxruntime.InferenceSession:
    return _session(onnx_path)


# ------------------------------------------------------------------------------- the file


def test_file_has_the_scripts_inputs_outputs_and_dynamic_axes(onnx_path, sam):
    model = onnx.load(str(onnx_path))
    onnx.checker.check_model(model)
    graph = model.graph
    assert tuple(i.name for i in graph.input) == ONNX_INPUT_NAMES
    assert (
        tuple(o.name for o in graph.output)
        == ONNX_OUTPUT_NAMES
        == (
            "masks",
            "iou_predictions",
            "low_res_masks",
        )
    )
    assert ONNX_DYNAMIC_AXES == {
        "point_coords": {1: "num_points"},
        "point_labels": {1: "num_points"},
    }
    dims = {
        i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]
        for i in graph.input
    }
    assert dims == {
        "image_embeddings": [1, 128, _grid(sam), _grid(sam)],
        "point_coords": [1, "num_points", 2],
        "point_labels": [1, "num_points"],
        "mask_input": [1, 1, 4 * _grid(sam), 4 * _grid(sam)],
        "has_mask_input": [1],
        "orig_im_size": [2],
    }
    assert model.opset_import[0].version == 17


def test_exported_from_seglab_sam():
    assert seglab.sam.export_onnx is export_onnx


# ------------------------------------------------------------------------------- vs SamPredictor


def _prompts(scene) -> list[dict]:
    """SamPredictor.predict arguments: a click, click + negative click, box, box + click."""
    a, b = scene.masks[0], scene.masks[1]
    pa, pb = np.array([interior_point(a)]), np.array([interior_point(b)])
    box = scene.boxes[0].astype(np.float32)  # (x0, y0, x1, y1)
    return [
        {"point_coords": pa, "point_labels": np.array([1])},
        {"point_coords": np.concatenate([pa, pb]), "point_labels": np.array([1, 0])},
        {"box": box},
        {"point_coords": pa, "point_labels": np.array([1]), "box": box},
    ]


def _onnx_inputs(
    predictor: SamPredictor,
    image_hw: tuple[int, int],
    point_coords: np.ndarray | None = None,
    point_labels: np.ndarray | None = None,
    box: np.ndarray | None = None,
    mask_input: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The notebook's recipe: map (x, y) into the resized frame; box corners are labels 2 and 3;
    with no box, one padding point (0, 0) labelled -1."""
    coords = np.zeros((0, 2), np.float32)
    labels = np.zeros(0, np.float32)
    if point_coords is not None:
        coords, labels = np.asarray(point_coords, np.float32), np.asarray(point_labels, np.float32)
    if box is not None:
        coords = np.concatenate([coords, np.asarray(box, np.float32).reshape(2, 2)])
        labels = np.concatenate([labels, np.array([2, 3], np.float32)])
    else:
        coords = np.concatenate([coords, np.zeros((1, 2), np.float32)])
        labels = np.concatenate([labels, np.array([-1], np.float32)])
    grid = predictor.model.prompt_encoder.image_embedding_size
    return {
        "image_embeddings": predictor.get_image_embedding().cpu().numpy(),
        "point_coords": predictor.transform.apply_coords(coords[None], image_hw).astype(np.float32),
        "point_labels": labels[None],
        "mask_input": (
            np.zeros((1, 1, *(4 * g for g in grid)), np.float32)
            if mask_input is None
            else np.asarray(mask_input, np.float32)[None]
        ),
        "has_mask_input": np.array([0.0 if mask_input is None else 1.0], np.float32),
        "orig_im_size": np.array(image_hw, np.float32),
    }


def compare_with_predictor(sam: Sam, session, image: np.ndarray, prompts: list[dict]) -> dict:
    """Run each prompt through SamPredictor (multimask_output=False) and the ONNX file.

    Returns the worst pixel agreement of the (H, W) masks, the largest |difference| of the low-res
    logits and of the predicted IoUs over all prompts, and one refinement round (mask_input)."""
    predictor = SamPredictor(sam)
    predictor.set_image(image)
    hw = image.shape[:2]
    agreement, logit_diff, iou_diff = 1.0, 0.0, 0.0
    refine = {**prompts[0]}
    for prompt in [*prompts, refine]:
        masks, ious, low_res = predictor.predict(**prompt, multimask_output=False)
        onnx_masks, onnx_ious, onnx_low_res = session.run(
            None, _onnx_inputs(predictor, hw, **prompt)
        )
        low_side = 4 * _grid(sam)
        assert onnx_masks.shape == (1, 4, *hw) and onnx_low_res.shape == (1, 4, low_side, low_side)
        # index 0 of the decoder's 4 masks is the multimask_output=False one
        agreement = min(agreement, float(np.mean((onnx_masks[0, 0] > 0) == masks[0])))
        logit_diff = max(logit_diff, float(np.abs(onnx_low_res[0, 0] - low_res[0]).max()))
        iou_diff = max(iou_diff, float(abs(onnx_ious[0, 0] - ious[0])))
        refine["mask_input"] = low_res  # (1, 4g, 4g): the next round refines this mask
    return {"agreement": agreement, "logit_diff": logit_diff, "iou_diff": iou_diff}


@pytest.mark.parametrize("size", [(256, 256), (240, 320)], ids=["256x256", "240x320"])
def test_one_file_matches_sam_predictor_at_any_image_size(sam, session, size):
    scene = make_scene(7, size=size, n_objects=(3, 4))
    assert len(scene.masks) >= 2
    measured = compare_with_predictor(sam, session, scene.image, _prompts(scene))
    assert measured["agreement"] >= MIN_PIXEL_AGREEMENT, measured
    assert measured["logit_diff"] <= MAX_LOGIT_DIFF, measured
    assert measured["iou_diff"] <= MAX_LOGIT_DIFF, measured


def test_single_mask_and_extra_metrics_options(sam, tmp_path):
    path = export_onnx(
        sam, tmp_path / "single.onnx", return_single_mask=True, return_extra_metrics=True
    )
    session = _session(path)
    assert tuple(o.name for o in session.get_outputs()) == ONNX_EXTRA_METRICS_OUTPUT_NAMES
    scene = make_scene(7, size=(240, 320), n_objects=(3, 4))
    predictor = SamPredictor(sam)
    predictor.set_image(scene.image)
    two_clicks = _prompts(scene)[1]
    masks, ious, stability, areas, low_res = session.run(
        None, _onnx_inputs(predictor, (240, 320), **two_clicks)
    )
    side = 4 * _grid(sam)
    assert masks.shape == (1, 1, 240, 320) and low_res.shape == (1, 1, side, side)
    assert ious.shape == stability.shape == areas.shape == (1, 1)
    assert areas[0, 0] == (masks[0, 0] > 0).sum()
    # more than one click: the single-mask output, i.e. SamPredictor's multimask_output=False
    expected, _, _ = predictor.predict(**two_clicks, multimask_output=False)
    assert np.mean((masks[0, 0] > 0) == expected[0]) >= MIN_PIXEL_AGREEMENT
    # one click (+ the padding point): the multimask output with the best predicted IoU; the
    # number of points is read from the input, not frozen at the example's 5
    one_click = _prompts(scene)[0]
    masks, ious, *_ = session.run(None, _onnx_inputs(predictor, (240, 320), **one_click))
    candidates, scores, _ = predictor.predict(**one_click, multimask_output=True)
    best = int(np.argmax(scores))
    assert abs(ious[0, 0] - scores[best]) <= MAX_LOGIT_DIFF
    assert np.mean((masks[0, 0] > 0) == candidates[best]) >= MIN_PIXEL_AGREEMENT


# ------------------------------------------------------------------------------- writing, errors


def test_failed_export_leaves_no_file_and_keeps_the_old_one(sam, tmp_path, monkeypatch):
    target = tmp_path / "decoder.onnx"
    target.write_bytes(b"the previous export")

    def broken_export(model, args, f, **kwargs):
        Path(f).write_bytes(b"half an onnx file")
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(sam_onnx.torch.onnx, "export", broken_export)
    with pytest.raises(RuntimeError, match="exporter crashed"):
        export_onnx(sam, target)
    assert target.read_bytes() == b"the previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["decoder.onnx"]  # no temporary file left


def test_export_creates_folders_and_overwrites(sam, tmp_path):
    target = tmp_path / "a" / "b" / "decoder.onnx"
    assert export_onnx(sam, str(target)) == target
    size = target.stat().st_size
    assert export_onnx(sam, target) == target and target.stat().st_size == size
    assert [p.name for p in target.parent.iterdir()] == ["decoder.onnx"]


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("not a model", "x.onnx"), {}, TypeError, r"needs a segment_anything Sam.*load_sam"),
        ((None, 3), {}, TypeError, r"path must be a file path"),
        ((None, "x.onnx"), {"opset": "17"}, TypeError, r"opset must be an int"),
        ((None, "x.onnx"), {"opset": 9}, ValueError, r"opset 9 is too old.*use 11"),
        ((None, ""), {}, ValueError, r"is a folder \(or empty\)"),
    ],
    ids=["sam", "path-type", "opset-type", "opset-old", "path-empty"],
)
def test_bad_arguments_say_how_to_fix(sam, args, kwargs, error, match):
    args = tuple(sam if a is None else a for a in args)
    with pytest.raises(error, match=match):
        export_onnx(*args, **kwargs)


def test_without_the_onnx_package_says_what_to_install(sam, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    with pytest.raises(ModuleNotFoundError, match=r"needs the 'onnx' package.*pip install onnx"):
        export_onnx(sam, tmp_path / "decoder.onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_folder_is_not_a_file_name(sam, tmp_path):
    with pytest.raises(ValueError, match="is a folder"):
        export_onnx(sam, tmp_path)
