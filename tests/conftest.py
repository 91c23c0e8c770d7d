"""Shared pytest setup: a headless matplotlib, the gpu/browser markers' skip rules, and private
Jupyter folders for the tests that start JupyterLab."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib
import pytest

# No windows from tests. Set on this process only, not through MPLBACKEND: the notebook kernels
# that nbval starts inherit the environment and must keep their inline backend, or their
# figures would vanish from the outputs nbval compares.
matplotlib.use("Agg")
os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars stay out of captured output


def chromium_path() -> str | None:
    """Debian's chromium (or SEGLAB_CHROMIUM), which Playwright drives; None when absent."""
    explicit = os.environ.get("SEGLAB_CHROMIUM")
    if explicit:
        return explicit if os.path.exists(explicit) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


#: Flags for headless Debian chromium as root in a container with no network: no sandbox (root),
#: no GPU, and none of the background requests that would wait on the network.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def launch_chromium(playwright):  # -> playwright.sync_api.Browser
    """Debian's chromium, headless, through a running ``sync_playwright()`` context."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=list(CHROMIUM_ARGS))


#: Jupyter's per-user folders, each moved under a test's own folder by private_jupyter_env
PRIVATE_JUPYTER_DIRS = {
    "JUPYTER_CONFIG_DIR": "config",  # lab/workspaces and lab/user-settings live here by default
    "JUPYTER_DATA_DIR": "data",
    "JUPYTER_RUNTIME_DIR": "runtime",
    "IPYTHONDIR": "ipython",  # the kernel's profile and startup files
}
_JUPYTERLAB_DIR_VARS = ("JUPYTERLAB_WORKSPACES_DIR", "JUPYTERLAB_SETTINGS_DIR")


def private_jupyter_env(base: Path) -> dict[str, str]:
    """``os.environ`` with Jupyter's config, data, runtime and IPython folders under ``base``.

    JupyterLab restores the workspace it saved last (the notebooks that were open) and reads the
    user's settings from these folders, so a test that starts it must not share them with this
    machine's own JupyterLab: what a learner did yesterday must not change what a test sees.
    ``JUPYTERLAB_WORKSPACES_DIR`` and ``JUPYTERLAB_SETTINGS_DIR`` are dropped for the same reason
    (then they default to folders under ``base/config/lab``).
    """
    env = {k: v for k, v in os.environ.items() if k not in _JUPYTERLAB_DIR_VARS}
    for name, folder in PRIVATE_JUPYTER_DIRS.items():
        (base / folder).mkdir(parents=True, exist_ok=True)
        env[name] = str(base / folder)
    return env


def _gpu_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or bool(mps is not None and mps.is_available())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if "gpu" in item.keywords]
    if gpu_items and not _gpu_available():
        skip = pytest.mark.skip(reason="needs a CUDA or MPS device; none on this machine")
        for item in gpu_items:
            item.add_marker(skip)
    browser_items = [item for item in items if "browser" in item.keywords]
    if browser_items and chromium_path() is None:
        if os.environ.get("SEGLAB_REQUIRE_BROWSER") == "1":
            raise pytest.UsageError(
                "SEGLAB_REQUIRE_BROWSER=1 but no chromium was found: install it "
                "(apt-get install chromium) or set SEGLAB_CHROMIUM to its path."
            )
        skip = pytest.mark.skip(reason="no chromium (apt-get install chromium, or SEGLAB_CHROMIUM)")
        for item in browser_items:
            item.add_marker(skip)
