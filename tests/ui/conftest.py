"""Browser-test fixtures: a real ``jupyter lab`` and Debian's Chromium driven by Playwright.

Reusable by any browser test under ``tests/ui/`` (run them in their own pytest invocation,
``pytest tests/ui``: Playwright's sync API and pytest-jupyter's event-loop fixtures do not mix):

- ``lab`` (session scope): ``jupyter lab`` from this venv on 127.0.0.1, a random free port and a
  token, its root dir a fresh workspace folder (with ``nbstudio.toml``) that is also its cwd.
  ``MLFLOW_TRACKING_URI`` is unset, the news toast is switched off through
  ``JUPYTERLAB_SETTINGS_DIR``, and user config/data dirs are isolated. The app is exposed as
  ``window.jupyterapp`` so tests can run JupyterLab commands. Stopped by PID (with its kernels)
  at the end. ``lab.root`` is the workspace; ``lab.api(path)`` calls the REST API;
  ``lab.python(code)`` / ``lab.start_python(code)`` run a script in the workspace (e.g. to make
  runs with ``nbstudio.tracking.TrackedRun``); ``lab.write_notebook(name, cells)`` writes a
  notebook with a python3 kernelspec. The lab is shared by all tests of the session: use your
  own experiment and notebook names.
- ``browser`` (session scope): headless ``/usr/bin/chromium`` (never ``playwright install``).
- ``ui`` (per test): a fresh browser page on the lab with helpers: ``ui.page`` (Playwright
  ``Page``), ``ui.command(id, args)``, ``ui.open_notebook(name)``, ``ui.run_all()``,
  ``ui.open_panel()``, ``ui.screenshot(name)`` (PNG in the test's tmp dir).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAB_START_TIMEOUT = 90.0
PANEL_TAB = '.jp-SideBar li.lm-TabBar-tab[data-id="nbstudio-panel"]'
KERNEL_IDLE = '.jp-Notebook-ExecutionIndicator[data-status="idle"]'

# JupyterLab settings overrides: no "get Jupyter news?" toast, no update check, and notebooks
# start their kernelspec's kernel without the "Select Kernel" dialog.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "autoStartDefaultKernel": True,
    },
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM a process and everything it started (kernels), then SIGKILL what is left."""
    try:
        proc = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    family = [proc, *proc.children(recursive=True)]
    for p in family:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.terminate()
    _, alive = psutil.wait_procs(family, timeout=timeout)
    for p in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.kill()
    psutil.wait_procs(alive, timeout=5)


@dataclass
class Lab:
    """A running ``jupyter lab`` and its workspace."""

    root: Path
    port: int
    token: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    helpers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lab_url(self, path: str = "") -> str:
        return f"{self.url}/lab{'/tree/' + path if path else ''}?token={self.token}"

    def api(self, path: str, **params: Any) -> Any:
        """GET ``/nbstudio/api/<path>`` (or any server path starting with ``/``) as JSON."""
        url = f"{self.url}{path}" if path.startswith("/") else f"{self.url}/nbstudio/api/{path}"
        response = httpx.get(
            url, params=params, headers={"Authorization": f"token {self.token}"}, timeout=30
        )
        response.raise_for_status()
        return response.json()

    def python(self, code: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a Python script in the workspace (cwd = its root) and wait for it; must succeed."""
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done

    def start_python(self, code: str) -> subprocess.Popen:
        """Start a Python script in the workspace in the background; stopped with the lab."""
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.helpers.append(proc)
        return proc

    def write_notebook(self, name: str, cells: list[str]) -> Path:
        """A notebook of code cells in the workspace, with a python3 kernelspec (no picker)."""
        notebook = {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": f"cell-{i}",
                    "metadata": {},
                    "outputs": [],
                    "source": source,
                }
                for i, source in enumerate(cells)
            ],
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                "language_info": {"name": "python"},
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        path = self.root / name
        path.write_text(json.dumps(notebook, indent=1))
        return path

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _start_lab(base: Path) -> Lab:
    root = base / "workspace"
    root.mkdir()
    (root / "nbstudio.toml").write_text("")
    settings = base / "settings"
    for relative, values in SETTINGS.items():
        target = settings / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    unset = ("MLFLOW_TRACKING_URI", "JPY_SESSION_NAME")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "lab-workspaces"),
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_DATA_DIR=str(base / "data"),
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        PYDEVD_DISABLE_FILE_VALIDATION="1",
    )
    lab = Lab(
        root=root, port=_free_port(), token=secrets.token_hex(16), env=env, log=base / "lab.log"
    )
    jupyter = Path(sys.executable).parent / "jupyter"
    with lab.log.open("w") as log:
        lab.process = subprocess.Popen(
            [
                str(jupyter),
                "lab",
                "--no-browser",
                "--allow-root",
                "--ip=127.0.0.1",
                f"--port={lab.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={lab.token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.expose_app_in_browser=True",
            ],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + LAB_START_TIMEOUT
    while time.monotonic() < deadline:
        if lab.process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early:\n{lab.log_tail()}")
        try:
            if httpx.get(f"{lab.url}/api/status?token={lab.token}", timeout=2).status_code == 200:
                return lab
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    _stop(lab.process.pid)
    raise RuntimeError(f"jupyter lab did not answer in {LAB_START_TIMEOUT} s:\n{lab.log_tail()}")


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A ``jupyter lab`` on a fresh workspace, shared by the session; stopped by PID."""
    lab = _start_lab(tmp_path_factory.mktemp("lab"))
    try:
        yield lab
    finally:
        for helper in lab.helpers:
            _stop(helper.pid, timeout=5)
        assert lab.process is not None
        _stop(lab.process.pid)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


class LabPage:
    """A browser page on the lab, with the few JupyterLab moves tests need."""

    def __init__(self, page: Any, lab: Lab, shots: Path) -> None:
        self.page = page
        self.lab = lab
        self.shots = shots

    def goto(self, path: str = "") -> None:
        """Load JupyterLab (optionally a document) and wait until its layout is restored."""
        self.page.goto(self.lab.lab_url(path))
        self.page.wait_for_selector("#jp-main-dock-panel")
        self.page.wait_for_function("() => window.jupyterapp !== undefined")
        self.page.evaluate("() => window.jupyterapp.restored")

    def command(self, command: str, args: dict[str, Any] | None = None) -> Any:
        """Run a JupyterLab command (e.g. ``docmanager:open``) and return its JSON-able result."""
        return self.page.evaluate(
            "async ([id, args]) => { await window.jupyterapp.commands.execute(id, args); }",
            [command, args or {}],
        )

    def open_notebook(self, name: str) -> None:
        """Open a notebook of the workspace and wait for its kernel to be idle."""
        self.command("docmanager:open", {"path": name})
        self.page.wait_for_function(
            """(name) => {
                const panel = window.jupyterapp.shell.currentWidget;
                return panel?.context?.path === name && panel.sessionContext?.isReady
                    && panel.sessionContext.session?.kernel?.status === 'idle';
            }""",
            arg=name,
            timeout=60_000,
        )
        self.page.wait_for_selector(
            f".jp-NotebookPanel:not(.lm-mod-hidden) {KERNEL_IDLE}", timeout=60_000
        )

    def run_all(self, timeout: float = 90) -> None:
        """Run every cell of the current notebook and wait until each has run."""
        self.command("notebook:run-all-cells")
        self.page.wait_for_function(
            """() => {
                const panel = window.jupyterapp.shell.currentWidget;
                const cells = panel?.content?.widgets ?? [];
                return cells.length > 0 && cells.every(
                    c => c.model.type !== 'code' || typeof c.model.executionCount === 'number'
                ) && panel.sessionContext?.session?.kernel?.status === 'idle';
            }""",
            timeout=timeout * 1000,
        )

    def open_panel(self) -> Any:
        """Show the nbstudio side panel (its icon-only tab is clicked by selector)."""
        tab = self.page.locator(PANEL_TAB)
        if "lm-mod-current" not in (tab.get_attribute("class") or ""):
            tab.click()
        panel = self.page.locator("#nbstudio-panel .nbs-panel")
        panel.wait_for()
        return panel

    def close_notebooks(self) -> None:
        """Close every open document without a prompt and shut their kernels down, so the next
        test's restored layout has no notebook of this one."""
        self.page.evaluate(
            """async () => {
                const app = window.jupyterapp;
                for (const widget of Array.from(app.shell.widgets('main'))) {
                    if (widget.context) { widget.dispose(); }
                }
                // A kernel mid-restart refuses; the lab's stop ends it anyway.
                await app.serviceManager.sessions.shutdownAll().catch(() => undefined);
            }"""
        )
        self.page.wait_for_timeout(1500)  # the layout is saved a moment after it changes

    def screenshot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """Remember each phase's report on the test item, so ``ui`` can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def ui(browser: Any, lab: Lab, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LabPage]:
    """A fresh page (own browser context) with JupyterLab loaded; screenshots in tmp_path.

    A failing test leaves ``failure.png`` (and the lab log tail in its report) behind.
    """
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    lab_page = LabPage(page, lab, tmp_path)
    lab_page.goto()
    try:
        yield lab_page
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            shot = lab_page.screenshot("failure")
            report.sections.append(("nbstudio ui", f"screenshot: {shot}\n{lab.log_tail(2000)}"))
        context.close()
