"""Run actions in the run view, in Chromium: rename, add and remove a tag, a description, delete
(the run leaves the panel's list, shows under "show deleted runs") and restore."""

from __future__ import annotations

import json
import textwrap

from playwright.sync_api import expect

MAKE_RUN = textwrap.dedent(
    """
    import json
    from nbstudio.session import get_session

    session = get_session()
    client = session.client()
    experiment_id = session.experiment_id("ui-run-actions")
    run = client.create_run(experiment_id, run_name="gbm-baseline", tags={"team": "churn"})
    for step in range(20):
        client.log_metric(run.info.run_id, "loss", 1 / (step + 1), step=step)
    client.set_terminated(run.info.run_id, "FINISHED")
    print(json.dumps({"run_id": run.info.run_id, "experiment_id": experiment_id}))
    """
)
VIEW = ".nbs-runview:not(.lm-mod-hidden) .nbs-view"
LONG_NAME = "gradient-boosting-with-early-stopping-and-class-weights-v2"


def test_rename_tag_describe_delete_restore(lab, ui):
    made = json.loads(lab.python(MAKE_RUN).stdout.strip().splitlines()[-1])
    run_id = made["run_id"]
    ui.command("nbstudio:open-run", {"runId": run_id, "name": "gbm-baseline"})
    view = ui.page.locator(VIEW)
    expect(view.locator(".nbs-run-name")).to_have_text("gbm-baseline", timeout=20_000)

    view.locator("button.nbs-rename").click()
    view.get_by_label("run name").fill(LONG_NAME)
    view.locator(".nbs-rename-form button[type=submit]").click()
    # rule: rename shows at once and is MLflow's run name
    expect(view.locator(".nbs-run-name")).to_have_text(LONG_NAME)
    assert lab.api(f"runs/{run_id}")["run"]["run_name"] == LONG_NAME

    editor = view.locator(".nbs-tag-editor")
    editor.get_by_label("tag key").fill("stage")
    editor.get_by_label("tag value").fill("review")
    editor.locator("button[type=submit]").click()
    # rule: an added tag is listed and stored
    expect(editor.locator('tr[data-tag="stage"]')).to_contain_text("review")
    editor.get_by_label("remove tag team").click()
    expect(editor.locator('tr[data-tag="team"]')).to_have_count(0)
    tags = lab.api(f"runs/{run_id}")["run"]["tags"]
    assert tags["stage"] == "review"
    assert "team" not in tags
    editor.get_by_label("tag key").fill("mlflow.user")
    editor.get_by_label("tag value").fill("me")
    editor.locator("button[type=submit]").click()
    # rule: a reserved key is refused with a one-line message, nothing written
    expect(editor.locator(".nbs-error")).to_contain_text("mlflow.*")

    view.locator("button.nbs-edit-description").click()
    view.get_by_label("description").fill(
        "Baseline for the churn model.\nClass weights balanced; early stopping at 20 rounds."
    )
    view.locator(".nbs-description-form button[type=submit]").click()
    # rule: the description is MLflow's mlflow.note.content, shown with its line breaks
    expect(view.locator(".nbs-description-text")).to_contain_text("early stopping")
    assert lab.api(f"runs/{run_id}")["run"]["tags"]["mlflow.note.content"].startswith("Baseline")
    ui.screenshot("run-actions-edited")

    panel = ui.open_panel()
    experiment = panel.locator('[data-experiment="ui-run-actions"]')
    experiment.locator(".nbs-experiment-row").click()
    expect(experiment.locator(f'.nbs-runs > ul [data-run-id="{run_id}"]')).to_be_visible()
    ui.command("nbstudio:open-run", {"runId": run_id})
    view.locator("button.nbs-delete").click()
    view.locator("button.nbs-confirm-delete").click()
    # rule: a deleted run says so and offers Restore; edits are off
    expect(view.locator(".nbs-deleted-banner")).to_be_visible()
    expect(view.locator("button.nbs-rename")).to_have_count(0)
    # rule: it leaves the panel's run list and shows under "show deleted runs"
    expect(experiment.locator(f'.nbs-runs > ul [data-run-id="{run_id}"]')).to_have_count(
        0, timeout=20_000
    )
    experiment.locator("button.nbs-show-deleted").click()
    deleted = experiment.locator(f'.nbs-deleted-runs [data-run-id="{run_id}"]')
    expect(deleted).to_contain_text(LONG_NAME)
    ui.screenshot("run-actions-deleted")
    view.locator("button.nbs-restore").click()
    # rule: restore brings it back in the view and in the list
    expect(view.locator(".nbs-deleted-banner")).to_have_count(0)
    expect(experiment.locator(f'.nbs-runs > ul [data-run-id="{run_id}"]')).to_be_visible(
        timeout=20_000
    )
    expect(deleted).to_have_count(0)
