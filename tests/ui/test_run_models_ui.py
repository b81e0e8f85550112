"""The run view shows the model a run logged (MLflow 3 logged models) and registers it."""

from __future__ import annotations

import json
import textwrap

from playwright.sync_api import expect

LOG_MODEL = textwrap.dedent(
    """
    import json
    import mlflow, mlflow.sklearn
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from nbstudio.session import get_session

    session = get_session()
    session.workspace
    X, y = load_wine(return_X_y=True)
    with mlflow.start_run(
        run_name="wine-logreg", experiment_id=session.experiment_id("ui-run-models")
    ) as run:
        model = LogisticRegression(max_iter=5000).fit(X, y)
        mlflow.log_metric("accuracy", model.score(X, y))
        info = mlflow.sklearn.log_model(model, name="classifier", pip_requirements=[])
    print(json.dumps({"run_id": run.info.run_id, "model_id": info.model_id}))
    """
)
VIEW = ".nbs-runview:not(.lm-mod-hidden) .nbs-view"


def test_run_view_lists_logged_model_and_registers_it(lab, ui):
    made = json.loads(lab.python(LOG_MODEL).stdout.strip().splitlines()[-1])
    ui.command("nbstudio:open-run", {"runId": made["run_id"], "name": "wine-logreg"})
    section = ui.page.locator(f"{VIEW} .nbs-run-models")
    row = section.locator(f'tr[data-model-id="{made["model_id"]}"]')
    # rule: the model the run logged is listed, not yet registered
    expect(row).to_be_visible(timeout=20_000)
    expect(row.locator(".nbs-name")).to_have_text("classifier")
    expect(row.locator(".nbs-registered")).to_have_text("—")
    row.locator("button.nbs-register").click()
    row.get_by_label("registered model name").fill("wine-classifier")
    ui.screenshot("run-models-register")
    row.locator("button[type=submit]").click()
    # rule: Register makes version 1 of the named model from this run, shown at once
    expect(row.locator(".nbs-registered")).to_have_text("wine-classifier/1", timeout=20_000)
    models = {m["name"]: m for m in lab.api("models")["models"]}
    assert models["wine-classifier"]["versions"][0]["run_id"] == made["run_id"]
    ui.screenshot("run-models")
