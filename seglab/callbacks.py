"""Callbacks for :func:`seglab.train`: code that runs after every epoch and may stop the run.

``train(..., callback=f)`` calls ``f(epoch, history)`` after each epoch (``epoch`` from 0,
``history`` the :class:`seglab.train.History` so far) and stops when it returns True.

:class:`EarlyStopping` is the classic one: watch the validation loss, remember the weights of
the best epoch, stop once it has not improved for ``patience`` epochs, and put the best weights
back with :meth:`EarlyStopping.restore`. The validation set then chooses the epoch - so report
the final score on a third, held-out split, never on the validation set itself.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from seglab._util import check_int, check_real

if TYPE_CHECKING:
    import torch
    from torch import nn

    from seglab.train import History

__all__ = ["EarlyStopping"]

_MONITORS = {"val_loss": "min", "val_miou": "max"}


class EarlyStopping:
    """Stop when the validation score has not improved for ``patience`` epochs.

    Use it as ``train``'s callback::

        stopper = EarlyStopping(model, patience=5)
        history = seglab.train(model, loader, epochs=100, val_loader=val_loader,
                               callback=stopper)
        stopper.restore()  # the weights of the best epoch

    Arguments:
      model (nn.Module): the model being trained; its weights are copied (to the CPU) at every
        new best epoch.
      patience (int): epochs without improvement to wait before stopping (>= 1).
      monitor (str): ``"val_loss"`` (lower is better) or ``"val_miou"`` (higher is better).
      min_delta (float): an improvement smaller than this (>= 0) does not count.

    Attributes:
      best_epoch (int | None): the best epoch so far, counted from 1 like ``History`` plots.
      best_value (float | None): the monitored value at ``best_epoch``.
      stopped_epoch (int | None): the epoch (from 1) after which training stopped, or None
        while it has not.
    """

    def __init__(
        self,
        model: nn.Module,
        patience: int = 5,
        *,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
    ) -> None:
        from torch import nn

        if not isinstance(model, nn.Module):
            raise TypeError(
                f"model must be the torch nn.Module being trained, got {type(model).__name__}."
            )
        patience = check_int(patience, "patience", hint="Pass e.g. patience=5.")
        if patience < 1:
            raise ValueError(f"patience must be >= 1 epoch, got {patience}.")
        if monitor not in _MONITORS:
            raise ValueError(
                f"monitor must be one of {', '.join(map(repr, _MONITORS))}, got {monitor!r}."
            )
        min_delta = check_real(min_delta, "min_delta")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta!r}.")
        self.model = model
        self.patience = patience
        self.monitor = monitor
        self.min_delta = float(min_delta)
        self.best_epoch: int | None = None
        self.best_value: float | None = None
        self.stopped_epoch: int | None = None
        self._best_state: dict[str, torch.Tensor] | None = None

    def _improved(self, value: float) -> bool:
        if self.best_value is None:
            return True
        if _MONITORS[self.monitor] == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def __call__(self, epoch: int, history: History) -> bool:
        """Record epoch ``epoch`` (from 0); True when training should stop."""
        values = getattr(history, self.monitor)
        if not values:
            raise ValueError(
                f"EarlyStopping watches {self.monitor}, but the history has none: pass "
                "val_loader=... to seglab.train so that it validates after every epoch."
            )
        value = float(values[-1])
        if math.isnan(value):
            raise ValueError(
                f"{self.monitor} is NaN at epoch {epoch + 1}: training diverged. Lower the "
                "learning rate; there is no best epoch to keep."
            )
        if self._improved(value):
            self.best_value, self.best_epoch = value, epoch + 1
            self._best_state = {
                k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()
            }
        if self.best_epoch is not None and epoch + 1 - self.best_epoch >= self.patience:
            self.stopped_epoch = epoch + 1
            return True
        return False

    def restore(self) -> None:
        """Load the weights of the best epoch back into the model (in place)."""
        if self._best_state is None:
            raise ValueError(
                "EarlyStopping has no best weights yet: pass it to seglab.train(..., "
                "callback=stopper) and train for at least one epoch first."
            )
        self.model.load_state_dict(self._best_state)  # copies the values into the model

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, "
            f"best_epoch={self.best_epoch}, best_value={self.best_value}, "
            f"stopped_epoch={self.stopped_epoch})"
        )
