"""Notebooks 00-03 in an environment built like Google Colab's (``make test-colab``).

Colab today runs Python 3.13 with torch, ipywidgets 7.7 and anywidget preinstalled, and no
seglab: each notebook's first cell installs it. This test builds such an environment in
``.colab-venv/`` (gitignored, reused by later runs): Python 3.13 (``SEGLAB_COLAB_PYTHON``, else
``python3.13`` on the PATH, else pyenv's), torch and torchvision from pip, ipywidgets 7.7,
anywidget, and what Colab ships for notebooks. Then it executes notebooks 00-03 there with
nbclient, with ``SEGLAB_INSTALL`` pointing the install cell at this checkout, and checks that:
the first cell installed seglab (it was not there before), every cell ran (cells tagged
``raises-exception`` may raise, as in nbval), and the kernel really was Python 3.13 with
ipywidgets 7.

Building the environment downloads a second torch (gigabytes), so ``make test`` skips this
test; ``make test-colab`` (which sets ``SEGLAB_COLAB=1``) runs it.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import private_jupyter_env

pytestmark = [pytest.mark.colab, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".colab-venv"
NOTEBOOKS = ["00_setup.ipynb", "01_pixels_and_masks.ipynb", "02_sam_point_prompts.ipynb"]
NOTEBOOKS.append("03_sam_interactive.ipynb")
# What Colab has before a notebook installs anything (the parts these notebooks touch)
COLAB_PACKAGES = [
    "torch",
    "torchvision",
    "ipywidgets>=7.7,<7.8",  # Colab: 7.7
    "anywidget",
    "ipykernel",
    "nbclient",
    "numpy",
    "matplotlib",
    "pillow",
    "scikit-image",
    "tqdm",
]

RUN = """
import json, os, sys, time
import nbformat
from nbclient import NotebookClient

out = {}
probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    "import sys, ipywidgets; print(list(sys.version_info[:2]), ipywidgets.__version__)")])
NotebookClient(probe, timeout=120, kernel_name="python3").execute()
out["kernel"] = probe.cells[0].outputs[0]["text"].strip()
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(path)}}).execute()
    errors = [o.get("ename") for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    first = "".join(o.get("text", "") for o in nb.cells[1].get("outputs", []))
    out[os.path.basename(path)] = {"seconds": time.perf_counter() - start,
                                   "errors": errors, "install_output": first}
print(json.dumps(out))
"""

PROBE = """
import importlib.util, json, sys
import ipywidgets
print(json.dumps({"python": list(sys.version_info[:2]), "ipywidgets": ipywidgets.__version__,
                  "seglab": importlib.util.find_spec("seglab") is not None}))
"""


def _python() -> str | None:
    """A Python 3.13 (Colab's today), else 3.12 (its pinnable runtime)."""
    chosen = os.environ.get("SEGLAB_COLAB_PYTHON")
    if chosen:
        return chosen
    for version in ("3.13", "3.12"):
        found = shutil.which(f"python{version}")
        pyenv = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python3")))
        # a pyenv shim is on PATH even where that version is not selected, and then fails:
        # take the first candidate that runs and says it is this version
        for candidate in [*([found] if found else []), *reversed(pyenv)]:
            if _runs_as(candidate, version):
                return candidate
    return None


def _runs_as(python: str, version: str) -> bool:
    """Whether ``python`` starts and is Python ``version`` (e.g. "3.13")."""
    check = "import sys; print('%d.%d' % sys.version_info[:2])"
    try:
        done = subprocess.run([python, "-c", check], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def _pip(*args: str) -> None:
    subprocess.run([str(VENV / "bin" / "python"), "-m", "pip", *args], check=True)


def _probe() -> dict:
    done = subprocess.run(  # run outside the checkout: python -c imports from the working folder
        [str(VENV / "bin" / "python"), "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        cwd=VENV,
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def colab_python() -> Path:
    """The Colab-like environment's Python, with seglab not installed."""
    if os.environ.get("SEGLAB_COLAB") != "1":
        pytest.skip("builds a second environment with its own torch: run `make test-colab`")
    python = _python()
    if python is None:
        pytest.fail("no Python 3.13 or 3.12 found: set SEGLAB_COLAB_PYTHON=/path/to/python3.13")
    if not (VENV / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)
        _pip("install", "-q", "--upgrade", "pip")
        _pip("install", "-q", *COLAB_PACKAGES)
    # a fresh Colab runtime has no seglab: take away what an earlier run installed
    _pip("uninstall", "-q", "-y", "seglab", "segment-anything")
    return VENV / "bin" / "python"


def test_notebooks_00_to_03_run_in_an_environment_like_colabs(colab_python, tmp_path):
    before = _probe()
    assert tuple(before["python"]) >= (3, 12), before
    assert before["ipywidgets"].startswith("7."), before
    assert not before["seglab"], "seglab must be missing, as on Colab"
    (tmp_path / "notebooks").mkdir()
    paths = []
    for name in NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / name, tmp_path / "notebooks" / name)
        paths.append(str(tmp_path / "notebooks" / name))
    env = {  # Jupyter's own folders private: no kernel spec of this machine can step in
        **private_jupyter_env(tmp_path / "jupyter"),
        "SEGLAB_INSTALL": str(ROOT),  # the install cell installs this checkout
        "TQDM_DISABLE": "1",
        "PYTHONHASHSEED": "0",
    }
    env.pop("SEGLAB_SAM_MODEL", None)
    done = subprocess.run(
        [str(colab_python), "-c", RUN, *paths],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=3600,
    )
    assert done.returncode == 0, f"a notebook failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    results = json.loads(done.stdout.strip().splitlines()[-1])
    kernel = results.pop("kernel")
    print("kernel:", kernel)
    assert kernel.startswith(str(before["python"])) and " 7." in kernel, kernel
    for name, result in results.items():
        errors = result["errors"]
        print(f"{name}: {result['seconds']:.1f} s; raises-exception cells raised {errors}")
    assert set(results) == set(NOTEBOOKS)
    after = _probe()
    assert after["seglab"], "the first notebook's install cell did not install seglab"
    location = subprocess.run(
        [str(colab_python), "-c", "import seglab; print(seglab.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.strip()
    assert "site-packages" in location, f"seglab was not installed, it came from {location}"
