"""Tests of tools/build_exercises.py: solutions are stripped, and --check catches stale copies."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools import build_exercises

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
SOLUTIONS = EXERCISES / "solutions"

BuildError = build_exercises.BuildError
strip = build_exercises.strip_solutions

SOLUTION_NOTEBOOKS = sorted(SOLUTIONS.glob("*.ipynb"))


# --------------------------------------------------------------------------- strip_solutions


def test_a_block_inside_a_function_becomes_raise_not_implemented():
    source = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    ### BEGIN SOLUTION\n"
        "    y = x + 1\n"
        "    return y\n"
        "    ### END SOLUTION\n"
        "\n"
        "print(1)"
    )
    assert strip(source) == (
        'def f(x):\n    """Doc."""\n    raise NotImplementedError("your code here")\n\nprint(1)'
    )


def test_a_top_level_block_keeps_the_assigned_names_as_ellipsis():
    source = (
        "import numpy as np\n"
        "### BEGIN SOLUTION\n"
        "points = np.array([[1, 2]])\n"
        "labels: np.ndarray = np.array([1])\n"
        "a, b = 1, 2\n"
        "points = points + 0\n"
        "### END SOLUTION\n"
        "q1.check(points)"
    )
    assert strip(source) == (
        "import numpy as np\n"
        "points = ...  # your code here\n"
        "labels = ...  # your code here\n"
        "a = ...  # your code here\n"
        "b = ...  # your code here\n"
        "q1.check(points)"
    )


def test_several_blocks_in_one_cell_are_all_replaced():
    source = (
        "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n\n\n"
        "def g(x):\n    if x:\n        ### BEGIN SOLUTION\n        return 2\n"
        "        ### END SOLUTION\n    return 3"
    )
    out = strip(source)
    assert out.count('raise NotImplementedError("your code here")') == 2
    assert '        raise NotImplementedError("your code here")\n    return 3' in out
    ast.parse(out)


def test_a_cell_without_markers_is_unchanged():
    source = "x = 1\n# ### BEGIN SOLUTION is only a marker on a line of its own\nprint(x)"
    assert strip(source) == source


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\nx = 1", "without an ### END SOLUTION"),
        ("x = 1\n### END SOLUTION", "without a ### BEGIN SOLUTION"),
        (
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION",
            "inside another solution",
        ),
        ("def f():\n    ### BEGIN SOLUTION\n    return 1\n### END SOLUTION", "indented"),
        ("def f():\n    ### BEGIN SOLUTION\n\n    ### END SOLUTION", "is empty"),
        ("### BEGIN SOLUTION\nprint(1)\n### END SOLUTION", "may only assign values"),
        ("### BEGIN SOLUTION\ndef f():\n    pass\n### END SOLUTION", "FunctionDef"),
        ("### BEGIN SOLUTION\nd['k'] = 1\n### END SOLUTION", "assigns to d['k']"),
        ("### BEGIN SOLUTION\nx = (\n### END SOLUTION", "not valid Python"),
    ],
)
def test_malformed_markers_are_refused_with_the_cell_named(source, message):
    with pytest.raises(BuildError) as info:
        strip(source, "demo.ipynb, cell 3")
    assert str(info.value).startswith("demo.ipynb, cell 3")
    assert message in str(info.value)


# --------------------------------------------------------------------------- learner_copy


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    text = nbformat.v4.new_markdown_cell("# Title\n### BEGIN SOLUTION is plain text here")
    solution = nbformat.v4.new_code_cell(
        "def f():\n    ### BEGIN SOLUTION\n    return 42\n    ### END SOLUTION",
        execution_count=3,
        outputs=[nbformat.v4.new_output("stream", text="42\n")],
    )
    solution.metadata["tags"] = ["keep-me"]
    solution.metadata["collapsed"] = True
    check = nbformat.v4.new_code_cell("q1.check(f)", execution_count=4)
    nb.cells = [text, solution, check]
    return nb


def test_learner_copy_strips_clears_and_keeps_tags_ids_and_text():
    solution = _notebook()
    before = nbformat.writes(solution)
    copy = build_exercises.learner_copy(solution, "07_demo.ipynb")
    assert nbformat.writes(solution) == before  # the solution notebook is not modified
    nbformat.validate(copy)
    text, code, check = copy.cells
    assert text.source == solution.cells[0].source
    assert code.source == 'def f():\n    raise NotImplementedError("your code here")'
    assert code.outputs == [] and code.execution_count is None
    assert check.execution_count is None
    assert code.metadata == {"tags": ["keep-me"]}
    assert [c.id for c in copy.cells] == [c.id for c in solution.cells]
    assert copy.metadata["kernelspec"]["name"] == "python3"
    assert copy.metadata["seglab"]["generated_from"] == "solutions/07_demo.ipynb"


def test_a_notebook_without_solution_blocks_is_refused():
    nb = _notebook()
    nb.cells = [nb.cells[0], nb.cells[2]]
    with pytest.raises(BuildError, match="would show every answer"):
        build_exercises.learner_copy(nb, "07_demo.ipynb")


# --------------------------------------------------------------------------- committed files


def test_every_exercise_has_a_solution_notebook():
    assert SOLUTION_NOTEBOOKS, "no solution notebooks in exercises/solutions"
    learner = sorted(p.name for p in EXERCISES.glob("*.ipynb"))
    assert learner == [p.name for p in SOLUTION_NOTEBOOKS]


def test_check_passes_on_the_committed_files(capsys):
    assert build_exercises.main(["--check"]) == 0
    assert "all up to date" in capsys.readouterr().out


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_learner_copies_hold_no_solution_and_valid_python(path):
    solution = nbformat.read(path, as_version=4)
    learner = nbformat.read(EXERCISES / path.name, as_version=4)
    removed, shown = set(), set()
    for cell in solution.cells:
        if cell.cell_type != "code":
            continue
        inside = False
        for line in cell.source.splitlines():
            if line.strip() in (build_exercises.BEGIN, build_exercises.END):
                inside = line.strip() == build_exercises.BEGIN
            elif len(line.strip()) > 12:  # ignore short lines such as "return x"
                (removed if inside else shown).add(line.strip())
    assert removed, f"{path.name} marks no solution"
    removed -= shown  # lines the notebook shows anyway (e.g. the buggy code to fix)
    assert removed, f"every solution line of {path.name} is shown elsewhere in it"
    for cell in learner.cells:
        if cell.cell_type != "code":
            continue
        assert build_exercises.BEGIN not in cell.source
        leaked = [line for line in cell.source.splitlines() if line.strip() in removed]
        assert not leaked, f"solution lines left in {path.name}: {leaked}"
        ast.parse(cell.source)


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_outputs_solutions_pass_and_learner_copies_are_not_attempted(path):
    """nbval re-executes these and compares; here the committed outputs say the right thing."""

    def check_outputs(nb):
        texts = []
        for cell in nb.cells:
            if cell.cell_type == "code" and ".check(" in cell.source:
                texts.append("".join(o.get("text", "") for o in cell.outputs))
        return texts

    solved = check_outputs(nbformat.read(path, as_version=4))
    fresh = check_outputs(nbformat.read(EXERCISES / path.name, as_version=4))
    assert solved and len(solved) == len(fresh)
    assert all(": correct." in text for text in solved), solved
    assert all(": not attempted yet." in text for text in fresh), fresh


# --------------------------------------------------------------------------- --check on a copy


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(EXERCISES, tmp_path / "exercises")
    return tmp_path / "exercises"


def _check(workdir: Path, capsys) -> tuple[int, str]:
    rc = build_exercises.main(
        ["--check", "--solutions", str(workdir / "solutions"), "--out", str(workdir)]
    )
    return rc, capsys.readouterr().out


def test_check_fails_after_a_solution_changes_and_names_the_file(workdir, capsys):
    assert _check(workdir, capsys)[0] == 0
    path = workdir / "solutions" / SOLUTION_NOTEBOOKS[0].name
    nb = nbformat.read(path, as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells[index].source += "\n# a new line the learner copy does not have"
    nbformat.write(nb, path)
    rc, out = _check(workdir, capsys)
    assert rc == 1
    assert f"{workdir / path.name}: out of date" in out
    assert f"cell(s) {index} differ" in out
    assert f"python tools/build_exercises.py {path.stem}" in out


def test_check_ignores_outputs_and_metadata(workdir, capsys):
    path = workdir / SOLUTION_NOTEBOOKS[0].name
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="something else\n")]
            cell.execution_count = 99
    nb.metadata["language_info"] = {"name": "python", "version": "3.99"}
    nbformat.write(nb, path)
    assert _check(workdir, capsys)[0] == 0


def test_check_fails_on_missing_orphan_and_unexecuted_copies(workdir, capsys):
    first = SOLUTION_NOTEBOOKS[0].name
    shutil.copy(workdir / first, workdir / "99_orphan.ipynb")
    rc, out = _check(workdir, capsys)
    assert rc == 1 and "99_orphan.ipynb: no solution notebook" in out

    (workdir / "99_orphan.ipynb").unlink()
    nb = nbformat.read(workdir / first, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count = None
    nbformat.write(nb, workdir / first)
    rc, out = _check(workdir, capsys)
    assert rc == 1 and "not executed" in out

    (workdir / first).unlink()
    rc, out = _check(workdir, capsys)
    assert rc == 1 and f"{workdir / first}: missing" in out


def test_building_without_execution_matches_the_committed_sources(workdir, capsys):
    out_dir = workdir / "rebuilt"
    out_dir.mkdir()
    for path in SOLUTION_NOTEBOOKS:
        target = build_exercises.build(path, out_dir, execute=False)
        built = nbformat.read(target, as_version=4)
        committed = nbformat.read(EXERCISES / path.name, as_version=4)
        assert build_exercises._signature(built) == build_exercises._signature(committed)
    assert sorted(p.name for p in out_dir.iterdir()) == [p.name for p in SOLUTION_NOTEBOOKS]


@pytest.mark.slow
def test_a_build_runs_the_learner_copy_and_a_failed_one_leaves_no_file(workdir):
    path = SOLUTION_NOTEBOOKS[0]
    out_dir = workdir / "rebuilt"
    out_dir.mkdir()
    target = build_exercises.build(path, out_dir)
    checks = [c for c in nbformat.read(target, as_version=4).cells if ".check(" in c.source]
    assert checks and all("not attempted yet" in c.outputs[0]["text"] for c in checks)

    broken = nbformat.read(path, as_version=4)
    broken.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('boom')"))
    broken_path = workdir / "solutions" / path.name
    nbformat.write(broken, broken_path)
    before = target.read_bytes()
    with pytest.raises(Exception, match="boom"):
        build_exercises.build(broken_path, out_dir)
    assert target.read_bytes() == before
    assert sorted(p.name for p in out_dir.iterdir()) == [path.name]


def test_the_script_builds_and_executes_as_the_makefile_calls_it(tmp_path):
    """`python tools/build_exercises.py NAME` (the Makefile's form) imports its sibling
    tools.execute_notebooks although a script run puts only tools/ on sys.path."""
    solutions, out_dir = tmp_path / "solutions", tmp_path / "out"
    solutions.mkdir()
    out_dir.mkdir()
    source = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n\nprint('ran')"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nbformat.write(nb, solutions / "01_tiny.ipynb")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_exercises.py"), "01_tiny",
         "--solutions", str(solutions), "--out", str(out_dir)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    built = nbformat.read(out_dir / "01_tiny.ipynb", as_version=4)
    assert 'raise NotImplementedError("your code here")' in built.cells[0].source
    assert built.cells[0].outputs[0]["text"] == "ran\n"  # executed by tools.execute_notebooks
