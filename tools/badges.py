"""Write every notebook's "Open in Colab" link and install cell from pyproject.toml.

    python tools/badges.py            # rewrite them where they differ (make badges)
    python tools/badges.py --check    # exit 1 and name each notebook that is out of date

The repository address lives in one place, ``[project.urls] Repository`` in pyproject.toml.
From it, each lesson (``notebooks/NN_*.ipynb``) and each exercise (``exercises/NN_*.ipynb`` and
``exercises/solutions/NN_*.ipynb``) gets:

- **the Colab link**, the line right under the title: a plain text link, ``[Open in Colab ↗]
  (https://colab.research.google.com/github/<owner>/<repo>/blob/main/<path>)``, which reads as a
  link offline too (the remote badge image did not). A solution notebook links its learner
  copy: that is the notebook learners open;
- **the install cell**, the first code cell: installs seglab from the repository when it is
  missing (Colab, a fresh kernel), from ``$SEGLAB_INSTALL`` instead when that is set (any pip
  requirement: a local checkout, a fork, a wheel).

Only the link line and the install cell's source change; outputs stay as they are (the install
cell prints nothing), so no notebook has to be executed again. ``tools/build_exercises.py``
copies a solution's link into its learner copy, where it is right as it is.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("notebooks", "exercises", "exercises/solutions")

INSTALL_MARK = "# Install seglab only when it is missing"
INSTALL_CELL = """\
# Install seglab only when it is missing (Colab, a fresh kernel elsewhere).
# In the course's own environment (`make lab`) seglab is already there and this does nothing.
# SEGLAB_INSTALL (any pip requirement, e.g. a local checkout) replaces the repository.
import importlib.util
import os
import subprocess
import sys

SEGLAB = os.environ.get("SEGLAB_INSTALL") or "seglab @ git+{repo}"
if importlib.util.find_spec("seglab") is None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", SEGLAB], check=True)"""

# the link line as written now, and the remote badge image that it replaces
_LINK = re.compile(
    r"^\s*(\[!\[Open In Colab\]\([^)]*\)\]|\[Open in Colab[^\]]*\])"
    r"\(https://colab\.research\.google\.com/github/[^)]*\)\s*$",
    re.IGNORECASE,
)


def repository(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """The ``Repository`` URL of pyproject.toml, e.g. ``https://github.com/owner/repo``."""
    urls = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("urls", {})
    url = str(urls.get("Repository", "")).rstrip("/")
    if not url.startswith("https://github.com/") or url.count("/") != 4:
        raise ValueError(
            f"pyproject.toml's [project.urls] Repository must be https://github.com/<owner>/"
            f"<repo> (Colab opens GitHub notebooks), got {url!r}"
        )
    return url


def colab_link(repo: str, path: str) -> str:
    """The markdown line that opens ``path`` (relative to the repository root) in Colab."""
    owner_repo = repo.removeprefix("https://github.com/")
    return (
        f"[Open in Colab ↗](https://colab.research.google.com/github/{owner_repo}/blob/main/{path})"
    )


def opened_path(path: Path, root: Path = ROOT) -> str:
    """What a notebook's link opens: itself, or for a solution notebook its learner copy."""
    relative = path.resolve().relative_to(root.resolve()).as_posix()
    return relative.replace("exercises/solutions/", "exercises/", 1)


def apply(nb: dict, repo: str, path: str) -> dict:
    """Return ``nb`` (an nbformat-4 dict) with its Colab link and install cell rewritten.

    The link goes right under the title line of the first (markdown) cell, replacing a link or
    badge already there; the install cell is the first code cell, recognised by its first line.
    """
    nb = json.loads(json.dumps(nb))  # a copy: the caller's notebook stays as it was
    cells = nb["cells"]
    first = cells[0] if cells else None
    if first is None or first["cell_type"] != "markdown":
        raise ValueError(f"{path}: the first cell must be the markdown title")
    lines = [line for line in "".join(first["source"]).split("\n") if not _LINK.match(line)]
    title, rest = lines[0], lines[1:]
    while rest and not rest[0].strip():
        rest = rest[1:]  # the blank lines around the link (or the removed one)
    new = [title, "", colab_link(repo, path), *(["", *rest] if rest else [])]
    first["source"] = _split("\n".join(new).rstrip("\n"))
    install = next((c for c in cells if c["cell_type"] == "code"), None)
    if install is None or not "".join(install["source"]).startswith(INSTALL_MARK):
        raise ValueError(f"{path}: the first code cell must be the install cell")
    install["source"] = _split(INSTALL_CELL.format(repo=repo))
    return nb


def _split(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def notebooks(root: Path = ROOT) -> list[Path]:
    """Every lesson and exercise notebook, in a stable order."""
    return [p for folder in FOLDERS for p in sorted((root / folder).glob("[0-9][0-9]_*.ipynb"))]


def _write(path: Path, nb: dict) -> None:
    text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # atomic: never half a notebook


def run(root: Path = ROOT, *, check: bool = False) -> list[Path]:
    """Rewrite (or, with ``check``, only find) the notebooks whose link or install cell differ."""
    repo = repository(root / "pyproject.toml")
    stale = []
    for path in notebooks(root):
        nb = json.loads(path.read_text(encoding="utf-8"))
        new = apply(nb, repo, opened_path(path, root))
        if new["cells"] != nb["cells"]:
            stale.append(path)
            if not check:
                _write(path, new)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale notebooks")
    args = parser.parse_args(argv)
    stale = run(check=args.check)
    for path in stale:
        verb = "out of date" if args.check else "rewritten"
        print(f"{path.relative_to(ROOT).as_posix()}: Colab link / install cell {verb}")
    if args.check and stale:
        print("run `make badges` (python tools/badges.py) and commit the notebooks")
        return 1
    if not stale:
        print(f"{len(notebooks())} notebooks: Colab links and install cells up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
