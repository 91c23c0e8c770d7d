"""Tests for seglab.sam.train_mini: the recipe runs, saves loadable checkpoints, resumes exactly
and is reproducible. A tiny model on 64-px scenes keeps each run to a few seconds."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from seglab.sam import train_mini
from seglab.sam.loading import load_sam
from seglab.sam.mini import build_mini_sam

TINY = [
    "--tiny",
    "--image-size",
    "64",
    "--batch-size",
    "2",
    "--eval-scenes",
    "2",
    "--synthetic-share",
    "1",
    "--head-steps",  # the main stage; the last stage's own tests give it steps
    "0",
]


def run(tmp_path, *extra: str) -> dict:
    torch.set_num_threads(1)
    return train_mini.main([*TINY, "--out", str(tmp_path), *extra])


def test_a_few_steps_write_a_checkpoint_that_load_sam_reads(tmp_path):
    summary = run(tmp_path, "--steps", "3", "--eval-every", "3")
    assert summary["step"] == 3 and np.isfinite(summary["loss"])
    ckpt = torch.load(tmp_path / "mini_sam.pt", map_location="cpu", weights_only=True)
    assert ckpt["format"] == "seglab-mini-sam" and ckpt["meta"]["step"] == 3
    assert all(
        v.dtype == torch.float16 for v in ckpt["state_dict"].values() if v.is_floating_point()
    )
    sam = load_sam(None, checkpoint=tmp_path / "mini_sam.pt", device="cpu")
    assert sam.image_encoder.img_size == 64
    # the float16 file holds the trained float32 weights, rounded (integer buffers as they are)
    state = torch.load(tmp_path / "train_state.pt", map_location="cpu", weights_only=True)
    for k, v in sam.state_dict().items():
        want = state["model"][k]
        torch.testing.assert_close(v, want.half().float() if want.is_floating_point() else want)
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == 3 and 0.0 <= records[-1]["point_miou"] <= 1.0
    assert not list(tmp_path.glob("*.tmp"))  # atomic saves leave no temporary files


def test_the_device_is_recorded_with_the_weights(tmp_path):
    run(tmp_path, "--steps", "1", "--eval-every", "1", "--device", "cpu")
    ckpt = torch.load(tmp_path / "mini_sam.pt", map_location="cpu", weights_only=True)
    assert ckpt["meta"]["recipe"]["device"] == "cpu"  # the model card says which device made it


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU; none on this machine")
def test_a_few_steps_on_the_gpu_match_the_cpu_closely(tmp_path):
    cpu = run(tmp_path / "cpu", "--steps", "2", "--eval-every", "2")
    gpu = run(tmp_path / "gpu", "--steps", "2", "--eval-every", "2", "--device", "cuda")
    assert gpu["step"] == 2 and abs(gpu["loss"] - cpu["loss"]) < 0.05 * abs(cpu["loss"])


def test_conv_encoder_at_stride_8_doubles_the_mask_resolution_seen_by_sam_predictor(tmp_path):
    from segment_anything import SamPredictor

    for stride, low_res in (("16", 16), ("8", 32)):  # 64-px input: 64 / stride * 4 a side
        out = tmp_path / stride
        run(out, "--encoder", "conv", "--out-stride", stride, "--steps", "1", "--eval-every", "1")
        sam = load_sam(None, checkpoint=out / "mini_sam.pt", device="cpu")
        predictor = SamPredictor(sam)
        predictor.set_image(np.zeros((48, 64, 3), np.uint8))
        masks, _, low = predictor.predict(np.array([[10.0, 20.0]]), np.array([1]))
        assert masks.shape == (3, 48, 64) and low.shape == (3, low_res, low_res)
        # the low-res logits go back in as mask_input, as SAM's interactive loop does
        again, _, _ = predictor.predict(mask_input=low[:1], multimask_output=False)
        assert again.shape == (1, 48, 64)


def test_resume_continues_exactly_where_it_stopped(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    run(straight, "--steps", "4", "--eval-every", "100")
    first = run(split, "--steps", "4", "--eval-every", "100", "--stop-after", "2")
    assert first["step"] == 2
    second = run(split, "--steps", "4", "--eval-every", "100", "--resume")
    assert second["step"] == 4
    a = torch.load(straight / "train_state.pt", weights_only=True)
    b = torch.load(split / "train_state.pt", weights_only=True)
    assert a["step"] == b["step"] == 4
    for k in a["model"]:
        torch.testing.assert_close(a["model"][k], b["model"][k], rtol=0, atol=0)


def test_a_sitting_that_stops_between_evaluations_saves_figures_of_its_own_weights(tmp_path):
    # stopped by --stop-after (or the clock) at step 3, two steps after the last evaluation: the
    # figures saved with the weights are measured at step 3, not carried over from step 1
    summary = run(tmp_path, "--steps", "6", "--eval-every", "1", "--stop-after", "1")
    summary = run(tmp_path, "--steps", "6", "--eval-every", "4", "--stop-after", "2", "--resume")
    records = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 3]
    assert records[1]["loss"] > 0  # the mean over the two steps of this sitting
    meta = torch.load(tmp_path / "mini_sam.pt", map_location="cpu", weights_only=True)["meta"]
    assert meta["step"] == summary["step"] == 3
    for key in ("point_miou", "box_miou"):
        assert meta[key] == records[1][key] == round(summary[key], 4)


def test_resume_refuses_another_schedule_and_leaves_the_run_untouched(tmp_path):
    run(tmp_path, "--steps", "4", "--eval-every", "100", "--stop-after", "1")
    before = (tmp_path / "train_state.pt").read_bytes()
    with pytest.raises(
        ValueError, match=r"--steps 4 \(this run: 6\).*--lr 0\.0008 \(this run: 0\.001\)"
    ):
        run(tmp_path, "--steps", "6", "--lr", "1e-3", "--eval-every", "100", "--resume")
    assert (tmp_path / "train_state.pt").read_bytes() == before
    # what may change between sittings: the sitting's length, threads, evaluation cadence
    resumed = run(tmp_path, "--steps", "4", "--eval-every", "50", "--stop-after", "1", "--resume")
    assert resumed["step"] == 2


def test_bfloat16_autocast_trains_close_to_float32_and_keeps_float32_weights(tmp_path):
    fp32 = run(tmp_path / "fp32", "--steps", "2", "--eval-every", "2")
    bf16 = run(tmp_path / "bf16", "--steps", "2", "--eval-every", "2", "--precision", "bfloat16")
    assert bf16["loss"] != fp32["loss"]  # bfloat16 arithmetic did run ...
    assert abs(bf16["loss"] - fp32["loss"]) < 0.05 * abs(fp32["loss"])  # ... to the same effect
    state = torch.load(tmp_path / "bf16" / "train_state.pt", map_location="cpu", weights_only=True)
    assert all(v.dtype == torch.float32 for v in state["model"].values() if v.is_floating_point())
    ckpt = torch.load(tmp_path / "bf16" / "mini_sam.pt", map_location="cpu", weights_only=True)
    assert ckpt["meta"]["recipe"]["precision"] == "bfloat16"


def test_conv_encoder_sizes_come_from_the_command_line(tmp_path):
    sizes = ["--conv-widths", "8,16,24,32", "--conv-blocks", "1,1,2"]
    args = [*TINY[1:], "--encoder", "conv", "--steps", "1", "--eval-every", "1", *sizes]
    train_mini.main([*args, "--out", str(tmp_path)])
    ckpt = torch.load(tmp_path / "mini_sam.pt", map_location="cpu", weights_only=True)
    assert ckpt["config"]["conv_widths"] == [8, 16, 24, 32]
    assert ckpt["config"]["conv_blocks"] == [1, 1, 2]
    sam = load_sam(None, checkpoint=tmp_path / "mini_sam.pt", device="cpu")
    assert sam.image_encoder.stem[0][0].out_channels == 8
    assert len(sam.image_encoder.attn) == 0
    # --conv-attn adds global attention; a resume must build the same model
    attn = tmp_path / "attn"
    train_mini.main([*args, "--conv-attn", "1", "--stop-after", "1", "--out", str(attn)])
    assert len(load_sam(None, checkpoint=attn / "mini_sam.pt").image_encoder.attn) == 1
    with pytest.raises(ValueError, match="--conv-attn"):
        train_mini.main([*args, "--resume", "--out", str(attn)])
    # --conv-detail adds the detail path; a resume must build the same model
    detail = tmp_path / "detail"
    train_mini.main([*args, "--conv-detail", "2", "--stop-after", "1", "--out", str(detail)])
    loaded = load_sam(None, checkpoint=detail / "mini_sam.pt")
    assert loaded.image_encoder.detail.narrow2[0].out_channels == 2
    assert loaded.image_encoder.detail.out.weight.abs().sum() > 0  # one step moved it from zero
    with pytest.raises(ValueError, match="--conv-detail"):
        train_mini.main([*args, "--resume", "--out", str(detail)])
    with pytest.raises(ValueError, match="--conv-detail must be >= 0, got -1"):
        train_mini.main([*args, "--conv-detail", "-1", "--out", str(detail)])
    with pytest.raises(SystemExit):  # argparse explains "expected whole numbers ..." and exits
        train_mini.main(["--conv-widths", "wide", "--out", str(tmp_path)])


def test_same_seed_same_first_loss_and_other_seed_differs(tmp_path):
    losses = [
        run(tmp_path / f"run{i}", "--steps", "1", "--eval-every", "100", "--seed", seed)["loss"]
        for i, seed in enumerate(["5", "5", "6"])
    ]
    assert losses[0] == losses[1]
    assert losses[0] != losses[2]


def test_the_mask_loss_is_chosen_recorded_and_kept_on_resume(tmp_path):
    focal = run(tmp_path / "focal", "--steps", "1", "--eval-every", "100", "--seed", "5")
    bce = run(tmp_path / "bce", "--steps", "1", "--eval-every", "100", "--seed", "5",
              "--mask-loss", "bce")  # fmt: skip
    assert bce["loss"] != focal["loss"]  # same draws, same weights: only the loss differs
    ckpt = torch.load(tmp_path / "bce" / "mini_sam.pt", map_location="cpu", weights_only=True)
    assert ckpt["meta"]["recipe"]["mask_loss"] == "bce"
    with pytest.raises(ValueError, match="--mask-loss bce \\(this run: focal\\)"):
        run(tmp_path / "bce", "--steps", "2", "--eval-every", "100", "--seed", "5", "--resume")
    with pytest.raises(ValueError, match="--mask-loss must be one of focal, bce, got 'dice'"):
        train_mini.main(["--mask-loss", "dice", "--out", str(tmp_path)])


def test_bad_arguments_are_explained(tmp_path):
    with pytest.raises(ValueError, match="--resume"):
        run(tmp_path / "empty", "--steps", "2", "--resume")
    with pytest.raises(ValueError, match="--steps must be positive"):
        run(tmp_path, "--steps", "0")
    with pytest.raises(ValueError, match="multiple of 16"):
        train_mini.main(["--image-size", "100", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--encoder must be 'vit' or 'conv', got 'cnn'"):
        train_mini.main(["--encoder", "cnn", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--out-stride must be 8 or 16, got 4"):
        train_mini.main(["--encoder", "conv", "--out-stride", "4", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--device is 'gpu', which is not a device name"):
        train_mini.main(["--device", "gpu", "--out", str(tmp_path)])
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="--device asks for 'cuda', but this machine has no"):
            train_mini.main(["--device", "cuda", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--conv-widths needs 4 positive numbers"):
        train_mini.main(["--conv-widths", "32,48", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--conv-blocks needs 3 positive numbers"):
        train_mini.main(["--conv-blocks", "1,0,3", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--precision must be 'float32' or 'bfloat16', got 'fp16'"):
        train_mini.main(["--precision", "fp16", "--out", str(tmp_path)])
    with pytest.raises(ValueError, match="--head-steps must be >= 0, got -1"):
        train_mini.main(["--head-steps", "-1", "--out", str(tmp_path)])
    flags = ("--box-share", "--synthetic-share", "--nonsquare", "--ancestor-score")
    for name in (*flags, "--head-ancestor-score"):
        with pytest.raises(ValueError, match=f"{name} must be in \\[0, 1\\], got 1.5"):
            train_mini.main([name, "1.5", "--out", str(tmp_path)])
    # resuming with another model size is refused, not silently mixed
    run(tmp_path / "r", "--steps", "1", "--eval-every", "100")
    with pytest.raises(ValueError, match="config"):
        train_mini.main(["--image-size", "64", "--out", str(tmp_path / "r"), "--resume"])


def test_prompt_helpers():
    rng = np.random.default_rng(0)
    mask = np.zeros((40, 40), bool)
    mask[10:30, 5:25] = True
    for core in (False, True):
        for _ in range(20):
            x, y = train_mini.sample_positive_point(mask, rng, core)
            assert mask[int(y), int(x)]
            if core:  # at least 6 px from the edge when the object allows it
                assert 11 <= x <= 18 and 16 <= y <= 23
    box = train_mini.jitter_box(np.array([5, 10, 24, 29]), rng, 40, 40)
    assert np.abs(box - [5, 10, 24, 29]).max() <= 8 and (box[:2] <= box[2:]).all()
    gt = mask[None]
    pred = np.zeros_like(gt)
    pred[0, 0:10, 0:5] = True  # everything wrong: FP region outside, FN region inside
    pts, labels = train_mini.corrective_points(pred, gt, rng)
    x, y = pts[0].astype(int)
    assert labels[0] == int(gt[0, y, x]) and (pred[0, y, x] != gt[0, y, x])
    # a perfect prediction gets a positive point inside the object
    pts, labels = train_mini.corrective_points(gt.copy(), gt, rng)
    assert labels[0] == 1 and gt[0, int(pts[0, 1]), int(pts[0, 0])]


def test_losses_and_iou_against_hand_values():
    gt = torch.zeros(1, 4, 4)
    gt[0, :2] = 1  # top half
    perfect = (gt * 2 - 1)[:, None] * 50  # confident and right
    wrong = -perfect
    logits = torch.cat([perfect, wrong], 1)  # (1, 2, 4, 4)
    iou = train_mini.mask_iou(logits, gt)
    torch.testing.assert_close(iou, torch.tensor([[1.0, 0.0]]))
    loss = train_mini.mask_losses(logits, gt)
    assert loss[0, 0] < 1e-3 and loss[0, 1] > 1.0
    bce = train_mini.mask_losses(logits, gt, kind="bce")
    assert bce[0, 0] < 1e-3 and bce[0, 1] > 1.0
    # at logit 0 every pixel costs log 2 in cross-entropy; dice of p = 0.5 against the top half:
    # 1 - (2 * 4 + 1) / (8 + 8 + 1) = 8 / 17
    half = torch.zeros(1, 1, 4, 4)
    assert train_mini.mask_losses(half, gt, kind="bce")[0, 0].item() == pytest.approx(
        np.log(2) + 8 / 17, rel=1e-5
    )
    with pytest.raises(ValueError, match=r"mask loss must be one of .*got 'dice'"):
        train_mini.mask_losses(logits, gt, kind="dice")
    assert train_mini.lr_at(0, 100, 1.0, 10) == pytest.approx(0.1)
    assert train_mini.lr_at(100, 100, 1.0, 10) == pytest.approx(0.05)
    assert train_mini.lr_at(20, 100, 1.0, 10, time_frac=1.0) == pytest.approx(0.05)


def test_valid_pixels_make_loss_and_iou_equal_to_the_crop():
    torch.manual_seed(0)
    logits = torch.randn(3, 2, 8, 8)
    gt = (torch.rand(3, 8, 8) > 0.5).float()
    valid = torch.zeros(3, 8, 8, dtype=torch.bool)
    valid[:, :5, :6] = True  # a 5 x 6 scene padded to 8 x 8
    crop = (slice(None), slice(None), slice(0, 5), slice(0, 6))
    for kind in ("focal", "bce"):
        torch.testing.assert_close(
            train_mini.mask_losses(logits, gt, valid, kind),
            train_mini.mask_losses(logits[crop], gt[:, :5, :6], kind=kind),
        )
    torch.testing.assert_close(
        train_mini.mask_iou(logits, gt, valid), train_mini.mask_iou(logits[crop], gt[:, :5, :6])
    )


def test_decode_many_equals_one_decoder_call_per_image():
    torch.manual_seed(0)
    sam = build_mini_sam(train_mini.tiny_config(64))
    emb = torch.randn(2, 32, 4, 4)  # two images
    coords = torch.rand(3, 2, 2) * 64
    labels = torch.tensor([[1, 0], [1, 1], [1, 0]])
    owner = [0, 1, 1]  # prompt k belongs to image owner[k]
    with torch.no_grad():
        low, iou = train_mini.decode_many(sam, emb[owner], (coords, labels), None, None, True)
        for k, b in enumerate(owner):
            low_k, iou_k = train_mini.decode(
                sam, emb[b : b + 1], (coords[k : k + 1], labels[k : k + 1]), None, None, True
            )
            torch.testing.assert_close(low[k : k + 1], low_k)
            torch.testing.assert_close(iou[k : k + 1], iou_k)


def test_iou_targets_rank_the_clicked_entity_above_its_ancestors():
    from seglab.sam.interactive import iou_targets

    # 1 prompt, 3 outputs, 3 targets (entity, its object, its group; the group is missing)
    ious = torch.tensor([[[1.0, 0.5, -1.0], [0.5, 1.0, -1.0], [0.1, 0.2, -1.0]]])
    torch.testing.assert_close(iou_targets(ious), torch.tensor([[1.0, 1.0, 0.2]]))  # SAM: alike
    got = iou_targets(ious, 0.8)[0]
    torch.testing.assert_close(got, torch.tensor([1.0, 0.8, 0.16]))
    assert got[0] > got[1]  # the entity's own mask is the top-scored one


def test_the_grouping_loss_trains_a_head_that_is_saved_for_resume_but_not_shipped(tmp_path):
    summary = run(tmp_path, "--steps", "2", "--eval-every", "2", "--grouping-weight", "0.5")
    assert summary["step"] == 2 and np.isfinite(summary["loss"])
    state = torch.load(tmp_path / "train_state.pt", weights_only=True)
    assert set(state["grouping_head"]) == {"proj.weight", "proj.bias"}
    shipped = torch.load(tmp_path / "mini_sam.pt", weights_only=True)["state_dict"]
    assert not any("grouping" in k or k.startswith("proj.") for k in shipped)
    assert "grouping" in json.loads((tmp_path / "log.jsonl").read_text().splitlines()[-1])
    # resuming without the loss, with another weight, or adding it, is refused by name
    before = (tmp_path / "train_state.pt").read_bytes()
    with pytest.raises(ValueError, match=r"--grouping-weight 0\.5 \(this run: 0\.0\)"):
        run(tmp_path, "--steps", "2", "--eval-every", "100", "--resume")
    assert (tmp_path / "train_state.pt").read_bytes() == before
    with pytest.raises(ValueError, match=r"--grouping-weight 0\.5 \(this run: 0\.25\)"):
        run(
            tmp_path, "--steps", "2", "--eval-every", "100", "--grouping-weight", "0.25", "--resume"
        )
    plain = tmp_path / "plain"
    run(plain, "--steps", "2", "--eval-every", "100", "--stop-after", "1")
    with pytest.raises(ValueError, match=r"--grouping-weight 0\.0 \(this run: 0\.5\)"):
        run(plain, "--steps", "2", "--eval-every", "100", "--grouping-weight", "0.5", "--resume")
    # a state written before the weight was part of the schedule: its head still tells
    del state["recipe"]["grouping_weight"]
    torch.save(state, tmp_path / "train_state.pt")
    with pytest.raises(ValueError, match="was trained with a grouping loss; resume it with"):
        run(tmp_path, "--steps", "2", "--eval-every", "100", "--resume")
    with pytest.raises(ValueError, match=r"--grouping-weight must be >= 0, got -1\.0"):
        run(tmp_path / "bad", "--grouping-weight", "-1")


def _weights(path) -> dict:
    return torch.load(path / "train_state.pt", map_location="cpu", weights_only=True)["model"]


def test_the_last_stage_retrains_only_the_iou_head_once_and_is_saved(tmp_path):
    run(tmp_path / "plain", "--steps", "2", "--eval-every", "2")
    run(tmp_path / "head", "--steps", "2", "--eval-every", "2", "--head-steps", "3")
    plain, tuned = _weights(tmp_path / "plain"), _weights(tmp_path / "head")
    changed = {k for k in plain if not torch.equal(plain[k], tuned[k])}
    assert changed and all(k.startswith("mask_decoder.iou_prediction_head.") for k in changed)
    meta = torch.load(tmp_path / "head" / "mini_sam.pt", weights_only=True)["meta"]
    assert meta["head_done"] and np.isfinite(meta["head_loss"]) and meta["step"] == 2
    assert meta["recipe"]["head_steps"] == 3 and meta["recipe"]["head_ancestor_score"] == 0.5
    records = (tmp_path / "head" / "log.jsonl").read_text().splitlines()
    assert json.loads(records[-1])["step"] == 2 and len(records) == 2  # re-measured after it
    # a resume with nothing left to do leaves the finished run as it is
    run(tmp_path / "head", "--steps", "2", "--eval-every", "2", "--head-steps", "3", "--resume")
    again = _weights(tmp_path / "head")
    assert all(torch.equal(again[k], tuned[k]) for k in tuned)
    # the stage is part of the run's schedule: resuming with another is refused
    with pytest.raises(ValueError, match="--head-steps 3 \\(this run: 5\\)"):
        run(tmp_path / "head", "--steps", "2", "--head-steps", "5", "--resume")


def test_the_last_stage_waits_for_the_main_stage_to_end(tmp_path):
    common = ["--steps", "3", "--eval-every", "100", "--head-steps", "2"]
    run(tmp_path, *common, "--stop-after", "2")
    assert not torch.load(tmp_path / "train_state.pt", weights_only=True)["head_done"]
    run(tmp_path, *common, "--resume")
    state = torch.load(tmp_path / "train_state.pt", weights_only=True)
    assert state["head_done"] and state["step"] == 3
