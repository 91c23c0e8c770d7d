"""The shape every lesson shares, checked on the saved notebooks (nothing is executed here).

Every ``notebooks/NN_*.ipynb``:

- opens with a markdown cell that states its objectives ("By the end of this notebook you
  can" and a list);
- ends with a Quick Quiz just before its Recap: a markdown cell whose first line is
  ``## Quick Quiz`` (saying how to answer where widgets do not show), then a code cell calling
  ``seglab.quiz("NN")`` with the lesson's own number, then the markdown cell whose first line is
  ``## Recap``;
- links at least one existing exercise notebook from its Recap (a relative link that resolves);
- from lesson 01 on, shows at least one common mistake in the one style all lessons use::

      ### ⚠ Common mistake: <short title>      markdown: what people do, why it looks right
      <code cell with outputs>                 the mistake run: its real error or wrong result
      (more cells may follow, but no markdown heading)
      **The fix:** ...                         markdown
      <code cell with outputs>                 the fix and its right result, without an error

A code cell whose saved output is an error must carry the ``raises-exception`` tag (the cells
that teach an error), so a mistake box never hides a real failure.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from seglab.quizzes import available

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))

OBJECTIVES = "By the end of this notebook you can"
QUIZ_HEADING = "## Quick Quiz"
RECAP_HEADING = "## Recap"
MISTAKE = re.compile(r"### ⚠ Common mistake: \S")
FIX = "**The fix:**"
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")


def number(path: Path) -> str:
    return path.name[:2]


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"])


def first_line(cell: dict) -> str:
    text = source(cell).strip()
    return text.splitlines()[0].strip() if text else ""


def is_heading(cell: dict) -> bool:
    return cell["cell_type"] == "markdown" and first_line(cell).startswith("#")


def raised(cell: dict) -> bool:
    return any(out.get("output_type") == "error" for out in cell.get("outputs", []))


def headed(all_cells: list[dict], heading: str) -> list[int]:
    """Indices of the markdown cells whose first line is ``heading``."""
    return [
        i
        for i, cell in enumerate(all_cells)
        if cell["cell_type"] == "markdown" and first_line(cell) == heading
    ]


def mistake_boxes(all_cells: list[dict]) -> list[tuple[int, str]]:
    """(index of the box's first cell, what is missing or "") for each Common-mistake box."""
    boxes = []
    for start, cell in enumerate(all_cells):
        if cell["cell_type"] != "markdown" or not MISTAKE.match(first_line(cell)):
            continue
        shown = fix = None
        for i in range(start + 1, len(all_cells)):
            here = all_cells[i]
            if is_heading(here):
                break
            if here["cell_type"] == "code" and here.get("outputs") and shown is None:
                shown = i
            if here["cell_type"] == "markdown" and source(here).lstrip().startswith(FIX):
                fix = i
                break
        if shown is None:
            problem = "no code cell with outputs runs the mistake before the next heading"
        elif fix is None:
            problem = (
                f"no markdown cell starting {FIX!r} after the mistake, before the next heading"
            )
        else:
            after = all_cells[fix + 1] if fix + 1 < len(all_cells) else None
            if after is None or after["cell_type"] != "code" or not after.get("outputs"):
                problem = f"the {FIX!r} cell is not followed by a code cell with outputs"
            elif raised(after):
                problem = "the fix's code cell raises"
            else:
                problem = ""
        boxes.append((start, problem))
    return boxes


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_the_first_cell_states_the_objectives(path):
    first = cells(path)[0]
    text = source(first)
    assert first["cell_type"] == "markdown" and text.startswith("# "), (
        f"{path.name}: the first cell should be the lesson's title in markdown ('# N · ...')"
    )
    assert OBJECTIVES in text, f"{path.name}: the first cell should say {OBJECTIVES!r} ..."
    after = text.split(OBJECTIVES, 1)[1]
    assert re.search(r"^- \S", after, re.MULTILINE), (
        f"{path.name}: the objectives should follow {OBJECTIVES!r} as a list ('- ...')"
    )


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_quick_quiz_of_the_lessons_own_number_comes_just_before_the_recap(path):
    all_cells, lesson = cells(path), number(path)
    quizzes, recaps = headed(all_cells, QUIZ_HEADING), headed(all_cells, RECAP_HEADING)
    assert len(recaps) == 1, (
        f"{path.name}: expected one markdown cell whose first line is {RECAP_HEADING!r}, "
        f"found {len(recaps)}"
    )
    assert len(quizzes) == 1, (
        f"{path.name}: expected one markdown cell whose first line is {QUIZ_HEADING!r}, "
        f"found {len(quizzes)}"
    )
    q, recap = quizzes[0], recaps[0]
    assert "quiz.answer(" in source(all_cells[q]) and "print(quiz)" in source(all_cells[q]), (
        f"{path.name}: the Quick Quiz cell should say how to answer without widgets "
        "(print(quiz), quiz.answer(1, 'b'))"
    )
    code = all_cells[q + 1] if q + 1 < len(all_cells) else None
    assert code is not None and code["cell_type"] == "code", (
        f"{path.name}: the Quick Quiz heading should be followed by its code cell"
    )
    called = re.findall(r"seglab\.quiz\(\s*[\"'](\d+)[\"']\s*\)", source(code))
    assert called == [lesson], (
        f'{path.name}: the quiz cell should call seglab.quiz("{lesson}") once, found {called}'
    )
    assert lesson in available(), f"seglab has no quiz for lesson {lesson}"
    assert recap == q + 2, (
        f"{path.name}: the Recap (cell {recap}) should come right after the quiz's code cell "
        f"(cell {q + 1}); put the Quick Quiz just before the Recap"
    )


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_the_recap_links_an_exercise_notebook_that_exists(path):
    all_cells = cells(path)
    recaps = headed(all_cells, RECAP_HEADING)
    assert recaps, f"{path.name}: no markdown cell whose first line is {RECAP_HEADING!r}"
    targets = MARKDOWN_LINK.findall(source(all_cells[recaps[0]]))
    exercises = [
        t
        for t in targets
        if "://" not in t and t.endswith(".ipynb") and "exercises" in Path(t).parts
    ]
    assert exercises, f"{path.name}: the Recap links no exercise notebook (links: {targets})"
    missing = [t for t in exercises if not (NOTEBOOKS / t).resolve().is_file()]
    assert not missing, (
        f"{path.name}: the Recap links exercise notebooks that do not exist: {missing}"
    )


@pytest.mark.parametrize("path", [p for p in LESSONS if number(p) != "00"], ids=lambda p: p.name)
def test_every_lesson_shows_a_common_mistake_run_and_then_its_fix(path):
    boxes = mistake_boxes(cells(path))
    assert boxes, (
        f"{path.name}: no markdown cell starting '### ⚠ Common mistake: <title>'; every "
        "lesson from 01 on shows at least one mistake, run, and its fix"
    )
    broken = [(i, problem) for i, problem in boxes if problem]
    assert not broken, f"{path.name}: Common-mistake boxes (cell index, problem): {broken}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_cell_saved_with_an_error_is_one_that_teaches_it(path):
    untagged = [
        i
        for i, cell in enumerate(cells(path))
        if cell["cell_type"] == "code"
        and raised(cell)
        and "raises-exception" not in cell.get("metadata", {}).get("tags", [])
    ]
    assert not untagged, (
        f"{path.name}: code cells saved with an error but without the 'raises-exception' tag: "
        f"{untagged}"
    )


def test_the_structure_checks_find_a_broken_mistake_box():
    def md(text: str) -> dict:
        return {"cell_type": "markdown", "source": [text]}

    def code(outputs: list[dict]) -> dict:
        return {"cell_type": "code", "source": ["x"], "metadata": {}, "outputs": outputs}

    out = [{"output_type": "stream", "name": "stdout", "text": ["1\n"]}]
    error = [{"output_type": "error", "ename": "ValueError", "evalue": "", "traceback": []}]
    head = md("### ⚠ Common mistake: a title\nWhat people do.")
    assert mistake_boxes([head, code(error), md("**The fix:** do this."), code(out)]) == [(0, "")]
    assert mistake_boxes([head, code([]), md("## Next section")])[0][1].startswith("no code cell")
    assert "no markdown cell" in mistake_boxes([head, code(out), md("## Recap"), md(FIX)])[0][1]
    assert "raises" in mistake_boxes([head, code(out), md(FIX + " x"), code(error)])[0][1]
    assert "not followed" in mistake_boxes([head, code(out), md(FIX + " x"), md("text")])[0][1]
    assert mistake_boxes([md("### Common mistake: no sign"), code(out)]) == []
