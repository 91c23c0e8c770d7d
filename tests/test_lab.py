"""The README's `make lab` really serves the course: JupyterLab starts on localhost, lists the
notebooks, and (in a headless Chromium) opens the first one — whatever JupyterLab remembers.

JupyterLab restores the workspace it saved last: where it had notebook 03 open, a fresh clone's
`make lab` used to show notebook 03. `make lab` now keeps a workspace per clone
(``LAB_WORKSPACES``); these tests run it with private Jupyter folders (conftest's
``private_jupyter_env``) in which a stale default workspace with notebook 03 open is planted
where JupyterLab would otherwise look."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import launch_chromium, private_jupyter_env

ROOT = Path(__file__).resolve().parents[1]
FIRST = "notebooks/00_setup.ipynb"
OTHER = "notebooks/03_sam_interactive.ipynb"

#: What JupyterLab saves after a session that left notebook 03 open (JupyterLab 4's format).
STALE_WORKSPACE = {
    "data": {
        "layout-restorer:data": {
            "main": {
                "dock": {"type": "tab-area", "currentIndex": 0, "widgets": [f"notebook:{OTHER}"]},
                "current": f"notebook:{OTHER}",
            },
            "left": {"collapsed": True, "widgets": ["filebrowser"]},
            "right": {"collapsed": True, "widgets": []},
        },
        f"notebook:{OTHER}": {"data": {"path": OTHER, "factory": "Notebook"}},
    },
    "metadata": {"id": "default"},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


def plant_stale_workspace(folder: Path) -> Path:
    """Save STALE_WORKSPACE as the default workspace in ``folder``, as JupyterLab would."""
    from jupyterlab_server.workspaces_handler import WorkspacesManager

    return WorkspacesManager(str(folder)).save("default", json.dumps(STALE_WORKSPACE))


@pytest.fixture(scope="module")
def stale_workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """Private Jupyter folders, and where JupyterLab would look for its workspace without
    `make lab`'s own folder (named by JUPYTER_CONFIG_DIR and JUPYTERLAB_WORKSPACES_DIR), with
    a default workspace there that opens notebook 03."""
    env = private_jupyter_env(tmp_path_factory.mktemp("jupyter-private"))
    remembered = Path(env["JUPYTER_CONFIG_DIR"]) / "lab" / "workspaces"
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(remembered)
    return env, plant_stale_workspace(remembered)


@pytest.fixture(scope="module")
def lab_url(
    tmp_path_factory: pytest.TempPathFactory, stale_workspace: tuple[dict[str, str], Path]
) -> Iterator[str]:
    """Run `make lab` exactly as the README says, plus flags for an unattended server and a
    workspace folder of its own (a clone's .jupyter-workspaces stands for the learner's)."""
    port = _free_port()
    env, _ = stale_workspace
    runtime = Path(env["JUPYTER_RUNTIME_DIR"])
    workspaces = tmp_path_factory.mktemp("clone-workspaces")
    args = (
        f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token= --ServerApp.password="
    )
    log = (runtime / "lab.log").open("w")
    proc = subprocess.Popen(
        [
            "make",
            "--no-print-directory",
            "lab",
            f"VENV={sys.prefix}",
            f"LAB_ARGS={args}",
            f"LAB_WORKSPACES={workspaces}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so we can stop make and jupyter together
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"make lab exited with {proc.returncode}:\n{(runtime / 'lab.log').read_text()}"
                )
            try:
                _get(url + "/api/status")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        "JupyterLab did not answer within 120 s:\n"
                        + (runtime / "lab.log").read_text()
                    )
                time.sleep(0.5)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


@pytest.mark.slow
def test_make_lab_serves_the_notebooks(lab_url: str) -> None:
    listing = json.loads(_get(lab_url + "/api/contents/notebooks"))
    served = {item["name"] for item in listing["content"]}
    on_disk = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert on_disk and on_disk <= served, f"served {sorted(served)}, expected {sorted(on_disk)}"
    page = _get(lab_url + "/lab/tree/" + FIRST).decode()
    assert "JupyterLab" in page


def test_make_lab_keeps_a_workspace_per_clone() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LAB_WORKSPACES"}
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "lab", f"VENV={sys.prefix}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    (command,) = [line for line in dry.splitlines() if " lab " in line and "jupyter" in line]
    assert f'"--LabApp.workspaces_dir={ROOT}/.jupyter-workspaces"' in command, command
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert ".jupyter-workspaces/" in ignored, "a clone's workspace must not be committed"


def test_the_stale_workspace_is_where_jupyterlab_would_look(
    stale_workspace: tuple[dict[str, str], Path],
) -> None:
    """Without make lab's folder JupyterLab uses this one, even with JUPYTERLAB_WORKSPACES_DIR
    unset, so the tests below would see notebook 03 if `make lab` did not choose its own."""
    env, planted = stale_workspace
    env = {k: v for k, v in env.items() if k != "JUPYTERLAB_WORKSPACES_DIR"}
    code = "from jupyterlab.commands import get_workspaces_dir; print(get_workspaces_dir())"
    default = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert Path(default) == planted.parent
    assert OTHER in planted.read_text()


@pytest.mark.slow
def test_make_lab_ignores_the_workspace_jupyterlab_remembers(
    lab_url: str, stale_workspace: tuple[dict[str, str], Path]
) -> None:
    served = _get(lab_url + "/lab/api/workspaces/default").decode()
    assert OTHER not in served, f"make lab served the remembered workspace: {served[:300]}"
    assert json.loads(stale_workspace[1].read_text()) == STALE_WORKSPACE, "left untouched"


@pytest.mark.slow
@pytest.mark.browser
def test_the_first_notebook_opens_in_a_real_browser(lab_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{lab_url}/lab/tree/{FIRST}")
            heading = page.locator(".jp-Notebook .jp-RenderedMarkdown h1").first
            heading.wait_for(timeout=90_000)
            assert "Setup" in heading.inner_text()
            page.locator(".jp-Notebook .jp-OutputArea-output").first.wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "lab.png"))
            tabs = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tabLabel").all_inner_texts()
            assert Path(FIRST).name in tabs, tabs
            assert Path(OTHER).name not in tabs, f"the stale workspace was restored: {tabs}"
        finally:
            browser.close()
    assert (tmp_path / "lab.png").stat().st_size > 10_000
