"""Tests of seglab.checks: the checker framework behind q.check(), q.hint(), q.solution()."""

from __future__ import annotations

import re
import textwrap
import warnings

import numpy as np
import pytest
import torch

from seglab._check_values import fingerprint, same_fingerprint
from seglab.checks import PLACEHOLDER_MESSAGE, Case, CheckResult, Mistake, Question, describe


def reference_add(a, b):
    """The reference solution of the toy question."""
    return float(a + b)


def toy(**kwargs) -> Question:
    """A question with one ordinary case, one edge case and one error case."""
    cases = [
        Case("two small numbers", (1, 2), expected=3.0),
        Case("a negative number", (-1, 1), expected=0.0, why="negatives count too."),
        Case("a None", (None, 1), raises=TypeError, why="None is the wrong kind of input."),
    ]
    options = {"hints": ["add them", "use +"], "solution": reference_add, "arg_names": ("a", "b")}
    options.update(kwargs)
    return Question("q9", "adding", cases, **options)


def strict_add(a, b):
    if a is None or b is None:
        raise TypeError("a and b must be numbers, got None")
    return float(a + b)


# --------------------------------------------------------------------------- results


def test_a_correct_function_passes_and_the_message_is_printed(capsys):
    result = toy().check(strict_add)
    assert result.passed and bool(result) and result.status == "passed"
    out = capsys.readouterr().out
    assert out == result.message + "\n"
    assert out.startswith("q9 (adding): correct")
    assert "3 cases" in out


def test_result_repr_is_readable_and_jupyter_shows_nothing_twice():
    result = CheckResult("q1", "failed", "q1 (x): not yet.\nmore")
    assert repr(result) == (
        "CheckResult(question='q1', status='failed', passed=False, message='q1 (x): not yet.')"
    )
    assert str(result) == "q1 (x): not yet.\nmore"
    assert result._ipython_display_() is None  # check() printed the message already


def test_placeholder_function_is_not_attempted(capsys):
    def placeholder(a, b):
        raise NotImplementedError(PLACEHOLDER_MESSAGE)

    result = toy().check(placeholder)
    assert result.status == "not attempted" and not result.passed
    assert "not attempted yet" in result.message
    assert "Traceback" not in capsys.readouterr().out


def test_ellipsis_value_is_not_attempted():
    assert toy().check(...).status == "not attempted"


def test_placeholder_reached_after_a_passing_case_is_a_failure_naming_the_case():
    def half_done(a, b):
        if a is None:
            raise NotImplementedError(PLACEHOLDER_MESSAGE)
        return float(a + b)

    result = toy().check(half_done)
    assert result.status == "failed"
    assert "Case 3 of 3 failed: a None" in result.message
    assert "still raises NotImplementedError('your code here')" in result.message


def test_an_exception_from_the_function_is_reported_with_the_case_not_raised():
    result = toy().check(lambda a, b: a / 0)
    assert not result.passed
    assert "Case 1 of 3 failed: two small numbers." in result.message
    assert "raised ZeroDivisionError('division by zero')" in result.message
    assert "a = 1 (int)" in result.message and "b = 2 (int)" in result.message


def test_wrong_value_shows_expected_and_returned_and_why():
    result = toy().check(lambda a, b: float(a + b) if a > 0 else 99.0)
    assert "Case 2 of 3 failed: a negative number." in result.message
    assert "Expected: 0.0 (float)." in result.message
    assert "Your function returned: 99.0 (float)." in result.message
    assert "Why: negatives count too." in result.message
    assert "q9.hint()" in result.message


def test_an_expected_error_that_is_not_raised_says_what_came_back():
    result = toy().check(lambda a, b: 0.0 if a is None else float(a + b))
    assert "Case 3 of 3 failed: a None." in result.message
    assert "Expected: a TypeError." in result.message
    assert "returned 0.0 (float) instead of raising" in result.message


def test_the_wrong_exception_type_is_named():
    def value_error(a, b):
        if a is None:
            raise ValueError("a is None")
        return float(a + b)

    result = toy().check(value_error)
    assert "Expected: a TypeError." in result.message
    assert "raised ValueError('a is None') instead" in result.message


def test_an_error_without_a_message_fails():
    def mute(a, b):
        if a is None:
            raise TypeError
        return float(a + b)

    result = toy().check(mute)
    assert not result.passed
    assert "raised TypeError (good) but with no message" in result.message


def test_passing_the_result_instead_of_the_function_is_explained():
    result = toy().check(3.0)
    assert result.status == "failed"
    assert "expected your function, but got 3.0 (float)" in result.message
    assert "without calling it" in result.message


def test_keyboard_interrupt_is_not_swallowed():
    def interrupted(a, b):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        toy().check(interrupted)


def test_warnings_are_quoted_not_printed(capsys):
    question = Question(
        "q1",
        "ratio",
        [Case("zero over zero", (np.float64(0.0), np.float64(0.0)), expected=1.0)],
        hints=["h"],
        solution="return 1.0",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning escaping check() would fail this test
        result = question.check(lambda a, b: a / b)
    assert "returned: nan (float64)" in result.message
    assert "It also warned: RuntimeWarning: invalid value encountered" in result.message
    assert capsys.readouterr().err == ""


def test_changing_an_input_in_place_fails_even_with_the_right_answer():
    question = Question(
        "q1",
        "sum",
        [Case("a 2x2 array", (np.ones((2, 2)),), expected=4.0)],
        hints=["h"],
        solution="return float(x.sum())",
        arg_names=("x",),
    )

    def sums_and_spoils(x):
        total = float(x.sum())
        x[0, 0] = 99
        return total

    result = question.check(sums_and_spoils)
    assert "changed its input x in place" in result.message
    assert question.check(lambda x: float(x.sum())).passed


def test_each_call_gets_fresh_arguments():
    seen = []
    question = Question(
        "q1",
        "first",
        [
            Case("a list", ([1, 2],), expected=1),
            Case("built per call", lambda: ([5, 6],), expected=5),
        ],
        hints=["h"],
        solution="return x[0]",
    )

    def pops(x):
        seen.append(list(x))
        return x.pop(0)

    assert question.check(pops).passed
    assert question.check(pops).passed  # the case's own list was never popped
    assert seen == [[1, 2], [5, 6], [1, 2], [5, 6]]


def test_messages_are_deterministic_and_free_of_addresses():
    class Thing:
        pass

    question = Question("q1", "thing", [Case("x", (1,), expected=2)], hints=["h"], solution="")
    first = question.check(lambda x: Thing()).message
    second = question.check(lambda x: Thing()).message
    assert first == second
    assert not re.search(r"0x[0-9a-f]{6,}", first)
    assert "Thing" in first


# --------------------------------------------------------------------------- comparisons


@pytest.mark.parametrize(
    ("returned", "fragment"),
    [
        (torch.tensor(0.5), "a tensor where a number is expected"),
        (np.array(0.5), "return a Python float"),
        (True, "expected a number, got bool"),
        ("0.5", "expected a number, got str"),
    ],
)
def test_a_number_of_the_wrong_kind_is_named(returned, fragment):
    question = Question("q1", "half", [Case("c", (), expected=0.5)], hints=["h"], solution="")
    result = question.check(lambda: returned)
    assert not result.passed
    assert fragment in result.message


def test_float_results_are_compared_with_a_tolerance():
    question = Question("q1", "third", [Case("c", (), expected=1 / 3)], hints=["h"], solution="")
    assert question.check(lambda: 0.3333333).passed
    assert not question.check(lambda: 0.333).passed
    nan_question = Question(
        "q2", "nan", [Case("c", (), expected=float("nan"))], hints=["h"], solution=""
    )
    assert nan_question.check(lambda: float("nan")).passed


@pytest.mark.parametrize(
    ("returned", "fragment"),
    [
        (np.zeros((2, 3), np.uint8), "shape (2, 3) instead of (2, 2)"),
        (np.zeros((2, 2), np.float64), "dtype float64 instead of uint8"),
        (np.array([[0, 0], [7, 0]], np.uint8), "1 of 4 values differ; the first at [1, 0]"),
        (torch.zeros(2, 2, dtype=torch.uint8), "a torch tensor where a numpy array is expected"),
        ([[0, 0], [0, 0]], "expected a numpy array, got list"),
    ],
)
def test_array_results_compare_shape_dtype_then_values(returned, fragment):
    expected = np.zeros((2, 2), np.uint8)
    question = Question("q1", "zeros", [Case("c", (), expected=expected)], hints=["h"], solution="")
    result = question.check(lambda: returned)
    assert fragment in result.message
    assert question.check(lambda: np.zeros((2, 2), np.uint8)).passed


def test_verify_cases_use_their_own_rule_and_words():
    question = Question(
        "q1",
        "even",
        [
            Case(
                "c",
                (2,),
                verify=lambda v, x: None if v % x == 0 else "it is odd",
                expect_text="even",
            )
        ],
        hints=["h"],
        solution="",
    )
    assert question.check(lambda x: 4).passed
    result = question.check(lambda x: 3)
    assert "Expected: even." in result.message and "What is wrong: it is odd." in result.message


# --------------------------------------------------------------------------- value questions


def _value_question() -> Question:
    def positive(v):
        return None if v > 0 else "it is not positive"

    return Question(
        "q2",
        "a positive number",
        [Case("positive", verify=positive, expect_text="a number above 0")],
        hints=["h"],
        solution="x = 1",
        kind="value",
    )


def test_value_questions_check_the_value():
    question = _value_question()
    assert question.check(5).passed
    assert question.check(...).status == "not attempted"
    result = question.check(-1)
    assert "Your value is: -1 (int)." in result.message
    assert "What is wrong: it is not positive." in result.message
    assert "forget to `return`" in question.check(None).message
    assert "could not be used: TypeError" in question.check("five").message


# --------------------------------------------------------------------------- hints, solution


def test_hints_are_numbered_and_out_of_range_is_explained(capsys):
    question = toy()
    question.hint()
    assert (
        capsys.readouterr().out == "Hint 1 of 2 for q9 (q9.hint(2) for the next one):\nadd them\n"
    )
    question.hint(2)
    assert capsys.readouterr().out == "Hint 2 of 2 for q9:\nuse +\n"
    question.hint(3)
    assert "hints 1 to 2" in capsys.readouterr().out


def test_solution_prints_the_reference_source(capsys):
    question = toy()
    question.solution()
    out = capsys.readouterr().out
    assert out.startswith("Solution for q9 (adding):")
    assert "def reference_add(a, b):" in out and "return float(a + b)" in out
    assert question.reference is reference_add
    # float(None + 1) raises a TypeError with a message, which is what the None case asks for
    assert question.check(reference_add).passed


def test_repr_of_a_question_says_how_to_use_it():
    assert repr(toy()) == (
        "<Question q9: adding (3 cases). q9.check(your function), q9.hint(), q9.solution()>"
    )


# --------------------------------------------------------------------------- describe


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "None"),
        (True, "True"),
        (3, "3 (int)"),
        (np.float32(0.25), "0.25 (float32)"),
        (1 / 3, "0.333333 (float)"),
        (float("nan"), "nan (float)"),
        (
            np.array([[1, 0], [0, 1]], bool),
            "array of shape (2, 2), dtype bool, values [[1, 0], [0, 1]]",
        ),
        (np.zeros((10, 10), bool), "array of shape (10, 10), dtype bool, 0 of 100 True"),
        (np.arange(100, dtype=np.uint8), "array of shape (100,), dtype uint8, values in [0, 99]"),
        (
            np.array([0.0, np.nan] * 10),
            "array of shape (20,), dtype float64, values in [0.0, 0.0], 10 NaN, distinct 0.0",
        ),
        (torch.ones(2, dtype=torch.float16), "torch tensor of shape (2,), dtype torch.float16, "),
        (ValueError("bad"), "ValueError('bad')"),
        ((1, 2.5), "tuple (1, 2.5)"),
        ([[1, 2]] * 30, "list of length 30: [[1, 2], [1, 2],"),
        (
            (np.zeros(2), None),
            "tuple of 2: (array of shape (2,), dtype float64, values [0., 0.]; None)",
        ),
        (reference_add, "function reference_add"),
        (..., "... (Ellipsis)"),
    ],
)
def test_describe(value, text):
    assert describe(value).startswith(text)


def test_describe_blanks_memory_addresses():
    assert "0x..." in describe(object())


# --------------------------------------------------------------------------- definitions


def test_a_case_must_say_what_is_right_exactly_once():
    with pytest.raises(ValueError, match="exactly one of expected, raises and verify"):
        Case("nothing")
    with pytest.raises(ValueError, match="exactly one"):
        Case("both", expected=1, raises=TypeError)
    with pytest.raises(ValueError, match="needs expect_text"):
        Case("verify", verify=lambda v: None)


def test_a_question_needs_cases_hints_and_a_known_kind():
    case = Case("c", expected=1)
    with pytest.raises(ValueError, match="at least one case"):
        Question("q1", "t", [], hints=["h"], solution="")
    with pytest.raises(ValueError, match="at least one hint"):
        Question("q1", "t", [case], hints=[], solution="")
    with pytest.raises(ValueError, match="kind must be"):
        Question("q1", "t", [case], hints=["h"], solution="", kind="graph")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="every case needs verify"):
        Question("q1", "t", [case], hints=["h"], solution="", kind="value")


# --------------------------------------------------------------------------- known mistakes


def _mistaken_toy() -> Question:
    """The toy question with two known mistakes: subtracting, and refusing negatives."""

    def subtracts(a, b):
        if a is None:
            raise TypeError("a is None")
        return float(a - b)

    def refuses_negatives(a, b):
        if a is None or a < 0:
            raise TypeError(f"a is {a}")
        return float(a + b)

    return toy(
        mistakes=[
            Mistake("a - b instead of a + b", subtracts, "Add the numbers: a + b."),
            Mistake("a check that refuses negatives", refuses_negatives, "Negatives are fine."),
        ]
    )


def test_a_known_mistake_is_named_instead_of_the_why(capsys):
    def minus(a, b):  # written differently from the mistake, behaves the same
        return float(-(b - a)) if a is not None else None

    result = _mistaken_toy().check(minus)
    assert result.status == "failed" and result.case == "two small numbers"
    assert result.mistake == "a - b instead of a + b"
    assert (
        "Your function behaves like a - b instead of a + b (the same results on case 1). "
        "Add the numbers: a + b."
    ) in result.message
    assert "Why:" not in result.message
    assert capsys.readouterr().out == result.message + "\n"


def test_a_mistake_is_named_only_when_every_case_run_so_far_agrees():
    def negative_as_error(a, b):  # case 2 raises TypeError as the mistake does
        if a is None or a < 0:
            raise TypeError("no negatives please")
        return float(a + b)

    result = _mistaken_toy().check(negative_as_error)
    assert result.mistake == "a check that refuses negatives"
    assert "(the same results on cases 1 to 2)" in result.message

    def negative_as_value_error(a, b):  # raises another type: not the known mistake
        if a is None or a < 0:
            raise ValueError("no negatives please")
        return float(a + b)

    result = _mistaken_toy().check(negative_as_value_error)
    assert result.mistake == "" and "behaves like" not in result.message
    assert "Why: negatives count too." in result.message


def test_a_mistake_that_passes_the_failing_case_is_not_named():
    def mute(a, b):  # fails case 3 for its empty message; the mistakes pass case 3
        if a is None:
            raise TypeError
        return float(a + b)

    result = _mistaken_toy().check(mute)
    assert result.case == "a None" and result.mistake == ""


def test_a_mistake_compares_what_the_call_left_in_its_arguments():
    def clear(x):
        x[:] = 0
        return 0

    def clear_half(x):
        x[:1] = 0
        return 0

    question = Question(
        "q1",
        "in place",
        [Case("a list", (np.ones(2),), expected=0)],
        hints=["h"],
        solution="",
        mistakes=[Mistake("clearing the input", clear, "Leave x alone.")],
    )
    assert question.check(clear).mistake == "clearing the input"
    assert question.check(clear_half).mistake == ""


def test_a_mistake_needs_a_name_a_fix_and_a_function():
    with pytest.raises(ValueError, match="needs a name and a fix"):
        Mistake("", reference_add, "fix")
    with pytest.raises(TypeError, match="must be a function"):
        Mistake("m", 3.0, "fix")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mistakes are for functions"):
        Question(
            "q1",
            "t",
            [Case("c", verify=lambda v: None, expect_text="x")],
            hints=["h"],
            solution="",
            kind="value",
            mistakes=[Mistake("m", reference_add, "fix")],
        )


def test_sanity_cases_are_marked():
    assert Case("ordinary input", (1,), expected=1, sanity=True).sanity
    assert not Case("edge", (1,), expected=1).sanity


# --------------------------------------------------------------------------- unfinished helpers


def _learner_function(source: str, name: str, **env):
    """A function defined the way a notebook defines it (its own code, its own globals)."""
    namespace = dict(env)
    exec(textwrap.dedent(source), namespace)
    return namespace[name]


def test_an_unfinished_helper_of_an_earlier_question_is_named(capsys):
    first = toy()  # its function is reference_add
    second = Question(
        "q10",
        "add twice",
        [Case("c", (1, 2), expected=6.0)],
        hints=["h"],
        solution="return 2 * reference_add(a, b)",
        uses=[first],
    )
    helper = _learner_function(
        'def reference_add(a, b):\n    raise NotImplementedError("your code here")\n',
        "reference_add",
    )
    twice = _learner_function(
        "def twice(a, b):\n    return 2 * reference_add(a, b)\n",
        "twice",
        reference_add=helper,
    )
    result = second.check(twice)
    assert result.status == "not attempted"
    assert (
        "q10 calls your q9 function `reference_add`, which is not written yet: finish q9 first"
    ) in result.message
    assert capsys.readouterr().out == result.message + "\n"
    own = _learner_function(
        'def twice(a, b):\n    raise NotImplementedError("your code here")\n', "twice"
    )
    assert "not attempted yet. Write your code" in second.check(own).message


def test_an_unfinished_function_that_is_no_question_is_named_too():
    def outer(a, b):
        return inner(a, b)

    def inner(a, b):
        raise NotImplementedError(PLACEHOLDER_MESSAGE)

    result = toy().check(outer)
    assert result.status == "not attempted"
    assert "Your function calls `inner`, which is not written yet" in result.message


def test_a_question_can_only_use_function_questions():
    with pytest.raises(ValueError, match="no reference function"):
        Question(
            "q2", "t", [Case("c", expected=1)], hints=["h"], solution="", uses=[toy(solution="")]
        )


def test_another_not_implemented_error_is_a_failure_not_a_placeholder():
    def unsupported(a, b):
        raise NotImplementedError("reflect padding of 3-D input is not supported")

    result = toy().check(unsupported)
    assert result.status == "failed" and result.case == "two small numbers"
    assert "raised NotImplementedError('reflect padding" in result.message


def test_prints_of_the_function_are_quoted_for_the_failing_case_only(capsys):
    def chatty(a, b):
        print("adding", a, b)
        return float(a + b) if a != -1 else 5.0

    result = toy().check(chatty)
    out = capsys.readouterr().out
    assert out == result.message + "\n"
    assert "(It also printed: 'adding -1 1\\n'.)" in result.message
    assert "adding 1 2" not in out


# --------------------------------------------------------------------------- fingerprints


def test_fingerprints_compare_values_not_objects():
    assert same_fingerprint(fingerprint(1), fingerprint(1.0000001))
    assert not same_fingerprint(fingerprint(1), fingerprint(1.1))
    assert same_fingerprint(fingerprint(float("nan")), fingerprint(np.float32("nan")))
    assert not same_fingerprint(fingerprint(np.zeros(2)), fingerprint(np.zeros(2, np.float32)))
    assert same_fingerprint(fingerprint([np.ones(2), "a"]), fingerprint([np.ones(2), "a"]))
    assert same_fingerprint(fingerprint(object()), fingerprint(object()))  # not compared
    array = np.ones(2)
    snapshot = fingerprint(array)
    array[0] = 5
    assert not same_fingerprint(snapshot, fingerprint(array))  # a copy, not a view


def test_a_module_fingerprint_holds_its_weights_and_gradients():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    before = fingerprint(model)
    model(torch.ones(1, 2)).sum().backward()
    with_grad = fingerprint(model)
    assert not same_fingerprint(before, with_grad)
    model.zero_grad()
    assert same_fingerprint(before, fingerprint(model))


# --------------------------------------------------------------------------- errors from libraries


def _refuse_empty() -> Question:
    return Question(
        "q1",
        "largest value",
        [
            Case("three numbers", (np.array([1, 5, 2]),), expected=5),
            Case("no numbers", (np.zeros(0, int),), raises=ValueError, why="say it is empty."),
        ],
        hints=["h"],
        solution="",
        arg_names=("values",),
    )


def test_an_expected_error_raised_inside_numpy_does_not_count():
    def lucky(values):
        return int(np.asarray(values).max())  # numpy's max() of nothing raises ValueError

    result = _refuse_empty().check(lucky)
    assert result.status == "failed" and result.case == "no numbers"
    assert "the right type, but numpy" in result.message
    assert "raise your own error" in result.message

    def checked(values):
        if len(values) == 0:
            raise ValueError("values is empty; pass at least one number")
        return int(np.asarray(values).max())

    assert _refuse_empty().check(checked).passed


# --------------------------------------------------------------------------- what an error names


def _per_rank() -> Question:
    return Question(
        "q1",
        "per-rank batch",
        [
            Case("32 on 4", (32, 4), expected=8),
            Case(
                "30 on 4",
                (30, 4),
                raises=ValueError,
                mentions=("30", "28", "32"),
                why="name the valid batches.",
            ),
            Case(
                "a string",
                ("32", 4),
                raises=TypeError,
                mentions=(("global_batch", "global batch"),),
            ),
        ],
        hints=["h"],
        solution="",
        arg_names=("global_batch", "world_size"),
    )


def _divide(global_batch, world_size, *, message="global batch {g}: use {lo} or {hi}"):
    if not isinstance(global_batch, int):
        raise TypeError(f"global batch must be an int, got {global_batch!r}")
    if global_batch % world_size:
        lo, hi = global_batch // world_size * world_size, -(-global_batch // world_size)
        raise ValueError(message.format(g=global_batch, lo=lo, hi=hi * world_size))
    return global_batch // world_size


def test_an_error_must_name_what_the_case_mentions():
    assert _per_rank().check(_divide).passed

    def vague(g, w):
        return _divide(g, w, message="not divisible")

    result = _per_rank().check(vague)
    assert result.case == "30 on 4"
    assert "Expected: a ValueError whose message names 30, 28 and 32." in result.message
    assert "the right type, but its message does not name 30, 28 and 32." in result.message
    assert "Why: name the valid batches." in result.message

    def half(g, w):  # 128 is not 28, 3.28 is not 28: whole words only
        return _divide(g, w, message="{g} is not divisible: use 128 or 3.28 or {hi}")

    result = _per_rank().check(half)
    assert "does not name 28." in result.message


def test_alternative_mentions_and_an_error_raised_by_luck():
    def lucky(g, w):  # no type check: '32' % 4 raises Python's own TypeError, naming nothing
        if g % w:
            return _divide(g, w)
        return g // w

    result = _per_rank().check(lucky)
    assert result.case == "a string"
    assert "does not name global_batch (or global batch)." in result.message
    with pytest.raises(ValueError, match="mentions is for a case that expects an error"):
        Case("c", (1,), expected=1, mentions=("1",))


def test_a_list_of_tensors_changed_in_place_is_caught():
    question = Question(
        "q1",
        "total",
        [Case("two tensors", ([torch.ones(2), torch.ones(2)],), expected=4.0)],
        hints=["h"],
        solution="",
        arg_names=("tensors",),
    )

    def adds_in_place(tensors):
        total = tensors[0]
        total += tensors[1]  # rank 0's tensor, changed
        return float(total.sum())

    result = question.check(adds_in_place)
    assert "changed its input tensors in place" in result.message
    assert question.check(lambda ts: float(sum(t.sum() for t in ts))).passed
