"""System metrics in the run view, in Chromium: a run logged with MLflow's own system metrics
logging (``system/...`` keys) shows them as their own group of charts, apart from the model's."""

from __future__ import annotations

import json
import textwrap

from playwright.sync_api import expect

LOG = textwrap.dedent(
    """
    import json, time
    import mlflow
    from nbstudio.session import get_session

    session = get_session()
    session.workspace
    mlflow.set_system_metrics_sampling_interval(0.5)
    mlflow.set_system_metrics_samples_before_logging(1)
    experiment_id = session.experiment_id("ui-system-metrics")
    with mlflow.start_run(
        run_name="train-with-system-metrics", experiment_id=experiment_id, log_system_metrics=True
    ) as run:
        for step in range(12):
            mlflow.log_metric("loss", 1 / (step + 1), step=step)
            mlflow.log_metric("val_loss", 1.2 / (step + 1), step=step)
            mlflow.log_metric("accuracy", 1 - 1 / (step + 2), step=step)
            time.sleep(0.3)
    with mlflow.start_run(run_name="no-system-metrics", experiment_id=experiment_id) as bare:
        mlflow.log_metric("loss", 0.5)
    print(json.dumps({"run_id": run.info.run_id, "bare": bare.info.run_id}))
    """
)


def test_system_metrics_are_their_own_group(lab, ui):
    made = json.loads(lab.python(LOG).stdout.strip().splitlines()[-1])
    metrics = lab.api(f"runs/{made['run_id']}")["run"]["metrics"]
    system_keys = sorted(k for k in metrics if k.startswith("system/"))
    assert len(system_keys) >= 2, metrics  # MLflow logged CPU and memory at least
    ui.command("nbstudio:open-run", {"runId": made["run_id"]})
    view = ui.page.locator(f'.nbs-view[data-run-id="{made["run_id"]}"]')
    group = view.locator(".nbs-system-metrics")
    # rule: every system metric is charted in the "System metrics" group, titled by its key
    expect(group.locator("h3")).to_have_text("System metrics", timeout=20_000)
    expect(group.locator(".nbs-chart")).to_have_count(min(len(system_keys), 12))
    expect(group.locator(".nbs-chart .main-svg").first).to_be_visible(timeout=30_000)
    cpu = group.locator('.nbs-chart[data-metric="system/cpu_utilization_percentage"]')
    expect(cpu).to_have_count(1)
    # rule: the model's metrics stay in Metrics, without any system/ key
    model = view.locator(".nbs-metrics .nbs-chart")
    expect(model).to_have_count(3)
    assert sorted(model.evaluate_all("els => els.map(e => e.dataset.metric)")) == [
        "accuracy",
        "loss",
        "val_loss",
    ]
    group.scroll_into_view_if_needed()
    ui.screenshot("run-view-system-metrics")
    ui.command("nbstudio:open-run", {"runId": made["bare"]})
    bare = ui.page.locator(f'.nbs-view[data-run-id="{made["bare"]}"]')
    # rule: a run without system metrics has no such group
    expect(bare.locator(".nbs-metrics .nbs-chart")).to_have_count(1, timeout=20_000)
    expect(bare.locator(".nbs-system-metrics")).to_have_count(0)
