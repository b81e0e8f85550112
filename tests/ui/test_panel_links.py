"""The run view lists a link leaving the run's artifact folder as a link (issue 12)."""

from __future__ import annotations

import textwrap

from playwright.sync_api import expect

MAKE_LINKED_RUN = textwrap.dedent(
    """
    import os, pathlib
    import mlflow
    from nbstudio.tracking import RunSpec, TrackedRun

    secret = pathlib.Path(ROOT) / "secret.txt"
    secret.write_text("x" * 1294)
    with TrackedRun(RunSpec(name="linked-run", experiment="ui-links", source="# cell")) as run:
        print("training")
        mlflow.log_metric("acc", 0.9)
    uri = mlflow.get_run(run.run_id).info.artifact_uri.removeprefix("file://")
    os.symlink(secret, os.path.join(uri, "passwd-link"))
    """
)


def test_run_view_shows_links_out_of_the_run_as_links(lab, ui):
    lab.python(f"ROOT = {str(lab.root.parent)!r}\n{MAKE_LINKED_RUN}")
    panel = ui.open_panel()
    row = panel.locator('.nbs-experiment[data-experiment="ui-links"]')
    expect(row).to_be_visible(timeout=15_000)
    row.locator(".nbs-experiment-row").click()
    row.locator(".nbs-run .nbs-name", has_text="linked-run").click()
    view = ui.page.locator(".nbs-runview:not(.lm-mod-hidden) .nbs-view")
    entry = view.locator(".nbs-artifact-list li", has_text="passwd-link")
    # rule: the link is listed as a link, with no size (the 1294 bytes it points to stay unsaid)
    expect(entry).to_contain_text("link out of the run (not followed)")
    expect(entry).not_to_contain_text("1.3 KB")
    expect(view.locator(".nbs-artifact-list li", has_text="cell.py")).to_be_visible()
    entry.scroll_into_view_if_needed()
    ui.screenshot("run-view-links")
