"""SamClicker and the Quick Quiz in a real JupyterLab, clicked in headless Chromium.

A temporary folder holds a small notebook that shows the clicker on a synthetic image with
mini-SAM. The test starts JupyterLab there (localhost, no token), opens the notebook with
Playwright, runs it, then uses the widget as a learner would: a click, a shift-click, a drag
(a box), undo, another of the three masks, negative mode, reset. After each action it checks
both sides: the browser (the status line, the number of mask pixels the page decoded,
``data-*`` attributes set by seglab/_widget/clicker.js) and the kernel (the notebook's
``on_change`` callback writes the clicker's state to state.json). The clicks are aimed at
image pixels through the displayed scale, so the test also checks that the page reports
coordinates in pixels of the original image. A screenshot is saved as ``clicker.png`` under
the test's tmp_path.

The quiz test opens a second notebook in the same JupyterLab, shows ``seglab.quiz("01")``,
clicks a wrong and then the right option of its first question and reads the feedback the
kernel sent back (``quiz.png``).
"""

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

pytestmark = [pytest.mark.slow, pytest.mark.browser]

IMAGE_H, IMAGE_W = 192, 256
OBJECT = (64, 48, 176, 144)  # x0, y0, x1, y1 of the orange rectangle in the image

SETUP_CELL = f"""\
import json
import os
import pathlib

import numpy as np
import torch

from seglab.sam.mini import MINI_WEIGHTS_PATH, build_mini_sam
from seglab.widgets import SamClicker

torch.set_num_threads(1)
if MINI_WEIGHTS_PATH.exists():
    from seglab.sam.loading import load_sam

    sam = load_sam("mini", device="cpu")
else:  # before the trained weights ship: random weights still give (meaningless) masks
    torch.manual_seed(0)
    sam = build_mini_sam()

image = np.full(({IMAGE_H}, {IMAGE_W}, 3), 30, dtype=np.uint8)
x0, y0, x1, y1 = {OBJECT}
image[y0:y1, x0:x1] = (230, 120, 40)
pathlib.Path("kernel.pid").write_text(str(os.getpid()))


def record(c):
    state = {{
        "points": c.points.tolist(),
        "labels": c.labels.tolist(),
        "box": None if c.box is None else c.box.tolist(),
        "pixels": None if c.mask is None else int(c.mask.sum()),
        "selected": c.selected,
        "status": c.status,
    }}
    pathlib.Path("state.json.tmp").write_text(json.dumps(state))
    os.replace("state.json.tmp", "state.json")
"""

SHOW_CELL = """\
clicker = SamClicker(sam, image, display_width=512)
clicker.on_change(record)
clicker
"""


QUIZ_CELLS = [
    "import os\nimport pathlib\n\nimport seglab\n\n"
    'pathlib.Path("kernel-quiz.pid").write_text(str(os.getpid()))',
    'quiz = seglab.quiz("01")\nquiz',
]


def _notebook(cells: list[str] | None = None) -> dict:
    def code(source: str) -> dict:
        return {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": source,
        }

    return {
        "cells": [code(c) for c in (cells or [SETUP_CELL, SHOW_CELL])],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """JupyterLab serving a temporary folder with the notebook; stopped afterwards."""
    root = tmp_path_factory.mktemp("clicker-lab")
    (root / "clicker.ipynb").write_text(json.dumps(_notebook()))
    (root / "quiz.ipynb").write_text(json.dumps(_notebook(QUIZ_CELLS)))
    private = tmp_path_factory.mktemp("jupyter-private")
    # no "get notified about Jupyter news?" toast over the widget
    news = private / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    # start the notebook's kernel without a "Select Kernel" dialog: accepting that dialog
    # after a cell ran would swap the kernel and lose the cell's variables
    tracker = private / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"autoStartDefaultKernel": true}')
    env = {  # Jupyter's config, data, runtime, IPython, settings and workspaces: all private
        **private_jupyter_env(private),
        "JUPYTERLAB_SETTINGS_DIR": str(private / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(private / "workspaces"),
    }
    port = _free_port()
    command = [
        str(Path(sys.prefix) / "bin" / "jupyter"),
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--ServerApp.root_dir={root}",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--LabApp.news_url=",
    ]
    if hasattr(os, "getuid") and os.getuid() == 0:
        command.append("--allow-root")
    log_path = private / "lab.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(url + "/api/status", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not answer in 120 s:\n{log_path.read_text()}")
                time.sleep(0.5)
        yield url, root
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server shuts its kernels down
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        for pid_file in (root / "kernel.pid", root / "kernel-quiz.pid"):
            if pid_file.exists():  # kernels run in their own session: make sure they ended
                try:
                    os.kill(int(pid_file.read_text()), signal.SIGKILL)
                except ProcessLookupError:
                    pass


def _state(root: Path, status: str, timeout: float = 30) -> dict:
    """The state the kernel wrote for the event whose status line is ``status``.

    The kernel sends the new state to the browser before its on_change callbacks run, so the
    page can be one step ahead of state.json: wait for the file to catch up.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            state = json.loads((root / "state.json").read_text())
            if state["status"] == status:
                return state
        except (OSError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"state.json never showed the status {status!r}")
        time.sleep(0.1)


#: the output mime type of a displayed ipywidget
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _wait_saved_with_widget(path: Path, timeout: float = 30) -> None:
    """Wait until the notebook file on disk holds a widget view output: JupyterLab has saved it.

    Read from the disk rather than from the page: a reload before the save lands reopens the
    unexecuted file, with no widget to show. The wait this replaced, for no
    ``.jp-mod-current .jp-mod-dirty`` element, once let the reload through while the file on
    disk had no outputs at all (CI, 2026-12-05).
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            cells = json.loads(path.read_text())["cells"]
        except (OSError, ValueError, KeyError):  # not there, or caught mid-write
            cells = []
        outputs = [o for c in cells for o in c.get("outputs", [])]
        if any(WIDGET_VIEW in o.get("data", {}) for o in outputs):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} was not saved with the widget's output")
        time.sleep(0.1)


# What the notebook's cells are doing: "widget" once the clicker shows, "busy" while a cell is
# queued or running ([*]), "done" when none is and the last cell has run without a widget
# (an error), "idle" when cells are waiting to be run (a dropped Run All).
_CELLS_STATE = """(widget) => {
  if (document.querySelector(widget)) return 'widget';
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')];
  const texts = prompts.map(e => e.textContent);
  if (texts.some(t => t.includes('*'))) return 'busy';
  return /\\[[0-9]+\\]/.test(texts[texts.length - 1] || '') ? 'done' : 'idle';
}"""


def _close_kernel_restarting_dialog(page) -> None:
    """Wait for JupyterLab's "Kernel Restarting" dialog after a kernel died, and close it.

    JupyterLab notices a dead kernel within seconds and covers the page with this dialog; a
    learner closes it, then clicks. Clicking at once raced the dialog: on a loaded machine the
    dialog came first and took the click.
    """
    restarting = page.locator(".jp-Dialog", has_text="Kernel Restarting")
    restarting.wait_for(timeout=60_000)
    restarting.locator(".jp-mod-accept").click()
    restarting.wait_for(state="detached", timeout=30_000)


def _run_all_until(
    page, widget, selector: str = ".seglab-clicker", attempts: int = 5, timeout: float = 240
) -> None:
    """Run All until the widget (``selector``) shows; fail with the cells' outputs if not."""
    deadline = time.monotonic() + timeout
    dialog_button = page.locator(".jp-Dialog .jp-mod-accept")
    for _ in range(attempts):
        if dialog_button.count():  # none expected (see the settings in `lab`); nothing ran yet
            dialog_button.first.click()
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()
        time.sleep(2)
        while time.monotonic() < deadline:
            state = page.evaluate(_CELLS_STATE, selector)
            if state == "widget":
                widget.wait_for(timeout=30_000)
                return
            if state == "done":  # the widget may still be loading its JavaScript
                try:
                    widget.wait_for(timeout=30_000)
                    return
                except Exception:
                    outputs = page.locator(".jp-Notebook .jp-OutputArea").all_inner_texts()
                    if not any("Loading widget" in text for text in outputs):
                        pytest.fail("the notebook ran but showed no widget:\n" + "\n".join(outputs))
                # "Loading widget..." forever: the page's first kernel connection failed
                # (jupyter_server logs "'NoneType' object has no attribute
                # 'kernel_ws_protocol'") and the widget manager missed the widget. Reload the
                # page and run again.
                page.reload()
                page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(
                    timeout=90_000
                )
                break
            if state == "idle":
                break  # the run was dropped: run again
            time.sleep(0.5)
    pytest.fail(f"the notebook's cells did not run after {attempts} tries of Run All")


def test_clicking_the_widget_segments_in_the_kernel(lab: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, root = lab
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            page.goto(f"{url}/lab/tree/clicker.ipynb")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=90_000)
            # Run All, once the kernel is up. Right after the page loads (more so on a busy
            # machine) JupyterLab sometimes drops queued cells while it connects the kernel:
            # run again if the queue emptied without the widget showing (re-running is safe).
            page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(
                timeout=90_000
            )
            widget = page.locator(".seglab-clicker")
            _run_all_until(page, widget)
            page.wait_for_function(
                "() => { const img = document.querySelector('.seglab-clicker-image');"
                " return img && img.complete && img.naturalWidth > 0; }",
                timeout=30_000,
            )
            status = widget.locator(".seglab-clicker-status")
            assert widget.get_attribute("data-mask-pixels") == "0"
            widget.scroll_into_view_if_needed()
            stage = widget.locator(".seglab-clicker-stage").bounding_box()
            assert stage is not None
            assert stage["width"] == pytest.approx(512, abs=1)  # display_width, 2x the image

            def at(x: float, y: float) -> tuple[float, float]:
                """Where image pixel (x, y)'s centre is on the page."""
                return (
                    stage["x"] + (x + 0.5) * stage["width"] / IMAGE_W,
                    stage["y"] + (y + 0.5) * stage["height"] / IMAGE_H,
                )

            def wait_for_revision_after(revision: str) -> None:
                page.wait_for_function(
                    "r => document.querySelector('.seglab-clicker').dataset.revision !== r",
                    arg=revision,
                    timeout=30_000,
                )

            # 1. a click on the object: a positive point, a mask in the page and in the kernel
            revision = widget.get_attribute("data-revision")
            page.mouse.click(*at(120, 96))
            wait_for_revision_after(revision)
            assert status.inner_text().startswith("added positive point (x=120, y=96) → masks[")
            kernel = _state(root, status.inner_text())
            assert kernel["points"] == [[120, 96]] and kernel["labels"] == [1]
            shown = int(widget.get_attribute("data-mask-pixels"))
            assert shown > 0 and shown == kernel["pixels"]  # the page decoded the kernel's mask
            # Chromium has DecompressionStream: after its hello the masks travel deflated
            assert widget.get_attribute("data-mask-encoding") == "packbits+deflate"
            assert widget.get_attribute("data-points") == "1"

            # 2. shift-click outside the object: a negative point
            revision = widget.get_attribute("data-revision")
            page.keyboard.down("Shift")
            page.mouse.click(*at(20, 20))
            page.keyboard.up("Shift")
            wait_for_revision_after(revision)
            kernel = _state(root, status.inner_text())
            assert kernel["points"] == [[120, 96], [20, 20]] and kernel["labels"] == [1, 0]
            assert status.inner_text().startswith("added negative point (x=20, y=20)")

            # 3. a drag: a box, corners in image pixels
            revision = widget.get_attribute("data-revision")
            page.mouse.move(*at(60, 40))
            page.mouse.down()
            page.mouse.move(*at(120, 100), steps=5)
            page.mouse.move(*at(180, 150), steps=5)
            page.mouse.up()
            wait_for_revision_after(revision)
            kernel = _state(root, status.inner_text())
            assert kernel["box"] == pytest.approx([60.5, 40.5, 180.5, 150.5], abs=1)
            assert status.inner_text().startswith("drew box (x0=")
            assert int(widget.get_attribute("data-mask-pixels")) == kernel["pixels"]
            page.screenshot(path=str(tmp_path / "clicker.png"))

            # 4. undo twice: back to the first click
            for _ in range(2):
                revision = widget.get_attribute("data-revision")
                widget.locator(".seglab-clicker-undo").click()
                wait_for_revision_after(revision)
            kernel = _state(root, status.inner_text())
            assert kernel["points"] == [[120, 96]] and kernel["box"] is None
            assert widget.get_attribute("data-points") == "1"
            assert int(widget.get_attribute("data-mask-pixels")) == kernel["pixels"] == shown

            # 5. pick another of the three masks with its button
            choices = widget.locator(".seglab-clicker-choice")
            assert choices.count() == 3
            other = (kernel["selected"] + 1) % 3
            revision = widget.get_attribute("data-revision")
            choices.nth(other).click()
            wait_for_revision_after(revision)
            kernel = _state(root, status.inner_text())
            assert kernel["selected"] == other
            assert int(widget.get_attribute("data-mask-pixels")) == kernel["pixels"]
            assert "seglab-clicker-active" in (choices.nth(other).get_attribute("class") or "")

            # 6. negative mode: a plain click adds a negative point
            revision = widget.get_attribute("data-revision")
            widget.locator(".seglab-clicker-mode", has_text="negative").click()
            wait_for_revision_after(revision)
            assert widget.get_attribute("data-mode") == "negative"
            revision = widget.get_attribute("data-revision")
            page.mouse.click(*at(230, 170))
            wait_for_revision_after(revision)
            kernel = _state(root, status.inner_text())
            assert kernel["points"] == [[120, 96], [230, 170]] and kernel["labels"] == [1, 0]

            # 7. reset: no prompts, no mask, in the page and in the kernel
            revision = widget.get_attribute("data-revision")
            widget.locator(".seglab-clicker-reset").click()
            wait_for_revision_after(revision)
            kernel = _state(root, status.inner_text())
            assert kernel["points"] == [] and kernel["pixels"] is None
            assert widget.get_attribute("data-mask-pixels") == "0"
            assert widget.get_attribute("data-points") == "0"
            assert status.inner_text().startswith("reset: removed 2 points")

            # 8. right-click: exactly one negative point, and no JupyterLab menu over the image
            # (before the fix, JupyterLab's cell menu opened and the click that closed it
            # added an unwanted positive point)
            assert widget.get_attribute("data-mode") == "negative"
            widget.locator(".seglab-clicker-mode", has_text="positive").click()
            page.wait_for_function(
                "() => document.querySelector('.seglab-clicker').dataset.mode === 'positive'"
            )
            revision = widget.get_attribute("data-revision")
            page.mouse.click(*at(30, 150), button="right")
            wait_for_revision_after(revision)
            kernel = _state(root, status.inner_text())
            assert kernel["points"] == [[30, 150]] and kernel["labels"] == [0]
            time.sleep(0.5)  # a menu would have opened by now
            assert page.locator(".lm-Menu").count() == 0, "JupyterLab's context menu opened"
            revision = widget.get_attribute("data-revision")
            page.mouse.click(*at(120, 96))
            wait_for_revision_after(revision)
            kernel = _state(root, status.inner_text())
            assert kernel["points"] == [[30, 150], [120, 96]] and kernel["labels"] == [0, 1]

            # 9. the N key keeps this object and starts a new, empty one
            revision = widget.get_attribute("data-revision")
            page.keyboard.press("n")  # the pointer is over the image since the last click
            wait_for_revision_after(revision)
            assert status.inner_text().startswith("kept object 1 (")
            kernel = _state(root, status.inner_text())
            assert kernel["points"] == [] and kernel["pixels"] is None
            assert widget.get_attribute("data-points") == "0"
            assert widget.get_attribute("data-mask-pixels") == "0"

            # 10. a reload while the kernel lives shows the current state, not the first one
            revision = widget.get_attribute("data-revision")
            page.mouse.click(*at(120, 96))
            wait_for_revision_after(revision)
            shown_before = status.inner_text()
            page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
            page.keyboard.press("Control+s")  # saved: the reopened file has the widget's output
            _wait_saved_with_widget(root / "clicker.ipynb")
            page.reload()
            widget.wait_for(timeout=90_000)
            page.wait_for_function(
                "() => document.querySelector('.seglab-clicker').dataset.revision !== undefined",
                timeout=30_000,
            )
            assert widget.get_attribute("data-points") == "1"
            assert int(widget.get_attribute("data-mask-pixels")) > 0
            assert widget.get_attribute("data-dead") is None  # Python answered the new view
            assert status.inner_text() != "" and status.inner_text() == shown_before
            widget.scroll_into_view_if_needed()
            box = widget.locator(".seglab-clicker-stage").bounding_box()
            assert box is not None
            stage.update(box)  # the page moved: aim through the new position

            # 11. the kernel is gone: a click says to run the cell again
            os.kill(int((root / "kernel.pid").read_text()), signal.SIGKILL)
            _close_kernel_restarting_dialog(page)
            widget.scroll_into_view_if_needed()  # closing the dialog scrolled the notebook
            box = widget.locator(".seglab-clicker-stage").bounding_box()
            assert box is not None
            stage.update(box)
            page.mouse.click(*at(120, 96))
            page.wait_for_function(
                "() => document.querySelector('.seglab-clicker').dataset.dead === 'true'",
                timeout=30_000,
            )
            assert "run this cell again" in status.inner_text()
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))  # what the page looked like
            raise
        finally:
            browser.close()
    assert (tmp_path / "clicker.png").stat().st_size > 10_000


def test_answering_the_quiz_by_clicking_shows_the_kernels_feedback(
    lab: tuple[str, Path], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    from seglab.quizzes import quiz

    expected = quiz("01")
    first = expected.questions[0]
    assert first.kind == "choice", "the test clicks the options of quiz 01's first question"
    wrong = next(letter for letter in first.choices if letter != first.answer)
    url, root = lab
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            page.goto(f"{url}/lab/tree/quiz.ipynb")
            page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=90_000)
            page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(
                timeout=90_000
            )
            widget = page.locator(".seglab-quiz")
            _run_all_until(page, widget, selector=".seglab-quiz")
            question = widget.locator('.seglab-quiz-question[data-question="1"]')
            question.wait_for(timeout=30_000)  # the kernel sent the questions after hello
            assert first.text.replace("`", "") in question.inner_text()
            assert len(widget.locator(".seglab-quiz-question").all()) == len(expected.questions)
            feedback = question.locator(".seglab-quiz-feedback")

            question.locator(f'.seglab-quiz-option[data-option="{wrong}"]').click()
            text = expected.judge(1, wrong).text.replace("`", "")
            page.wait_for_function(
                "([el, t]) => el.textContent === t", arg=[feedback.element_handle(), text]
            )
            assert "seglab-quiz-wrong" in (feedback.get_attribute("class") or "")

            question.locator(f'.seglab-quiz-option[data-option="{first.answer}"]').click()
            text = expected.judge(1, first.answer).text.replace("`", "")
            page.wait_for_function(
                "([el, t]) => el.textContent === t", arg=[feedback.element_handle(), text]
            )
            assert "seglab-quiz-right" in (feedback.get_attribute("class") or "")

            # a number question: typed digits reach the input, not JupyterLab's shortcuts
            number = next(q for q in expected.questions if q.kind == "number")
            item = widget.locator(f'.seglab-quiz-question[data-question="{number.number}"]')
            guess = float(number.answer) + number.tolerance + 1
            item.locator(".seglab-quiz-input").fill(str(guess))
            item.locator(".seglab-quiz-input").press("Enter")
            text = expected.judge(number.number, guess).text.replace("`", "")
            page.wait_for_function(
                "([el, t]) => el.textContent === t",
                arg=[item.locator(".seglab-quiz-feedback").element_handle(), text],
            )
            assert "too high" in text
            widget.scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "quiz.png"))
            # no JupyterLab menu or dialog opened by the clicks
            assert page.locator(".lm-Menu").count() == 0

            # the kernel is gone: a click says so instead of waiting forever
            os.kill(int((root / "kernel-quiz.pid").read_text()), signal.SIGKILL)
            _close_kernel_restarting_dialog(page)
            question.locator(f'.seglab-quiz-option[data-option="{wrong}"]').click()
            page.wait_for_function(
                "el => el.textContent.startsWith('No answer from Python')",
                arg=feedback.element_handle(),
                timeout=30_000,
            )
        except Exception:
            page.screenshot(path=str(tmp_path / "failure.png"))
            raise
        finally:
            browser.close()
    assert (tmp_path / "quiz.png").stat().st_size > 10_000
