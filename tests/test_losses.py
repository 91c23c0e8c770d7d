"""Tests for seglab.losses.

- dice_loss: hand-worked values (arithmetic in the comments) and torch.autograd.gradcheck;
- compute_loss: equal to torch's own cross-entropy (and + dice_loss);
- ignore_index: every loss that takes it gives, with ignored pixels, the value it gives on the
  cropped region that has none (so ignored pixels count for nothing, not merely stay finite);
- check_target: the classic target mistakes (0/255 masks, float targets, wrong shapes) are
  refused with the fix; ``seglab.train`` re-exports these names.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from seglab import losses
from seglab.losses import check_target, compute_loss, dice_loss

# --------------------------------------------------------------------------- dice_loss


def test_dice_loss_hand_worked() -> None:
    logits = torch.zeros(1, 2, 2, 2)  # softmax: p = 0.5 for both classes everywhere
    target = torch.tensor([[[0, 0], [0, 1]]])  # class 0: 3 pixels, class 1: 1 pixel
    # class 0: sum(p*t) = 3 * 0.5 = 1.5; sum(p) + sum(t) = 2 + 3 = 5 -> Dice = 3 / 5
    # class 1: sum(p*t) = 0.5;           sum(p) + sum(t) = 2 + 1 = 3 -> Dice = 1 / 3
    expected = 1 - (3 / 5 + 1 / 3) / 2
    assert dice_loss(logits, target, 2, smooth=0.0).item() == pytest.approx(expected, abs=1e-6)
    # smooth = 1: (3 + 1) / (5 + 1) = 2/3 and (1 + 1) / (3 + 1) = 1/2
    assert dice_loss(logits, target, 2).item() == pytest.approx(1 - (2 / 3 + 1 / 2) / 2, abs=1e-6)


def test_dice_loss_perfect_and_wrong_predictions() -> None:
    target = torch.tensor([[[0, 1, 2], [2, 1, 0]]])
    perfect = 50.0 * F.one_hot(target, 3).permute(0, 3, 1, 2).double()  # (1, 3, 2, 3)
    assert dice_loss(perfect, target, 3, smooth=0.0).item() == pytest.approx(0.0, abs=1e-12)
    wrong = 50.0 * F.one_hot((target + 1) % 3, 3).permute(0, 3, 1, 2).double()
    assert dice_loss(wrong, target, 3, smooth=0.0).item() == pytest.approx(1.0, abs=1e-12)


def test_dice_loss_ignored_pixels_count_as_absent() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(1, 3, 1, 4, generator=g)
    with_void = torch.tensor([[[0, 2, 255, 1]]])
    kept = [0, 1, 3]  # the same scene with the void pixel cut out
    got = dice_loss(logits, with_void, 3, ignore_index=255)
    expected = dice_loss(logits[..., kept], with_void[..., kept], 3)
    assert got.item() == pytest.approx(expected.item(), abs=1e-6)
    # ignoring a real class id works too: class 0 then scores "absent" (Dice 1 with smoothing)
    with_class_0_ignored = dice_loss(logits, torch.tensor([[[0, 1, 1, 2]]]), 3, ignore_index=0)
    expected = dice_loss(logits[..., 1:], torch.tensor([[[1, 1, 2]]]), 3)
    assert with_class_0_ignored.item() == pytest.approx(expected.item(), abs=1e-6)


@pytest.mark.parametrize("ignore_index", [None, 255])
def test_dice_loss_gradcheck(ignore_index: int | None) -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 3, 2, 3, dtype=torch.float64, generator=g).requires_grad_(True)
    target = torch.randint(0, 3, (2, 2, 3), generator=g)
    if ignore_index is not None:
        target[0, 0, 0] = ignore_index
    assert torch.autograd.gradcheck(
        lambda x: dice_loss(x, target, 3, ignore_index=ignore_index), (logits,)
    )


def test_dice_loss_rejects_bad_arguments() -> None:
    logits, target = torch.zeros(1, 2, 2, 2), torch.zeros(1, 2, 2, dtype=torch.long)
    with pytest.raises(ValueError, match=r"num_classes=3 but the model outputs 2 classes"):
        dice_loss(logits, target, 3)
    with pytest.raises(TypeError, match="float tensor"):
        dice_loss(logits.long(), target, 2)
    with pytest.raises(ValueError, match="smooth must be >= 0"):
        dice_loss(logits, target, 2, smooth=-1.0)


# --------------------------------------------------------------------------- target checks


def test_zero_255_masks_get_the_teaching_error() -> None:
    logits = torch.zeros(2, 2, 4, 4)
    mask = torch.zeros(2, 4, 4, dtype=torch.uint8)
    mask[:, 1:3, 1:3] = 255  # a PNG mask used as class ids
    with pytest.raises(ValueError) as err:
        check_target(logits, mask)
    message = str(err.value)
    assert "class ids 255 outside [0, 2)" in message
    assert "map 255 to 1: target = (mask > 0).long()" in message
    assert "ignore_index=255" in message
    # the suggested fixes both work
    assert check_target(logits, (mask > 0).long()).dtype == torch.int64
    assert check_target(logits, mask, ignore_index=255).dtype == torch.int64


def test_other_out_of_range_ids_name_values_and_fix() -> None:
    logits = torch.zeros(1, 3, 2, 2)
    with pytest.raises(ValueError, match=r"class ids 3, 7 outside \[0, 3\).*num_classes=8"):
        check_target(logits, torch.tensor([[[0, 3], [7, 1]]]))
    with pytest.raises(ValueError, match=r"class ids -1 outside.*ignore_index"):
        check_target(logits, torch.tensor([[[0, -1], [1, 1]]]))


@pytest.mark.parametrize(
    ("target", "error", "message"),
    [
        pytest.param(
            torch.zeros(2, 4, 4), TypeError, r"int64 class ids: target\.long\(\)", id="float"
        ),
        pytest.param(np.zeros((2, 4, 4), dtype=np.int64), TypeError, r"from_numpy", id="numpy"),
        pytest.param(
            torch.zeros(2, 1, 4, 4, dtype=torch.long),
            ValueError,
            r"logits have shape \(2, 3, 4, 4\).*targets \(2, 1, 4, 4\).*target\.squeeze\(1\)",
            id="channel-axis",
        ),
        pytest.param(
            torch.zeros(2, 3, 4, 4, dtype=torch.long),
            ValueError,
            r"one-hot.*argmax\(1\)",
            id="one-hot",
        ),
        pytest.param(
            torch.zeros(2, 8, 8, dtype=torch.long),
            ValueError,
            r"\(2, 3, 4, 4\).*\(2, 8, 8\).*expected targets \(2, 4, 4\).*nearest",
            id="other-size",
        ),
    ],
)
def test_bad_targets_are_refused(target: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        check_target(torch.zeros(2, 3, 4, 4), target)


def test_compute_loss_matches_torch() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 4, 4, generator=g)
    target = torch.randint(0, 3, (2, 4, 4), generator=g)
    ce = F.cross_entropy(logits, target)
    torch.testing.assert_close(compute_loss(logits, target), ce)
    torch.testing.assert_close(
        compute_loss(logits, target, "ce+dice"), ce + dice_loss(logits, target, 3)
    )
    target[0, 0, 0] = 255
    torch.testing.assert_close(
        compute_loss(logits, target, ignore_index=255),
        F.cross_entropy(logits, target, ignore_index=255),
    )
    assert compute_loss(logits, target.clamp(max=2), lambda lg, t: lg.sum() * 0).item() == 0


# --------------------------------------------------------------------------- ignore_index


#: every loss that takes ignore_index: name -> loss(logits, target, ignore_index=...)
IGNORING_LOSSES = {
    "dice_loss": lambda lg, t, ignore_index=None: dice_loss(
        lg, t, lg.shape[1], ignore_index=ignore_index
    ),
    "ce": lambda lg, t, ignore_index=None: compute_loss(lg, t, "ce", ignore_index=ignore_index),
    "ce+dice": lambda lg, t, ignore_index=None: compute_loss(
        lg, t, "ce+dice", ignore_index=ignore_index
    ),
}


@pytest.mark.parametrize("ignore_index", [255, 0], ids=["void-255", "class-id-0"])
@pytest.mark.parametrize("name", IGNORING_LOSSES)
def test_ignored_pixels_give_the_loss_of_the_cropped_region(name: str, ignore_index: int) -> None:
    """A void border (two top rows, one left column) changes nothing: the loss equals the loss
    of the same batch cropped to the region without ignored pixels."""
    g = torch.Generator().manual_seed(0)
    k = 3
    logits = torch.randn(2, k, 6, 5, generator=g)  # (B, K, H, W) float32, as models give
    target = torch.randint(0, k, (2, 6, 5), generator=g)
    target[target == ignore_index] = 1  # inside the crop, no pixel carries ignore_index
    target[:, :2, :] = ignore_index
    target[:, :, :1] = ignore_index
    loss = IGNORING_LOSSES[name]
    got = loss(logits, target, ignore_index=ignore_index)
    cropped = loss(logits[:, :, 2:, 1:], target[:, 2:, 1:])  # no ignore_index needed there
    assert got.item() == pytest.approx(cropped.item(), abs=1e-6)
    # and the ignored pixels really were left out: counted, they change the loss
    counted = target.clamp(max=k - 1)
    assert abs(loss(logits, counted).item() - cropped.item()) > 1e-3


def test_train_re_exports_the_losses() -> None:
    train = pytest.importorskip("seglab.train")
    for name in ("LOSSES", "LossArg", "check_target", "compute_loss", "dice_loss"):
        assert getattr(train, name) is getattr(losses, name)
