"""What a resumed mini-SAM run must share with its first sitting.

``python -m seglab.sam.train_mini --resume`` continues from ``train_state.pt``, which records the
run's schedule (:func:`schedule`). A sitting that changed one of :data:`SCHEDULE_FIELDS` would
silently train another run's learning-rate curve or data, so :func:`check_same_schedule` refuses
it by name.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from seglab.sam.recipe import TrainConfig

#: The settings that define a run's schedule and data: a resumed run must use the same ones,
#: or its learning-rate curve and batches would silently become those of another run.
SCHEDULE_FIELDS = (
    "steps",
    "batch_size",
    "lr",
    "weight_decay",
    "warmup",
    "clip",
    "objects_per_image",
    "corrections",
    "box_share",
    "ancestor_score",
    "mask_loss",
    "head_steps",
    "head_ancestor_score",
    "grouping_weight",
    "synthetic_share",
    "nonsquare",
    "bank_size",
    "seed",
    "time_limit_min",
)


def schedule(c: TrainConfig, processes: int = 1) -> dict[str, float | str]:
    """The run's schedule; ``batch_size`` is the scenes of a whole step, over all processes, so
    that a run may continue with another number of processes (e.g. 8 x 1 for 1 x 8)."""
    out = {name: getattr(c, name) for name in SCHEDULE_FIELDS}
    out["batch_size"] = c.batch_size * processes
    return out


def check_same_schedule(
    saved: object, c: TrainConfig, state_path: Path, processes: int = 1
) -> None:
    """Refuse to resume with settings that would change the run's schedule or data."""
    if saved is None:  # a state file written before the recipe was saved in it
        warnings.warn(
            f"{state_path} does not record its run's settings (written by an older seglab): "
            "--resume cannot check that --steps, --lr, --time-limit-min... are the run's own.",
            stacklevel=3,
        )
        return
    if not isinstance(saved, dict):
        raise ValueError(f"{state_path} is damaged: its 'recipe' is not a dict.")
    now = schedule(c, processes)
    differ = {k: (saved[k], now[k]) for k in now if k in saved and saved[k] != now[k]}
    if differ:
        flags = ", ".join(
            f"--{k.replace('_', '-')} {old} (this run: {new})" for k, (old, new) in differ.items()
        )
        if "batch_size" in differ and processes > 1:
            flags += f" (--batch-size counts the scenes of all {processes} processes together)"
        raise ValueError(
            f"--resume: {state_path} was trained with {flags}. Resume with the run's own "
            "settings; changing them mid-run would change its learning-rate schedule or data. "
            "To stop a sitting early without changing the schedule use --stop-after."
        )
