"""seglab.callbacks.EarlyStopping: stops after `patience` epochs without improvement, keeps and
restores the best weights, and refuses what it cannot work with."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from seglab.callbacks import EarlyStopping
from seglab.train import History, train


def _feed(stopper: EarlyStopping, model: nn.Module, values: list[float], key: str) -> list[bool]:
    """Play a run: before epoch i the model's weight is i, then epoch i reports values[i]."""
    history, stops = History(), []
    for epoch, value in enumerate(values):
        with torch.no_grad():
            model.weight.fill_(float(epoch))
        history.train_loss.append(1.0)
        getattr(history, key).append(value)
        stops.append(stopper(epoch, history))
    return stops


def test_stops_after_patience_epochs_without_improvement_and_restores_the_best() -> None:
    model = nn.Linear(1, 1)
    stopper = EarlyStopping(model, patience=2)
    stops = _feed(stopper, model, [1.0, 0.5, 0.6, 0.7], "val_loss")
    assert stops == [False, False, False, True]
    assert (stopper.best_epoch, stopper.best_value, stopper.stopped_epoch) == (2, 0.5, 4)
    assert model.weight.item() == 3.0  # the last epoch's weights are still in the model
    stopper.restore()
    assert model.weight.item() == 1.0  # the weights of epoch 2 (index 1)
    model.weight.data.fill_(9.0)
    stopper.restore()  # the kept copy was not changed by training on
    assert model.weight.item() == 1.0


def test_an_improvement_resets_the_patience() -> None:
    model = nn.Linear(1, 1)
    stopper = EarlyStopping(model, patience=2)
    assert _feed(stopper, model, [1.0, 1.1, 0.9, 1.0, 0.8, 0.85], "val_loss") == [False] * 6
    assert stopper.best_epoch == 5 and stopper.stopped_epoch is None


def test_min_delta_ignores_tiny_improvements() -> None:
    model = nn.Linear(1, 1)
    stopper = EarlyStopping(model, patience=2, min_delta=0.05)
    assert _feed(stopper, model, [1.0, 0.99, 0.98], "val_loss") == [False, False, True]
    assert stopper.best_epoch == 1


def test_val_miou_is_maximised() -> None:
    model = nn.Linear(1, 1)
    stopper = EarlyStopping(model, patience=1, monitor="val_miou")
    assert _feed(stopper, model, [0.2, 0.4, 0.3], "val_miou") == [False, False, True]
    assert stopper.best_epoch == 2 and stopper.best_value == 0.4


def test_with_train_it_ends_the_run_early() -> None:
    torch.manual_seed(0)
    model = nn.Conv2d(3, 2, 1)
    images, targets = torch.rand(4, 3, 8, 8), torch.randint(0, 2, (4, 8, 8))
    batches = [(images, targets)]
    stopper = EarlyStopping(model, patience=1, min_delta=1e9)  # nothing counts as better
    history = train(model, batches, epochs=10, val_loader=batches, callback=stopper, progress=False)
    assert history.epochs == 2 and stopper.best_epoch == 1 and stopper.stopped_epoch == 2


def test_needs_a_validation_history() -> None:
    model = nn.Linear(1, 1)
    stopper = EarlyStopping(model)
    history = History(train_loss=[1.0])
    with pytest.raises(ValueError, match="pass val_loader"):
        stopper(0, history)


def test_nan_is_divergence_not_a_best() -> None:
    model = nn.Linear(1, 1)
    stopper = EarlyStopping(model)
    with pytest.raises(ValueError, match="NaN at epoch 1: training diverged"):
        _feed(stopper, model, [math.nan], "val_loss")


def test_restore_before_training_is_an_error() -> None:
    with pytest.raises(ValueError, match="no best weights yet"):
        EarlyStopping(nn.Linear(1, 1)).restore()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"patience": 0}, ValueError, "patience must be >= 1"),
        ({"patience": 2.5}, TypeError, "patience"),
        ({"monitor": "loss"}, ValueError, "monitor must be one of 'val_loss', 'val_miou'"),
        ({"min_delta": -0.1}, ValueError, "min_delta must be >= 0"),
        ({"min_delta": "0"}, TypeError, "min_delta"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        EarlyStopping(nn.Linear(1, 1), **kwargs)


def test_the_model_must_be_a_module() -> None:
    with pytest.raises(TypeError, match=r"nn\.Module"):
        EarlyStopping("model")  # type: ignore[arg-type]
