"""Tests of tools/execute_notebooks.py on tiny generated notebooks, each run in a real kernel.

A python3 kernel starts in about a second: the whole file starts five. Checked: outputs are
written (streams merged, no timing metadata, the notebook's folder as working directory, the
environment the docstring promises), ``--check`` passes on the written file and fails on a
changed output, a failing cell stops without touching the file, and machine paths are scrubbed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from tools import execute_notebooks

ROOT = Path(__file__).resolve().parents[1]


def write_notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nbformat.write(nb, path)
    return path


@pytest.fixture(autouse=True)
def _restore_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """execute() sets TQDM_DISABLE and PYTHONHASHSEED in this process (its kernels inherit
    them): unset here through monkeypatch, they are restored after each test."""
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)


TWO_CELLS = (
    "import os, pathlib\n"
    "print(pathlib.Path.cwd().name, os.environ['TQDM_DISABLE'], os.environ['PYTHONHASHSEED'])",
    "for word in ('one', 'two', 'three'):\n    print(word, flush=True)\n6 * 7",
)


def test_outputs_are_written_and_check_compares_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "course"
    folder.mkdir()
    path = write_notebook(folder / "00_tiny.ipynb", *TWO_CELLS)

    assert execute_notebooks.main([str(folder)]) == 0  # a folder: every notebook in it
    assert f"{path}: " in capsys.readouterr().out
    nb = nbformat.read(path, as_version=4)
    first, second = nb.cells
    assert [o.output_type for o in first.outputs] == ["stream"]
    assert first.outputs[0].text == "course 1 0\n"  # the notebook's folder; env as documented
    # three flushed prints merged into one stream output, then the cell's value
    assert [o.output_type for o in second.outputs] == ["stream", "execute_result"]
    assert second.outputs[0].text == "one\ntwo\nthree\n"
    assert second.outputs[1].data["text/plain"] == "42"
    assert (first.execution_count, second.execution_count) == (1, 2)
    assert "execution" not in second.metadata  # no timings: a rerun leaves the file unchanged

    assert execute_notebooks.main(["--check", str(path)]) == 0
    assert "unchanged" in capsys.readouterr().out

    second.outputs[1].data["text/plain"] = "41"  # a stale committed output
    nbformat.write(nb, path)
    before = path.read_bytes()
    assert execute_notebooks.main(["--check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "OUTPUTS DIFFER" in out and f"re-execute these and commit the result:\n  {path}" in out
    assert path.read_bytes() == before  # --check never writes


def test_a_failing_cell_stops_and_leaves_the_file_untouched(tmp_path: Path) -> None:
    path = write_notebook(tmp_path / "broken.ipynb", "x = 1", "1 / 0", "print('never runs')")
    before = path.read_bytes()
    with pytest.raises(CellExecutionError, match="ZeroDivisionError"):
        execute_notebooks.main([str(path)])
    assert path.read_bytes() == before


def test_machine_paths_are_scrubbed_from_outputs() -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError")])
    here = str(ROOT / "seglab" / "train.py")
    nb.cells[0].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=f"loaded {here}\n"),
        nbformat.v4.new_output(
            "error", ename="ValueError", evalue=f"bad file {here}", traceback=[f"File {here}"]
        ),
        nbformat.v4.new_output("display_data", data={"text/plain": here}),
    ]
    execute_notebooks.scrub_paths(nb)
    stream, error, display = nb.cells[0].outputs
    assert stream.text == "loaded <seglab>/seglab/train.py\n"
    assert error.evalue == "bad file <seglab>/seglab/train.py"
    assert error.traceback == ["File <seglab>/seglab/train.py"]
    assert display.data["text/plain"] == "<seglab>/seglab/train.py"
    assert str(ROOT) not in str(nb)


def test_the_script_runs_as_the_makefile_calls_it(tmp_path: Path) -> None:
    """`python tools/execute_notebooks.py PATH` (the Makefile's form) works without the
    package on sys.path."""
    path = write_notebook(tmp_path / "tiny.ipynb", "print('hello')")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "execute_notebooks.py"), str(path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "written" in done.stdout
    assert nbformat.read(path, as_version=4).cells[0].outputs[0].text == "hello\n"


def test_widget_ids_are_the_same_on_every_execution_and_stay_linked(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path / "widgets.ipynb",
        "import ipywidgets\nbox = ipywidgets.VBox([ipywidgets.IntSlider(3)])\nbox",
    )
    first, second = (execute_notebooks.execute(path) for _ in range(2))
    assert nbformat.writes(first) == nbformat.writes(second)
    state = first.metadata["widgets"][execute_notebooks.WIDGET_STATE]["state"]
    shown = first.cells[0].outputs[0]["data"]["application/vnd.jupyter.widget-view+json"]
    assert shown["model_id"] in state  # the output still points at a saved model
    box = next(m for m in state.values() if m["model_name"] == "VBoxModel")
    (child,) = box["state"]["children"]
    assert child.removeprefix("IPY_MODEL_") in state  # and the models at each other
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in state)  # a UUID's shape
