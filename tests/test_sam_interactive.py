"""Tests for seglab.sam.interactive.choose_entities: which entities a training step prompts."""

from __future__ import annotations

import numpy as np
import pytest

from seglab.sam.interactive import choose_entities

#: 8 entities: 0-3 on the background, 4-6 inside another (parts, objects on a container), 7 too
#: small to be a target
AREAS = np.array([500, 500, 500, 500, 300, 300, 300, 10])
PARENTS = np.array([-1, -1, -1, 0, 0, 1, 2, 0])


def test_at_weight_1_the_draw_is_the_permutation_every_earlier_run_made():
    for seed in range(5):
        got = choose_entities(AREAS, PARENTS, np.random.default_rng(seed), 3)
        want = np.random.default_rng(seed).permutation(np.arange(7))[:3]
        np.testing.assert_array_equal(got, want)


def test_a_higher_nested_weight_prompts_nested_entities_more_often():
    def nested_share(weight: float) -> float:
        rng = np.random.default_rng(0)
        picks = np.concatenate(
            [choose_entities(AREAS, PARENTS, rng, 3, nested_weight=weight) for _ in range(2000)]
        )
        assert 7 not in picks  # under min_area: never
        assert all(
            len(set(choose_entities(AREAS, PARENTS, rng, 3, nested_weight=weight))) == 3
            for _ in range(20)
        )  # without replacement
        return float(np.isin(picks, [4, 5, 6]).mean())

    uniform, weighted = nested_share(1.0), nested_share(4.0)
    assert uniform == pytest.approx(3 / 7, abs=0.03)
    assert weighted > 0.55  # 4 : 1 weights, 3 of 7 drawn without replacement: about 0.60


def test_fewer_eligible_entities_than_asked_and_none_at_all():
    rng = np.random.default_rng(0)
    got = choose_entities(AREAS[:2], PARENTS[:2], rng, 3, nested_weight=4.0)
    assert sorted(got.tolist()) == [0, 1]
    none = choose_entities(np.zeros(0, int), np.zeros(0, int), rng, 3, nested_weight=4.0)
    assert none.shape == (0,)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_a_weight_that_is_not_positive_is_refused(bad):
    with pytest.raises(ValueError, match="nested_weight must be > 0"):
        choose_entities(AREAS, PARENTS, np.random.default_rng(0), 3, nested_weight=bad)
