"""Tests for tools/badges.py: every notebook's Colab link and install cell, from pyproject.toml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tools import badges

ROOT = Path(__file__).resolve().parents[1]
OLD_BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/old/place/blob/main/notebooks/01_x.ipynb)"
)


def notebook(title_cell: str, install: str = badges.INSTALL_MARK + " (old text)\n") -> dict:
    return {
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": title_cell},
            {
                "cell_type": "code",
                "id": "b",
                "metadata": {},
                "source": install,
                "outputs": [],
                "execution_count": None,
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def source(cell: dict) -> str:
    return "".join(cell["source"])


def test_every_notebook_in_the_repository_is_up_to_date():
    assert badges.run(check=True) == [], "run `make badges` and commit the notebooks"


def test_the_old_image_badge_becomes_a_text_link_to_the_repository_in_pyproject():
    nb = notebook(f"# 1 · Title\n\n{OLD_BADGE}\n\nFirst paragraph.")
    new = badges.apply(nb, "https://github.com/me/fork", "notebooks/01_x.ipynb")
    link = "https://colab.research.google.com/github/me/fork/blob/main/notebooks/01_x.ipynb"
    expected = f"# 1 · Title\n\n[Open in Colab ↗]({link})\n\nFirst paragraph."
    assert source(new["cells"][0]) == expected
    install = source(new["cells"][1])
    assert '"seglab @ git+https://github.com/me/fork"' in install
    assert 'os.environ.get("SEGLAB_INSTALL")' in install
    assert source(nb["cells"][0]).count("colab-badge.svg") == 1  # the input is left alone
    assert badges.apply(new, "https://github.com/me/fork", "notebooks/01_x.ipynb") == new


def test_a_notebook_without_a_link_gets_one_under_its_title():
    new = badges.apply(notebook("# Exercise 4\nText right away."), "https://github.com/a/b", "p")
    assert source(new["cells"][0]).split("\n")[:4] == [
        "# Exercise 4",
        "",
        "[Open in Colab ↗](https://colab.research.google.com/github/a/b/blob/main/p)",
        "",
    ]


def test_a_solution_notebook_links_the_learner_copy(tmp_path: Path):
    path = tmp_path / "exercises" / "solutions" / "05_unet.ipynb"
    assert badges.opened_path(path, tmp_path) == "exercises/05_unet.ipynb"
    assert badges.opened_path(tmp_path / "notebooks" / "03_x.ipynb", tmp_path) == (
        "notebooks/03_x.ipynb"
    )


@pytest.mark.parametrize(
    "url", ["", "https://gitlab.com/a/b", "https://github.com/only-owner", "github.com/a/b"]
)
def test_a_repository_that_colab_cannot_open_is_refused(tmp_path: Path, url: str):
    (tmp_path / "pyproject.toml").write_text(f'[project]\nurls = {{Repository = "{url}"}}\n')
    with pytest.raises(ValueError, match=r"Repository must be https://github\.com/"):
        badges.repository(tmp_path / "pyproject.toml")


def test_notebooks_without_a_title_or_install_cell_are_refused():
    with pytest.raises(ValueError, match="markdown title"):
        badges.apply({"cells": []}, "https://github.com/a/b", "p")
    with pytest.raises(ValueError, match="install cell"):
        badges.apply(notebook("# T", install="import numpy\n"), "https://github.com/a/b", "p")


def test_check_names_a_stale_notebook_and_make_badges_fixes_it(tmp_path: Path, capsys):
    (tmp_path / "notebooks").mkdir()
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / "notebooks" / "01_x.ipynb"
    path.write_text(json.dumps(notebook(f"# T\n\n{OLD_BADGE}")))
    assert badges.run(tmp_path, check=True) == [path]
    assert "colab-badge.svg" in path.read_text()  # --check writes nothing
    assert badges.run(tmp_path) == [path]
    assert badges.run(tmp_path, check=True) == []
    written = json.loads(path.read_text())
    assert "Open in Colab ↗" in source(written["cells"][0])
    assert not list(tmp_path.glob("notebooks/.*.tmp"))
