"""Exercise checkers: ``q1.check(your_function)``, ``q1.hint()``, ``q1.solution()``.

Each exercise notebook imports its questions from a small module of
:mod:`seglab.exercises` (one module per notebook) and, after the learner has written a
function, checks it::

    from seglab.exercises.ex01_masks import q1
    q1.check(binary_iou)      # pass the function itself, without calling it
    q1.hint()                 # a nudge; q1.hint(2) for the next one
    q1.solution()             # the reference code

A :class:`Question` holds a list of :class:`Case` objects. ``check`` runs the learner's
function on the cases in order and stops at the **first** one that fails, because one clear
problem is easier to fix than ten. The report says, in words, what the case was, what was
passed (shape, dtype and a few values for arrays), what was expected and what came back:

- the function **raised**: "your function raised ZeroDivisionError('division by zero') for
  <case>";
- a case where an error **is** expected: "expected a TypeError for <case>, but your function
  returned 0.0"; when the case lists what the message must name (``Case(mentions=...)``,
  e.g. the nearest valid batch sizes), an error whose message leaves one out fails too;
- the learner copy's placeholder (a function whose body still reads
  ``raise NotImplementedError("your code here")``, or a value left as ``...``) is reported as
  **not attempted yet**, so a learner notebook runs top to bottom without an error;
- a function that calls the unfinished function of an earlier question (``Question(...,
  uses=[q2])``) is sent to that question: "q3 calls your q2 function `check_points`, which is
  not written yet: finish q2 first".

Then it says **why** the answer is wrong. A question can list known mistakes
(:class:`Mistake`: a wrong implementation with a name and the fix). When the learner's
function fails and gave the same results as a known mistake on every case run so far, the
report names the mistake ("your function behaves like Dice without the factor 2") and what to
change; otherwise it gives the failing case's ``why``, the rule the case teaches.

``check`` prints exactly the message of the :class:`CheckResult` it returns (plain text, no
colours, no timings or memory addresses, so nbval can compare it); its status is
``passed``, ``failed`` or ``not attempted``. It never raises because the learner's code
failed, so the notebook goes on. Warnings and prints of the learner's code are caught and
quoted in the report of the failing case instead of being shown.

Why a function is passed explicitly (``q1.check(binary_iou)``) rather than looked up in the
notebook's globals by name, as Kaggle's learntools does: the check cell then says exactly
what is checked, and a test can check any function without a notebook.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import re
import textwrap
import types
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from seglab._check_messages import PLACEHOLDER_MESSAGE, failure_text
from seglab._check_values import compare, describe, fingerprint, same_fingerprint, same_input
from seglab._util import is_int

__all__ = ["PLACEHOLDER_MESSAGE", "Case", "CheckResult", "Mistake", "Question", "describe"]

Status = Literal["passed", "failed", "not attempted"]

_NOTHING: Any = object()  # Any: a sentinel for "no expected value" (``raises``/``verify``)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CheckResult:
    """What :meth:`Question.check` found.

    Attributes:
      question (str): the question's name, e.g. ``"q1"``.
      status (str): ``"passed"``, ``"failed"`` or ``"not attempted"``.
      message (str): the text that was printed.
      case (str): the description of the case that failed; ``""`` when none failed.
      mistake (str): the name of the known mistake the answer behaves like; ``""`` when
        none was recognised.
    """

    question: str
    status: Status
    message: str
    case: str = ""
    mistake: str = ""

    @property
    def passed(self) -> bool:
        """True when every case passed."""
        return self.status == "passed"

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        first_line = self.message.splitlines()[0] if self.message else ""
        return (
            f"CheckResult(question={self.question!r}, status={self.status!r}, "
            f"passed={self.passed}, message={first_line!r})"
        )

    def _ipython_display_(self) -> None:
        """Show nothing in Jupyter: :meth:`Question.check` has already printed the message."""


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One test of a learner's function (or value).

    Exactly one of ``expected``, ``raises`` and ``verify`` says what is right.

    Attributes:
      description (str): the case in words, e.g. ``"two 3x3 masks, both empty"``; it names
        the case in every message.
      args (tuple | Callable[[], tuple]): positional arguments for the learner's function,
        or a function that builds them (for objects that must be fresh for each call, such
        as a model; it must build the same values every time, so seed any randomness:
        known mistakes are recognised by comparing results on them). Each call gets a deep
        copy, so a function that changes its input in place is caught and cannot spoil the
        next case.
      expected: the value the function must return. Floats are compared with a tolerance of
        1e-6, arrays by shape, dtype and values.
      raises (type | tuple[type, ...] | None): the exception type(s) the function must raise.
        The exception must carry a message (the course's rule: say what was wrong).
      verify (Callable[..., str | None] | None): for answers that have more than one right
        form, or whose effect matters (a training step that must update the model). For a
        function question it is called as ``verify(returned, *args)`` with the arguments as
        the function left them; for a value question as ``verify(value)``. It returns None
        when the answer is right, or a sentence saying what is wrong.
      expect_text (str): what is expected, in words, shown instead of ``expected`` (required
        with ``verify``).
      why (str): the rule this case teaches, shown when it fails (unless the answer behaves
        like a known :class:`Mistake`, which is named instead).
      kwargs (dict): keyword arguments for the learner's function.
      sanity (bool): True for a case that checks that ordinary input still works and that no
        known wrong answer is expected to fail first. The tests require every other case to
        be the first failure of at least one known wrong answer.
      mentions (tuple): for a ``raises`` case, what the error's message must name so that the
        caller can fix the call: each item a word or number (or a tuple of alternatives, e.g.
        ``("world_size", "world size")``), found case-insensitively as a whole word, so
        ``"28"`` is not found in ``"128"``. Catches an error raised by luck (Python's own
        ``TypeError`` for ``"0.1" * 4``) and a message that says what is wrong but not what
        would work.
    """

    description: str
    args: tuple[object, ...] | Callable[[], tuple[object, ...]] = ()
    expected: object = _NOTHING
    raises: type[Exception] | tuple[type[Exception], ...] | None = None
    verify: Callable[..., str | None] | None = None
    expect_text: str = ""
    why: str = ""
    kwargs: dict[str, object] = field(default_factory=dict)
    sanity: bool = False
    mentions: tuple[str | tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        given = [self.expected is not _NOTHING, self.raises is not None, self.verify is not None]
        if sum(given) != 1:
            raise ValueError(
                f"Case {self.description!r} must set exactly one of expected, raises and "
                f"verify (got {sum(given)})."
            )
        if self.verify is not None and not self.expect_text:
            raise ValueError(
                f"Case {self.description!r} uses verify, so it needs expect_text: what is "
                "expected, in words."
            )
        if self.mentions and self.raises is None:
            raise ValueError(
                f"Case {self.description!r}: mentions is for a case that expects an error."
            )

    def make_args(self) -> tuple[object, ...]:
        """Fresh positional arguments for one call."""
        return tuple(self.args()) if callable(self.args) else copy.deepcopy(self.args)

    def expectation(self) -> str:
        """What this case expects, in words."""
        if self.raises is not None:
            named = f" whose message names {_mention_list(self.mentions)}" if self.mentions else ""
            return f"a {_exception_names(self.raises)}{named}"
        if self.verify is not None:
            return self.expect_text
        return self.expect_text or describe(self.expected)


def _exception_names(types: type[Exception] | tuple[type[Exception], ...]) -> str:
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join(t.__name__ for t in types)


def _mention_list(mentions: Sequence[str | tuple[str, ...]]) -> str:
    """``("30", ("world_size", "world size"))`` as "30 and world_size (or world size)"."""
    words = [
        m if isinstance(m, str) else f"{m[0]} (or {' or '.join(m[1:])})" if len(m) > 1 else m[0]
        for m in mentions
    ]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _missing_mentions(
    mentions: Sequence[str | tuple[str, ...]], message: str
) -> list[str | tuple[str, ...]]:
    """The items of ``mentions`` that ``message`` does not name (as a whole word, any case)."""

    def named(word: str) -> bool:
        pattern = rf"(?<![\w.]){re.escape(word)}(?!\w|\.\d)"
        return re.search(pattern, message, flags=re.IGNORECASE) is not None

    return [m for m in mentions if not any(named(w) for w in ((m,) if isinstance(m, str) else m))]


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer to a function question, written as code.

    When a learner's function fails a case and, on every case run so far, gave the same
    results as ``answer`` (the same values returned, the same arguments afterwards, or the
    same exception type raised), the report says "Your function behaves like <name>" and
    gives ``fix`` instead of the case's ``why``.

    Attributes:
      name (str): the mistake in a few words that complete "your function behaves like ...",
        e.g. ``"Dice without the factor 2"``.
      answer (Callable): a function with the mistake, called like the learner's function.
      fix (str): what to change, one or two sentences.
    """

    name: str
    answer: Callable[..., object]
    fix: str

    def __post_init__(self) -> None:
        if not self.name or not self.fix:
            raise ValueError("A Mistake needs a name and a fix: what it is and what to change.")
        if not callable(self.answer):
            raise TypeError(
                f"Mistake {self.name!r}: answer must be a function with the mistake, "
                f"got {describe(self.answer)}."
            )


@dataclass
class _Call:
    """One call of an answer on one case: what came back and what it left behind."""

    given: tuple[object, ...]  # the arguments as the call left them
    pristine: tuple[object, ...]  # a copy made before the call
    got: object = None
    raised: Exception | None = None
    caught: list[warnings.WarningMessage] = field(default_factory=list)
    printed: str = ""

    def outcome(self) -> object:
        """What the call did, as a comparable snapshot (see seglab._check_values)."""
        if self.raised is not None:
            return ("raised", type(self.raised).__name__, _library_raised(self.raised) is None)
        return ("returned", fingerprint(self.got), fingerprint(self.given))


def _call(answer: Callable[..., object], case: Case) -> _Call:
    """Call ``answer`` on fresh arguments of ``case``, catching errors, warnings and prints."""
    given = case.make_args()
    call = _Call(given=given, pristine=copy.deepcopy(given))
    printed = io.StringIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                call.got = answer(*given, **case.kwargs)
        except Exception as exc:
            call.raised = exc
    call.caught, call.printed = list(caught), printed.getvalue()
    return call


def _innermost_frame(exc: BaseException) -> types.FrameType | None:
    """The frame (Python code, not C) where ``exc`` was raised."""
    tb, frame = exc.__traceback__, None
    while tb is not None:
        frame, tb = tb.tb_frame, tb.tb_next
    return frame


def _placeholder_frame(exc: BaseException) -> types.CodeType | None:
    """The code that raised the learner copy's placeholder error, or None for other errors."""
    if not isinstance(exc, NotImplementedError) or str(exc) != PLACEHOLDER_MESSAGE:
        return None
    frame = _innermost_frame(exc)
    return frame.f_code if frame is not None else None


#: Libraries whose own errors do not count as an answer's refusal (see Question._judge).
_LIBRARIES = ("numpy", "torch", "segment_anything")


def _library_raised(exc: BaseException) -> str | None:
    """The library (``"numpy"``, ``"torch"``, ``"segment_anything"``) whose own code raised
    ``exc``, or None when the answer's code raised it."""
    frame = _innermost_frame(exc)
    package = str(frame.f_globals.get("__name__", "")).split(".")[0] if frame is not None else ""
    return package if package in _LIBRARIES else None


# --------------------------------------------------------------------------- questions


class Question:
    """One exercise question: ``check(answer)``, ``hint(n)``, ``solution()``.

    Arguments:
      name (str): how the notebook refers to it, e.g. ``"q1"``.
      title (str): a few words, e.g. ``"IoU from scratch"``.
      cases (Sequence[Case]): run in order; the first failure is reported.
      hints (Sequence[str]): hints from gentle to explicit (at least one).
      solution (str | Callable | Sequence[Callable]): the reference code: text, or the
        reference function(s), whose source is printed (so what ``solution()`` shows is the
        code the tests run).
      arg_names (Sequence[str]): names of the function's arguments, used in messages.
      kind (str): ``"function"`` (the answer is a function called on each case) or
        ``"value"`` (the answer is a value handed to each case's ``verify``).
      on_pass (str): a sentence added to the success message (what to take away).
      reference: the reference answer, which must pass (the tests check it). Default: the
        ``solution`` function (the last one when several are given).
      mistakes (Sequence[Mistake]): known wrong answers that a failing answer is compared
        with, in order; the first that behaved the same on every case run is named.
      uses (Sequence[Question]): earlier questions whose functions the answer calls (its
        reference's name is what the learner writes, e.g. ``check_points``). When one of
        them is still the placeholder, the report names it instead of this question.
    """

    def __init__(
        self,
        name: str,
        title: str,
        cases: Sequence[Case],
        *,
        hints: Sequence[str],
        solution: str | Callable[..., object] | Sequence[Callable[..., object]],
        arg_names: Sequence[str] = (),
        kind: Literal["function", "value"] = "function",
        on_pass: str = "",
        reference: object = None,
        mistakes: Sequence[Mistake] = (),
        uses: Sequence[Question] = (),
    ) -> None:
        if kind not in ("function", "value"):
            raise ValueError(f"kind must be 'function' or 'value', got {kind!r}.")
        if not cases:
            raise ValueError(f"Question {name!r} needs at least one case.")
        if not hints:
            raise ValueError(f"Question {name!r} needs at least one hint.")
        if kind == "value" and any(c.verify is None for c in cases):
            raise ValueError(f"Question {name!r} checks a value: every case needs verify.")
        if kind == "value" and mistakes:
            raise ValueError(f"Question {name!r} checks a value: mistakes are for functions.")
        self.name = name
        self.title = title
        self.cases = tuple(cases)
        self.hints = tuple(hints)
        self.arg_names = tuple(arg_names)
        self.kind = kind
        self.on_pass = on_pass
        self.mistakes = tuple(mistakes)
        self.uses = tuple(uses)
        self._solution = solution
        if reference is None and not isinstance(solution, str):
            reference = solution if callable(solution) else list(solution)[-1]
        self.reference = reference
        self._helpers = {}
        for used in self.uses:
            helper = getattr(used.reference, "__name__", None)
            if used.kind != "function" or helper is None:
                raise ValueError(
                    f"Question {name!r} uses {used.name!r}, which has no reference function "
                    "whose name the learner's code would call."
                )
            self._helpers[helper] = used
        self._mistake_calls: dict[tuple[int, int], tuple[object, bool]] = {}

    def __repr__(self) -> str:
        what = "your function" if self.kind == "function" else "your value"
        return (
            f"<Question {self.name}: {self.title} ({len(self.cases)} cases). "
            f"{self.name}.check({what}), {self.name}.hint(), {self.name}.solution()>"
        )

    # ----------------------------------------------------------------- hint and solution

    def hint(self, n: int = 1) -> None:
        """Print hint number ``n`` (1 = the gentlest)."""
        if not is_int(n) or not 1 <= n <= len(self.hints):
            print(f"{self.name} has hints 1 to {len(self.hints)}; try {self.name}.hint(1).")
            return
        more = f" ({self.name}.hint({n + 1}) for the next one)" if n < len(self.hints) else ""
        print(f"Hint {n} of {len(self.hints)} for {self.name}{more}:")
        print(textwrap.fill(self.hints[n - 1], width=88))

    def solution_text(self) -> str:
        """The reference solution as text."""
        parts = self._solution
        if isinstance(parts, str):
            return textwrap.dedent(parts).strip()
        parts = [parts] if callable(parts) else list(parts)
        return "\n\n".join(textwrap.dedent(inspect.getsource(p)).strip() for p in parts)

    def solution(self) -> None:
        """Print the reference solution."""
        print(f"Solution for {self.name} ({self.title}):\n")
        print(self.solution_text())

    # ----------------------------------------------------------------- check

    def check(self, answer: object) -> CheckResult:
        """Check ``answer``, print the message of the result, and return the result.

        Arguments:
          answer: your function (pass the function itself: ``q1.check(binary_iou)``, not
            ``q1.check(binary_iou(a, b))``), or your value for a value question.

        Returns:
          CheckResult: ``status`` is ``"passed"`` when every case passed, ``"not attempted"``
          while the placeholder (or the placeholder of a function it calls) is still there,
          ``"failed"`` otherwise; ``message`` is exactly what was printed. Never raises
          because of your code.
        """
        result = self._run(answer)
        print(result.message)
        return result

    def _head(self) -> str:
        return f"{self.name} ({self.title})"

    def _result(self, status: Status, text: str, case: str = "", mistake: str = "") -> CheckResult:
        return CheckResult(self.name, status, f"{self._head()}: {text}", case, mistake)

    def _not_attempted(self) -> CheckResult:
        return self._result(
            "not attempted",
            "not attempted yet. Write your code where it says "
            f'"{PLACEHOLDER_MESSAGE}", run that cell, then run this check again.',
        )

    def _unfinished_helper(self, helper: str) -> CheckResult:
        used = self._helpers.get(helper)
        if used is not None:
            text = (
                f"cannot be checked yet. {self.name} calls your {used.name} function "
                f"`{helper}`, which is not written yet: finish {used.name} first, run its "
                "cell, then run this check again."
            )
        else:
            text = (
                f"cannot be checked yet. Your function calls `{helper}`, which is not written "
                f'yet (it still raises NotImplementedError("{PLACEHOLDER_MESSAGE}")): finish '
                f"`{helper}` first, run its cell, then run this check again."
            )
        return self._result("not attempted", text)

    def _run(self, answer: object) -> CheckResult:
        if answer is Ellipsis:
            return self._not_attempted()
        if self.kind == "value":
            return self._run_value(answer)
        if not callable(answer):
            return self._result(
                "failed",
                f"expected your function, but got {describe(answer)}. Pass the function "
                f"itself, without calling it: {self.name}.check(my_function), not "
                f"{self.name}.check(my_function(...)).",
            )
        function = cast(Callable[..., object], answer)
        own_code = getattr(answer, "__code__", None)
        calls: list[_Call] = []
        for index, case in enumerate(self.cases, start=1):
            call = _call(function, case)
            calls.append(call)
            raised_in = _placeholder_frame(call.raised) if call.raised is not None else None
            if raised_in is not None and raised_in is not own_code:
                if raised_in.co_name != getattr(answer, "__name__", None):
                    return self._unfinished_helper(raised_in.co_name)
            facts = self._judge(case, call)
            if facts is None:
                continue
            if index == 1 and raised_in is not None:
                return self._not_attempted()
            mistake = self._diagnose(calls)
            return self._failure(index, case, facts, mistake)
        text = f"correct. Your function passed all {len(self.cases)} cases."
        return self._result("passed", f"{text} {self.on_pass}".strip())

    def _run_value(self, answer: object) -> CheckResult:
        if answer is None:
            return self._result(
                "failed",
                "your answer is None. Did a function you called forget to `return` its result?",
            )
        for index, case in enumerate(self.cases, start=1):
            try:
                problem = case.verify(answer)  # type: ignore[misc]
            except Exception as exc:
                problem = f"it could not be used: {describe(exc)}"
            if problem is not None:
                return self._failure(index, case, {"got": answer, "problem": problem}, None)
        text = f"correct. Your value passed all {len(self.cases)} cases."
        return self._result("passed", f"{text} {self.on_pass}".strip())

    @staticmethod
    def _judge(case: Case, call: _Call) -> dict[str, object] | None:
        """None when the call passes the case, otherwise the facts of the failure."""
        facts: dict[str, object] = {"got": call.got, "warnings": call.caught}
        if call.printed:
            facts["printed"] = call.printed
        exc = call.raised
        if exc is not None:
            if case.raises is None or not isinstance(exc, case.raises):
                return {**facts, "raised": exc}
            if not str(exc).strip():
                return {"raised": exc, "empty_message": True}
            library = _library_raised(exc)
            if library is not None:  # e.g. the max of an empty array: no check of the answer's
                return {**facts, "raised": exc, "library": library}
            missing = _missing_mentions(case.mentions, str(exc))
            if missing:
                return {**facts, "raised": exc, "unmentioned": _mention_list(missing)}
            return None
        if case.raises is not None:
            return facts
        for position, (before, after) in enumerate(zip(call.pristine, call.given, strict=True)):
            if not same_input(before, after):
                return {**facts, "mutated": position}
        if case.verify is not None:
            try:
                problem = case.verify(call.got, *call.given)
            except Exception as exc:  # e.g. None where a tensor is expected
                problem = f"it could not be checked: {describe(exc)}"
        else:
            problem = compare(case.expected, call.got)
        return None if problem is None else {**facts, "problem": problem}

    # ----------------------------------------------------------------- diagnosis

    def _mistake_call(self, which: int, index: int) -> tuple[object, bool]:
        """(outcome, failed) of mistake ``which`` on case ``index`` (0-based), computed once."""
        key = (which, index)
        if key not in self._mistake_calls:
            case = self.cases[index]
            call = _call(self.mistakes[which].answer, case)
            self._mistake_calls[key] = (call.outcome(), self._judge(case, call) is not None)
        return self._mistake_calls[key]

    def _diagnose(self, calls: list[_Call]) -> Mistake | None:
        """The first known mistake that behaved like the answer on every case run (the last
        of which failed), or None."""
        if not self.mistakes:
            return None
        outcomes = [call.outcome() for call in calls]
        last = len(calls) - 1
        for which, mistake in enumerate(self.mistakes):
            if not self._mistake_call(which, last)[1]:
                continue  # the mistake passes the case the answer fails
            if all(
                same_fingerprint(outcome, self._mistake_call(which, index)[0])
                for index, outcome in enumerate(outcomes)
            ):
                return mistake
        return None

    # ----------------------------------------------------------------- the report

    def _failure(
        self, index: int, case: Case, facts: dict[str, object], mistake: Mistake | None
    ) -> CheckResult:
        text = failure_text(self, index, case, facts, mistake)
        name = mistake.name if mistake is not None else ""
        return self._result("failed", text, case.description, name)
