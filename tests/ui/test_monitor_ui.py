"""The live run monitor in a real JupyterLab: RUNNING, a chart that grows, then FINISHED."""

from __future__ import annotations

import re

CELL_OUTPUT = ".jp-Notebook .jp-Cell:nth-child(2) .jp-OutputArea"
TRAIN = (
    "%%mlrun live-ui -e monitor-ui\n"
    "import mlflow, time\n"
    "for i in range(50):\n"
    "    mlflow.log_metric('loss', 1 / (i + 1), step=i)\n"
    "    time.sleep(0.1)\n"
    "print('trained')\n"
)


DRAWN = """(sel) => {
    const plot = document.querySelector(sel + ' .js-plotly-plot');
    return plot && plot.data && plot.data[0] && plot.data[0].x ? plot.data[0].x.length : 0;
}"""


def _points(ui) -> tuple[int, int]:
    """Points the widget says it has, and points its plotly chart holds in the page."""
    text = ui.page.locator(f"{CELL_OUTPUT} .nbstudio-last").inner_text()
    counted = int(re.search(r"\(([\d,]+) points\)", text).group(1).replace(",", ""))
    return counted, ui.page.evaluate(DRAWN, CELL_OUTPUT)


def test_monitor_runs_live_then_ends_static(lab, ui) -> None:
    try:
        _live_then_static(lab, ui)
    finally:
        ui.screenshot("last")  # what the page showed at the end (or when a step failed)


def _live_then_static(lab, ui) -> None:
    lab.write_notebook("monitor_live.ipynb", ["%load_ext nbstudio", TRAIN])
    ui.open_notebook("monitor_live.ipynb")
    page = ui.page
    # Not ui.command: that awaits the command, i.e. until every cell has run.
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    running = page.locator(f'{CELL_OUTPUT} .nbstudio-status[data-status="RUNNING"]')
    running.first.wait_for(timeout=60_000)
    page.locator(f"{CELL_OUTPUT} .nbstudio-last b").first.wait_for(timeout=30_000)
    first = _points(ui)
    ui.screenshot("1-running")
    # rule: while the cell runs the widget shows RUNNING and its chart's points
    assert running.count() == 1
    assert first[0] >= 1
    page.wait_for_function(
        """([sel, n]) => {
            const last = document.querySelector(sel + ' .nbstudio-last');
            const m = last && last.innerText.match(/\\(([\\d,]+) points\\)/);
            return m && Number(m[1].replace(/,/g, '')) > n;
        }""",
        arg=[CELL_OUTPUT, first[0]],
        timeout=30_000,
    )
    second = _points(ui)
    ui.screenshot("2-running-later")
    # rule: the chart's point count grows between the two screenshots
    assert first[0] < second[0]
    assert first[1] <= second[1]
    # rule: the plotly chart in the page draws the points while the widget is live
    page.wait_for_function(f"(sel) => ({DRAWN})(sel) >= 2", arg=CELL_OUTPUT, timeout=30_000)
    finished = page.locator(f'{CELL_OUTPUT} .nbstudio-monitor-final [data-status="FINISHED"]')
    finished.first.wait_for(timeout=60_000)
    ui.screenshot("3-finished")
    # rule: at the end the output is the static final state: 50 points, chart image, no widget
    final = page.locator(f"{CELL_OUTPUT} .nbstudio-monitor-final")
    assert "50 points" in final.inner_text()
    assert final.locator("img.nbstudio-charts").count() == 1
    assert page.locator(f"{CELL_OUTPUT} .scatterlayer").count() == 0
    assert "Error displaying widget" not in page.locator(".jp-Notebook").inner_text()

    # rule: saved and reopened, the notebook still shows the final state, never a widget error
    ui.command("docmanager:save")
    ui.command("kernelmenu:shutdown")
    page.reload()
    page.wait_for_selector("#jp-main-dock-panel")
    page.wait_for_function("() => window.jupyterapp !== undefined")
    page.evaluate("() => window.jupyterapp.restored")
    ui.command("docmanager:open", {"path": "monitor_live.ipynb"})
    finished.first.wait_for(timeout=30_000)
    ui.screenshot("4-reopened")
    assert "Error displaying widget" not in page.locator(".jp-Notebook").inner_text()
