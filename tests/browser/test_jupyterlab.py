"""The notebooks' explorers in a real JupyterLab, driven by a real browser (issue 16).

JupyterLab serves ``notebooks/`` on localhost; headless Chromium (Debian's package, driven by
playwright from PyPI) opens notebooks 00, 02, 04, 07 and 08 in quick mode, runs every cell from
the Run menu, and checks that every cell ran without an error output, that every widget
rendered (no "Error displaying widget"), and that moving a slider of each explorer re-renders
it without an error.  JupyterLab's autosave is switched off and the notebooks' bytes are
compared before and after: the test never writes them.

Runs with ``make test-browser`` (``GCSEG_BROWSER_TEST=1``; ``.ci/run`` installs chromium and
playwright first); skipped otherwise, so ``make test`` stays within its time.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.browser import CHROMIUM, REQUIRED, missing

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
OPENED = ["00_vos_davis_and_metrics", "02_coseg_module", "04_reference_module",
          "07_adaptive_search", "08_inference_and_evaluation"]
NOTEBOOK_TIMEOUT_S = 600

pytestmark = [pytest.mark.slow, pytest.mark.browser]


if not REQUIRED:
    pytestmark.append(pytest.mark.skip(reason="browser test: run it with make test-browser"))
elif missing():
    pytest.fail(f"make test-browser: {missing()}", pytrace=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(base URL, token) of a JupyterLab serving notebooks/ in quick mode, autosave off."""
    home = tmp_path_factory.mktemp("lab")
    lab_settings = {  # autosave off; every cell in the page (no windowing), for the counts
        "docmanager-extension/plugin": {"autosave": False},
        "notebook-extension/tracker": {"windowingMode": "none", "autoStartDefaultKernel": True},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }
    for plugin, values in lab_settings.items():
        folder, name = plugin.split("/")
        target = home / "settings" / "@jupyterlab" / folder
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
    port, token = _free_port(), "gcseg-browser-test"
    env = dict(os.environ, GCSEG_QUICK="1", GCSEG_THREADS="1", MPLBACKEND="module://"
               "matplotlib_inline.backend_inline", JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    log = (home / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}",
         "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", "--allow-root",
         f"--ServerApp.root_dir={NOTEBOOKS}", f"--LabApp.user_settings_dir={home / 'settings'}",
         f"--LabApp.workspaces_dir={home / 'workspaces'}"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited: {(home / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
    yield url, token
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()
    shutil.rmtree(home / "runtime", ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM,
                                          args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def _sessions(url: str, token: str) -> list[dict]:
    """The server's sessions (``/api/sessions``): one per open notebook, with its kernel."""
    request = urllib.request.Request(f"{url}/api/sessions",
                                     headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def _shut_down_kernels(url: str, token: str) -> None:
    """Delete every session (and its kernel) of the server: one notebook's kernel at a time."""
    for session in _sessions(url, token):
        request = urllib.request.Request(f"{url}/api/sessions/{session['id']}",
                                         headers={"Authorization": f"token {token}"},
                                         method="DELETE")
        urllib.request.urlopen(request).close()


def _kernel_of(url: str, token: str, name: str) -> tuple[str, str] | None:
    """(kernel id, execution state) of the notebook's session on the server, or None."""
    for session in _sessions(url, token):
        if session["path"].endswith(f"{name}.ipynb") and session.get("kernel"):
            return session["kernel"]["id"], session["kernel"].get("execution_state", "")
    return None


def _accept_kernel(page, url: str, token: str, name: str) -> None:
    """Start the notebook's kernel (python3), answering the kernel dialog when Lab asks, and
    wait until the kernel is settled: in a fresh JupyterLab the first notebook's kernel can be
    started, shut down and replaced within two seconds, and a Run All sent in between runs
    one cell only (the rest stay unrun). Settled: the page shows idle and the server's session
    has kept the same idle kernel for 3 s."""
    deadline = time.monotonic() + 120
    kernel, since = None, time.monotonic()
    while time.monotonic() < deadline:
        dialog = page.locator(".jp-Dialog:has-text('Select Kernel') .jp-mod-accept")
        if dialog.count():
            dialog.first.click()
        now = _kernel_of(url, token, name)
        if now != kernel:
            kernel, since = now, time.monotonic()
        idle = page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
        if idle and kernel is not None and kernel[1] == "idle" \
                and time.monotonic() - since >= 3:
            return
        page.wait_for_timeout(500)
    pytest.fail("the notebook's kernel did not settle within 120 s")


def _run_all(page) -> None:
    """Run → Run All Cells, again if no cell started within a minute (a click that landed
    while Lab was still settling)."""
    for _ in range(3):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if "[*]:" in page.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents():
                return
            page.wait_for_timeout(200)
    pytest.fail("Run All Cells started no cell")


def _wait_until_done(page, shown: int) -> None:
    """Until ``shown`` code cells show an execution count (``[N]:``) and none is queued or
    running (``[*]:``) or unrun (``[ ]:``); collapsed cells (solutions) show no prompt."""
    deadline = time.monotonic() + NOTEBOOK_TIMEOUT_S
    states: list[str] = []
    while time.monotonic() < deadline:
        states = [p.strip() for p in
                  page.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()]
        counted = sum(bool(re.fullmatch(r"\[\d+\]:", s)) for s in states)
        if counted >= shown and not {"[*]:", "[ ]:"} & set(states):
            return
        page.wait_for_timeout(1000)
    pytest.fail(f"the notebook did not finish within {NOTEBOOK_TIMEOUT_S} s: prompts "
                f"{dict(Counter(states))}, {shown} cells should show a count")


def _errors(page) -> list[str]:
    """Texts of error outputs and failed widget views on the page."""
    texts = page.locator(".jp-OutputArea-output").all_text_contents()
    return [text[:400] for text in texts
            if "Traceback" in text or "Error displaying widget" in text
            or "Failed to load model" in text]


def _move_sliders(page) -> int:
    """Press → on the first slider of every explorer; returns how many re-rendered."""
    moved = 0
    for explorer in page.locator(".jp-OutputArea-output:has(.widget-slider)").all():
        before = explorer.inner_html()
        handle = explorer.locator(".widget-slider .noUi-handle").first
        handle.scroll_into_view_if_needed()
        for key, wait_s in (("ArrowRight", 60), ("ArrowLeft", 120)):  # ← when at its maximum
            handle.focus()
            handle.press(key)
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline and explorer.inner_html() == before:
                page.wait_for_timeout(500)
            if explorer.inner_html() != before:
                break
        # the callback redraws; let it finish (no busy kernel) before reading the errors
        page.wait_for_timeout(1500)
        while page.locator(".jp-Notebook-ExecutionIndicator[data-status='busy']").count():
            page.wait_for_timeout(500)
        moved += explorer.inner_html() != before
    return moved


def _shown_code_cells(name: str) -> int:
    """Code cells of the notebook whose source is not collapsed (those show a prompt)."""
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text())["cells"]
    return sum(cell["cell_type"] == "code"
               and not cell.get("metadata", {}).get("jupyter", {}).get("source_hidden")
               for cell in cells)


@pytest.mark.parametrize("name", OPENED)
def test_explorers_render_and_respond(lab, browser, name):
    url, token = lab
    before = (NOTEBOOKS / f"{name}.ipynb").read_bytes()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        # a workspace of its own: Lab restores no earlier notebook beside this one
        page.goto(f"{url}/lab/workspaces/{name}/tree/{name}.ipynb?token={token}",
                  timeout=120_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        _accept_kernel(page, url, token, name)
        _run_all(page)
        _wait_until_done(page, _shown_code_cells(name))
        assert _errors(page) == [], f"{name}: error outputs after Run All"
        widgets = page.locator(".jp-OutputArea-output .jupyter-widgets").count()
        assert widgets > 0, f"{name}: no widget rendered"
        sliders = page.locator(".jp-OutputArea-output:has(.widget-slider)").count()
        assert sliders > 0, f"{name}: no explorer with a slider"
        assert _move_sliders(page) == sliders, f"{name}: an explorer did not re-render"
        assert _errors(page) == [], f"{name}: error outputs after moving the sliders"
    except BaseException:
        shot = Path(os.environ.get("GCSEG_BROWSER_SHOTS", REPO / "runs" / "browser"))
        shot.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot / f"{name}.png"), full_page=True)
        raise
    finally:
        page.close()
        _shut_down_kernels(url, token)
    assert (NOTEBOOKS / f"{name}.ipynb").read_bytes() == before, f"{name}: the file changed"
