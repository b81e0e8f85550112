"""A drift check's figures in the panel's run view (no panel code of their own: they are saved as
evaluation figures)."""

from __future__ import annotations

import textwrap

from playwright.sync_api import expect
from test_panel import expand

DRIFT_RUN = textwrap.dedent(
    """
    import numpy as np
    import pandas as pd
    import nbstudio

    rng = np.random.default_rng(0)
    names = ["alcohol", "malic_acid", "ash", "alcalinity_of_ash", "magnesium", "total_phenols",
             "flavanoids", "nonflavanoid_phenols", "proanthocyanins", "color_intensity", "hue",
             "od280/od315_of_diluted_wines", "proline"]
    reference = pd.DataFrame(rng.normal(size=(3000, len(names))), columns=names)
    current = pd.DataFrame(rng.normal(size=(3000, len(names))), columns=names)
    current["alcohol"] += 1.0
    current["hue"] *= 1.6
    current["proline"] += 0.15
    nbstudio.drift(current=current, reference=reference, experiment="ui-drift")
    """
)


def test_run_view_draws_the_drift_figures(lab, ui):
    lab.python(DRIFT_RUN)
    panel = ui.open_panel()
    experiment = expand(panel, "ui-drift")
    experiment.locator(".nbs-run .nbs-name", has_text="drift").click()
    view = ui.page.locator(".nbs-runview:not(.lm-mod-hidden) .nbs-view")
    expect(view).to_have_attribute("data-status", "FINISHED")
    figures = view.locator(".nbs-evaluation .nbs-evaluation-figure")
    # rule: the heat map and the worst features' distributions are drawn in the run view
    expect(figures).to_have_count(2, timeout=20_000)
    names = sorted(figures.nth(i).get_attribute("data-figure") for i in range(2))
    assert names == ["drift_distributions", "drift_heatmap"]
    heat = view.locator('[data-figure="drift_heatmap"]')
    expect(heat.locator(".heatmaplayer")).to_have_count(1, timeout=20_000)
    heat.scroll_into_view_if_needed()
    ui.screenshot("run-view-drift-heatmap")
    view.locator('[data-figure="drift_distributions"]').scroll_into_view_if_needed()
    ui.screenshot("run-view-drift-distributions")


BATCH_JOB = textwrap.dedent(
    """
    import mlflow
    import pandas as pd
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    import nbstudio
    from nbstudio.batch import commands

    nbstudio.get_session().workspace
    X, y = load_wine(return_X_y=True, as_frame=True)
    with mlflow.start_run():
        model = LogisticRegression(max_iter=2000).fit(X, y)
        nbstudio.register_model(model, name="wine", aliases=["champion"], input_example=X.head())
    X.to_csv("wine-new.csv", index=False)
    nbstudio.data.create("wine-new", "wine-new.csv")
    commands.create("nightly-wine-scoring", model="wine@champion")
    commands.create("idle-endpoint-with-a-long-name", model="wine@champion", compute="cpu")
    commands.invoke("nightly-wine-scoring", "wine-new@1").wait()
    """
)


def test_panel_lists_batch_endpoints_with_their_last_job(lab, ui):
    lab.python(BATCH_JOB)
    panel = ui.open_panel()
    card = panel.locator('[data-batch-endpoint="nightly-wine-scoring"]')
    # rule: each batch endpoint is a card with its model and its latest job
    expect(card).to_be_visible(timeout=20_000)
    expect(card.locator('[data-field="model"]')).to_have_text("model: wine@champion")
    expect(card.locator(".nbs-status")).to_have_text("FINISHED")
    expect(card.locator('[data-field="last-job"]')).to_contain_text("178 rows → wine-new-scored@1")
    idle = panel.locator('[data-batch-endpoint="idle-endpoint-with-a-long-name"]')
    expect(idle).to_contain_text("no job yet")
    card.scroll_into_view_if_needed()
    ui.screenshot("panel-batch-endpoints")
    card.locator("button", has_text="last job").click()
    view = ui.page.locator(".nbs-runview:not(.lm-mod-hidden) .nbs-view")
    # rule: the last job opens as its run
    expect(view).to_have_attribute("data-status", "FINISHED")


def test_batch_invoke_shows_the_job_monitor(lab, ui):
    setup = BATCH_JOB.replace('commands.invoke("nightly-wine-scoring", "wine-new@1").wait()', "")
    setup = setup.replace("nightly-wine-scoring", "monitored").replace(
        'commands.create("idle-endpoint-with-a-long-name", model="wine@champion", compute="cpu")',
        "",
    )
    setup = setup.replace('name="wine"', 'name="wine-m"').replace(
        "wine@champion", "wine-m@champion"
    )
    setup = setup.replace('"wine-new"', '"wine-more"').replace("wine-new.csv", "wine-more.csv")
    lab.write_notebook(
        "batch-ui.ipynb",
        ["%load_ext nbstudio", setup, "%batch invoke monitored --input wine-more@1"],
    )
    ui.open_notebook("batch-ui.ipynb")
    ui.run_all(timeout=120)
    notebook = ui.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    final = notebook.locator(".nbstudio-monitor-final")
    # rule: the job's monitor ends in its final state with the progress metrics
    expect(final).to_be_visible(timeout=60_000)
    expect(final).to_contain_text("rows_scored")
    expect(final).to_contain_text("FINISHED")
    final.scroll_into_view_if_needed()
    ui.screenshot("notebook-batch-invoke-monitor")


ENDPOINT_DRIFT = textwrap.dedent(
    """
    import os
    os.environ["NBSTUDIO_COLLECT_FLUSH_SECONDS"] = "0.2"  # inherited by the endpoint's workers
    os.environ["MLFLOW_TRACKING_URI"] = "sqlite:///" + os.path.abspath("drift-ui-models.db")
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    import nbstudio
    from nbstudio import endpoints

    X, y = load_wine(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=2000).fit(X, y)
    nbstudio.register_model(model, "wine-online", input_example=X.head(3))
    endpoints.create("wine-online")
    endpoints.deploy("wine-online", "blue", "wine-online/1", collect_inputs=1)
    rng = np.random.default_rng(0)
    new = X.sample(2000, replace=True, random_state=1).reset_index(drop=True)
    new["alcohol"] += 0.8
    for start in range(0, 2000, 200):
        endpoints.invoke("wine-online", new.iloc[start : start + 200])
    endpoints.stop("wine-online")  # a graceful stop writes what the collector holds
    # the model lives in a store of its own (the other panel tests see none); the check in the lab's
    del os.environ["MLFLOW_TRACKING_URI"]
    import mlflow
    from nbstudio.session import reset_session

    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)
    reset_session()
    reference = X.sample(2000, replace=True, random_state=2).reset_index(drop=True)
    nbstudio.drift(current="endpoint:wine-online", reference=reference, experiment="ui-online")
    endpoints.delete("wine-online")
    """
)


def test_a_drift_run_on_an_endpoint_says_what_it_sampled(lab, ui):
    lab.python(ENDPOINT_DRIFT, timeout=300)
    panel = ui.open_panel()
    experiment = expand(panel, "ui-online")
    run = experiment.locator(".nbs-run .nbs-name", has_text="endpoint:wine-online")
    # rule: the run's name says which endpoint and how many sampled rows, in a few words
    expect(run).to_have_text("drift endpoint:wine-online (2000 rows)")
    run.click()
    view = ui.page.locator(".nbs-runview:not(.lm-mod-hidden) .nbs-view")
    expect(view).to_have_attribute("data-status", "FINISHED")
    # rule: the run records where its current data came from, and from when to when
    view.locator("summary", has_text="system").click()
    expect(view).to_contain_text("nbstudio.drift.source")
    expect(view).to_contain_text("2000 sampled rows of endpoint wine-online (")
    heat = view.locator('[data-figure="drift_heatmap"]')
    expect(heat.locator(".heatmaplayer")).to_have_count(1, timeout=20_000)
    ui.screenshot("run-view-drift-endpoint")
