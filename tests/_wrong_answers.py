"""The registry of known wrong answers to the exercise questions (tests/_wrong_*.py fill it).

tests/test_exercise_checkers.py checks each against its question: the case it is pinned to
must be the first to fail it, and the report must name the known mistake it is pinned to
(seglab.checks.Mistake), or none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# "module.qN": the wrong answers a learner writes, each pinned to the case that must be the
# first to fail it (a fragment of its description, naming one case) and to the known mistake
# (seglab.checks.Mistake) the report must name, or None when the case's "Why" is the answer.


@dataclass(frozen=True)
class Wrong:
    """A known wrong answer to a question, the case that catches it, the mistake it shows."""

    label: str
    answer: Callable
    case: str
    mistake: str | None


WRONG: dict[str, list[Wrong]] = {}


def wrong(question: str, case: str, mistake: str | None = None):
    """Register the decorated function as a known wrong answer to ``question``, caught first
    by the case whose description contains ``case``, diagnosed as ``mistake``."""

    def register(fn: Callable) -> Callable:
        WRONG.setdefault(question, []).append(Wrong(fn.__name__, fn, case, mistake))
        return fn

    return register


def as_bool(x):
    return np.asarray(x, dtype=bool)
