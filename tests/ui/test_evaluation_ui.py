"""AutoML and evaluation in a real JupyterLab and Chromium: the run view draws a run's evaluation
figures, and a notebook shows the leaderboard and the monitor's final state with the plots."""

from __future__ import annotations

import textwrap

from playwright.sync_api import expect
from test_panel import expand

EVALUATED_RUN = textwrap.dedent(
    """
    import numpy as np
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    import nbstudio
    from nbstudio.tracking import RunSpec, TrackedRun

    X, y = load_wine(return_X_y=True, as_frame=True)
    labels = np.array(["barolo", "grignolino", "barbera"])[y]
    with TrackedRun(RunSpec(name="evaluated-run", experiment="ui-evaluation")):
        model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X[::2], labels[::2])
        nbstudio.evaluate(model, X[1::2], labels[1::2])
    """
)


def test_run_view_draws_the_evaluation_figures(lab, ui):
    lab.python(EVALUATED_RUN)
    panel = ui.open_panel()
    experiment = expand(panel, "ui-evaluation")
    experiment.locator(".nbs-run .nbs-name", has_text="evaluated-run").click()
    view = ui.page.locator(".nbs-runview:not(.lm-mod-hidden) .nbs-view")
    expect(view).to_have_attribute("data-status", "FINISHED")
    section = view.locator(".nbs-evaluation")
    figures = section.locator(".nbs-evaluation-figure")
    # rule: every evaluation/*.plotly.json artifact is drawn in the run view, in a fixed order
    expect(figures).to_have_count(5, timeout=20_000)
    names = [figures.nth(i).get_attribute("data-figure") for i in range(5)]
    assert names == [
        "confusion_matrix",
        "roc_curve",
        "precision_recall_curve",
        "calibration",
        "permutation_importance",
    ]
    roc = section.locator('.nbs-evaluation-figure[data-figure="roc_curve"]')
    # rule: they are real plotly charts: ROC has a curve per class, micro, macro and chance
    expect(roc.locator(".main-svg").first).to_be_visible(timeout=20_000)
    expect(roc.locator(".scatterlayer .trace")).to_have_count(6)
    expect(section.locator('[data-figure="confusion_matrix"] .heatmaplayer')).to_have_count(1)
    section.scroll_into_view_if_needed()
    ui.screenshot("run-view-evaluation")


def test_notebook_shows_leaderboard_and_monitor_with_evaluation(lab, ui):
    lab.write_notebook(
        "automl-ui.ipynb",
        [
            "%load_ext nbstudio\n"
            "from sklearn.datasets import load_breast_cancer\n"
            "from sklearn.model_selection import train_test_split\n"
            "X, y = load_breast_cancer(return_X_y=True, as_frame=True)\n"
            "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)",
            "%automl classification --train X_train,y_train --test X_test,y_test "
            "--metric AUC_weighted --max-trials 12 --estimators lgbm,rf,extra_tree --seed 0",
        ],
    )
    ui.open_notebook("automl-ui.ipynb")
    ui.run_all(timeout=120)
    notebook = ui.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    board = notebook.locator("table.nbs-lb")
    # rule: the leaderboard shows one row per trial with the best marked
    expect(board.locator("tbody tr")).to_have_count(12, timeout=30_000)
    expect(board.locator("tbody tr.best")).to_have_count(1)
    first_trial = board.locator("tbody tr").first.locator("td").first
    board.locator("th", has_text="trial").click()
    # rule: a click on a header sorts by that column (trial numbers ascending)
    expect(first_trial).to_have_text("0")
    expect(board.locator("tbody tr").nth(11).locator("td").first).to_have_text("11")
    final = notebook.locator(".nbstudio-monitor-final")
    # rule: the monitor's final state shows the metric charts and the evaluation plots as images
    expect(final.locator('img[alt^="evaluation of run"]')).to_be_visible(timeout=30_000)
    final.scroll_into_view_if_needed()
    ui.screenshot("notebook-monitor-final")
    board.scroll_into_view_if_needed()
    ui.screenshot("notebook-leaderboard")
