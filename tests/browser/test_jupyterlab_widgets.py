"""The course's interactive widgets, run in JupyterLab in a real (headless) browser.

The notebook tests (nbval, nbclient) run the widget cells but never render them: a widget is only a comm message to a
kernel that has no front end. Here a JupyterLab server runs a chapter in fast mode, headless Chromium opens it,
runs all cells, and the test checks that the widget appears, that its interactive output holds an image, and that
moving a slider redraws that image.

Needs what the ordinary test environment leaves out (``pip install -e .[browser]`` and Chromium at
/usr/bin/chromium, e.g. ``apt-get install chromium``); without them the test is skipped, and with
``GANLAB_BROWSER_REQUIRED=1`` (set by tools/browser_test.sh) a missing piece fails it instead. Screenshots before and
after the slider moves are kept in ``test-artifacts/browser/``.

The served notebook is never saved: autosave is off in the server's private settings, and the test checks that
the file on disk is unchanged afterwards.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("GANLAB_CHROMIUM", "/usr/bin/chromium"))
RUN_ALL_TIMEOUT_S = 600  # fast mode runs chapter 03 in a minute or two on 2 busy cores; this is only a safety net
SERVER_START_TIMEOUT_S = 120
REDRAW_TIMEOUT_S = 60

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class WidgetCase:
    """One interactive widget of the course: where it is and how to poke it.

    ``sliders`` are the descriptions of the sliders that must be visible in the widget; ``move`` is the one moved
    (by ``presses`` presses of the right arrow key on its handle); the widget's image must change when it moves.
    The widget is found as the ``container`` element (a CSS selector, inside a cell output) that holds a slider
    described ``move`` and an ``.widget-output`` (the area that ``widgets.interactive_output`` draws into).
    """

    notebook: str
    sliders: tuple[str, ...]
    move: str
    presses: int = 3
    container: str = ".widget-vbox"


# Every widget of the course, one row each. Chapters 04-08 have no widget today; when a chapter gains one, add a row
# here (notebook path, the sliders it shows, the slider to move) and it becomes one more case of the same test.
CASES = [
    WidgetCase(notebook="notebooks/03_dcgan.ipynb", sliders=("seed", "t", "thickness"), move="seed"),
]


def _missing(reason: str) -> None:
    """Skip, or fail when the caller asked for the browser test to run for sure (GANLAB_BROWSER_REQUIRED=1)."""
    if os.environ.get("GANLAB_BROWSER_REQUIRED", "") not in ("", "0"):
        pytest.fail(f"GANLAB_BROWSER_REQUIRED is set but {reason}", pytrace=False)
    pytest.skip(reason)


def _require_tools() -> None:
    for module, extra in (("playwright", "playwright"), ("jupyterlab", "jupyterlab>=4"),
                          ("jupyterlab_widgets", "ipywidgets>=8")):
        if importlib.util.find_spec(module) is None:
            _missing(f"{module} is not installed (pip install -e .[browser] installs {extra})")
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(base: str, token: str, path: str, method: str = "GET", timeout: float = 10):
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body = response.read()
    return json.loads(body) if body else None


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def _private_config(home: Path) -> dict[str, str]:
    """Environment variables that give the server its own settings, kernel spec and state, all under ``home``.

    * the ``python3`` kernel is this interpreter (the environment the course is installed in), whatever kernel
      specs the machine has;
    * JupyterLab never saves a document by itself (the served notebook must stay as it is in the repository),
      fetches no news and checks for no updates (no network, no pop-ups over the notebook);
    * the notebook renders every cell (no windowing), so that every output can be checked in the page.
    """
    _write_json(home / "data" / "kernels" / "python3" / "kernel.json", {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)", "language": "python", "metadata": {"debugger": True}})
    settings = home / "lab-settings"
    _write_json(settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings",
                {"autosave": False})
    _write_json(settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
                {"fetchNews": "false", "checkForUpdates": False})
    _write_json(settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
                {"windowingMode": "none"})
    return {
        "JUPYTER_PATH": str(home / "data"),  # searched before the environment's own kernel specs
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "IPYTHONDIR": str(home / "ipython"),
    }


@dataclass
class LabServer:
    base: str
    token: str
    process: subprocess.Popen
    log: Path


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory):
    """A JupyterLab server on a free local port, rooted at the repository, running kernels in fast mode."""
    _require_tools()
    home = tmp_path_factory.mktemp("jupyter")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update(_private_config(home))
    env.update(GANLAB_FAST="1", GANLAB_DOWNLOAD="0", PYTHONUNBUFFERED="1")
    # In JupyterLab the kernel's own inline backend draws the figures; an inherited MPLBACKEND (Agg on CI) would
    # make plt.show() draw nothing.
    env.pop("MPLBACKEND", None)
    log = home / "server.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
               "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands without hunting for menus
               # the checkpoint JupyterLab makes of an opened notebook goes to the temporary home, not the repository
               f"--FileCheckpoints.checkpoint_dir={home / 'checkpoints'}",
               "--ServerApp.shutdown_no_activity_timeout=1800"]  # a server left behind by a killed run ends itself
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = LabServer(base=f"http://127.0.0.1:{port}", token=token, process=process, log=log)
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-4000:]}")
            try:
                _api(server.base, token, "/api/status", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer in {SERVER_START_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")
                time.sleep(0.5)
        yield server
    finally:
        _stop_server(server)


def _stop_server(server: LabServer) -> None:
    """Shut down the kernels and the server; kill whatever of them is still alive after that."""
    try:
        import psutil
        family = [psutil.Process(server.process.pid)]
        family += family[0].children(recursive=True)  # kernels run in sessions of their own: note them now
    except Exception:  # psutil missing, or the server is already gone
        family = []
    try:
        for kernel in _api(server.base, server.token, "/api/kernels"):
            _api(server.base, server.token, f"/api/kernels/{kernel['id']}", method="DELETE", timeout=30)
        _api(server.base, server.token, "/api/shutdown", method="POST")
    except Exception:
        pass
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    for process in family[1:]:
        try:
            process.kill()
        except Exception:  # already ended, as it should have
            pass


@pytest.fixture(scope="module")
def browser(lab_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=["--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield chromium
        finally:
            chromium.close()


def _errors_in_outputs(page) -> list[str]:
    """Texts of the error outputs (tracebacks) of the notebook in the page."""
    return page.evaluate("""() => Array.from(document.querySelectorAll(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"], '
            + '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
        .filter(e => e.matches('[data-mime-type="application/vnd.jupyter.error"]') || e.innerText.includes('Traceback'))
        .map(e => e.innerText)""")


RUN_STATE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const cells = panel.content.widgets.filter(c => c.model.type === 'code' && c.model.sharedModel.getSource().trim());
    return {kernel: kernel ? kernel.status : 'none', cells: cells.length,
            done: cells.filter(c => c.model.executionCount !== null).length,
            running: Array.from(document.querySelectorAll('.jp-InputPrompt')).filter(p => p.textContent.includes('*')).length};
}"""


def _run_all_cells(page, name: str) -> float:
    """Clear the stored outputs, run every cell, wait until the last has run; the seconds it took."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')")
    page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea-output').length === 0", timeout=30_000)
    start = time.monotonic()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    state = {}
    while time.monotonic() - start < RUN_ALL_TIMEOUT_S:
        state = page.evaluate(RUN_STATE)
        errors = _errors_in_outputs(page)
        if errors:
            pytest.fail(f"{name}: a cell failed in JupyterLab ({state['done']} of {state['cells']} code cells "
                        f"run):\n{errors[0][-3000:]}", pytrace=False)
        if state["done"] == state["cells"] and state["running"] == 0 and state["kernel"] == "idle":
            return time.monotonic() - start
        page.wait_for_timeout(1000)
    pytest.fail(f"{name}: not all cells ran in {RUN_ALL_TIMEOUT_S} s (last state {state})", pytrace=False)


def _slider(page, scope, description: str):
    """The slider inside ``scope`` (the page, or a locator) whose description label reads ``description`` exactly."""
    return scope.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=re.compile(rf"^\s*{re.escape(description)}\s*$")))


@pytest.mark.parametrize("case", CASES, ids=[Path(c.notebook).stem for c in CASES])
def test_widget_renders_and_redraws_when_a_slider_moves(lab_server, browser, case):
    from playwright.sync_api import expect

    notebook = ROOT / case.notebook
    stem = notebook.stem
    before_run = hashlib.sha256(notebook.read_bytes()).hexdigest()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{stem}-*.png"):
        old.unlink()

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    timings = {}
    try:
        t0 = time.monotonic()
        page.goto(f"{lab_server.base}/lab/tree/{case.notebook}?token={lab_server.token}", wait_until="load")
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=120_000)
        # the notebook names the python3 kernel, so JupyterLab starts it at once; should it ask instead, take the
        # kernel it proposes
        select = page.locator(".jp-Dialog .jp-mod-accept")
        page.wait_for_function(
            "() => { const s = window.jupyterapp.shell.currentWidget.sessionContext;"
            " return (s.session && s.session.kernel && s.session.kernel.status === 'idle')"
            " || document.querySelector('.jp-Dialog') !== null; }", timeout=120_000)
        if select.count():
            select.first.click()
            page.wait_for_function(
                "() => { const s = window.jupyterapp.shell.currentWidget.sessionContext;"
                " return s.session && s.session.kernel && s.session.kernel.status === 'idle'; }", timeout=120_000)
        timings["open"] = time.monotonic() - t0
        timings["run all"] = _run_all_cells(page, case.notebook)

        # the kernel saw fast mode (chapter notebooks print it in their set-up cell)
        assert page.locator(".jp-OutputArea-output", has_text="fast mode: True").count() >= 1, \
            "the kernel did not run in fast mode (GANLAB_FAST=1 did not reach it)"

        # the widget rendered: its sliders are visible, and its interactive output holds an image
        widget = page.locator(f".jp-OutputArea-output {case.container}").filter(
            has=page.locator(".widget-output")).filter(has=_slider(page, page, case.move)).first
        expect(widget).to_be_visible(timeout=30_000)
        widget.scroll_into_view_if_needed()
        for description in case.sliders:
            expect(_slider(page, widget, description)).to_be_visible()
        image = widget.locator(".widget-output img").first
        expect(image).to_be_visible(timeout=REDRAW_TIMEOUT_S * 1000)
        src_before = image.get_attribute("src")
        assert src_before and src_before.startswith("data:image/png"), f"not an inline PNG: {src_before!r:.80}"
        widget.screenshot(path=str(ARTIFACTS / f"{stem}-before.png"))

        # move the slider with the keyboard, one step a press, and wait for the redraw
        slider = _slider(page, widget, case.move)
        readout = slider.locator(".widget-readout")
        value_before = readout.inner_text().strip()
        t1 = time.monotonic()
        slider.locator(".noUi-handle").first.click()
        for _ in range(case.presses):
            page.keyboard.press("ArrowRight")
            page.wait_for_timeout(150)
        expect(readout).not_to_have_text(value_before, timeout=10_000)
        value_after = readout.inner_text().strip()
        page.wait_for_function(
            """([widget, before]) => { const img = widget.querySelector('.widget-output img');
                   return img !== null && img.src !== before && img.complete && img.naturalWidth > 0; }""",
            arg=[widget.element_handle(), src_before], timeout=REDRAW_TIMEOUT_S * 1000)
        # the redraw the last key press asked for: the image stops changing
        src_after, settled = image.get_attribute("src"), time.monotonic()
        while time.monotonic() - settled < 2:
            page.wait_for_timeout(250)
            latest = widget.locator(".widget-output img").first.get_attribute("src")
            if latest != src_after:
                src_after, settled = latest, time.monotonic()
        timings["redraw"] = time.monotonic() - t1
        widget.screenshot(path=str(ARTIFACTS / f"{stem}-after.png"))
        assert src_after != src_before, f"the image did not change when {case.move!r} moved"
        assert not _errors_in_outputs(page), f"moving {case.move!r} raised: {_errors_in_outputs(page)[0][-3000:]}"
        print(f"\n{case.notebook}: {case.move} {value_before} -> {value_after}; "
              + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    except BaseException:
        try:
            page.screenshot(path=str(ARTIFACTS / f"{stem}-failure.png"), full_page=True)
        except Exception:
            pass
        raise
    finally:
        context.close()
    assert hashlib.sha256(notebook.read_bytes()).hexdigest() == before_run, \
        f"{case.notebook} changed on disk while the test ran (was it saved?)"
