"""Tests for seglab.quizzes: each lesson's Quick Quiz, judged in Python, shown as text or widget."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import seglab
from seglab.quizzes import Question, Quiz, available, quiz

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def small_quiz() -> Quiz:
    return Quiz(
        "99",
        "a test quiz",
        [
            Question(1, "Pick `b`.", {"a": ("not b", "a is not b."), "b": ("b", "b is b.")}, "b"),
            Question(2, "Half of one?", {}, 0.5, tolerance=0.01, why="1 / 2.", hint="Divide."),
        ],
    )


# --------------------------------------------------------------------------- the content


VERDICT = re.compile(r"(?:right|correct|wrong|not quite|incorrect)\b", re.IGNORECASE)


def test_every_lesson_has_a_quiz():
    assert LESSONS and available() == LESSONS


@pytest.mark.parametrize("lesson", LESSONS)
def test_each_quiz_has_3_to_5_questions_with_an_explanation_for_every_answer(lesson):
    q = quiz(lesson)
    assert 3 <= len(q.questions) <= 5
    notebook = next((ROOT / "notebooks").glob(f"{lesson}_*.ipynb"))
    heading = json.loads(notebook.read_text(encoding="utf-8"))["cells"][0]["source"][0]
    assert q.title and q.title in heading, f"quiz {lesson} is titled {q.title!r}: {heading!r}"
    for question in q.questions:
        if question.kind == "choice":
            assert 3 <= len(question.choices) <= 4
            assert all(text and len(why) > 20 for text, why in question.choices.values())
            # the feedback already starts with "Right:" or "Not quite:"; a why that says it
            # again reads "Right: Right: ..."
            verdicts = [w for _, w in question.choices.values() if VERDICT.match(w)]
            assert not verdicts, f"quiz {lesson}: explanations that repeat the verdict: {verdicts}"
            assert question.answer in question.choices
        else:
            assert question.why and question.hint and question.tolerance >= 0
            wrong = float(question.answer) + question.tolerance + 1
            assert q.judge(question.number, question.answer).correct
            assert not q.judge(question.number, wrong).correct


def test_the_quizzes_do_not_always_put_the_answer_under_the_same_letter():
    letters = [
        question.answer
        for lesson in LESSONS
        for question in quiz(lesson).questions
        if question.kind == "choice"
    ]
    assert len(set(letters)) >= 3


# --------------------------------------------------------------------------- judging


def test_a_right_choice_prints_why_it_is_right(capsys):
    feedback = small_quiz().answer(1, "B")
    assert feedback.correct and str(feedback) == "Right: b is b."
    assert capsys.readouterr().out == "Question 1: Right: b is b.\n"


def test_a_wrong_choice_prints_why_it_is_wrong(capsys):
    feedback = small_quiz().answer(1, "a")
    assert not feedback.correct
    assert capsys.readouterr().out == "Question 1: Not quite: a is not b.\n"


@pytest.mark.parametrize("value", [0.5, 0.509, "0.495", 1 / 2])
def test_a_number_within_the_tolerance_is_right(value):
    assert small_quiz().judge(2, value).text == "Right: 1 / 2."


@pytest.mark.parametrize(("value", "side"), [(0.7, "too high"), (0, "too low"), ("-3", "too low")])
def test_a_wrong_number_says_which_side_and_hints_without_the_answer(value, side):
    feedback = small_quiz().judge(2, value)
    assert not feedback.correct and side in feedback.text and feedback.text.endswith("Divide.")
    assert "0.5" not in feedback.text


@pytest.mark.parametrize(
    ("number", "answer", "error", "words"),
    [
        (0, "a", ValueError, "questions 1 to 2"),
        (3, "a", ValueError, "there is no 3"),
        ("1", "a", TypeError, "must be an int"),
        (True, "a", TypeError, "must be an int"),
        (1, "c", ValueError, "options a, b"),
        (1, 2, TypeError, "answer with a letter"),
        (2, "half", ValueError, "wants a number"),
        (2, None, TypeError, "wants a number"),
        (2, True, TypeError, "wants a number"),
        (2, float("nan"), ValueError, "finite"),
    ],
)
def test_bad_answers_are_refused_with_what_to_do(number, answer, error, words):
    with pytest.raises(error, match=words):
        small_quiz().answer(number, answer)


@pytest.mark.parametrize(
    ("lesson", "error"),
    [("99", ValueError), ("two", ValueError), (None, TypeError), (2.0, TypeError)],
)
def test_an_unknown_lesson_is_refused(lesson, error):
    with pytest.raises(error, match="lesson"):
        quiz(lesson)


def test_no_quiz_names_the_lessons_that_have_one():
    with pytest.raises(ValueError, match="quizzes exist for 00, 01"):
        quiz(42)


def test_a_lesson_may_be_given_as_a_number():
    assert quiz(2).lesson == quiz("02").lesson == "02"
    assert seglab.quiz is quiz


def test_the_key_prints_every_answer_and_returns_them(capsys):
    assert small_quiz().key() == {1: "b", 2: 0.5}
    out = capsys.readouterr().out
    assert "1. b) b — b is b." in out and "2. 0.5 (± 0.01) — 1 / 2." in out


def test_the_text_form_lists_questions_and_options_but_no_answer():
    text = str(small_quiz())
    assert "1. Pick `b`." in text and "   a) not b" in text and "quiz.answer(1, 'a')" in text
    assert "b is b." not in text and "1 / 2." not in text


# --------------------------------------------------------------------------- the widget


def test_what_a_notebook_saves_names_no_question():
    q = quiz("02")
    bundle = q._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    saved = json.dumps(data) + json.dumps(q.widget.get_state(), default=str)
    for question in q.questions:
        assert question.text not in saved
        for _, why in question.choices.values():
            assert why not in saved


def test_the_view_gets_the_questions_when_a_browser_says_hello_and_never_an_answer():
    q = small_quiz()
    view = q.widget
    assert view.questions == []
    q._on_msg(view, {"type": "hello"}, [])
    assert [item["text"] for item in view.questions] == ["Pick `b`.", "Half of one?"]
    assert view.questions[0]["options"] == [["a", "not b"], ["b", "b"]]
    assert "b is b." not in json.dumps(view.questions) and "answer" not in view.questions[0]


def test_an_answer_from_the_browser_gets_the_same_feedback_as_the_text_form():
    q = small_quiz()
    view = q.widget
    q._on_msg(view, {"type": "answer", "question": 1, "value": "a", "seq": 1}, [])
    assert view.feedback == {"1": {"correct": False, "text": q.judge(1, "a").text, "seq": 1}}
    q._on_msg(view, {"type": "answer", "question": 2, "value": "x", "seq": 2}, [])
    assert re.search("wants a number", view.feedback["2"]["text"])
    assert not view.feedback["2"]["correct"] and "1" in view.feedback
