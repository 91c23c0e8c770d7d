"""Tests for seglab.train (the losses and target checks are tested in test_losses.py).

- evaluate: against seglab.metrics on the same predictions, pooled over the whole loader;
- train: a tiny U-Net overfits one batch (a property that fails if anything in the loop is
  wrong), runs repeat exactly with a seed, ignored pixels count for nothing, and the classic
  target mistakes (0/255 masks, float targets, wrong shapes) stop it before the loss, with the
  fix, and without a step taken.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from seglab import metrics
from seglab.losses import compute_loss
from seglab.train import History, evaluate, predict, train
from seglab.unet import UNet

K = 5  # classes of seglab.data's scenes (background + 4 shapes)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Run on one CPU thread: these tiny convolutions gain nothing from more, and on a shared
    machine busy threads make torch's thread pool spin (tens of times slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def scenes() -> tuple[torch.Tensor, torch.Tensor]:
    """Four 32x32 synthetic scenes: images (4, 3, 32, 32) float in [0, 1], labels (4, 32, 32)."""
    data = pytest.importorskip("seglab.data")
    ds = data.SyntheticScenes(4, size=32, seed=0)
    images, labels = zip(*(ds[i] for i in range(len(ds))), strict=True)
    return torch.stack(images), torch.stack(labels)


def tiny_unet(seed: int = 0, **overrides: object) -> UNet:
    torch.manual_seed(seed)
    return UNet(**{"num_classes": K, "base_channels": 4, "depth": 2, **overrides})


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


# --------------------------------------------------------------------------- train


def test_tiny_unet_overfits_one_batch(scenes: tuple[torch.Tensor, torch.Tensor]) -> None:
    images, labels = scenes
    model = tiny_unet(seed=0, base_channels=8, depth=3)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    batch = [(images[:2], labels[:2])]
    history = train(model, batch, epochs=50, optimizer=optimizer, progress=False)
    assert history.epochs == 50
    first, last = history.train_loss[0], history.train_loss[-1]
    assert last < first / 5, (first, last)  # measured: 2.15 -> 0.19 (11x)
    assert model.training  # back in the mode it came in


def test_training_repeats_exactly_with_a_seed(scenes: tuple[torch.Tensor, torch.Tensor]) -> None:
    images, labels = scenes
    ds = TensorDataset(images, labels)

    def run(seed: int) -> tuple[History, UNet]:
        model = tiny_unet(seed=0)
        loader = DataLoader(ds, batch_size=2, shuffle=True)  # the order comes from the seed
        history = train(
            model, loader, epochs=2, val_loader=DataLoader(ds, batch_size=2), progress=False,
            seed=seed, loss="ce+dice",
        )  # fmt: skip
        return history, model

    h1, m1 = run(seed=7)
    h2, m2 = run(seed=7)
    assert h1 == h2 and same_weights(m1, m2)
    assert len(h1.val_loss) == len(h1.val_miou) == 2
    h3, m3 = run(seed=8)  # another shuffle order: other numbers
    assert h3.train_loss != h1.train_loss and not same_weights(m1, m3)


def test_bad_targets_stop_training_before_any_step(
    scenes: tuple[torch.Tensor, torch.Tensor],
) -> None:
    images, labels = scenes
    model = tiny_unet().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    masks = (labels[:2] > 0).to(torch.uint8) * 255  # 0/255 foreground masks
    with pytest.raises(ValueError, match=r"class ids 255 outside \[0, 5\).*\(mask > 0\)\.long"):
        train(model, [(images[:2], masks)], epochs=1, progress=False)
    with pytest.raises(TypeError, match=r"target\.long\(\)"):
        train(model, [(images[:2], labels[:2].float())], epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"\(2, 5, 32, 32\).*\(2, 16, 16\)"):
        train(model, [(images[:2], labels[:2, ::2, ::2])], epochs=1, progress=False)
    after = model.state_dict()  # weights and BatchNorm statistics: nothing changed
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not model.training  # the mode it had


@pytest.mark.parametrize("loss", ["ce", "ce+dice"])
def test_void_pixels_count_for_nothing_in_train_and_evaluate(
    scenes: tuple[torch.Tensor, torch.Tensor], loss: str
) -> None:
    """With a void border (ignore_index=255, as in Pascal VOC) the reported losses equal the
    loss of the model's output cropped to the labelled region."""
    images, labels = scenes
    images, labels = images[:2], labels[:2]
    target = labels.clone()
    target[:, :4] = 255  # a void border: the top 4 rows
    model = tiny_unet()
    reference = copy.deepcopy(model)
    with torch.no_grad():  # the first epoch's loss is that of the initial weights, train mode
        logits = reference.train()(images)  # (B, K, H, W)
        before_step = compute_loss(logits[:, :, 4:], labels[:, 4:], loss).item()
    history = train(
        model, [(images, target)], epochs=1, ignore_index=255, loss=loss, progress=False
    )
    assert history.train_loss[0] == pytest.approx(before_step, abs=1e-6)

    result = evaluate(model, [(images, target)], K, ignore_index=255, loss=loss)
    with torch.no_grad():
        logits = model.eval()(images)
        expected = compute_loss(logits[:, :, 4:], labels[:, 4:], loss).item()
    assert result["loss"] == pytest.approx(expected, abs=1e-6)


def test_training_and_evaluating_a_unet_use_no_deprecated_name(
    scenes: tuple[torch.Tensor, torch.Tensor],
) -> None:
    images, labels = scenes
    batch = [(images[:2], labels[:2])]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # e.g. UNetConfig.n_classes
        train(tiny_unet(), batch, epochs=1, val_loader=batch, progress=False)


def test_train_options_are_checked(scenes: tuple[torch.Tensor, torch.Tensor]) -> None:
    images, labels = scenes
    batch = [(images[:2], labels[:2])]
    model = tiny_unet()
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        train(model, batch, epochs=0)
    for wrong_type in (2.0, True, "3"):  # the wrong type is a TypeError (it was a ValueError)
        with pytest.raises(TypeError, match="epochs must be an int, got"):
            train(model, batch, epochs=wrong_type)
    with pytest.raises(ValueError, match="loss must be one of 'ce', 'ce\\+dice'"):
        train(model, batch, epochs=1, loss="dice")
    with pytest.raises(ValueError, match="num_classes=21 but the model outputs 5"):
        train(model, batch, epochs=1, num_classes=21, progress=False)
    with pytest.raises(TypeError, match=r"pair \(images, targets\).*dict with keys"):
        train(model, [{"image": images, "mask": labels}], epochs=1, progress=False)
    with pytest.raises(ValueError, match="yielded no batches"):
        train(model, [], epochs=1, progress=False)
    with pytest.raises(ValueError, match="device is 'tpu', which is not a device name"):
        train(model, batch, epochs=1, device="tpu", progress=False)


def test_callback_sees_the_history_and_can_stop(
    scenes: tuple[torch.Tensor, torch.Tensor],
) -> None:
    images, labels = scenes
    seen: list[tuple[int, int]] = []

    def stop_after_two(epoch: int, history: History) -> bool:
        seen.append((epoch, history.epochs))
        return epoch == 1

    history = train(
        tiny_unet(), [(images[:2], labels[:2])], epochs=10, callback=stop_after_two,
        progress=False,
    )  # fmt: skip
    assert seen == [(0, 1), (1, 2)] and history.epochs == 2


def test_scheduler_steps_once_per_batch_and_must_share_the_optimizer(
    scenes: tuple[torch.Tensor, torch.Tensor],
) -> None:
    images, labels = scenes
    batches = [(images[:2], labels[:2]), (images[2:], labels[2:]), (images[1:3], labels[1:3])]
    model = tiny_unet()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=2 * len(batches))
    lrs: list[float] = []
    train(model, batches, epochs=2, optimizer=opt, scheduler=sched, progress=False,
          callback=lambda epoch, history: lrs.append(opt.param_groups[0]["lr"]))  # fmt: skip
    # the same schedule replayed by hand: the lr after 3 and after 6 steps (one per batch)
    replay_opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=1e-3)
    replay = torch.optim.lr_scheduler.OneCycleLR(replay_opt, max_lr=1e-2, total_steps=6)
    expected = []
    for step in range(1, 7):
        replay_opt.step()
        replay.step()
        if step % 3 == 0:
            expected.append(replay_opt.param_groups[0]["lr"])
    assert sched.last_epoch == 6 and lrs == pytest.approx(expected)
    assert lrs[0] != lrs[1]  # the lr moved between epochs: the schedule is not stepped per epoch
    other = torch.optim.SGD(model.parameters(), lr=0.1)
    wrong = torch.optim.lr_scheduler.StepLR(other, step_size=1)
    with pytest.raises(ValueError, match="built on the optimizer passed to train"):
        train(model, batches, epochs=1, optimizer=opt, scheduler=wrong, progress=False)
    with pytest.raises(ValueError, match="built on the optimizer passed to train"):
        train(model, batches, epochs=1, scheduler=wrong, progress=False)
    with pytest.raises(TypeError, match=r"scheduler must be a torch\.optim\.lr_scheduler"):
        train(model, batches, epochs=1, optimizer=opt, scheduler=0.1, progress=False)  # type: ignore[arg-type]


def test_progress_bar_shows_unless_disabled(
    scenes: tuple[torch.Tensor, torch.Tensor],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    images, labels = scenes
    batch = [(images[:2], labels[:2])]
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    train(tiny_unet(), batch, epochs=1)
    assert "training" in capsys.readouterr().err
    monkeypatch.setenv("TQDM_DISABLE", "1")
    train(tiny_unet(), batch, epochs=1)
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- evaluate, predict


@pytest.mark.parametrize("ignore_index", [None, 255])
def test_evaluate_equals_metrics_on_the_same_predictions(
    scenes: tuple[torch.Tensor, torch.Tensor], ignore_index: int | None
) -> None:
    images, labels = scenes
    labels = labels.clone()
    if ignore_index is not None:
        labels[:, -3:] = ignore_index
    model = tiny_unet(seed=3)
    loader = DataLoader(TensorDataset(images, labels), batch_size=3)  # batches of 3 and 1
    result = evaluate(model, loader, K, ignore_index=ignore_index)
    assert model.training  # restored

    pred = predict(model, images)  # (4, 32, 32), all at once
    assert result["miou"] == pytest.approx(
        metrics.mean_iou(pred, labels, K, ignore_index=ignore_index), abs=1e-12
    )
    np.testing.assert_allclose(
        result["per_class_iou"],
        metrics.per_class_iou(pred, labels, K, ignore_index=ignore_index),
        atol=1e-12,
    )
    assert result["pixel_accuracy"] == pytest.approx(
        metrics.pixel_accuracy(pred, labels, ignore_index=ignore_index), abs=1e-12
    )
    np.testing.assert_array_equal(
        result["confusion_matrix"],
        metrics.confusion_matrix(pred, labels, K, ignore_index=ignore_index),
    )
    # the loss: per-batch cross-entropy means, weighted by batch size
    model.eval()
    with torch.no_grad():
        ce = [
            F.cross_entropy(model(x), y, ignore_index=ignore_index or -100).item() * len(x)
            for x, y in loader
        ]
    assert result["loss"] == pytest.approx(sum(ce) / len(images), rel=1e-6)


def test_predict_restores_the_mode_and_keeps_the_layout(
    scenes: tuple[torch.Tensor, torch.Tensor],
) -> None:
    images, _ = scenes
    model = tiny_unet(seed=1).train()
    labels = predict(model, images[:2])
    assert labels.shape == (2, 32, 32) and labels.dtype == torch.int64
    assert model.training
    with torch.no_grad():
        expected = model.eval()(images[:2]).argmax(1)
    assert torch.equal(labels, expected)  # eval mode: BatchNorm's running statistics
    single = predict(model, images[0])  # one (C, H, W) image -> one (H, W) map
    assert torch.equal(single, expected[0])
    assert not model.training  # it was in eval mode this time, and stays there
    with pytest.raises(TypeError, match=r"must be a torch\.Tensor"):
        predict(model, images.numpy())  # type: ignore[arg-type]


# --------------------------------------------------------------------------- History


def test_history_repr_and_plot() -> None:
    history = History(train_loss=[1.5, 0.75], val_loss=[1.25, 1.0], val_miou=[0.25, 0.5])
    assert repr(history) == (
        "History(2 epochs)\n"
        "epoch train_loss   val_loss   val_mIoU\n"
        "    1     1.5000     1.2500     0.2500\n"
        "    2     0.7500     1.0000     0.5000"
    )
    long = repr(History(train_loss=[float(i) for i in range(30)]))
    assert "  ..." in long and "   30    29.0000" in long and long.count("\n") == 12

    import matplotlib.pyplot as plt

    fig = history.plot()
    try:
        loss_ax, miou_ax = fig.axes
        assert [tuple(line.get_ydata()) for line in loss_ax.lines] == [(1.5, 0.75), (1.25, 1.0)]
        assert tuple(miou_ax.lines[0].get_ydata()) == (0.25, 0.5)
    finally:
        plt.close(fig)
    fig = History(train_loss=[1.0]).plot()
    assert len(fig.axes) == 1
    plt.close(fig)
    with pytest.raises(ValueError, match="History is empty"):
        History().plot()


# --------------------------------------------------------------------------- on a GPU


@pytest.mark.gpu
def test_on_the_gpu_the_mistake_is_caught_before_the_device_side_assert(
    scenes: tuple[torch.Tensor, torch.Tensor],
) -> None:
    from seglab.device import get_device

    images, labels = scenes
    device = get_device()
    model = tiny_unet()
    masks = (labels[:2] > 0).to(torch.uint8) * 255
    with pytest.raises(ValueError, match=r"\(mask > 0\)\.long\(\)"):
        train(model, [(images[:2], masks)], epochs=1, device=device, progress=False)
    # the device is still usable (no poisoned CUDA context), and scores agree with the CPU's
    loader = [(images, labels)]
    on_device = evaluate(model, loader, K, device=device)
    on_cpu = evaluate(model, loader, K, device="cpu")
    # (TF32 convolutions on recent GPUs may flip a few near-tied pixels: a loose tolerance)
    assert on_device["miou"] == pytest.approx(on_cpu["miou"], abs=0.02)
