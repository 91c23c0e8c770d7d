"""Quick Quiz: a few conceptual questions at the end of every lesson, with feedback.

::

    quiz = seglab.quiz("02")   # shows the questions as a widget in JupyterLab and Colab
    quiz.answer(2, "b")        # the same feedback as text, wherever widgets do not show
    print(quiz)                # the questions as text
    quiz.key()                 # instructors: every answer with its explanation

The questions and their explanations are package data (``seglab/quizzes/NN.json``), not
notebook source: a lesson holds only ``seglab.quiz("NN")``. The widget receives them only
when a browser actually draws it, so a notebook executed without a browser (nbval,
``make execute``) saves no question, option or explanation in its outputs or widget state.
Answers are judged in Python (:meth:`Quiz.answer`), the widget only sends what was clicked:
the browser and the text give the same feedback.

A question is either a **choice** (options ``a``, ``b``, ...; every option carries a "why",
shown when it is picked, right or wrong) or a **number** (right when within the stated
tolerance; a wrong number gets a hint, a right one the explanation).

Importing this module imports no widget library; anywidget is imported on first display.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from seglab._util import is_bool

__all__ = ["Feedback", "Question", "Quiz", "available", "quiz"]

_ASSETS = Path(__file__).resolve().parent.parent / "_widget"
_VIEW_CLASS: type | None = None


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Question:
    """One quiz question.

    Attributes:
      number (int): its number in the quiz, from 1.
      text (str): the question; may contain `backticks` for code.
      choices (dict[str, tuple[str, str]]): option letter -> (text, why); empty for a number
        question.
      answer (str | float): the right letter, or the right number.
      tolerance (float): for a number question, how far from ``answer`` still counts as right.
      why (str): for a number question, how to get it (shown when right).
      hint (str): for a number question, a nudge (shown when wrong).
    """

    number: int
    text: str
    choices: dict[str, tuple[str, str]]
    answer: str | float
    tolerance: float = 0.0
    why: str = ""
    hint: str = ""

    @property
    def kind(self) -> str:
        """``"choice"`` or ``"number"``."""
        return "choice" if self.choices else "number"


@dataclass(frozen=True)
class Feedback:
    """What :meth:`Quiz.answer` found: whether the answer is right, and why, in words."""

    question: int
    correct: bool
    text: str

    def __str__(self) -> str:
        return self.text

    def _ipython_display_(self) -> None:
        """Show nothing in Jupyter: :meth:`Quiz.answer` has already printed the text."""


def available() -> list[str]:
    """The lessons that have a quiz, as two-digit strings (``["00", "01", ...]``)."""
    folder = resources.files(__name__)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def _lesson_id(lesson: object) -> str:
    if is_bool(lesson) or not isinstance(lesson, (str, numbers.Integral)):
        raise TypeError(
            f"lesson must be a lesson number such as '02' or 2, not {type(lesson).__name__}"
        )
    text = str(lesson).strip()
    if not text.isdigit():
        raise ValueError(f"lesson must be a lesson number such as '02' or 2, not {lesson!r}")
    return f"{int(text):02d}"


def _parse_question(number: int, raw: dict[str, Any], source: str) -> Question:
    where = f"{source}, question {number}"
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: no question text")
    if "choices" in raw:
        choices = {
            str(key): (str(option["text"]), str(option["why"]))
            for key, option in raw["choices"].items()
        }
        if len(choices) < 2 or raw.get("answer") not in choices:
            raise ValueError(f"{where}: needs 2+ choices and an answer among them")
        return Question(number, text, choices, str(raw["answer"]))
    spec = raw.get("number")
    if not isinstance(spec, dict) or not isinstance(spec.get("answer"), (int, float)):
        raise ValueError(f"{where}: needs 'choices' or a 'number' with an 'answer'")
    return Question(
        number,
        text,
        {},
        float(spec["answer"]),
        tolerance=float(spec.get("tolerance", 0.0)),
        why=str(spec.get("why", "")),
        hint=str(spec.get("hint", "")),
    )


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --------------------------------------------------------------------------- the quiz


class Quiz:
    """The Quick Quiz of one lesson. Create it with :func:`quiz`.

    Attributes:
      lesson (str): the lesson, two digits (``"02"``).
      title (str): the lesson's title.
      questions (list[Question]): in order; ``answer(n, ...)`` takes n from 1.
    """

    def __init__(self, lesson: str, title: str, questions: list[Question]) -> None:
        self.lesson = lesson
        self.title = title
        self.questions = questions
        self._view: Any = None  # Any: the anywidget view, a class made at run time

    # ---- answering, as text

    def question(self, number: object) -> Question:
        """Question ``number`` (from 1); ValueError names the valid range."""
        n = len(self.questions)
        if is_bool(number) or not isinstance(number, numbers.Integral):
            raise TypeError(f"the question number must be an int from 1 to {n}, not {number!r}")
        if not 1 <= int(number) <= n:
            raise ValueError(f"quiz {self.lesson} has questions 1 to {n}; there is no {number}")
        return self.questions[int(number) - 1]

    def judge(self, number: object, answer: object) -> Feedback:
        """Judge ``answer`` to question ``number`` without printing (the widget uses this).

        Arguments:
          number: the question's number, from 1.
          answer: a choice question's letter (``"b"``, any case), or a number question's
            value (int or float; a string such as ``"0.5"`` is read as a number too).

        Raises:
          ValueError / TypeError: no such question, or an answer of the wrong kind (a letter
            that is not an option, a number for a choice question, text that is no number).
        """
        q = self.question(number)
        if q.kind == "choice":
            letters = ", ".join(q.choices)
            if not isinstance(answer, str):
                raise TypeError(
                    f"question {q.number} is multiple choice: answer with a letter ({letters}), "
                    f"not {answer!r}"
                )
            letter = answer.strip().lower()
            if letter not in q.choices:
                raise ValueError(f"question {q.number} has options {letters}; not {answer!r}")
            right = letter == q.answer
            verdict = "Right" if right else "Not quite"
            return Feedback(q.number, right, f"{verdict}: {q.choices[letter][1]}")
        value = _as_number(q.number, answer)
        target = float(q.answer)
        right = abs(value - target) <= q.tolerance + 1e-12
        if right:
            return Feedback(q.number, True, f"Right: {q.why}")
        side = "too high" if value > target else "too low"
        hint = f" Hint: {q.hint}" if q.hint else ""
        return Feedback(q.number, False, f"Not quite: {_format_number(value)} is {side}.{hint}")

    def answer(self, number: object, answer: object) -> Feedback:
        """Print the feedback on ``answer`` to question ``number`` (from 1) and return it.

        ``quiz.answer(2, "b")`` for a choice, ``quiz.answer(3, 0.25)`` for a number.
        """
        feedback = self.judge(number, answer)
        print(f"Question {feedback.question}: {feedback.text}")
        return feedback

    def key(self) -> dict[int, str | float]:
        """For instructors: print every answer with its explanation; return {number: answer}."""
        lines = [f"Answer key · quiz {self.lesson}: {self.title}"]
        for q in self.questions:
            if q.kind == "choice":
                text, why = q.choices[str(q.answer)]
                lines.append(f"{q.number}. {q.answer}) {text} — {why}")
            else:
                within = f" (± {_format_number(q.tolerance)})" if q.tolerance else ""
                lines.append(f"{q.number}. {_format_number(float(q.answer))}{within} — {q.why}")
        print("\n".join(lines))
        return {q.number: q.answer for q in self.questions}

    def __str__(self) -> str:
        lines = [f"Quick Quiz · lesson {self.lesson}: {self.title}"]
        for q in self.questions:
            lines.append(f"\n{q.number}. {q.text}")
            if q.kind == "choice":
                lines.extend(f"   {letter}) {text}" for letter, (text, _) in q.choices.items())
            else:
                tol = f" (counted right within ± {_format_number(q.tolerance)})"
                lines.append("   answer with a number" + (tol if q.tolerance else ""))
        example = "'a'" if self.questions[0].kind == "choice" else "0.5"
        lines.append(f"\nCheck an answer with quiz.answer(1, {example}).")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Quiz(lesson={self.lesson!r}, {len(self.questions)} questions)"

    # ---- display

    def _placeholder(self) -> str:
        n = len(self.questions)
        return (
            f"Quick Quiz · lesson {self.lesson}: {n} questions. Run this cell in JupyterLab or "
            "Colab to answer them here; elsewhere print(quiz) shows them and "
            "quiz.answer(1, 'a') checks an answer."
        )

    @property
    def widget(self) -> Any:  # Any: the anywidget view, a class made at run time
        """The anywidget view (created on first use; needs ``pip install anywidget``)."""
        if self._view is None:
            view = _view_class()(lesson=self.lesson, title=self.title, status=self._placeholder())
            view.on_msg(self._on_msg)
            self._view = view
        return self._view

    def _questions_for_view(self) -> list[dict[str, object]]:
        """What the browser draws: texts and options, never an answer or an explanation."""
        return [
            {
                "number": q.number,
                "text": q.text,
                "kind": q.kind,
                "options": [[letter, text] for letter, (text, _) in q.choices.items()],
            }
            for q in self.questions
        ]

    def _on_msg(self, _widget: object, content: dict[str, Any], _buffers: object) -> None:
        """Messages from the browser: ``hello`` (a view was drawn) and ``answer``."""
        view = self._view
        if content.get("type") == "hello":
            view.questions = self._questions_for_view()
        elif content.get("type") == "answer":
            number = content.get("question")
            try:
                feedback = self.judge(number, content.get("value"))
                reply = {"correct": feedback.correct, "text": feedback.text}
            except (TypeError, ValueError) as exc:
                reply = {"correct": False, "text": str(exc)}
            reply["seq"] = content.get("seq", 0)  # echoed: the same answer twice still updates
            view.feedback = {**view.feedback, str(number): reply}

    def _repr_mimebundle_(
        self, include: object = None, exclude: object = None
    ) -> dict[str, object] | tuple[dict[str, object], dict[str, object]]:
        """The widget, and a text that names no question (what nbval and GitHub show)."""
        data: dict[str, object] = {}
        metadata: dict[str, object] = {}
        try:
            widget_data, metadata = self.widget._repr_mimebundle_()
            data.update(widget_data)
        except ImportError:
            pass  # no anywidget: print(quiz) and quiz.answer() still work
        data["text/plain"] = self._placeholder()
        return (data, metadata) if metadata else data


def _as_number(question: int, answer: object) -> float:
    if is_bool(answer):
        raise TypeError(f"question {question} wants a number, not {answer!r}")
    if isinstance(answer, str):
        try:
            value = float(answer.strip())
        except ValueError:
            raise ValueError(
                f"question {question} wants a number (e.g. 0.5); {answer!r} is not one"
            ) from None
    elif isinstance(answer, numbers.Real):
        value = float(answer)
    else:
        raise TypeError(f"question {question} wants a number, not {type(answer).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"question {question} wants a finite number, not {answer!r}")
    return value


def quiz(lesson: object) -> Quiz:
    """The Quick Quiz of ``lesson`` (``"02"`` or ``2``); display it or call its methods.

    Raises:
      ValueError: no quiz for that lesson (the message lists those that exist).
    """
    lesson_id = _lesson_id(lesson)
    path = resources.files(__name__) / f"{lesson_id}.json"
    if not path.is_file():
        raise ValueError(
            f"there is no quiz for lesson {lesson_id}; quizzes exist for " + ", ".join(available())
        )
    raw = json.loads(path.read_text(encoding="utf-8"))
    source = f"seglab/quizzes/{lesson_id}.json"
    questions = [_parse_question(i, q, source) for i, q in enumerate(raw["questions"], start=1)]
    return Quiz(lesson_id, str(raw.get("title", "")), questions)


def _view_class() -> type:
    """The anywidget class, defined on first use so that importing seglab stays light."""
    global _VIEW_CLASS
    if _VIEW_CLASS is not None:
        return _VIEW_CLASS
    try:
        import anywidget
        import traitlets
    except ImportError as exc:
        raise ImportError(
            "the quiz widget needs anywidget: pip install anywidget (it comes with the "
            "course's lab extra). Without it, print(quiz) and quiz.answer(1, 'a') still work."
        ) from exc

    class QuizView(anywidget.AnyWidget):
        """The browser view of a Quiz; judges nothing (see seglab/_widget/quiz.js)."""

        _esm = _ASSETS / "quiz.js"
        _css = _ASSETS / "quiz.css"

        lesson = traitlets.Unicode("").tag(sync=True)
        title = traitlets.Unicode("").tag(sync=True)
        status = traitlets.Unicode("").tag(sync=True)  # shown until the questions arrive
        questions: traitlets.List[dict[str, Any]] = traitlets.List([]).tag(sync=True)
        feedback: traitlets.Dict[str, Any] = traitlets.Dict({}).tag(sync=True)

        def __repr__(self) -> str:
            return "QuizView()"

    _VIEW_CLASS = QuizView
    return QuizView
