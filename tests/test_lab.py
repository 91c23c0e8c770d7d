"""The README's `make lab` really serves the course: JupyterLab starts on localhost, lists the
notebooks, and (in a headless Chromium) opens the first one."""

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
from conftest import launch_chromium

ROOT = Path(__file__).resolve().parents[1]
FIRST = "notebooks/00_setup.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read()


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Run `make lab` exactly as the README says, plus flags for an unattended server."""
    port = _free_port()
    runtime = tmp_path_factory.mktemp("jupyter-runtime")
    args = (
        f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token= --ServerApp.password="
    )
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime)}
    log = (runtime / "lab.log").open("w")
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"VENV={sys.prefix}", f"LAB_ARGS={args}"],
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
        finally:
            browser.close()
    assert (tmp_path / "lab.png").stat().st_size > 10_000
