"""Tests for seglab.sam.resume: a resumed run keeps its first sitting's schedule."""

from __future__ import annotations

from pathlib import Path

import pytest

from seglab.sam.recipe import TrainConfig
from seglab.sam.resume import SCHEDULE_FIELDS, check_same_schedule, schedule

STATE = Path("runs/mini/train_state.pt")


def test_the_schedule_counts_the_scenes_of_all_processes():
    got = schedule(TrainConfig(batch_size=4), processes=2)
    assert set(got) == set(SCHEDULE_FIELDS) and got["batch_size"] == 8
    check_same_schedule(got, TrainConfig(batch_size=8), STATE)  # 1 x 8 continues 2 x 4


def test_another_schedule_is_refused_by_name():
    saved = schedule(TrainConfig())
    with pytest.raises(ValueError, match=r"--head-steps 1500 \(this run: 10\)"):
        check_same_schedule(saved, TrainConfig(head_steps=10), STATE)
    # a state written before a field existed is compared on the fields it has
    del saved["head_steps"]
    check_same_schedule(saved, TrainConfig(head_steps=10), STATE)


def test_an_old_or_damaged_record_is_reported():
    with pytest.warns(UserWarning, match="does not record its run's settings"):
        check_same_schedule(None, TrainConfig(), STATE)
    with pytest.raises(ValueError, match="is damaged: its 'recipe' is not a dict"):
        check_same_schedule([1, 2], TrainConfig(), STATE)
