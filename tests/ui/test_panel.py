"""The side panel in a real JupyterLab and Chromium: experiments, live status, run view, compare.

Runs are made the way users make them: with ``%%mlrun`` in a notebook running in the lab, or with
``nbstudio.tracking.TrackedRun`` in a script in the same workspace.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

from playwright.sync_api import expect

# A script making finished runs: RUNS = [(name, params, {metric: [values by step]})].
MAKE_RUNS = textwrap.dedent(
    """
    import mlflow
    from nbstudio.tracking import RunSpec, TrackedRun

    for name, params, metrics in RUNS:
        spec = RunSpec(name=name, experiment=EXPERIMENT, params=params, source="# cell of " + name)
        with TrackedRun(spec):
            print("training", name)
            for key, values in metrics.items():
                for step, value in enumerate(values):
                    mlflow.log_metric(key, value, step=step)
    """
)

# A script whose run stays RUNNING until the test creates the file RELEASE.
LIVE_RUN = textwrap.dedent(
    """
    import pathlib, time
    import mlflow
    from nbstudio.tracking import RunSpec, TrackedRun

    with TrackedRun(RunSpec(name="live-run", experiment="ui-live")):
        mlflow.log_metric("acc", 0.5, step=0)
        mlflow.flush_async_logging()
        pathlib.Path(STARTED).write_text("yes")
        deadline = time.monotonic() + 120
        while not pathlib.Path(RELEASE).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        mlflow.log_metric("acc", 0.9, step=1)
    """
)


def make_runs(lab, experiment: str, runs: list[tuple[str, dict, dict]]) -> None:
    lab.python(f"EXPERIMENT = {experiment!r}\nRUNS = {runs!r}\n{MAKE_RUNS}")


def expand(panel, experiment: str):
    """Expand an experiment in the panel (it appears within a poll) and return its element."""
    row = panel.locator(f'.nbs-experiment[data-experiment="{experiment}"]')
    expect(row).to_be_visible(timeout=15_000)
    row.locator(".nbs-experiment-row").click()
    return row


def test_panel_lists_experiment_made_with_mlrun(lab, ui):
    lab.write_notebook(
        "mlrun_panel.ipynb",
        [
            "%load_ext nbstudio",
            "%%mlrun first-run -e ui-magic -p alpha=0.5\n"
            "import mlflow\n"
            "for i in range(5):\n"
            "    mlflow.log_metric('loss', 1 / (i + 1), step=i)\n"
            "print('trained')",
        ],
    )
    ui.open_notebook("mlrun_panel.ipynb")
    ui.run_all()
    panel = ui.open_panel()
    experiment = expand(panel, "ui-magic")
    run = experiment.locator(".nbs-run", has_text="first-run")
    # rule: the run made by %%mlrun is listed under its experiment, finished, with its metric
    expect(run).to_have_attribute("data-status", "FINISHED", timeout=15_000)
    expect(run.locator(".nbs-status")).to_have_text("FINISHED")
    expect(run.locator(".nbs-metric")).to_contain_text("loss")
    ui.screenshot("panel-experiments")
    run.locator(".nbs-name").click()
    link = ui.page.locator(".nbs-runview:not(.lm-mod-hidden) .nbs-notebook-link")
    # rule: the run view links the notebook the run came from ...
    expect(link).to_have_text("mlrun_panel.ipynb")
    link.click()
    # rule: ... and the link brings that notebook to the front
    ui.page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget?.context?.path === 'mlrun_panel.ipynb'"
    )


def test_running_run_turns_finished_without_reload(lab, ui, tmp_path: Path):
    started, release = tmp_path / "started", tmp_path / "release"
    lab.start_python(f"STARTED = {str(started)!r}\nRELEASE = {str(release)!r}\n{LIVE_RUN}")
    deadline = time.monotonic() + 60
    while not started.exists():
        assert time.monotonic() < deadline, "the live run did not start"
        time.sleep(0.2)
    panel = ui.open_panel()
    experiment = expand(panel, "ui-live")
    run = experiment.locator(".nbs-run", has_text="live-run")
    # rule: a run still going is shown RUNNING
    expect(run).to_have_attribute("data-status", "RUNNING", timeout=15_000)
    ui.screenshot("panel-running")
    ui.page.evaluate("() => { window.__nbstudioNoReload = true; }")
    release.write_text("go")
    # rule: its status turns FINISHED by polling, with no reload of the page
    expect(run).to_have_attribute("data-status", "FINISHED", timeout=20_000)
    assert ui.page.evaluate("() => window.__nbstudioNoReload === true")
    ui.screenshot("panel-finished")


def test_run_view_shows_metric_chart_and_artifacts(lab, ui):
    make_runs(
        lab, "ui-chart", [("chart-run", {"lr": 0.1}, {"loss": [1 / (i + 1) for i in range(50)]})]
    )
    panel = ui.open_panel()
    experiment = expand(panel, "ui-chart")
    experiment.locator(".nbs-run .nbs-name", has_text="chart-run").click()
    view = ui.page.locator(".nbs-runview:not(.lm-mod-hidden) .nbs-view")
    # rule: the run view opens in the main area with the run's overview and params
    expect(view).to_have_attribute("data-status", "FINISHED")
    expect(view.locator(".nbs-overview")).to_contain_text("lr")
    # rule: its metric is drawn as a plotly chart
    chart = view.locator('.nbs-chart[data-metric="loss"]')
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=20_000)
    expect(chart.locator(".scatterlayer .trace")).to_have_count(1)
    # rule: cell.py and outputs/log.txt are previewed
    expect(view.locator('[data-artifact="cell.py"] pre')).to_contain_text("# cell of chart-run")
    expect(view.locator('[data-artifact="outputs/log.txt"] pre')).to_contain_text("training")
    ui.screenshot("run-view", doc="panel")


def test_compare_view_opens_for_two_runs(lab, ui):
    make_runs(
        lab,
        "ui-compare",
        [
            ("cmp-a", {"lr": 0.1, "kernel": "rbf"}, {"acc": [0.5, 0.8]}),
            ("cmp-b", {"lr": 0.01, "kernel": "linear"}, {"acc": [0.6, 0.9]}),
        ],
    )
    panel = ui.open_panel()
    experiment = expand(panel, "ui-compare")
    for name in ("cmp-a", "cmp-b"):
        experiment.locator(".nbs-run", has_text=name).locator(".nbs-select").check()
    compare = panel.locator(".nbs-compare")
    # rule: Compare is enabled by selecting two runs
    expect(compare).to_have_text("Compare (2)")
    compare.click()
    view = ui.page.locator('.nbs-compare[data-runs="2"]')
    # rule: the compare view shows both runs side by side with their params and metrics
    expect(view.locator(".nbs-compare-table tbody tr")).to_have_count(2)
    expect(view.locator(".nbs-compare-table thead")).to_contain_text("kernel")
    expect(view.locator(".nbs-compare-table thead")).to_contain_text("acc")
    # rule: and a parallel-coordinates chart of them
    chart = view.locator(".nbs-parcoords")
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=20_000)
    expect(chart.locator(".axis-title", has_text="kernel")).to_have_count(1)
    expect(chart.locator(".axis-title", has_text="acc")).to_have_count(1)
    ui.screenshot("compare-view")


REGISTER = textwrap.dedent(
    """
    from nbstudio.session import get_session

    session = get_session()
    client = session.client()
    run = client.create_run(session.experiment_id("ui-models"), run_name="trainer")
    client.set_terminated(run.info.run_id, "FINISHED")
    client.create_registered_model("ui-model", description="churn classifier")
    for _ in range(2):
        client.create_model_version("ui-model", f"runs:/{run.info.run_id}/model", run.info.run_id)
    client.set_registered_model_alias("ui-model", "champion", "2")
    """
)


def test_models_section_lists_versions_and_aliases(lab, ui):
    lab.python(REGISTER)
    panel = ui.open_panel()
    model = panel.locator('.nbs-card[data-model="ui-model"]')
    # rule: a registered model shows its alias, its versions newest first, and its description
    expect(model).to_be_visible(timeout=15_000)
    expect(model.locator(".nbs-row").first.locator(".nbs-alias")).to_have_text("@champion → v2")
    expect(model.locator(".nbs-version .nbs-name")).to_have_text(["v2", "v1"])
    expect(model).to_contain_text("churn classifier")
    model.locator(".nbs-version", has_text="v2").locator("button", has_text="run").click()
    # rule: a version links to the run it came from
    view = ui.page.locator(".nbs-runview:not(.lm-mod-hidden) .nbs-view")
    expect(view.locator("h2")).to_have_text("trainer")
    ui.screenshot("models")
