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


def test_show_then_run_with_the_live_monitor(lab, ui) -> None:
    lab.write_notebook(
        "pipeline_ui.ipynb",
        ["%load_ext nbstudio", COMPONENTS, "wine.show()", "%pipeline run wine --max-concurrent 2"],
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
    keep = Path("/tmp/nbstudio-pipeline-shots")
    keep.mkdir(exist_ok=True)
    for path in (shot, final):
        shutil.copyfile(path, keep / path.name)
