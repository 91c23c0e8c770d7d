"""SamClicker without a browser: simulated events drive it through the methods the browser
calls, and every mask is checked against segment_anything's own SamPredictor."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from segment_anything import SamPredictor

from seglab.sam.mini import MiniSamConfig, build_mini_sam
from seglab.sam.predictor import Predictor
from seglab.widgets import SamClicker

H, W = 96, 128


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # The decoder's tiny matmuls run fastest on one thread, and far slower when the CPU is
    # shared with other processes (OpenMP threads wait for each other).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def sam():
    torch.manual_seed(0)
    # a narrow mini-SAM: random weights are fine, the tests compare with the official predictor
    config = MiniSamConfig(embed_dim=64, depth=2, global_attn_indexes=(1,), prompt_dim=64)
    return build_mini_sam(config)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 60, size=(H, W, 3), dtype=np.uint8)
    img[20:70, 30:90] = (230, 120, 40)  # an orange rectangle on a dark noisy background
    return img


@pytest.fixture(scope="module")
def predictor(sam) -> Predictor:
    return Predictor(sam)  # shared: its cache saves re-encoding the image for every test


@pytest.fixture
def clicker(predictor, image) -> SamClicker:
    return SamClicker(predictor, image)


_OFFICIAL: dict[tuple[int, bytes], SamPredictor] = {}


def reference(sam, image, points=None, labels=None, box=None, multimask=True):
    """The same prompt through segment_anything's SamPredictor, untouched."""
    key = (id(sam), image.tobytes())
    if key not in _OFFICIAL:
        _OFFICIAL[key] = SamPredictor(sam)
        _OFFICIAL[key].set_image(image)
    p = _OFFICIAL[key]
    masks, scores, _ = p.predict(
        point_coords=None if points is None else np.asarray(points, dtype=np.float32),
        point_labels=None if labels is None else np.asarray(labels),
        box=None if box is None else np.asarray(box, dtype=np.float32),
        multimask_output=multimask,
    )
    return masks, scores


def state(c: SamClicker):
    mask = c.mask
    box = c.box
    return (
        c.points.tolist(),
        c.labels.tolist(),
        None if box is None else box.tolist(),
        None if mask is None else mask.copy(),
        c.selected,
    )


def assert_same_state(a, b) -> None:
    assert a[:3] == b[:3] and a[4] == b[4]
    assert (a[3] is None and b[3] is None) or np.array_equal(a[3], b[3])


# ---------------------------------------------------------------------------- events


def test_a_click_adds_a_positive_point_and_gives_the_official_mask(clicker, sam, image) -> None:
    assert clicker.mask is None and clicker.result is None and clicker.box is None
    clicker._handle_click(60.7, 40.2)
    assert clicker.points.tolist() == [[60.0, 40.0]]  # the pixel clicked: floor(x), floor(y)
    assert clicker.labels.tolist() == [1]
    masks, scores = reference(sam, image, [[60, 40]], [1])
    assert np.array_equal(clicker.result.masks, masks)
    np.testing.assert_allclose(clicker.result.scores, scores, rtol=1e-6)
    assert clicker.selected == int(np.argmax(scores))
    assert clicker.mask.shape == (H, W) and clicker.mask.dtype == bool
    assert np.array_equal(clicker.mask, masks[clicker.selected])
    i = clicker.selected
    assert clicker.status.startswith(
        f"added positive point (x=60, y=40) → masks[{i}] of 3, score {scores[i]:.2f}, "
        f"{int(masks[i].sum()):,} px, "
    )
    assert clicker.status.endswith(" ms")


@pytest.mark.parametrize(
    ("mode", "button", "shift", "label"),
    [
        ("positive", 0, False, 1),
        ("positive", 0, True, 0),  # shift-click: the other kind
        ("positive", 2, False, 0),  # right click: the other kind
        ("negative", 0, False, 0),
        ("negative", 0, True, 1),
        ("negative", 2, False, 1),
    ],
)
def test_mode_shift_and_right_click_choose_the_label(clicker, mode, button, shift, label) -> None:
    clicker._on_msg(None, {"type": "mode", "mode": mode})
    assert clicker.mode == mode
    clicker._on_msg(None, {"type": "click", "x": 10, "y": 12, "button": button, "shift": shift})
    assert clicker.labels.tolist() == [label]


def test_several_points_are_sent_together(clicker, sam, image) -> None:
    clicker._handle_click(60, 40)
    clicker._handle_click(5, 5, button=2)
    assert clicker.points.tolist() == [[60, 40], [5, 5]] and clicker.labels.tolist() == [1, 0]
    masks, _ = reference(sam, image, [[60, 40], [5, 5]], [1, 0])
    assert np.array_equal(clicker.result.masks, masks)


def test_a_drag_draws_a_box_in_any_corner_order_clipped_to_the_image(clicker, sam, image) -> None:
    clicker._handle_box(95.4, 80.6, 24.6, -7.0)  # dragged up-left, past the top edge
    assert clicker.box.tolist() == [25, 0, 95, 81]
    masks, _ = reference(sam, image, box=[25, 0, 95, 81])
    assert np.array_equal(clicker.result.masks, masks)
    assert clicker.status.startswith("drew box (x0=25, y0=0, x1=95, y1=81) → masks[")
    clicker._on_msg(None, {"type": "box", "x0": 1, "y0": 2, "x1": 30, "y1": 40})
    assert clicker.box.tolist() == [1, 2, 30, 40]  # one box at a time: it replaces the old one
    assert "replacing the old box" in clicker.status


def test_points_and_box_combine(clicker, sam, image) -> None:
    clicker._handle_box(20, 10, 100, 80)
    clicker._handle_click(8, 8, shift=True)
    masks, _ = reference(sam, image, [[8, 8]], [0], box=[20, 10, 100, 80])
    assert np.array_equal(clicker.result.masks, masks)


def test_picking_another_of_the_three_masks(clicker) -> None:
    clicker._handle_click(60, 40)
    other = (clicker.selected + 1) % 3
    clicker._on_msg(None, {"type": "select", "index": other})
    assert clicker.selected == other
    assert np.array_equal(clicker.mask, clicker.result.masks[other])
    assert clicker.status.startswith(f"selected masks[{other}] of 3, score ")
    clicker._handle_click(61, 41)  # a new prompt picks the best-scoring mask again
    assert clicker.selected == clicker.result.best_index


def test_multimask_false_gives_one_mask(sam, image) -> None:
    c = SamClicker(sam, image, multimask=False)
    c._handle_click(60, 40)
    masks, _ = reference(sam, image, [[60, 40]], [1], multimask=False)
    assert len(c.result) == 1 and c.selected == 0 and np.array_equal(c.mask, masks[0])


# ------------------------------------------------------------------------- undo/reset


def test_undo_steps_back_through_points_and_boxes(clicker) -> None:
    s0 = state(clicker)
    clicker._handle_click(60, 40)
    s1 = state(clicker)
    clicker._handle_box(20, 10, 100, 80)
    s2 = state(clicker)
    clicker._handle_click(5, 5, button=2)
    assert clicker.undo() is True
    assert_same_state(state(clicker), s2)
    assert clicker.status.startswith("undid 'added negative point (x=5, y=5)' → masks[")
    clicker._on_msg(None, {"type": "undo"})
    assert_same_state(state(clicker), s1)
    clicker._handle_undo()
    assert_same_state(state(clicker), s0)
    assert clicker.status.startswith("undid 'added positive point (x=60, y=40)' → no prompts left")


def test_undo_on_empty_history_changes_nothing(clicker) -> None:
    before = state(clicker)
    assert clicker.undo() is False
    assert_same_state(state(clicker), before)
    assert clicker.status == "nothing to undo"


def test_reset_clears_everything_and_undo_brings_it_back(clicker) -> None:
    clicker._handle_click(60, 40)
    clicker._handle_box(20, 10, 100, 80)
    full = state(clicker)
    clicker._on_msg(None, {"type": "reset"})
    assert clicker.points.shape == (0, 2) and clicker.box is None and clicker.mask is None
    assert clicker.status.startswith("reset: removed 1 point and the box")
    assert clicker.reset() is False and clicker.status.startswith("nothing to reset")
    clicker.undo()
    assert_same_state(state(clicker), full)


# ------------------------------------------------------------------------ bad events


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"type": "click", "x": -0.5, "y": 10}, "ignored click at (x=-0.5, y=10.0): outside"),
        ({"type": "click", "x": W, "y": 10}, f"outside the {W}x{H} image"),
        ({"type": "click", "x": 10, "y": H + 3}, "outside"),
        ({"type": "click", "x": float("nan"), "y": 1}, "not finite"),
        ({"type": "click", "x": "a", "y": 1}, "not numbers"),
        ({"type": "click", "x": 5, "y": 5, "button": 1}, "mouse button 1"),
        ({"type": "box", "x0": 10, "y0": 10, "x1": 10.2, "y1": 50}, "zero width"),
        ({"type": "box", "x0": 10, "y0": 10, "x1": 50, "y1": 10}, "zero height"),
        ({"type": "box", "x0": -20, "y0": 10, "x1": -5, "y1": 50}, "zero width"),
        ({"type": "box", "x0": None, "y0": 10, "x1": 5, "y1": 50}, "not numbers"),
        ({"type": "select", "index": 7}, "there are 3 masks"),
        ({"type": "select", "index": "1"}, "not an index"),
        ({"type": "mode", "mode": "maybe"}, "ignored mode 'maybe'"),
        ({"type": "explode"}, "ignored unknown message"),
        ("not a dict", "ignored unknown message"),
    ],
)
def test_bad_events_change_nothing_and_say_so(clicker, message, expected) -> None:
    clicker._handle_click(60, 40)
    before, history = state(clicker), list(clicker._history)
    clicker._on_msg(None, message)  # must not raise
    assert_same_state(state(clicker), before)
    assert clicker._history == history and clicker.mode == "positive"
    assert expected in clicker.status and clicker.status.endswith("nothing changed")


def test_select_before_any_mask_is_ignored(clicker) -> None:
    clicker._on_msg(None, {"type": "select", "index": 0})
    assert clicker.mask is None and "there is no mask yet" in clicker.status


def test_a_failing_prediction_leaves_the_state_unchanged(clicker, monkeypatch) -> None:
    clicker._handle_click(60, 40)
    clicker._handle_click(5, 5)  # so that undo needs a prediction too
    before, history = state(clicker), list(clicker._history)

    def broken(**kwargs):
        raise RuntimeError("decoder exploded")

    monkeypatch.setattr(clicker.predictor, "predict", broken)
    clicker._on_msg(None, {"type": "click", "x": 3, "y": 3})
    clicker._on_msg(None, {"type": "undo"})
    assert_same_state(state(clicker), before)
    assert clicker._history == history
    assert clicker.status == "error: RuntimeError: decoder exploded; nothing changed"


def test_the_python_methods_raise_with_the_fix(clicker) -> None:
    with pytest.raises(ValueError, match=r"outside the image of size H=96, W=128"):
        clicker.add_point(200, 5)
    with pytest.raises(ValueError, match="labels must be 1"):
        clicker.add_point(5, 5, label=3)
    with pytest.raises(ValueError, match="looks like"):
        clicker.set_box(50, 50, 10, 10)
    with pytest.raises(ValueError, match="no mask to select yet"):
        clicker.select(0)
    with pytest.raises(ValueError, match="'positive' or 'negative'"):
        clicker.mode = "both"
    assert clicker.points.shape == (0, 2) and clicker._history == []


def test_the_constructor_checks_its_arguments(sam, image) -> None:
    with pytest.raises(TypeError, match="got str"):
        SamClicker("vit_b", image)
    with pytest.raises(ValueError, match="labels were given without points"):
        SamClicker(sam, image, labels=[1])
    with pytest.raises(ValueError, match="outside"):
        SamClicker(sam, image, points=[[500, 5]])
    with pytest.raises(TypeError, match="multimask"):
        SamClicker(sam, image, multimask="yes")
    with pytest.raises(ValueError, match="display_width"):
        SamClicker(sam, image, display_width=10)


def test_starting_prompts_give_a_mask_without_any_click(sam, image) -> None:
    c = SamClicker(sam, image, points=[[60, 40], [5, 5]], labels=[1, 0], box=[20, 10, 100, 80])
    masks, _ = reference(sam, image, [[60, 40], [5, 5]], [1, 0], box=[20, 10, 100, 80])
    assert np.array_equal(c.result.masks, masks)
    assert c.status.startswith("started with 2 points and the box → masks[")
    assert repr(c) == (
        f"SamClicker(image 96x128, points [+(60, 40), -(5, 5)], box (20, 10, 100, 80), "
        f"masks[{c.selected}] of 3)"
    )
    assert c.undo() is False  # the starting prompts are not an action to undo


# ---------------------------------------------------------------- one encode per image


def test_the_encoder_runs_once_per_image(sam, image) -> None:
    calls = []
    handle = sam.image_encoder.register_forward_hook(lambda *args: calls.append(1))
    try:
        predictor = Predictor(sam)
        c = SamClicker(predictor, image)
        for x in range(10, 60, 10):
            c._handle_click(x, 30)
        c._handle_box(20, 10, 100, 80)
        c.undo()
        c.reset()
        c.undo()
        assert len(calls) == 1
        # a second clicker on another image, sharing the predictor: one more encode, and
        # switching back and forth restores the embeddings from the predictor's cache
        other = SamClicker(predictor, image[::-1].copy())
        for _ in range(3):
            c._handle_click(60, 40)
            other._handle_click(60, 40)
        assert len(calls) == 2
        masks, _ = reference(sam, image[::-1].copy(), [[60, 40], [60, 40], [60, 40]], [1, 1, 1])
        assert np.array_equal(other.result.masks, masks)  # each clicker segments its own image
    finally:
        handle.remove()


def test_a_segment_anything_sam_predictor_is_accepted(sam, image) -> None:
    c = SamClicker(SamPredictor(sam), image, points=[[60, 40]])
    masks, _ = reference(sam, image, [[60, 40]], [1])
    assert np.array_equal(c.result.masks, masks)


# ------------------------------------------------------------------------ save_mask


@pytest.mark.parametrize("name", ["mask.png", "MASK.PNG", "mask.npy"])
def test_save_mask_round_trip(clicker, tmp_path: Path, name: str) -> None:
    clicker._handle_click(60, 40)
    path = clicker.save_mask(tmp_path / name)
    assert path == tmp_path / name
    if name.lower().endswith(".png"):
        with Image.open(path) as im:
            assert im.mode == "L"
            loaded = np.array(im)
        assert set(np.unique(loaded)) <= {0, 255}
        loaded = loaded > 0
    else:
        loaded = np.load(path)
        assert loaded.dtype == bool
    assert np.array_equal(loaded, clicker.mask)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left


def test_save_mask_refuses_bad_suffixes_and_missing_masks(clicker, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no mask to save yet"):
        clicker.save_mask(tmp_path / "mask.png")
    clicker._handle_click(60, 40)
    with pytest.raises(ValueError, match=r"\.png or \.npy.*suffix '\.jpg'"):
        clicker.save_mask(tmp_path / "mask.jpg")
    with pytest.raises(ValueError, match="suffix 'none'"):
        clicker.save_mask(tmp_path / "mask")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        clicker.save_mask(tmp_path / "nope" / "mask.png")
    assert list(tmp_path.iterdir()) == []


def test_a_bare_name_saves_into_saved_masks_and_says_where(
    clicker, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)  # Jupyter's working folder: the notebook's
    with pytest.raises(ValueError, match="no mask to save yet"):
        clicker.save_mask("cat")
    assert list(tmp_path.iterdir()) == []  # nothing created for a save that failed
    clicker._handle_click(60, 40)
    path = clicker.save_mask("cat")
    assert path == Path("saved_masks/cat.png")
    out = capsys.readouterr().out
    assert out.startswith("saved saved_masks/cat.png (") and str(tmp_path) not in out
    with Image.open(tmp_path / "saved_masks" / "cat.png") as im:
        assert np.array_equal(np.array(im) > 0, clicker.mask)
    clicker.save_mask("cat")  # again: the folder exists, the file is replaced
    assert sorted(p.name for p in (tmp_path / "saved_masks").iterdir()) == ["cat.png"]


def test_a_failed_save_leaves_no_file(clicker, tmp_path: Path, monkeypatch) -> None:
    clicker._handle_click(60, 40)
    target = tmp_path / "mask.npy"
    target.write_bytes(b"old")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        clicker.save_mask(target)
    assert target.read_bytes() == b"old"  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["mask.npy"]


# --------------------------------------------------------------- static and callbacks


def test_show_static_draws_the_image_mask_and_prompts(clicker) -> None:
    import matplotlib.pyplot as plt

    clicker._handle_click(60, 40)
    clicker._handle_box(20, 10, 100, 80)
    fig = clicker.show_static()
    try:
        ax = fig.axes[0]
        assert ax.get_title() == clicker.status.split(" → ")[1].rsplit(", ", 1)[0]
        assert len(ax.images) == 2  # the image and the mask layer
        assert len(ax.patches) == 1  # the box
        assert len(ax.collections) >= 1  # the point (and the mask outline)
    finally:
        plt.close(fig)


def test_on_change_runs_after_every_event_and_its_errors_show(clicker) -> None:
    seen = []
    clicker.on_change(lambda c: seen.append(c.points.tolist()))
    clicker._handle_click(60, 40)
    clicker._handle_click(-5, 0)
    assert seen == [[[60, 40]], [[60, 40]]]

    def broken(c):
        raise KeyError("oops")

    clicker.on_change(broken)
    clicker._handle_click(61, 41)
    assert "on_change callback failed: KeyError" in clicker.status
    with pytest.raises(TypeError, match="function"):
        clicker.on_change("print")


# --------------------------------------------------------------------- the view


def test_the_view_mirrors_the_state(clicker) -> None:
    pytest.importorskip("anywidget")
    clicker._handle_click(60, 40)
    view = clicker.widget
    assert clicker.widget is view  # created once
    assert (view.width, view.height) == (W, H)
    with Image.open(io.BytesIO(view.image_png)) as im:
        assert np.array_equal(np.array(im), clicker.image)  # the image, lossless
    bits = np.unpackbits(np.frombuffer(view.mask_bits, np.uint8))[: H * W]
    assert np.array_equal(bits.reshape(H, W).astype(bool), clicker.mask)
    revision = view.revision
    clicker._on_msg(view, {"type": "click", "x": 5.5, "y": 6.5, "button": 2})
    assert view.points == [[60.0, 40.0, 1], [5.0, 6.0, 0]]
    assert view.revision == revision + 1 and view.status == clicker.status
    assert view.scores == pytest.approx(clicker.result.scores.tolist())
    assert view.selected == clicker.selected and view.can_undo is True
    clicker.reset()
    assert view.mask_bits == b"" and view.points == [] and view.selected == -1
    bundle = clicker._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert data["text/plain"] == repr(clicker)
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id
    assert data["image/png"].startswith(b"\x89PNG")


def test_the_view_gets_its_colours_from_the_one_python_constant(clicker) -> None:
    pytest.importorskip("anywidget")
    from seglab import _colors, viz

    view = clicker.widget
    assert view.color == list(_colors.MASK_COLOR) == list(viz.PALETTE[0])
    assert view.positive_color == list(_colors.POSITIVE_COLOR) == list(viz.POSITIVE_COLOR)
    assert view.negative_color == list(_colors.NEGATIVE_COLOR) == list(viz.NEGATIVE_COLOR)
    assert view.box_color == list(_colors.BOX_COLOR) == list(viz.BOX_COLOR)
    script = (Path(__file__).parents[1] / "seglab" / "_widget" / "clicker.js").read_text()
    assert "rgb(0, 158" not in script and "rgb(213" not in script  # no colour hard-coded
    for trait in ("positive_color", "negative_color", "box_color"):
        assert f'model.get("{trait}")' in script


def test_a_large_image_is_sent_scaled_down_and_clicks_stay_in_its_pixels(predictor) -> None:
    pytest.importorskip("anywidget")
    big = np.zeros((1200, 2000, 3), dtype=np.uint8)
    big[300:900, 500:1500] = 200
    c = SamClicker(predictor, big)
    view = c.widget
    assert (view.width, view.height, view.display_width) == (2000, 1200, 768)
    with Image.open(io.BytesIO(view.image_png)) as im:
        assert im.size == (1536, 922)  # 2 x display_width wide, same aspect ratio
    c._on_msg(view, {"type": "click", "x": 1999.5, "y": 1199.9})
    assert c.points.tolist() == [[1999, 1199]] and c.mask.shape == (1200, 2000)


def test_masks_are_deflated_only_when_every_view_can_inflate(clicker) -> None:
    pytest.importorskip("anywidget")
    view = clicker.widget

    def sent_mask() -> np.ndarray:
        data = view.mask_bits
        if view.mask_encoding == "packbits+deflate":
            data = zlib.decompress(data)
        else:
            assert view.mask_encoding == "packbits"
        bits = np.unpackbits(np.frombuffer(data, np.uint8))[: H * W]
        return bits.reshape(H, W).astype(bool)

    clicker._handle_click(60, 40)
    assert view.mask_encoding == "packbits"  # no view has said it can inflate yet
    revision = view.revision
    clicker._on_msg(view, {"type": "hello", "inflate": True})
    # a hello is answered (the view then knows Python is listening), with the mask deflated
    assert view.revision == revision + 1 and view.mask_encoding == "packbits+deflate"
    assert np.array_equal(sent_mask(), clicker.mask)
    clicker._handle_click(61, 41)
    assert view.mask_encoding == "packbits+deflate"
    assert len(view.mask_bits) < H * W // 8
    assert np.array_equal(sent_mask(), clicker.mask)
    clicker._on_msg(view, {"type": "hello", "inflate": False})  # a second, older browser
    clicker._on_msg(view, {"type": "hello", "inflate": True})
    clicker._handle_click(62, 42)
    assert view.mask_encoding == "packbits" and np.array_equal(sent_mask(), clicker.mask)


def test_importing_seglab_widgets_imports_no_widget_library() -> None:
    code = (
        "import seglab, seglab.widgets, sys, json; "
        "print(json.dumps([m for m in ('anywidget', 'ipywidgets') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


# ------------------------------------------------------------------------ objects


def test_new_object_keeps_the_object_and_starts_an_empty_one(clicker) -> None:
    assert clicker.objects == [] and clicker.new_object() is False
    assert clicker.status.startswith("nothing to keep yet")
    clicker._handle_click(60, 40)
    clicker._handle_click(20, 20, button=2)
    first_mask = clicker.mask
    clicker._on_msg(None, {"type": "new_object"})  # the button, or the N key
    assert clicker.status.startswith("kept object 1 (")
    assert clicker.points.shape == (0, 2) and clicker.mask is None  # a fresh prompt
    clicker._handle_click(100, 70)
    objects = clicker.objects
    assert len(objects) == 2
    assert objects[0].points.tolist() == [[60, 40], [20, 20]]
    assert objects[0].labels.tolist() == [1, 0] and objects[0].box is None
    assert np.array_equal(objects[0].mask, first_mask)
    assert objects[1].points.tolist() == [[100, 70]]
    assert np.array_equal(objects[1].mask, clicker.mask)


def test_undo_after_new_object_brings_the_kept_object_back(clicker) -> None:
    clicker._handle_click(60, 40)
    clicker.select((clicker.selected + 1) % 3)  # not the best one: undo must restore it
    kept = clicker.mask
    clicker.new_object()
    assert clicker.undo() is True
    assert clicker.points.tolist() == [[60, 40]] and np.array_equal(clicker.mask, kept)
    assert len(clicker.objects) == 1 and np.array_equal(clicker.objects[0].mask, kept)
    clicker.reset()  # reset empties the current object only
    clicker.new_object()
    assert clicker.objects == []
