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


MULTI = (
    "%%mlrun three-metrics -e monitor-ui\n"
    "import math, mlflow, time\n"
    "for i in range(50):\n"
    "    mlflow.log_metrics({'loss': 1 / (i + 1), 'val_loss': 1.2 / (i + 1) + 0.01 * i,\n"
    "                        'accuracy_on_the_held_out_validation_split': 1 - math.exp(-i / 10)},\n"
    "                       step=i)\n"
    "    time.sleep(0.1)\n"
)

#: Per chart drawn in the page: its title and how many points its trace holds.
CHARTS = """(sel) => {
    const plot = document.querySelector(sel + ' .js-plotly-plot');
    if (!plot || !plot.data) return [];
    const titles = [...plot.querySelectorAll('.annotation-text, .gtitle')].map(t => t.textContent);
    return plot.data.map((trace, i) => ({
        name: trace.name, points: trace.x ? trace.x.length : 0,
        xaxis: trace.xaxis || 'x', yaxis: trace.yaxis || 'y', titles,
        ticks: plot.querySelectorAll('.' + (trace.yaxis || 'y') + 'tick').length,
    }));
}"""


def test_monitor_draws_each_metric_on_its_own_titled_chart(lab, ui) -> None:
    console: list[str] = []
    ui.page.on("console", lambda msg: console.append(msg.text))
    lab.write_notebook("monitor_multi.ipynb", ["%load_ext nbstudio", MULTI])
    ui.open_notebook("monitor_multi.ipynb")
    page = ui.page
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.locator(f'{CELL_OUTPUT} .nbstudio-status[data-status="RUNNING"]').first.wait_for(
        timeout=60_000
    )
    page.wait_for_function(
        f"(sel) => ({CHARTS})(sel).filter(c => c.points >= 3).length === 3",
        arg=CELL_OUTPUT,
        timeout=60_000,
    )
    first = page.evaluate(CHARTS, CELL_OUTPUT)
    ui.screenshot("multi-1-running")
    page.wait_for_timeout(1500)
    second = page.evaluate(CHARTS, CELL_OUTPUT)
    ui.screenshot("multi-2-running-later", doc="monitor")
    try:
        # rule: while RUNNING, each of the 3 metrics has its own chart: own axes, a title, ticks
        assert sorted(c["name"] for c in second) == sorted(
            ["loss", "val_loss", "accuracy_on_the_held_out_validation_split"]
        )
        assert len({c["xaxis"] for c in second}) == 3
        assert len({c["yaxis"] for c in second}) == 3
        assert all(c["ticks"] >= 2 for c in second)
        titles = " ".join(second[0]["titles"])
        assert all(c["name"] in titles for c in second)
        # rule: every chart's point count grows while the run goes on
        assert all(b["points"] > a["points"] for a, b in zip(first, second, strict=True))
        # rule: plotly never refused a layout update in the page
        assert not [line for line in console if "Error setting state" in line]
    finally:
        final = f'{CELL_OUTPUT} .nbstudio-monitor-final [data-status="FINISHED"] >> visible=true'
        page.locator(final).first.wait_for(timeout=60_000)
        ui.screenshot("multi-3-finished")
