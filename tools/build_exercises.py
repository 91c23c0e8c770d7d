"""Build the learner copies exercises/NN_topic.ipynb from exercises/solutions/NN_topic.ipynb.

    python tools/build_exercises.py                  # rebuild and execute every learner copy
    python tools/build_exercises.py 01_masks_and_metrics
    python tools/build_exercises.py --check          # CI: fail if a learner copy is stale

The solution notebooks are the source; the learner copies are generated and never edited by
hand. In a solution notebook, the code a learner must write sits between two marker lines
(nbgrader's markers)::

    def binary_iou(pred, target):
        \"\"\"IoU of two binary masks.\"\"\"
        ### BEGIN SOLUTION
        ...reference code...
        ### END SOLUTION

and the learner copy gets a placeholder instead, at the indentation of ``### BEGIN SOLUTION``:

- markers **indented** (inside a function, a loop, an ``if``): one line
  ``raise NotImplementedError("your code here")``. The checkers
  (:mod:`seglab.checks`) report a function that raises it as "not attempted yet";
- markers at the **top level** of a cell: the block may only assign values
  (``points = ...``, ``k: int = ...``); each assigned name becomes
  ``name = ...  # your code here`` (the Ellipsis is the checkers' "not attempted" value).
  Anything else at the top level is refused: put it in a function.

Everything else is copied: markdown, the other code, cell tags and ids. Outputs and
execution counts are cleared, and the learner copy is then executed in a fresh kernel
(tools/execute_notebooks.py) so that its committed outputs, the "not attempted yet" messages,
are what nbval compares on every test run.

``--check`` generates each learner copy in memory and compares it with the committed one:
cell types, sources and tags must match exactly (outputs and metadata are ignored), and the
committed copy must have been executed. It exits 1 and names each stale file, a learner copy
without a solution notebook, and a solution notebook without a learner copy.

The workflow after editing a solution notebook::

    python tools/execute_notebooks.py exercises/solutions/01_masks_and_metrics.ipynb
    python tools/build_exercises.py 01_masks_and_metrics
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
SOLUTIONS = EXERCISES / "solutions"

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
PLACEHOLDER = "your code here"  # the same text as seglab.checks.PLACEHOLDER_MESSAGE
RAISE_PLACEHOLDER = f'raise NotImplementedError("{PLACEHOLDER}")'
KEPT_CELL_METADATA = ("tags",)

_NAME = re.compile(r"^(\d\d)_[a-z0-9_]+$")


class BuildError(ValueError):
    """A solution notebook whose markers cannot be turned into a learner copy."""


# --------------------------------------------------------------------------- stripping


def _assigned_names(block: str, where: str) -> list[str]:
    """Names assigned by a top-level solution block; BuildError for anything else."""
    try:
        tree = ast.parse(textwrap.dedent(block))
    except SyntaxError as exc:
        raise BuildError(f"{where}: the solution block is not valid Python ({exc}).") from exc
    names: list[str] = []
    for node in tree.body:
        targets: list[ast.expr]
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            raise BuildError(
                f"{where}: a solution block at the top level of a cell may only assign "
                f"values (name = ...), but line {node.lineno} of the block is a "
                f"{type(node).__name__}. Put that code in a function and indent the markers "
                "inside it."
            )
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            for element in elements:
                if not isinstance(element, ast.Name):
                    raise BuildError(
                        f"{where}: a top-level solution block may only assign plain names; "
                        f"line {node.lineno} assigns to {ast.unparse(element)}."
                    )
                if element.id not in names:
                    names.append(element.id)
    if not names:
        raise BuildError(f"{where}: the top-level solution block assigns nothing.")
    return names


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block with a placeholder.

    Arguments:
      source (str): the source of one code cell.
      where (str): names the cell in error messages, e.g. ``"01_masks.ipynb, cell 4"``.

    Returns:
      str: the source with each block replaced as the module docstring describes; unchanged
      when it has no markers.

    Raises:
      BuildError: a marker without its partner, nested markers, an END indented differently
        from its BEGIN, an empty block, or a top-level block that does more than assign.
    """
    out: list[str] = []
    block: list[str] | None = None
    indent = ""
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if block is not None:
                raise BuildError(f"{where}, line {number}: {BEGIN} inside another solution.")
            block, indent = [], line[: len(line) - len(line.lstrip())]
        elif stripped == END:
            if block is None:
                raise BuildError(f"{where}, line {number}: {END} without a {BEGIN} before it.")
            if line[: len(line) - len(line.lstrip())] != indent:
                raise BuildError(
                    f"{where}, line {number}: {END} is indented differently from its {BEGIN}."
                )
            if not "".join(block).strip():
                raise BuildError(f"{where}, line {number}: the solution block is empty.")
            if indent:
                out.append(indent + RAISE_PLACEHOLDER)
            else:
                names = _assigned_names("\n".join(block), where)
                out += [f"{name} = ...  # {PLACEHOLDER}" for name in names]
            block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(line)
    if block is not None:
        raise BuildError(f"{where}: {BEGIN} without an {END} after it.")
    return "\n".join(out)


def learner_copy(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The learner copy of a solution notebook: solutions stripped, outputs cleared.

    Arguments:
      solution (NotebookNode): the solution notebook (it is not modified).
      name (str): the notebook's file name, for error messages and the provenance note.

    Raises:
      BuildError: as :func:`strip_solutions`, or the notebook has no solution block at all
        (its learner copy would give every answer away).
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata = copy.deepcopy(solution.metadata)
    nb.metadata["seglab"] = {
        "generated_from": f"solutions/{name}",
        "generator": "tools/build_exercises.py (edit the solution notebook, not this file)",
    }
    found = False
    for index, cell in enumerate(solution.cells):
        new = copy.deepcopy(cell)
        if cell.cell_type == "code":
            new.source = strip_solutions(cell.source, f"{name}, cell {index}")
            found = found or new.source != cell.source
            new.outputs = []
            new.execution_count = None
        new.metadata = {
            k: copy.deepcopy(v) for k, v in cell.metadata.items() if k in KEPT_CELL_METADATA
        }
        nb.cells.append(new)
    if not found:
        raise BuildError(
            f"{name} has no {BEGIN} / {END} block, so its learner copy would show every "
            "answer. Mark the code the learner should write."
        )
    return nb


# --------------------------------------------------------------------------- build and check


def _signature(nb: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
    """What --check compares: cell types, sources and tags (not outputs, not metadata)."""
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def _execute(path: Path) -> nbformat.NotebookNode:
    from tools.execute_notebooks import execute  # here: --check needs no kernel machinery

    return execute(path)


def build(solution_path: Path, out_dir: Path, *, execute: bool = True) -> Path:
    """Write (and by default execute) the learner copy of one solution notebook.

    Returns:
      Path: the learner copy, ``out_dir / solution_path.name``.
    """
    solution = nbformat.read(solution_path, as_version=4)
    target = out_dir / solution_path.name
    nb = learner_copy(solution, solution_path.name)
    nbformat.validate(nb)
    # Built and executed under a temporary name in the same folder (so it runs from the same
    # working directory), then renamed: a failed build leaves the committed copy untouched.
    partial = target.with_name(f".{target.stem}.building.ipynb")
    try:
        nbformat.write(nb, partial)
        if execute:
            nbformat.write(_execute(partial), partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def check(solutions_dir: Path, out_dir: Path) -> list[str]:
    """Problems that make the committed learner copies out of date (empty: all good)."""
    problems: list[str] = []
    solution_names = {p.name for p in solutions_dir.glob("*.ipynb")}
    for name in sorted({p.name for p in out_dir.glob("*.ipynb")} - solution_names):
        problems.append(f"{out_dir / name}: no solution notebook {solutions_dir / name}")
    for name in sorted(solution_names):
        target = out_dir / name
        if not target.exists():
            problems.append(f"{target}: missing; run python tools/build_exercises.py")
            continue
        try:
            expected = learner_copy(nbformat.read(solutions_dir / name, as_version=4), name)
        except BuildError as exc:
            problems.append(f"{solutions_dir / name}: {exc}")
            continue
        committed = nbformat.read(target, as_version=4)
        want, have = _signature(expected), _signature(committed)
        if want != have:
            cells = [i for i, (a, b) in enumerate(zip(want, have, strict=False)) if a != b]
            if len(want) != len(have):
                detail = f"{len(have)} cells instead of {len(want)}"
            else:
                detail = f"cell(s) {', '.join(map(str, cells))} differ"
            problems.append(
                f"{target}: out of date with {solutions_dir / name} ({detail}); "
                f"run python tools/build_exercises.py {Path(name).stem}"
            )
            continue
        unexecuted = [
            i
            for i, c in enumerate(committed.cells)
            if c.cell_type == "code" and c.source.strip() and c.execution_count is None
        ]
        if unexecuted:
            problems.append(
                f"{target}: not executed (cell {unexecuted[0]} has no execution count), so "
                f"nbval has no outputs to compare; run python tools/build_exercises.py "
                f"{Path(name).stem}"
            )
    return problems


def _select(names: list[str], solutions_dir: Path) -> list[Path]:
    if not names:
        return sorted(solutions_dir.glob("*.ipynb"))
    paths = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb")
        path = solutions_dir / f"{stem}.ipynb"
        if not path.exists():
            known = ", ".join(p.stem for p in sorted(solutions_dir.glob("*.ipynb")))
            raise SystemExit(f"no solution notebook {path}; known: {known}")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to build, e.g. 01_masks_and_metrics")
    parser.add_argument("--check", action="store_true", help="write nothing; fail when stale")
    parser.add_argument("--no-execute", action="store_true", help="write without executing")
    parser.add_argument(
        "--solutions", type=Path, default=SOLUTIONS, help="folder of solution notebooks"
    )
    parser.add_argument("--out", type=Path, default=EXERCISES, help="folder of learner copies")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.solutions, args.out)
        for problem in problems:
            print(problem)
        n = len(list(args.solutions.glob("*.ipynb")))
        print(f"{n} learner copies checked: {'all up to date' if not problems else 'STALE'}")
        return 1 if problems else 0
    for path in _select(args.names, args.solutions):
        try:
            target = build(path, args.out, execute=not args.no_execute)
        except BuildError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{target}: written{'' if args.no_execute else ' and executed'}")
    return 0


if __name__ == "__main__":
    # Run as a script (python tools/build_exercises.py, as the Makefile does), Python puts tools/
    # on sys.path, not the repository root: add the root, so that `tools.` imports resolve as
    # they do under pytest and with `python -m tools.build_exercises`.
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
