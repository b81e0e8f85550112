"""No output claims RUNNING for a run that ended: a kernel restart mid-run, and a reopened notebook.

The monitor's output keeps the last state its kernel drew; the panel's plugin redraws it from the
store (which ends runs of dead local kernels when asked).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap

from playwright.sync_api import expect

LONG_CELL = (
    "%%mlrun restart-me -e ui-restart\n"
    "import time, mlflow\n"
    "mlflow.log_metric('loss', 1.0, step=0)\n"
    "time.sleep(300)"
)
MONITOR = ".jp-NotebookPanel:not(.lm-mod-hidden) .nbstudio-monitor-header"

# A run whose kernel died mid-run, and the RUNNING header its monitor had drawn then.
ORPHAN = textwrap.dedent(
    """
    import json, os, signal
    from nbstudio.tracking import RunSpec, TrackedRun
    from nbstudio.jupyter.widgets import static
    run = TrackedRun(RunSpec(name="orphan-fit", experiment="ui-reopen")).__enter__()
    header = static.header("orphan-fit", "RUNNING", "12 s", run.run_id)
    html = static.box([header], "nbstudio-monitor")
    print(json.dumps({"run_id": run.run_id, "html": html}), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_kernel_restart_mid_run_redraws_the_monitor(lab, ui):
    lab.write_notebook("restart_mid_run.ipynb", ["%load_ext nbstudio", LONG_CELL])
    ui.open_notebook("restart_mid_run.ipynb")
    # Not awaited: the command resolves when the cells end, and the long cell never does.
    ui.page.evaluate("() => { void window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    header = ui.page.locator(MONITOR)
    badge = header.locator(".nbstudio-status")
    # rule: while the cell runs its monitor says RUNNING
    expect(badge).to_have_text("RUNNING", timeout=60_000)
    run_id = header.get_attribute("data-run-id")
    assert run_id
    # Not awaited: the restart resolves when the new kernel answers, the check starts before.
    ui.page.evaluate(
        "() => { void window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        ".restart(); }"
    )
    # rule: after the restart the badge shows how the run ended, never a frozen RUNNING
    expect(badge).to_have_text("KILLED", timeout=40_000)
    expect(badge).to_have_attribute("data-status", "KILLED")
    # rule: and one line says what happened
    expect(ui.page.locator(".nbstudio-monitor-ended")).to_have_text(
        "the kernel restarted: run ended KILLED"
    )
    # rule: the store (what the panel and mlflow ui read) agrees
    assert lab.api(f"runs/{run_id}")["run"]["status"] == "KILLED"
    ui.screenshot("monitor-after-restart")
    ui.close_notebooks()


def test_reopened_notebook_shows_how_the_run_ended(lab, ui):
    killed = subprocess.run(
        [sys.executable, "-c", ORPHAN],
        cwd=lab.root,
        env=lab.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    orphan = json.loads(killed.stdout.strip().splitlines()[-1])
    path = lab.write_notebook("frozen_monitor.ipynb", ["%%mlrun orphan-fit\ntrain()"])
    notebook = json.loads(path.read_text())
    notebook["cells"][0]["outputs"] = [
        {
            "output_type": "display_data",
            "data": {"text/html": orphan["html"], "text/plain": "run orphan-fit: RUNNING"},
            "metadata": {},
        }
    ]
    notebook["cells"][0]["execution_count"] = 1
    path.write_text(json.dumps(notebook))
    ui.open_notebook("frozen_monitor.ipynb")
    badge = ui.page.locator(f"{MONITOR} .nbstudio-status")
    # rule: a saved RUNNING monitor of a run that ended is redrawn on open with its end state
    expect(badge).to_have_text("KILLED", timeout=30_000)
    expect(ui.page.locator(".nbstudio-monitor-ended")).to_have_text(
        "its kernel stopped while it ran: run ended KILLED"
    )
    assert lab.api(f"runs/{orphan['run_id']}")["run"]["status"] == "KILLED"
    ui.screenshot("monitor-reopened")
    ui.close_notebooks()
