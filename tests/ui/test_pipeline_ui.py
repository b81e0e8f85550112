"""A pipeline in a real JupyterLab: ``show()`` draws the graph, ``%pipeline run`` shows the live
monitor of the parent run with one child run per step, then its final state."""

from __future__ import annotations

import shutil
from pathlib import Path

COMPONENTS = """
import time
import nbstudio
from nbstudio.pipelines import Outputs

@nbstudio.component
def load_wine_measurements(n: int = 60) -> list:
    time.sleep(1.0)
    return [float(i % 13) for i in range(n)]

@nbstudio.component
def split_train_and_test(values: list) -> Outputs["train", "test"]:
    return values[: len(values) * 3 // 4], values[len(values) * 3 // 4 :]

@nbstudio.component
def train_logistic_regression(train: list, C: float = 1.0) -> float:
    time.sleep(4.0)
    return sum(train) / len(train) * C

@nbstudio.component
def train_random_forest(train: list) -> float:
    time.sleep(4.0)
    return max(train)

@nbstudio.component
def evaluate(model: float, test: list) -> float:
    import mlflow
    accuracy = 1 / (1 + abs(model - sum(test) / len(test)))
    mlflow.log_metric("accuracy", accuracy)
    return accuracy

@nbstudio.pipeline
def wine(n=60, C=1.0):
    train, test = split_train_and_test(load_wine_measurements(n))
    return {
        "lr": evaluate(train_logistic_regression(train, C=C), test),
        "rf": evaluate(train_random_forest(train), test),
    }
"""
SHOW_OUTPUT = ".jp-Notebook .jp-Cell:nth-child(3) .jp-OutputArea"
RUN_OUTPUT = ".jp-Notebook .jp-Cell:nth-child(4) .jp-OutputArea"
RERUN_OUTPUT = ".jp-Notebook .jp-Cell:nth-child(5) .jp-OutputArea"


MAKE_PIPELINE_RUNS = """
import nbstudio

@nbstudio.component
def gather_measurements_from_every_vineyard(n: int) -> list:
    return list(range(n))

@nbstudio.component
def average(values: list) -> float:
    return sum(values) / len(values)

@nbstudio.component
def unreliable_scoring_service(values: list) -> float:
    raise ConnectionError("the scoring service did not answer")

@nbstudio.pipeline
def vineyard_quality_report_with_a_long_name(n=10):
    return average(gather_measurements_from_every_vineyard(n))

@nbstudio.pipeline
def scoring(n=10):
    return unreliable_scoring_service(gather_measurements_from_every_vineyard(n))

runs = [vineyard_quality_report_with_a_long_name.run(n=n) for n in (10, 10, 20)]
runs.append(scoring.run())
print(" ".join(r.run_id for r in runs))
"""


def test_panel_lists_pipeline_runs_with_steps_done(lab, ui) -> None:
    from playwright.sync_api import expect

    panel = ui.open_panel()
    section = panel.locator('[data-section="pipelines"]')
    cards = section.locator("li[data-pipeline]")
    # The section has loaded once it shows runs (earlier tests of the shared lab made some) or its
    # empty state: counting before that raced the panel's first refresh.
    expect(section.locator("li[data-pipeline], .nbs-empty").first).to_be_visible(timeout=15_000)
    if cards.count() == 0:
        # rule: an empty workspace says how to make a pipeline instead of an empty list
        expect(section.locator(".nbs-empty")).to_contain_text("%pipeline run", timeout=15_000)
        section.scroll_into_view_if_needed()
        ui.screenshot("pipelines-empty")
    # From a file, as a notebook's cells would be: a ``python -c`` script has no source to
    # fingerprint, and its steps would run uncached.
    (lab.root / "make_pipeline_runs.py").write_text(MAKE_PIPELINE_RUNS)
    script = "import runpy; runpy.run_path('make_pipeline_runs.py', run_name='__main__')"
    made = lab.python(script).stdout.split()[-4:]
    panel.locator(".nbs-icon-button[title='Refresh now']").click()
    for run_id in made:
        expect(section.locator(f'li[data-pipeline="{run_id}"]')).to_be_visible(timeout=15_000)
    full, reused, partly, failed = (section.locator(f'li[data-pipeline="{r}"]') for r in made)
    # rule: each run shows its state, its steps done of all, and how many were reused
    expect(full).to_contain_text("2/2 steps done · 0 reused")
    expect(reused).to_contain_text("2/2 steps done · 2 reused")
    expect(partly).to_contain_text("2/2 steps done · 0 reused")
    expect(failed).to_contain_text("FAILED")
    expect(failed).to_contain_text("failed at unreliable_scoring_service")
    expect(failed).to_contain_text("1/2 steps done · 1 reused")
    section.scroll_into_view_if_needed()
    shot = ui.screenshot("pipelines-panel")
    keep = Path("/tmp/nbstudio-pipeline-shots")
    keep.mkdir(exist_ok=True)
    shutil.copyfile(shot, keep / shot.name)


def test_show_then_run_with_the_live_monitor(lab, ui) -> None:
    lab.write_notebook(
        "pipeline_ui.ipynb",
        [
            "%load_ext nbstudio",
            COMPONENTS,
            "wine.show()",
            "%pipeline run wine --max-concurrent 2",
            "%pipeline run wine --max-concurrent 2 -p C=0.5",
        ],
    )
    ui.open_notebook("pipeline_ui.ipynb")
    page = ui.page
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    graph = page.locator(f"{SHOW_OUTPUT} svg g.nbstudio-step")
    graph.first.wait_for(timeout=60_000)
    # rule: the graph is drawn before anything runs, one node per step
    assert graph.count() == 6
    running = page.locator(
        f'{RUN_OUTPUT} .nbstudio-monitor-header .nbstudio-status[data-status="RUNNING"]'
    )
    running.first.wait_for(timeout=60_000)
    page.locator(f"{RUN_OUTPUT} .nbstudio-children-table tr[data-run-id]").first.wait_for(
        timeout=30_000
    )
    page.locator(RUN_OUTPUT).scroll_into_view_if_needed()
    shot = ui.screenshot("1-running")
    # rule: while the pipeline runs, its monitor shows it RUNNING with its first steps
    assert running.count() == 1
    page.locator(
        f'{RUN_OUTPUT} .nbstudio-monitor-header .nbstudio-status[data-status="FINISHED"]'
    ).first.wait_for(timeout=90_000)
    rows = page.locator(f"{RUN_OUTPUT} .nbstudio-children-table tr[data-run-id]")
    # rule: the parent's monitor lists every step as a child run
    assert rows.count() == 6
    names = " ".join(rows.all_inner_texts())
    for step in ("load_wine_measurements", "train_random_forest", "evaluate_2"):
        assert step in names
    page.locator(f"{RUN_OUTPUT} svg g.nbstudio-step").first.wait_for(timeout=30_000)
    page.locator(RUN_OUTPUT).scroll_into_view_if_needed()
    final = ui.screenshot("2-finished")

    # The re-run with another C: the logistic-regression branch runs again, the rest is reused.
    page.locator(
        f'{RERUN_OUTPUT} .nbstudio-monitor-header .nbstudio-status[data-status="FINISHED"]'
    ).first.wait_for(timeout=90_000)
    rows = page.locator(f"{RERUN_OUTPUT} .nbstudio-children-table tr[data-run-id]")
    assert rows.count() == 6
    reused = page.locator(f"{RERUN_OUTPUT} .nbstudio-children-table .nbstudio-reused")
    # rule: the live monitor marks each reused step, as the panel's graph does
    assert reused.count() == 4
    marked = {
        row.locator("td").first.inner_text().split()[0]
        for row in rows.all()
        if row.locator(".nbstudio-reused").count()
    }
    assert marked == {
        "load_wine_measurements",
        "split_train_and_test",
        "train_random_forest",
        "evaluate_2",
    }
    page.locator(RERUN_OUTPUT).scroll_into_view_if_needed()
    rerun = ui.screenshot("3-rerun-reused")
    keep = Path("/tmp/nbstudio-pipeline-shots")
    keep.mkdir(exist_ok=True)
    for path in (shot, final, rerun):
        shutil.copyfile(path, keep / path.name)
