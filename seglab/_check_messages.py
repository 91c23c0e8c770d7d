"""The report of a failed check: what was passed, what was expected, what came back, why.

:meth:`seglab.checks.Question.check` finds the first failing case and the facts of the
failure; :func:`failure_text` turns them into the message the learner reads::

    not yet. Case 1 of 7 failed: identical masks.
      pred = array of shape (3, 3), dtype bool, values [[1, 1, 0], [1, 0, 0], [0, 0, 0]]
      target = array of shape (3, 3), dtype bool, values [[1, 1, 0], [1, 0, 0], [0, 0, 0]]
    Expected: 1.0 (float).
    Your function returned: 0.5 (float).
    Your function behaves like Dice without the factor 2 (the same results on case 1). ...
    Stuck? q2.hint() gives a hint.

The last explanation line is the known mistake the answer behaves like, when there is one,
otherwise the case's "Why".
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from seglab._check_values import describe, short

if TYPE_CHECKING:  # only for annotations: seglab.checks imports this module
    from seglab.checks import Case, Mistake, Question

__all__ = ["PLACEHOLDER_MESSAGE", "arg_name", "failure_text"]

#: The message of the ``NotImplementedError`` that the learner copies raise where a solution
#: was removed (tools/build_exercises.py writes ``raise NotImplementedError("your code here")``).
#: Imported by seglab.checks, where it is public.
PLACEHOLDER_MESSAGE = "your code here"


def arg_name(arg_names: Sequence[str], position: int) -> str:
    """The name of argument ``position`` (0-based): from ``arg_names``, else "argument N"."""
    if position < len(arg_names):
        return arg_names[position]
    return f"argument {position + 1}"


def failure_text(
    question: Question,
    index: int,
    case: Case,
    facts: dict[str, object],
    mistake: Mistake | None,
) -> str:
    """The message of a failed check, after the question's name.

    Arguments:
      question (Question): the question checked (its name, kind, cases, argument names).
      index (int): the failing case's number, from 1.
      case (Case): the failing case.
      facts (dict): what happened: ``got`` (the returned value), ``raised`` (an exception),
        ``empty_message``, ``library`` (the module of numpy or torch that raised the expected
        error instead of the answer's own check), ``unmentioned`` (what the expected error's
        message should name but does not, see ``Case.mentions``), ``mutated`` (the position
        of an argument changed in place), ``problem`` (what differs), ``warnings``,
        ``printed``.
      mistake (Mistake | None): the known mistake the answer behaves like.

    Returns:
      str: several lines, the first "not yet. Case i of n failed: <description>.".
    """
    lines = [f"not yet. Case {index} of {len(question.cases)} failed: {case.description}."]
    if question.kind == "function":
        for position, value in enumerate(case.make_args()):
            lines.append(f"  {arg_name(question.arg_names, position)} = {describe(value)}")
        for key, value in case.kwargs.items():
            lines.append(f"  {key} = {describe(value)}")
    lines += _what_happened(question, case, facts)
    caught = cast("list[warnings.WarningMessage]", facts.get("warnings") or [])
    for w in caught[:2]:
        lines.append(f"(It also warned: {w.category.__name__}: {short(str(w.message))}.)")
    if facts.get("printed"):
        lines.append(f"(It also printed: {short(repr(facts['printed']), 200)}.)")
    if mistake is not None:
        span = "case 1" if index == 1 else f"cases 1 to {index}"
        lines.append(
            f"Your function behaves like {mistake.name} (the same results on {span}). {mistake.fix}"
        )
    elif case.why:
        lines.append(f"Why: {case.why}")
    lines.append(f"Stuck? {question.name}.hint() gives a hint.")
    return "\n".join(lines)


def _what_happened(question: Question, case: Case, facts: dict[str, object]) -> list[str]:
    """The lines between the arguments and the explanation: expected versus got."""
    raised = facts.get("raised")
    if isinstance(raised, NotImplementedError) and str(raised) == PLACEHOLDER_MESSAGE:
        return [
            f"Your function still raises {describe(raised)} here: finish the part that "
            f'says "{PLACEHOLDER_MESSAGE}".'
        ]
    if raised is not None and facts.get("empty_message"):
        return [
            f"Your function raised {type(raised).__name__} (good) but with no message. "
            "Say what was passed and how to fix it, e.g. "
            f'raise {type(raised).__name__}("pred is None; pass a numpy array").'
        ]
    expected = f"Expected: {case.expectation()}."
    if raised is not None and facts.get("unmentioned"):
        return [
            expected,
            f"Your function raised {describe(raised)}, the right type, but its message does "
            f"not name {facts['unmentioned']}. Say what was passed and what would work, so "
            "that the caller can fix the call without reading your code.",
        ]
    if raised is not None and facts.get("library"):
        return [
            expected,
            f"Your function raised {describe(raised)}, the right type, but {facts['library']} "
            "raised it, not a check of yours: that is luck, and its message does not say what "
            "was wrong. Test the input first and raise your own error that says what was "
            "passed and how to fix it.",
        ]
    if raised is not None:
        instead = " instead" if case.raises is not None else ""
        return [expected, f"Your function raised {describe(raised)}{instead}."]
    if case.raises is not None:
        got = describe(facts["got"])
        return [expected, f"Your function returned {got} instead of raising."]
    if "mutated" in facts:
        name = arg_name(question.arg_names, cast(int, facts["mutated"]))
        return [
            f"Your function changed its input {name} in place. Work on a copy (x = x.copy(), "
            "or t.clone() for a tensor) or use operations that return new arrays, so the "
            "caller's data stays as it was."
        ]
    verb = "Your function returned" if question.kind == "function" else "Your value is"
    lines = [expected, f"{verb}: {describe(facts['got'])}."]
    if facts["problem"]:
        lines.append(f"What is wrong: {facts['problem']}.")
    return lines
