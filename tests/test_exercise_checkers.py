"""Every exercise question against its reference, its placeholder and known wrong answers.

For each question: the reference solution passes; the learner copy's placeholder (a function
that raises NotImplementedError("your code here"), or ``...``) is "not attempted yet", and an
unfinished function of an earlier question that the answer calls is named; each known wrong
answer (tests/_wrong_*.py, at least four per question) fails first on the case it is pinned
to and is diagnosed as the known mistake it is pinned to (or as none); every case that is
not marked ``sanity`` is the first failure of at least one known wrong answer; each known
mistake of a question (seglab.checks.Mistake) fails and is named as itself. The reference
functions must also be the code of the solution notebooks, so that ``q.solution()`` shows
what the notebook shows.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import types
from collections.abc import Callable
from pathlib import Path

import _wrong_ex01_masks  # noqa: F401  (each registers its wrong answers in WRONG)
import _wrong_ex02_images  # noqa: F401
import _wrong_ex03_sam_prompts  # noqa: F401
import _wrong_ex04_segment_everything  # noqa: F401
import _wrong_ex05_unet  # noqa: F401
import _wrong_ex06_training_loop  # noqa: F401
import _wrong_ex07_labels_from_boxes  # noqa: F401
import _wrong_ex08_scaling_out  # noqa: F401
import nbformat
import numpy as np
import pytest
from _wrong_answers import WRONG

import seglab.exercises
from seglab._check_values import fingerprint, same_fingerprint
from seglab.checks import PLACEHOLDER_MESSAGE, Question
from seglab.prompts import validate_points
from seglab.sam.predictor import PredictionResult
from seglab.unet import UNet, count_parameters

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "exercises" / "solutions"


def _modules():
    names = [m.name for m in pkgutil.iter_modules(seglab.exercises.__path__) if m.name[:2] == "ex"]
    return [importlib.import_module(f"seglab.exercises.{name}") for name in sorted(names)]


MODULES = _modules()
QUESTIONS = {
    f"{module.__name__.rsplit('.', 1)[1]}.{name}": value
    for module in MODULES
    for name, value in vars(module).items()
    if isinstance(value, Question)
}


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """The models here are tiny: one thread is faster than two fighting for a busy CPU."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _placeholder(*args, **kwargs):
    raise NotImplementedError(PLACEHOLDER_MESSAGE)


# --------------------------------------------------------------------------- known wrong answers
# Each tests/_wrong_<module>.py registers its wrong answers in _wrong_answers.WRONG.

# --------------------------------------------------------------------------- the tests

WRONG_CASES = [
    pytest.param(qid, entry, id=f"{qid}-{entry.label}")
    for qid, entries in WRONG.items()
    for entry in entries
]
MISTAKES = [
    pytest.param(qid, mistake, id=f"{qid}-{mistake.name[:40]}")
    for qid, question in QUESTIONS.items()
    for mistake in question.mistakes
]


def _pinned_case(qid: str, fragment: str) -> str:
    """The one case of question ``qid`` whose description contains ``fragment``."""
    found = [c.description for c in QUESTIONS[qid].cases if fragment in c.description]
    assert len(found) == 1, f"{qid}: {fragment!r} names {len(found)} cases: {found}"
    return found[0]


def test_the_question_list_is_complete():
    assert QUESTIONS, "no exercise questions found"
    assert set(WRONG) <= set(QUESTIONS), set(WRONG) - set(QUESTIONS)


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_each_question_has_at_least_four_known_wrong_answers(qid):
    assert len(WRONG.get(qid, [])) >= 4, f"{qid}: add known wrong answers to this file"


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_every_case_but_the_sanity_ones_catches_a_known_wrong_answer(qid):
    pinned = {_pinned_case(qid, entry.case) for entry in WRONG.get(qid, [])}
    for case in QUESTIONS[qid].cases:
        if case.sanity:
            assert case.description not in pinned, f"{qid}: {case.description!r} is no sanity case"
        else:
            assert case.description in pinned, (
                f"{qid}: no known wrong answer fails first on {case.description!r}; add one "
                "(or mark the case sanity=True if it only checks that ordinary input works)"
            )


@pytest.mark.parametrize(("qid", "entry"), WRONG_CASES)
def test_a_known_wrong_answer_is_caught_by_its_pinned_case(qid, entry, capsys):
    question = QUESTIONS[qid]
    result = question.check(entry.answer)
    assert capsys.readouterr().out == result.message + "\n"
    assert result.status == "failed", f"{entry.label} passed {qid}: {result.message}"
    assert result.case == _pinned_case(qid, entry.case), result.message
    first_line = result.message.splitlines()[0]
    assert f"failed: {result.case}." in first_line
    assert any(word in result.message for word in ("Expected", "raised", "in place"))
    assert "Traceback" not in result.message
    assert result.mistake == (entry.mistake or ""), result.message
    if entry.mistake:
        assert f"Your function behaves like {entry.mistake} (the same results on" in (
            result.message
        )
        assert "Why:" not in result.message
    else:
        assert "behaves like" not in result.message


@pytest.mark.parametrize(("qid", "mistake"), MISTAKES)
def test_each_known_mistake_fails_and_is_named_as_itself(qid, mistake):
    result = QUESTIONS[qid].check(mistake.answer)
    assert result.status == "failed", f"the mistake {mistake.name!r} passes {qid}"
    assert result.mistake == mistake.name, result.message


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_each_known_mistake_has_a_known_wrong_answer_that_shows_it(qid):
    shown = {entry.mistake for entry in WRONG.get(qid, [])}
    for mistake in QUESTIONS[qid].mistakes:
        assert mistake.name in shown, f"{qid}: no wrong answer in this file shows {mistake.name!r}"


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_the_reference_passes(qid, capsys):
    question = QUESTIONS[qid]
    result = question.check(question.reference)
    assert result.passed, result.message
    assert capsys.readouterr().out.startswith(f"{question.name} ({question.title}): correct.")


def _best_by_prediction_result(masks, scores):
    """seglab's PredictionResult.best(): its own answer to ex03 q1."""
    masks = np.asarray(masks)
    return PredictionResult(masks, scores, np.zeros((len(masks), 2, 2))).best()


def _padding_unet(model, images):
    """UNet(pad_input=True) with the same weights: seglab's own answer to ex05 q2."""
    twin = UNet(model.config, pad_input=True)
    twin.load_state_dict(model.state_dict())
    return twin.eval()(images)


def _independent() -> dict[str, Callable]:
    """seglab's own functions that answer a question: a second, independent reference."""
    import seglab

    return {
        "ex01_masks.q1": seglab.iou,
        "ex01_masks.q2": seglab.dice,
        "ex01_masks.q3": seglab.iou,
        "ex02_images.q1": seglab.as_rgb_uint8,
        "ex02_images.q2": seglab.as_rgb_uint8,
        "ex03_sam_prompts.q1": _best_by_prediction_result,
        "ex03_sam_prompts.q2": validate_points,
        "ex05_unet.q1": count_parameters,
        "ex05_unet.q2": _padding_unet,
    }


@pytest.mark.parametrize("qid", sorted(_independent()))
def test_seglab_itself_passes_the_questions_it_answers(qid):
    result = QUESTIONS[qid].check(_independent()[qid])
    assert result.passed, result.message


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_the_placeholder_is_not_attempted(qid):
    question = QUESTIONS[qid]
    answer = _placeholder if question.kind == "function" else ...
    result = question.check(answer)
    assert result.status == "not attempted"
    assert "not attempted yet" in result.message


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_the_solution_text_is_valid_python(qid, capsys):
    QUESTIONS[qid].solution()
    out = capsys.readouterr().out
    ast.parse(QUESTIONS[qid].solution_text())
    assert "BEGIN SOLUTION" not in out


# --------------------------------------------------------------------------- notebooks agree


def _notebook_functions(path: Path) -> dict[str, str]:
    """Top-level function definitions in a notebook's code cells, as AST dumps."""
    found = {}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.FunctionDef):
                found[node.name] = ast.dump(node)
    return found


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_reference_solutions_are_the_solution_notebooks_code(module):
    number = module.__name__.rsplit(".", 1)[1][2:4]
    notebooks = sorted(SOLUTIONS.glob(f"{number}_*.ipynb"))
    assert len(notebooks) == 1, f"one solution notebook {number}_*.ipynb expected"
    in_notebook = _notebook_functions(notebooks[0])
    questions = [q for q in vars(module).values() if isinstance(q, Question)]
    for question in questions:
        if question.kind != "function":
            continue
        name = question.reference.__name__
        assert name in in_notebook, f"{notebooks[0].name} does not define {name}"
        source = ast.parse(question.solution_text()).body
        mine = next(n for n in source if isinstance(n, ast.FunctionDef) and n.name == name)
        assert ast.dump(mine) == in_notebook[name], f"{name} differs from {notebooks[0].name}"


# --------------------------------------------------------------------------- helpers and cases


def _unfinished(name: str) -> Callable:
    """A learner copy's unfinished function called ``name``."""
    namespace: dict = {}
    exec(
        f"def {name}(*args, **kwargs):\n    raise NotImplementedError({PLACEHOLDER_MESSAGE!r})",
        namespace,
    )
    return namespace[name]


def _calling(reference: Callable, **helpers: Callable) -> Callable:
    """``reference`` as a learner writes it in the notebook, calling the given helpers."""
    return types.FunctionType(
        reference.__code__,
        {**reference.__globals__, **helpers},
        reference.__name__,
        reference.__defaults__,
    )


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_uses_names_the_earlier_questions_whose_functions_the_reference_calls(qid):
    question = QUESTIONS[qid]
    module = importlib.import_module(f"seglab.exercises.{qid.split('.')[0]}")
    others = {
        q.reference.__name__: q.name
        for q in vars(module).values()
        if isinstance(q, Question) and q is not question and q.kind == "function"
    }
    called = set(getattr(question.reference, "__code__", None).co_names) & set(others)
    assert {q.name for q in question.uses} == {others[name] for name in called}


USED = [
    pytest.param(qid, used, id=f"{qid}-uses-{used.name}")
    for qid, question in sorted(QUESTIONS.items())
    for used in question.uses
]


@pytest.mark.parametrize(("qid", "used"), USED)
def test_an_unfinished_earlier_function_is_named_not_this_question(qid, used, capsys):
    question = QUESTIONS[qid]
    helper = used.reference.__name__
    answer = _calling(question.reference, **{helper: _unfinished(helper)})
    result = question.check(answer)
    assert capsys.readouterr().out == result.message + "\n"
    assert result.status == "not attempted"
    assert (
        f"{question.name} calls your {used.name} function `{helper}`, which is not written yet: "
        f"finish {used.name} first"
    ) in result.message
    assert "not attempted yet. Write your code" not in result.message


@pytest.mark.parametrize("qid", sorted(QUESTIONS))
def test_case_arguments_are_the_same_on_every_call(qid):
    """Known mistakes are recognised by comparing results on the same arguments."""
    for case in QUESTIONS[qid].cases:
        first, second = fingerprint(case.make_args()), fingerprint(case.make_args())
        assert same_fingerprint(first, second), f"{qid}: {case.description!r} is not seeded"


def test_an_error_that_does_not_name_the_fix_is_caught_by_what_it_leaves_out():
    """ex08's error cases list what the message must name (Case.mentions): an error raised
    by luck (Python's own TypeError) or one that leaves out the fix is reported as such."""
    import _wrong_ex08_scaling_out as wrong08

    vague = QUESTIONS["ex08_scaling_out.q2"].check(wrong08.per_rank_batch_with_a_vague_error)
    assert "its message does not name 30, 4, 28 and 32." in vague.message
    one = QUESTIONS["ex08_scaling_out.q2"].check(wrong08.per_rank_batch_suggesting_one_size)
    assert "its message does not name 28." in one.message
    lucky = QUESTIONS["ex08_scaling_out.q1"].check(wrong08.shard_checking_the_type_of_n_items_only)
    assert "raised TypeError(\"'<' not supported between instances of 'str'" in lucky.message
    assert "its message does not name rank." in lucky.message
