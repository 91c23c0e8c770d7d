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
  returned 0.0";
- the learner copy's placeholder (a function whose body still reads
  ``raise NotImplementedError("your code here")``, or a value left as ``...``) is reported as
  **not attempted yet**, so a learner notebook runs top to bottom without an error.

``check`` prints its message (plain text, no colours, no timings or memory addresses, so
nbval can compare it) and returns a :class:`CheckResult`; it never raises because the
learner's code failed, so the notebook goes on. Warnings the learner's code triggers (numpy's
"invalid value encountered in divide") are caught and quoted in the report instead of being
printed.

Why a function is passed explicitly (``q1.check(binary_iou)``) rather than looked up in the
notebook's globals by name, as Kaggle's learntools does: the check cell then says exactly
what is checked, and a test can check any function without a notebook.
"""

from __future__ import annotations

import copy
import inspect
import math
import numbers
import re
import textwrap
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np

from seglab._util import format_number, is_bool, is_int, is_real, is_tensor, tensor_to_numpy

__all__ = ["PLACEHOLDER_MESSAGE", "Case", "CheckResult", "Question", "describe"]

#: The message of the ``NotImplementedError`` that the learner copies raise where a solution
#: was removed (tools/build_exercises.py writes ``raise NotImplementedError("your code here")``).
PLACEHOLDER_MESSAGE = "your code here"

Status = Literal["passed", "failed", "not attempted"]

_NOTHING: Any = object()  # Any: a sentinel for "no expected value" (``raises``/``verify``)
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{4,}")
_MAX_VALUES = 16  # arrays with at most this many elements are shown in full
_ABS_TOL = 1e-6  # tolerance when comparing floats (IoU 1/3 computed two ways)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CheckResult:
    """What :meth:`Question.check` found.

    Attributes:
      question (str): the question's name, e.g. ``"q1"``.
      status (str): ``"passed"``, ``"failed"`` or ``"not attempted"``.
      message (str): the text that was printed.
    """

    question: str
    status: Status
    message: str

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


# --------------------------------------------------------------------------- describing values


def _short(text: str, limit: int = 160) -> str:
    text = re.sub(r"\s*\n\s*", " ", _ADDRESS.sub("0x...", text))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _array_values(array: np.ndarray) -> str:
    """A one-line picture of an array's values: all of them when few, a summary otherwise."""
    if array.size <= _MAX_VALUES:
        shown = array.astype(np.uint8) if array.dtype.kind == "b" else array
        text = np.array2string(shown, separator=", ", threshold=_MAX_VALUES, precision=4)
        return "values " + re.sub(r"\s+", " ", text).replace("[ ", "[")
    if array.dtype.kind == "b":
        return f"{int(array.sum())} of {array.size} True"
    if array.dtype.kind not in "iuf":
        return f"{array.size} values"
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    parts = []
    if finite.size:
        parts.append(f"values in [{_num(finite.min())}, {_num(finite.max())}]")
    if array.dtype.kind == "f":
        n_nan = int(np.isnan(array).sum())
        if n_nan:
            parts.append(f"{n_nan} NaN")
    distinct = np.unique(finite)
    if 0 < distinct.size <= 4:
        parts.append("distinct " + ", ".join(_num(v) for v in distinct))
    return ", ".join(parts) or f"{array.size} values"


def _num(value: object) -> str:
    """A number as a learner would type it: a float keeps its point (1.0), see format_number."""
    return format_number(value, exact=True)


def _numbers_only(value: object) -> bool:
    """True for (nested) lists and tuples of plain numbers."""
    if isinstance(value, (tuple, list)):
        return all(_numbers_only(v) for v in value)
    return isinstance(value, (int, float)) and not is_bool(value)


def describe(value: object) -> str:
    """A short, deterministic description of ``value`` for a check message.

    Arrays and tensors give their shape, dtype and values (all of them up to 16 elements, a
    summary beyond); numbers give their value; functions their name; anything else its type
    and a shortened repr with memory addresses blanked out.

    Arguments:
      value: anything a learner's function may receive or return.

    Returns:
      str: one line of text.
    """
    if value is None or is_bool(value):
        return repr(bool(value)) if value is not None else "None"
    if value is Ellipsis:
        return "... (Ellipsis)"
    if isinstance(value, numbers.Integral):
        return f"{int(value)} ({type(value).__name__})"
    if isinstance(value, numbers.Real):
        return f"{_num(float(value))} ({type(value).__name__})"
    if isinstance(value, str):
        return _short(repr(value), 80)
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}, dtype {value.dtype}, {_array_values(value)}"
    if is_tensor(value):
        return (
            f"torch tensor of shape {tuple(value.shape)}, dtype {value.dtype}, "
            f"{_array_values(tensor_to_numpy(value))}"
        )
    if isinstance(value, BaseException):
        return _short(f"{type(value).__name__}({str(value)!r})", 300)
    if isinstance(value, Mapping):
        keys = ", ".join(_short(repr(k), 60) for k in list(value)[:3])
        more = ", ..." if len(value) > 3 else ""
        return f"{type(value).__name__} with {len(value)} keys ({keys}{more})"
    if isinstance(value, (tuple, list)):
        kind = type(value).__name__
        if _numbers_only(value) and len(repr(value)) <= 80:
            return f"{kind} {value!r}"
        if len(value) <= 4:
            inner = "; ".join(describe(v) for v in value)
            return _short(f"{kind} of {len(value)}: ({inner})", 400)
        return _short(f"{kind} of length {len(value)}: {value!r}")
    if callable(value) and hasattr(value, "__name__"):
        return f"function {value.__name__}"
    if hasattr(value, "named_parameters") and hasattr(value, "parameters"):  # a torch module
        n = sum(p.numel() for p in value.parameters())
        config = getattr(value, "config", None)
        detail = f", {_short(repr(config), 200)}" if config is not None else ""
        return f"{type(value).__name__} module ({n:,} parameters{detail})"
    if hasattr(value, "is_image_set"):  # a SAM predictor
        size = getattr(value, "original_size", None) if value.is_image_set else None
        image = f"a {size[0]}x{size[1]} image set" if size else "no image set"
        return f"{type(value).__name__} ({image})"
    if hasattr(value, "param_groups"):  # a torch optimizer
        lr = value.param_groups[0].get("lr") if value.param_groups else None
        return f"{type(value).__name__} optimizer (lr={lr})"
    return f"{type(value).__name__}: {_short(repr(value))}"


# --------------------------------------------------------------------------- comparing values


def _compare(expected: object, got: object) -> str | None:
    """None when ``got`` matches ``expected``; otherwise what differs, in words ("" when the
    expected and returned values, printed side by side, say it all)."""
    if isinstance(expected, np.ndarray):
        return _compare_arrays(expected, got)
    if is_bool(expected):
        if not is_bool(got):
            return f"expected True or False, got {type(got).__name__}"
        return None if bool(got) == bool(expected) else ""
    if isinstance(expected, numbers.Integral):
        if not is_int(got):
            if is_tensor(got):
                return "a torch tensor where a Python int is expected: use .item()"
            return f"expected an integer, got {type(got).__name__}"
        return None if int(got) == int(expected) else ""
    if isinstance(expected, numbers.Real):
        if not is_real(got):
            if is_tensor(got) or isinstance(got, np.ndarray):
                return (
                    f"a {'tensor' if is_tensor(got) else 'numpy array'} where a number is "
                    "expected: return a Python float, e.g. float(x) or x.item()"
                )
            return f"expected a number, got {type(got).__name__}"
        e, g = float(expected), float(got)
        if math.isnan(e) or math.isnan(g):
            return None if math.isnan(e) and math.isnan(g) else ""
        return None if math.isclose(e, g, rel_tol=1e-6, abs_tol=_ABS_TOL) else ""
    return None if got == expected else ""


def _compare_arrays(expected: np.ndarray, got: object) -> str | None:
    if is_tensor(got):
        return "a torch tensor where a numpy array is expected: return tensor.cpu().numpy()"
    if not isinstance(got, np.ndarray):
        return f"expected a numpy array, got {type(got).__name__}"
    if got.shape != expected.shape:
        return f"shape {got.shape} instead of {expected.shape}"
    if got.dtype != expected.dtype:
        return f"dtype {got.dtype} instead of {expected.dtype}"
    if expected.dtype.kind == "f":
        same = np.isclose(got, expected, rtol=1e-6, atol=_ABS_TOL, equal_nan=True)
    else:
        same = got == expected
    if same.all():
        return None
    first = tuple(int(i) for i in np.argwhere(~same)[0])
    where = f"[{', '.join(map(str, first))}]"
    return (
        f"{int((~same).sum())} of {expected.size} values differ; the first at {where}: "
        f"expected {_num(expected[first])}, got {_num(got[first])}"
    )


def _same_input(before: object, after: object) -> bool:
    """True when an argument was not modified in place (arrays and tensors only)."""
    if isinstance(before, np.ndarray) and isinstance(after, np.ndarray):
        return before.shape == after.shape and bool(
            np.array_equal(before, after, equal_nan=before.dtype.kind == "f")
        )
    if is_tensor(before) and is_tensor(after):
        return _same_input(tensor_to_numpy(before), tensor_to_numpy(after))
    return True


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
        as a model). Each call gets a deep copy, so a function that changes its input in
        place is caught and cannot spoil the next case.
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
      why (str): the rule this case teaches, shown when it fails.
      kwargs (dict): keyword arguments for the learner's function.
    """

    description: str
    args: tuple[object, ...] | Callable[[], tuple[object, ...]] = ()
    expected: object = _NOTHING
    raises: type[Exception] | tuple[type[Exception], ...] | None = None
    verify: Callable[..., str | None] | None = None
    expect_text: str = ""
    why: str = ""
    kwargs: dict[str, object] = field(default_factory=dict)

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

    def make_args(self) -> tuple[object, ...]:
        """Fresh positional arguments for one call."""
        return tuple(self.args()) if callable(self.args) else copy.deepcopy(self.args)

    def expectation(self) -> str:
        """What this case expects, in words."""
        if self.raises is not None:
            return f"a {_exception_names(self.raises)}"
        if self.verify is not None:
            return self.expect_text
        return self.expect_text or describe(self.expected)


def _exception_names(types: type[Exception] | tuple[type[Exception], ...]) -> str:
    types = types if isinstance(types, tuple) else (types,)
    return " or ".join(t.__name__ for t in types)


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
    ) -> None:
        if kind not in ("function", "value"):
            raise ValueError(f"kind must be 'function' or 'value', got {kind!r}.")
        if not cases:
            raise ValueError(f"Question {name!r} needs at least one case.")
        if not hints:
            raise ValueError(f"Question {name!r} needs at least one hint.")
        if kind == "value" and any(c.verify is None for c in cases):
            raise ValueError(f"Question {name!r} checks a value: every case needs verify.")
        self.name = name
        self.title = title
        self.cases = tuple(cases)
        self.hints = tuple(hints)
        self.arg_names = tuple(arg_names)
        self.kind = kind
        self.on_pass = on_pass
        self._solution = solution
        if reference is None and not isinstance(solution, str):
            reference = solution if callable(solution) else list(solution)[-1]
        self.reference = reference

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
        """Check ``answer``, print what was found, and return it as a :class:`CheckResult`.

        Arguments:
          answer: your function (pass the function itself: ``q1.check(binary_iou)``, not
            ``q1.check(binary_iou(a, b))``), or your value for a value question.

        Returns:
          CheckResult: ``passed`` is True when every case passed. Never raises because of
          your code.
        """
        result = self._run(answer)
        print(result.message)
        return result

    def _head(self) -> str:
        return f"{self.name} ({self.title})"

    def _result(self, status: Status, text: str) -> CheckResult:
        return CheckResult(self.name, status, f"{self._head()}: {text}")

    def _not_attempted(self) -> CheckResult:
        return self._result(
            "not attempted",
            "not attempted yet. Write your code where it says "
            f'"{PLACEHOLDER_MESSAGE}", run that cell, then run this check again.',
        )

    def _run(self, answer: object) -> CheckResult:
        if answer is Ellipsis:
            return self._not_attempted()
        if self.kind == "function" and not callable(answer):
            return self._result(
                "failed",
                f"expected your function, but got {describe(answer)}. Pass the function "
                f"itself, without calling it: {self.name}.check(my_function), not "
                f"{self.name}.check(my_function(...)).",
            )
        if self.kind == "value" and answer is None:
            return self._result(
                "failed",
                "your answer is None. Did a function you called forget to `return` its result?",
            )
        for index, case in enumerate(self.cases, start=1):
            facts = self._run_case(answer, case)
            if facts is None:
                continue
            if index == 1 and isinstance(facts.get("raised"), NotImplementedError):
                return self._not_attempted()
            return self._failure(index, case, facts)
        text = f"correct. Your {self.kind} passed all {len(self.cases)} cases."
        return self._result("passed", f"{text} {self.on_pass}".strip())

    def _run_case(self, answer: object, case: Case) -> dict[str, object] | None:
        """None when the case passes, otherwise the facts of the failure."""
        if self.kind == "value":
            try:
                problem = case.verify(answer)  # type: ignore[misc]
            except Exception as exc:
                problem = f"it could not be used: {describe(exc)}"
            return None if problem is None else {"got": answer, "problem": problem}
        given = case.make_args()
        pristine = copy.deepcopy(given)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                got = cast(Callable[..., object], answer)(*given, **case.kwargs)  # a function
            except Exception as exc:
                expected_error = case.raises is not None and isinstance(exc, case.raises)
                if not expected_error:
                    return {"raised": exc, "warnings": caught}
                if not str(exc).strip():
                    return {"raised": exc, "empty_message": True}
                return None
        facts: dict[str, object] = {"got": got, "warnings": caught}
        if case.raises is not None:
            return facts
        for position, (before, after) in enumerate(zip(pristine, given, strict=True)):
            if not _same_input(before, after):
                return {**facts, "mutated": self._arg_name(position)}
        if case.verify is not None:
            try:
                problem = case.verify(got, *given)
            except Exception as exc:  # e.g. None where a tensor is expected
                problem = f"it could not be checked: {describe(exc)}"
        else:
            problem = _compare(case.expected, got)
        return None if problem is None else {**facts, "problem": problem}

    def _arg_name(self, position: int) -> str:
        if position < len(self.arg_names):
            return self.arg_names[position]
        return f"argument {position + 1}"

    def _failure(self, index: int, case: Case, facts: dict[str, object]) -> CheckResult:
        lines = [f"not yet. Case {index} of {len(self.cases)} failed: {case.description}."]
        if self.kind == "function":
            args = case.make_args()
            for position, value in enumerate(args):
                lines.append(f"  {self._arg_name(position)} = {describe(value)}")
            for key, value in case.kwargs.items():
                lines.append(f"  {key} = {describe(value)}")
        raised = facts.get("raised")
        if isinstance(raised, NotImplementedError):
            lines.append(
                f"Your function still raises {describe(raised)} here: finish the part that "
                f'says "{PLACEHOLDER_MESSAGE}".'
            )
        elif raised is not None and facts.get("empty_message"):
            lines.append(
                f"Your function raised {type(raised).__name__} (good) but with no message. "
                "Say what was passed and how to fix it, e.g. "
                f'raise {type(raised).__name__}("pred is None; pass a numpy array").'
            )
        elif raised is not None and case.raises is not None:
            lines.append(f"Expected: {case.expectation()}.")
            lines.append(f"Your function raised {describe(raised)} instead.")
        elif raised is not None:
            lines.append(f"Expected: {case.expectation()}.")
            lines.append(f"Your function raised {describe(raised)}.")
        elif case.raises is not None:
            lines.append(f"Expected: {case.expectation()}.")
            lines.append(f"Your function returned {describe(facts['got'])} instead of raising.")
        elif "mutated" in facts:
            lines.append(
                f"Your function changed its input {facts['mutated']} in place. Work on a "
                "copy (x = x.copy(), or t.clone() for a tensor) or use operations that return "
                "new arrays, so the caller's data stays as it was."
            )
        else:
            lines.append(f"Expected: {case.expectation()}.")
            verb = "Your function returned" if self.kind == "function" else "Your value is"
            lines.append(f"{verb}: {describe(facts['got'])}.")
            if facts["problem"]:
                lines.append(f"What is wrong: {facts['problem']}.")
        caught = cast("list[warnings.WarningMessage]", facts.get("warnings") or [])
        for w in caught[:2]:
            lines.append(f"(It also warned: {w.category.__name__}: {_short(str(w.message))}.)")
        if case.why:
            lines.append(f"Why: {case.why}")
        lines.append(f"Stuck? {self.name}.hint() gives a hint.")
        return self._result("failed", "\n".join(lines))
