"""The project's promises about itself: one source of dependencies, README commands that CI runs,
and notebook links that all point at the one repository URL in pyproject.toml."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
README = (ROOT / "README.md").read_text()

# pip name -> conda-forge name, where they differ
CONDA_NAMES = {"torch": "pytorch"}


def _pip_requirements(extra: str | None = None) -> dict[str, Requirement]:
    project = PYPROJECT["project"]
    lines = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    reqs = [Requirement(line) for line in lines]
    return {CONDA_NAMES.get(r.name.lower(), r.name.lower()): r for r in reqs}


def _environment_yml() -> tuple[dict[str, str], dict[str, str], list[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda: dict[str, str] = {}
    pip: dict[str, str] = {}
    pip_lines: list[str] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_lines = list(dep["pip"])
            continue
        name, spec = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep).groups()
        conda[name.lower()] = spec.replace(" ", "")
    for line in pip_lines:
        if line.startswith("-e"):
            continue
        req = Requirement(line)
        pip[req.name.lower()] = str(req.specifier)
    return conda, pip, pip_lines


def _norm(spec: str) -> set[str]:
    return {part.strip() for part in spec.split(",") if part.strip()}


def test_environment_yml_matches_pyproject() -> None:
    conda, pip, pip_lines = _environment_yml()
    declared = {**conda, **pip}
    expected = {**_pip_requirements(), **_pip_requirements("lab")}
    missing = sorted(set(expected) - set(declared))
    assert not missing, f"environment.yml lacks {missing}; add them with pyproject's bounds"
    for name, req in expected.items():
        assert _norm(declared[name]) == _norm(str(req.specifier)), (
            f"{name}: environment.yml says {declared[name]!r}, pyproject says {req.specifier}"
        )
    extra = sorted(set(declared) - set(expected) - {"python", "pip"})
    assert not extra, f"environment.yml has {extra}, which pyproject does not declare"
    py = PYPROJECT["project"]["requires-python"]
    assert _norm(conda["python"]) == _norm(py), f"python {conda['python']} vs {py}"
    assert "-e .[lab]" in pip_lines, "environment.yml must install seglab itself: '-e .[lab]'"


def test_torchvision_is_declared_because_segment_anything_does_not() -> None:
    assert "torchvision" in _pip_requirements()


def test_license_is_an_spdx_string_and_the_build_backend_reads_it() -> None:
    # A table ({ text = "MIT" }) makes setuptools >= 77 print three deprecation boxes on every
    # install; the SPDX string (PEP 639) is read only from setuptools 77 on.
    assert isinstance(PYPROJECT["project"]["license"], str)
    requires = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    (setuptools,) = [r for r in requires if r.name == "setuptools"]
    assert "76.99" not in setuptools.specifier and "77.0" in setuptools.specifier


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one() -> None:
    assert re.search(r"^\s*make lab\s*$", README, re.M), "README must show `make lab`"
    assert re.search(r"^\s*make test\s*$", README, re.M), "README must show `make test`"
    ci = (ROOT / ".ci" / "run").read_text()
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")]
    assert "make test" in commands, ".ci/run must run exactly the README's test command"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_pytest_markers_are_documented_in_readme() -> None:
    for marker in ("slow", "browser", "gpu"):
        assert any(
            m.startswith(marker + ":")
            for m in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]
        )
        assert f"`{marker}`" in README, f"README should explain the `{marker}` marker"


REPO_URL = PYPROJECT["project"]["urls"]["Repository"].rstrip("/")
REPO_PATH = REPO_URL.removeprefix("https://github.com/")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds the course; it is empty"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_readme_links_every_notebook_with_a_colab_badge(nb: Path) -> None:
    badge = f"https://colab.research.google.com/github/{REPO_PATH}/blob/main/notebooks/{nb.name}"
    assert badge in README, f"README's notebook table lacks the Colab badge for {nb.name}"
    assert f"(notebooks/{nb.name})" in README, f"README does not link notebooks/{nb.name}"


def test_every_github_link_uses_the_one_repository_url() -> None:
    texts = {"README.md": README}
    for nb in NOTEBOOKS:
        texts[f"notebooks/{nb.name}"] = nb.read_text()
    for name, text in texts.items():
        for owner_repo in re.findall(r"github\.com/([\w.-]+/[\w.-]+)", text):
            if owner_repo.startswith(("facebookresearch/", "pytorch/")):
                continue  # upstream projects we cite
            assert owner_repo == REPO_PATH, f"{name} links {owner_repo}, not {REPO_PATH}"


def test_version_is_the_changelogs_latest_release() -> None:
    import seglab

    changelog = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, flags=re.MULTILINE)
    assert releases, "CHANGELOG.md has no '## [X.Y.Z] - date' release heading"
    assert seglab.__version__ == PYPROJECT["project"]["version"] == releases[0], (
        f"seglab.__version__ {seglab.__version__}, pyproject.toml "
        f"{PYPROJECT['project']['version']} and CHANGELOG.md's latest release {releases[0]} "
        "must be the same version"
    )
    assert "## [Unreleased]" in changelog  # Keep a Changelog: where the next changes go


# --------------------------------------------------------------------------- declared imports


def _third_party_imports() -> dict[str, dict[str, bool]]:
    """Top-level module name -> {file: imported at module level?} for every absolute import of
    a non-stdlib, non-seglab module anywhere in seglab/ (including inside functions and under
    ``if TYPE_CHECKING:``; those count as not module level only when inside a function)."""
    import ast

    found: dict[str, dict[str, bool]] = {}

    def visit(node: ast.AST, rel: str, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names = [child.module]
            for name in names:
                top = name.partition(".")[0]
                if top in sys.stdlib_module_names or top in ("seglab", "__future__"):
                    continue
                where = found.setdefault(top, {})
                where[rel] = where.get(rel, False) or not in_function
            visit(child, rel, inner)

    for path in sorted((ROOT / "seglab").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        visit(ast.parse(path.read_text(), filename=rel), rel, False)
    return found


def _distribution(module: str) -> str:
    from importlib.metadata import packages_distributions

    from packaging.utils import canonicalize_name

    dists = packages_distributions().get(module, [module])
    return canonicalize_name(dists[0])


def test_every_import_in_seglab_is_declared() -> None:
    # A package that another dependency happens to bring (scipy with scikit-image, requests with
    # pooch, traitlets with ipywidgets) must still be declared once seglab imports it itself.
    # Module-level imports need a runtime dependency; an import inside a function (a maintainer
    # path, such as ONNX export) may instead come from an optional extra.
    from packaging.utils import canonicalize_name

    runtime = {
        canonicalize_name(r.name) for r in map(Requirement, PYPROJECT["project"]["dependencies"])
    }
    extras = {
        canonicalize_name(Requirement(line).name)
        for lines in PYPROJECT["project"]["optional-dependencies"].values()
        for line in lines
    }
    imports = _third_party_imports()
    assert {"torch", "numpy", "requests", "scipy"} <= set(imports), sorted(imports)
    problems = []
    for module, files in sorted(imports.items()):
        dist = _distribution(module)
        module_level = sorted(f for f, top in files.items() if top)
        if module_level and dist not in runtime:
            problems.append(f"{module} ({dist}): imported at module level in {module_level}")
        elif dist not in runtime | extras:
            problems.append(f"{module} ({dist}): imported in {sorted(files)}")
    assert not problems, "declare these in pyproject.toml:\n" + "\n".join(problems)


def test_every_module_stays_under_600_lines():
    """Modules learners read stay short: split one that grows (and re-export its names)."""
    root = Path(__file__).resolve().parents[1] / "seglab"
    long = {
        str(p.relative_to(root)): n
        for p in sorted(root.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) >= 600
    }
    assert not long, f"modules of 600 lines or more (split them): {long}"


def test_what_the_lessons_run_is_in_the_course_install() -> None:
    # `make lab`, environment.yml and Colab's install cell install the dependencies plus `lab`,
    # not `dev`: a lesson that runs seglab.label needs the label extra's packages there too.
    # (A fresh `make lab` once failed lesson 08 with "labelling needs pycocotools".)
    course = {
        Requirement(line).name.lower()
        for line in PYPROJECT["project"]["dependencies"]
        + PYPROJECT["project"]["optional-dependencies"]["lab"]
    }
    lessons = "".join(path.read_text() for path in sorted((ROOT / "notebooks").glob("*.ipynb")))
    assert "seglab.label" in lessons, "no lesson runs seglab.label any more: drop this test"
    needed = {
        Requirement(line).name.lower()
        for line in PYPROJECT["project"]["optional-dependencies"]["label"]
    }
    assert needed <= course, f"lesson 08 runs seglab.label, which needs {needed - course}"
