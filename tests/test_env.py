"""Tests for seglab._env: every SEGLAB_* variable defined once, read through it, in the README."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from seglab import _env

ROOT = Path(__file__).resolve().parent.parent
NAME = re.compile(r"\bSEGLAB_[A-Z0-9_]+\b")
DEFINED = {v.name: v for v in _env.VARIABLES}


def _readme_table() -> list[list[str]]:
    """The rows of README.md's table whose header starts with "| variable |"."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| variable |"))
    rows = []
    for line in lines[start + 2 :]:  # after the header and the |---| line
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def test_readme_table_is_the_modules() -> None:
    rows = _readme_table()
    expected = [[f"`{v.name}`", v.meaning, v.default, v.read_by] for v in _env.VARIABLES]
    assert rows == expected, (
        "README.md's table of environment variables and seglab/_env.py disagree; paste this "
        "into README.md (or fix _env.py):\n" + _env.markdown_table()
    )


def test_names_are_unique_and_prefixed() -> None:
    assert len(DEFINED) == len(_env.VARIABLES)
    assert all(NAME.fullmatch(name) for name in DEFINED)
    assert {name for name in _env.__all__ if name.isupper() and name != "VARIABLES"} == {
        name for name, value in vars(_env).items() if isinstance(value, _env.EnvVar)
    }


def _texts():
    """(where, text) of every file that may name a variable: code, notebooks' sources, docs."""
    patterns = ["seglab/**/*.py", "tests/*.py", "tools/*.py", "bench/*.py", "seglab/_widget/*"]
    for pattern in patterns:
        for path in sorted(ROOT.glob(pattern)):
            yield path.relative_to(ROOT), path.read_text(encoding="utf-8")
    for name in ["README.md", "Makefile", "pyproject.toml", ".ci/run", "environment.yml"]:
        path = ROOT / name
        if path.exists():
            yield path.relative_to(ROOT), path.read_text(encoding="utf-8")
    for path in sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("exercises/**/*.ipynb")]):
        notebook = nbformat.read(path, as_version=4)
        yield path.relative_to(ROOT), "\n".join(cell.source for cell in notebook.cells)


def test_every_seglab_variable_in_the_repository_is_defined() -> None:
    found = {(name, str(where)) for where, text in _texts() for name in NAME.findall(text)}
    unknown = sorted(f"{name} ({where})" for name, where in found if name not in DEFINED)
    assert not unknown, f"define these in seglab/_env.py (and the README's table): {unknown}"


def test_only_env_spells_the_names_in_seglab() -> None:
    """Other modules read ``_env.DEVICE.get()``; a string "SEGLAB_..." there is a second home."""
    offenders = []
    for path in sorted((ROOT / "seglab").rglob("*.py")):
        if path.name == "_env.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if NAME.fullmatch(node.value) or re.match(r"SEGLAB_[A-Z0-9_]+=", node.value):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not offenders, offenders


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("  ", None)])
def test_unset_and_blank_are_none(monkeypatch, value, expected) -> None:
    if value is None:
        monkeypatch.delenv("SEGLAB_DEVICE", raising=False)
    else:
        monkeypatch.setenv("SEGLAB_DEVICE", value)
    assert _env.DEVICE.get() is expected


def test_values_are_stripped_and_read_each_time(monkeypatch) -> None:
    monkeypatch.setenv("SEGLAB_SAM_MODEL", " vit_b \n")
    assert _env.SAM_MODEL.get() == "vit_b"
    monkeypatch.setenv("SEGLAB_SAM_MODEL", "mini")
    assert _env.SAM_MODEL.get() == "mini"


def test_modules_read_the_variables_through_env(monkeypatch, tmp_path) -> None:
    from seglab.device import DEVICE_ENV_VAR, get_device
    from seglab.sam.download import BASE_URL_ENV_VAR, CHECKPOINT_ENV_VAR
    from seglab.sam.loading import MODEL_ENV_VAR
    from seglab.sam.registry import CACHE_DIR_ENV_VAR, get_cache_dir

    assert (DEVICE_ENV_VAR, CACHE_DIR_ENV_VAR, BASE_URL_ENV_VAR) == (
        _env.DEVICE.name,
        _env.CACHE_DIR.name,
        _env.SAM_BASE_URL.name,
    )
    assert (CHECKPOINT_ENV_VAR, MODEL_ENV_VAR) == (_env.SAM_CHECKPOINT.name, _env.SAM_MODEL.name)
    monkeypatch.setenv("SEGLAB_CACHE_DIR", f" {tmp_path} ")
    assert get_cache_dir() == tmp_path
    monkeypatch.setenv("SEGLAB_DEVICE", " cpu ")
    assert str(get_device()) == "cpu"
