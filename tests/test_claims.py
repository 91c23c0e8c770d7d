"""seglab.claims, and the rule that every result sentence in a lesson is checked by claim()."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import seglab
from seglab.claims import ClaimError, claim

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# words that state a result; a markdown cell right after a code cell's output that uses one must be
# followed by a code cell calling claim(), or say why not with <!-- no-claim: reason -->
RESULT_WORDS = re.compile(
    r"\b(?:falls?|fell|falling|rises?|rose|rising|beats?|better|worse|improves?|improved|"
    r"higher|lower|more than|less than|finds?|found)\b|[≥≤%]",
    re.IGNORECASE,
)
NO_CLAIM = re.compile(r"<!--\s*no-claim:\s*\S[^>]*-->")
CALLS_CLAIM = re.compile(r"\bclaim\(")
# learner-facing cells talk to the learner, not to the test suite
ADDRESSES_TESTS = re.compile(
    r"the tests? (?:check|suite)|what the course checks|for the tests?\b|nbval", re.IGNORECASE
)


def unchecked_results(cells: list[dict]) -> list[tuple[int, list[str], str]]:
    """(index, result words, first line) of each markdown cell that follows an output, states a
    result and is neither followed by a claim() cell nor marked no-claim."""
    found = []
    for i, cell in enumerate(cells[1:], start=1):
        before = cells[i - 1]
        if cell["cell_type"] != "markdown" or before["cell_type"] != "code":
            continue
        if not before.get("outputs"):
            continue
        text = "".join(cell["source"])
        words = sorted({m.group(0).lower() for m in RESULT_WORDS.finditer(text)})
        if not words or NO_CLAIM.search(text):
            continue
        following = next((c for c in cells[i + 1 :] if c["cell_type"] == "code"), None)
        if following is not None and CALLS_CLAIM.search("".join(following["source"])):
            continue
        found.append((i, words, text.strip().splitlines()[0]))
    return found


def test_a_true_claim_prints_its_sentence_with_the_numbers(capsys):
    assert claim(0.2 < 0.9, "validation loss fell from {a:.2f} to {b:.2f}", a=0.9, b=0.2) is None
    assert capsys.readouterr().out == "✔ validation loss fell from 0.90 to 0.20\n"
    claim(np.float32(3) > 2, "numpy bools count")  # what (a > b) gives for NumPy scalars
    claim(torch.tensor(1.0) > 0, "so do one-element torch bool tensors")
    claim(True, "braces {stay} when no values are given")
    assert capsys.readouterr().out.splitlines()[-1] == "✔ braces {stay} when no values are given"


def test_a_false_claim_raises_naming_the_sentence_and_why_it_may_fail():
    with pytest.raises(ClaimError) as info:
        claim(False, "validation loss fell from {a:.2f} to {b:.2f}", a=0.5, b=0.7)
    message = str(info.value)
    assert "This no longer holds: validation loss fell from 0.50 to 0.70." in message
    assert "if you changed the settings above, that is expected" in message
    assert seglab.ClaimError is ClaimError and seglab.claim is claim


@pytest.mark.parametrize(
    "condition, match",
    [
        (np.array([True, False]), r"shape \(2,\).*\.all\(\) or \.any\(\)"),
        (torch.tensor([True, True]), r"shape \(2,\)"),
        (0.8, "got float 0.8"),
        (None, "got NoneType None"),
        ("yes", "got str 'yes'"),
        (1, "got int 1"),
    ],
)
def test_a_condition_that_is_not_one_truth_value_is_a_type_error(condition, match):
    with pytest.raises(TypeError, match=match):
        claim(condition, "anything")


def test_bad_text_is_explained(capsys):
    with pytest.raises(TypeError, match="text must be a str"):
        claim(True, 0.5)
    with pytest.raises(ValueError, match="text is empty"):
        claim(True, "  ")
    with pytest.raises(ValueError, match=r"names the field \{b\}.*pass it by keyword"):
        claim(True, "{a} then {b}", a=1)
    with pytest.raises(ValueError, match=r"names the field \{\}"):
        claim(True, "{} then", a=1)
    assert capsys.readouterr().out == ""  # nothing printed for a claim that was not checked


def test_importing_seglab_claims_imports_no_numpy_torch_or_ipython():
    code = (
        "import sys, seglab; seglab.claim(True, 'x');"
        "print(sorted(m for m in ('numpy', 'torch', 'IPython', 'ipywidgets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "[]"


def test_the_scan_finds_an_unchecked_result_and_accepts_a_claim_or_a_reason():
    output = {"output_type": "stream", "name": "stdout", "text": ["0.9\n"]}
    code = {"cell_type": "code", "source": ["print(loss)"], "outputs": [output]}
    said = {"cell_type": "markdown", "source": ["The loss falls."]}
    checked = {"cell_type": "code", "source": ["seglab.claim(a < b, 'the loss falls')"]}
    other = {"cell_type": "code", "source": ["print(1)"], "outputs": []}
    assert unchecked_results([code, said, other]) == [(1, ["falls"], "The loss falls.")]
    assert unchecked_results([code, said, checked]) == []
    reason = {"cell_type": "markdown", "source": ["It finds all. <!-- no-claim: a definition -->"]}
    assert unchecked_results([code, reason, other]) == []
    assert unchecked_results([other, said, other]) == []  # no output above: nothing to contradict


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_result_sentence_in_a_lesson_is_checked_by_claim(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    missing = unchecked_results(cells)
    assert not missing, (
        f"{path.name}: these markdown cells state a result of the output above them, but the "
        "next code cell does not check it with seglab.claim(...) (or the cell lacks "
        f"<!-- no-claim: reason -->): {missing}"
    )


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_no_lesson_cell_addresses_the_test_suite(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    talking = [
        (i, m.group(0))
        for i, cell in enumerate(cells)
        for m in [ADDRESSES_TESTS.search("".join(cell["source"]))]
        if m
    ]
    assert not talking, f"{path.name}: cells written for the test suite, not the learner: {talking}"
