"""The run view's tags: a sweep's settings as a table with its best run, bookkeeping collapsed.

The sweep is made the way users make one, with ``%%mlrun ... --sweep`` in a notebook of the lab.
"""

from __future__ import annotations

from playwright.sync_api import expect

SWEEP_CELL = (
    '%%mlrun tune-svc -e ui-sweep-tags -p C="loguniform(0.01, 10)" '
    "--sweep maximize:accuracy --max-trials 4\n"
    "import mlflow\n"
    "mlflow.log_metric('accuracy', 1 / (1 + abs(C - 1)))"
)
VIEW = ".nbs-runview:not(.lm-mod-hidden) .nbs-view"


def test_sweep_parent_shows_settings_and_best_run(lab, ui):
    lab.write_notebook("sweep_tags.ipynb", ["%load_ext nbstudio", SWEEP_CELL])
    ui.open_notebook("sweep_tags.ipynb")
    ui.run_all(timeout=180)
    sweep = next(s for s in lab.api("sweeps")["sweeps"] if s["run_name"] == "tune-svc")
    ui.command("nbstudio:open-run", {"runId": sweep["run_id"], "name": "tune-svc"})
    view = ui.page.locator(VIEW)
    settings = view.locator(".nbs-sweep-settings")
    # rule: a sweep parent shows its settings as a readable table, not raw nbstudio.sweep.* tags
    expect(settings).to_contain_text("goal", timeout=20_000)
    expect(settings).to_contain_text("maximize")
    expect(settings).to_contain_text("C = loguniform(0.01, 10)")
    expect(view.locator(".nbs-overview")).not_to_contain_text("nbstudio.sweep.space")
    system = view.locator("details.nbs-system-tags")
    # rule: nbstudio's bookkeeping tags sit in a "system" group, collapsed
    expect(system.locator("summary")).to_contain_text("system")
    assert system.get_attribute("open") is None
    expect(system.locator("th", has_text="nbstudio.pid").first).to_be_hidden()
    ui.screenshot("sweep-run-view")
    ui.close_notebooks()
    system.locator("summary").click()
    expect(system.locator("th", has_text="nbstudio.pid").first).to_be_visible()
    best = settings.locator(".nbs-best-run")
    # rule: its best run is a link that opens that trial
    expect(best).to_be_visible()
    best.click()
    best_run = lab.api(f"runs/{sweep['best']['run_id']}")["run"]
    heading = ui.page.locator(".nbs-runview").get_by_role(
        "heading", name=best_run["run_name"], exact=True
    )
    expect(heading).to_be_visible()
