"""The trials page in Chromium: a sweep's live trials table, best-so-far chart, parallel
coordinates and early-stopped trials (opened from the panel's sweep list and from the sweep's run
view), and an AutoML job's leaderboard (opened from its run view) with the best per estimator."""

from __future__ import annotations

import json
import re
import textwrap
import time

import httpx
from playwright.sync_api import expect

SWEEP = textwrap.dedent(
    """
    import time
    import mlflow
    import nbstudio

    def train(learning_rate_of_the_booster, max_depth_of_each_tree, kernel):
        quality = 1 - abs(learning_rate_of_the_booster - 0.1) - 0.01 * max_depth_of_each_tree
        if kernel == "poly":
            quality -= 0.3
        for step in range(4):
            time.sleep(0.15)
            mlflow.log_metric("accuracy", quality * (step + 1) / 4)
            mlflow.log_metric("val_loss", 1 - quality)

    nbstudio.sweep(
        train,
        {
            "learning_rate_of_the_booster": "loguniform(0.001, 0.5)",
            "max_depth_of_each_tree": "choice(2, 4, 8, 16)",
            "kernel": "choice('rbf', 'linear', 'poly')",
        },
        goal="maximize:accuracy",
        policy="median_stopping(delay_evaluation=2)",
        max_total_trials=14,
        seed=1,
        name="tune-gbm-with-a-long-descriptive-name",
        experiment="ui-trials",
    )
    """
)
AUTOML = textwrap.dedent(
    """
    import json
    import nbstudio
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    result = nbstudio.automl(
        X, y, task="classification", primary_metric="AUC_weighted", max_trials=14,
        estimators=["lgbm", "rf", "extra_tree", "lrl1"], seed=0,
        name="automl-breast-cancer", experiment="ui-automl",
    )
    print(json.dumps({"run_id": result.parent_run_id}))
    """
)
PAGE = ".nbs-trialsview:not(.lm-mod-hidden) .nbs-trials-page"
VIEW = ".nbs-runview:not(.lm-mod-hidden) .nbs-view"


def _sweep(lab, name: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            sweeps = lab.api("sweeps")["sweeps"]
        except httpx.TimeoutException:  # the sweep's own writes hold SQLite: ask again
            continue
        for sweep in sweeps:
            if sweep["run_name"] == name:
                return sweep
        time.sleep(0.5)
    raise AssertionError(f"no sweep {name}")


def test_sweep_page_is_live_and_marks_early_stopped_trials(lab, ui):
    proc = lab.start_python(SWEEP)
    sweep = _sweep(lab, "tune-gbm-with-a-long-descriptive-name")
    panel = ui.open_panel()
    card = panel.locator(f'[data-sweep="{sweep["run_id"]}"]')
    card.locator("button.nbs-open-trials").click()
    page = ui.page.locator(PAGE)
    rows = page.locator("tr.nbs-trial")
    # rule: opened from the panel while the sweep runs, the page says RUNNING and grows
    expect(page).to_have_attribute("data-status", "RUNNING", timeout=30_000)
    expect(rows.first).to_be_visible(timeout=30_000)
    first = rows.count()
    ui.screenshot("sweep-page-live")
    expect(page).to_have_attribute("data-status", "FINISHED", timeout=120_000)
    assert proc.wait(60) == 0, proc.stderr.read()[-2000:]
    expect(rows).to_have_count(14)
    assert first < 14
    answer = lab.api(f"runs/{sweep['run_id']}/trials")
    stopped = [t for t in answer["trials"] if t["terminated_by"] == "median_stopping"]
    # rule: trials stopped by the policy are marked, and the summary counts them
    assert stopped, "the median policy stopped no trial: the test's sweep must exercise it"
    expect(page.locator("tr.nbs-trial-stopped")).to_have_count(len(stopped))
    expect(page.locator("tr.nbs-trial-stopped").first).to_contain_text(
        "stopped early (median stopping)"
    )
    expect(page.locator(".nbs-trials-count")).to_contain_text(f"{len(stopped)} stopped early")
    best_id = lab.api("sweeps")["sweeps"][0]["best"]["run_id"]
    # rule: the best trial is the sweep's best, marked
    expect(page.locator("tr.nbs-trial-best")).to_have_attribute("data-run-id", best_id)
    # rule: best-so-far chart and parallel coordinates are drawn
    expect(page.locator('[data-chart="best-so-far"] .main-svg').first).to_be_visible()
    expect(page.locator('[data-chart="parallel"] .main-svg').first).to_be_visible()
    page.locator('th[data-column="value"]').click()
    # rule: a header click sorts by it (best first for a maximized metric)
    expect(rows.first).to_have_attribute("data-run-id", best_id)
    page.locator('th[data-column="value"]').click()
    expect(page.locator('th[data-column="value"]')).to_have_attribute("aria-sort", "ascending")
    page.locator('th[data-column="value"]').click()
    ui.screenshot("sweep-page")
    # rule: the sweep's run view opens the same page
    ui.command("nbstudio:open-run", {"runId": sweep["run_id"]})
    view = ui.page.locator(VIEW)
    expect(view.locator("button.nbs-open-trials")).to_have_text("Sweep page")
    view.locator("button.nbs-open-trials").click()
    expect(page).to_be_visible()


def test_automl_leaderboard_marks_best_per_estimator(lab, ui):
    made = json.loads(lab.python(AUTOML, timeout=300).stdout.strip().splitlines()[-1])
    ui.command("nbstudio:open-run", {"runId": made["run_id"]})
    view = ui.page.locator(VIEW)
    button = view.locator("button.nbs-open-trials")
    expect(button).to_have_text("Leaderboard", timeout=20_000)
    button.click()
    page = ui.page.locator(PAGE)
    expect(page).to_have_attribute("data-kind", "automl", timeout=20_000)
    answer = lab.api(f"runs/{made['run_id']}/trials")
    trials = answer["trials"]
    estimators = {t["estimator"] for t in trials}
    rows = page.locator("tr.nbs-trial")
    # rule: one row per trial, best first, the best trial of each estimator marked
    expect(rows).to_have_count(len(trials))
    expect(page.locator("tr.nbs-best-estimator")).to_have_count(len(estimators))
    values = [t["value"] for t in trials if t["value"] is not None]
    best = max(values)
    first_value = rows.first.locator('td[data-column="value"] .nbs-trial-cell')
    assert float(first_value.get_attribute("title")) == float(f"{best:.4g}")
    expect(rows.first).to_have_class(re.compile(r"\bnbs-trial-best\b.*\bnbs-best-estimator\b"))
    for estimator in estimators:
        marked = page.locator("tr.nbs-best-estimator", has_text=estimator)
        expect(marked).to_have_count(1)
    ui.screenshot("automl-leaderboard")
    page.locator('th[data-column="number"]').click()
    # rule: sortable by any column (here by trial number)
    expect(rows.first).to_have_attribute("data-trial", str(min(t["number"] for t in trials)))
    page.locator('th[data-column="estimator"]').click()
    expect(rows.first.locator('td[data-column="estimator"]')).to_contain_text(sorted(estimators)[0])
    ui.screenshot("automl-leaderboard-by-estimator")


EMPTY_JOB = textwrap.dedent(
    """
    import json
    from nbstudio.session import get_session

    session = get_session()
    client = session.client()
    run = client.create_run(
        session.experiment_id("ui-automl-empty"),
        run_name="automl-just-started",
        tags={
            "nbstudio.kind": "automl",
            "nbstudio.automl.task": "classification",
            "nbstudio.automl.primary_metric": "accuracy",
        },
    )
    print(json.dumps({"run_id": run.info.run_id}))
    """
)


def test_trials_page_without_trials_says_so(lab, ui):
    made = json.loads(lab.python(EMPTY_JOB).stdout.strip().splitlines()[-1])
    ui.command("nbstudio:open-trials", {"runId": made["run_id"], "name": "automl-just-started"})
    page = ui.page.locator(f'.nbs-trials-page[data-run-id="{made["run_id"]}"]')
    # rule: a job that has no trial yet says so, with no chart and no table
    expect(page.locator(".nbs-trials-empty")).to_have_text("No trials yet.", timeout=20_000)
    expect(page.locator(".nbs-trials-count")).to_contain_text("0 trials")
    expect(page.locator(".nbs-trials-charts")).to_have_count(0)
    expect(page).to_have_attribute("data-status", "RUNNING")
    ui.screenshot("trials-page-empty")
