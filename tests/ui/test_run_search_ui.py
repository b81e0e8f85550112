"""Search, filter and sort an experiment's runs in the panel, in MLflow's filter syntax."""

from __future__ import annotations

import textwrap

from playwright.sync_api import expect

EXPERIMENT = "ui-search"
RUNS = textwrap.dedent(
    f"""
    from nbstudio.session import get_session
    session = get_session()
    client = session.client()
    experiment_id = session.experiment_id({EXPERIMENT!r})
    for name, kernel, acc in [("svc-rbf", "rbf", 0.97), ("svc-linear", "linear", 0.91),
                              ("svc-poly", "poly", 0.88)]:
        run = client.create_run(experiment_id, run_name=name)
        client.log_param(run.info.run_id, "kernel", kernel)
        client.log_metric(run.info.run_id, "acc", acc)
        client.set_terminated(run.info.run_id, "FINISHED")
    """
)


def names(row) -> list[str]:
    return [
        n.strip().removeprefix("↳ ") for n in row.locator(".nbs-run .nbs-name").all_inner_texts()
    ]


def test_filter_and_sort_runs(lab, ui):
    lab.python(RUNS)
    panel = ui.open_panel()
    row = panel.locator(f'.nbs-experiment[data-experiment="{EXPERIMENT}"]')
    expect(row).to_be_visible(timeout=15_000)
    row.locator(".nbs-experiment-row").click()
    expect(row.locator(".nbs-run")).to_have_count(3, timeout=15_000)
    box = row.get_by_label("filter runs")
    options = row.locator("datalist option")
    # rule: the box completes the keys the runs have (metrics, params, attributes, tags)
    values = [options.nth(i).get_attribute("value") for i in range(options.count())]
    assert {"metrics.acc", "params.kernel", "attributes.status"} <= set(values), values
    box.fill("metrics.acc > 0.9")
    box.press("Enter")
    # rule: a filter in MLflow's syntax lists only the matching runs
    expect(row.locator(".nbs-run")).to_have_count(2, timeout=15_000)
    assert sorted(names(row)) == ["svc-linear", "svc-rbf"]
    row.get_by_label("sort runs").select_option("metrics.acc ASC")
    # rule: sorting by a metric orders the runs by it
    expect(row.locator(".nbs-run .nbs-name").first).to_have_text("svc-linear", timeout=15_000)
    assert names(row) == ["svc-linear", "svc-rbf"]
    ui.screenshot("panel-search")
    box.fill("metrics.acc >> 0.9")
    box.press("Enter")
    error = row.locator(".nbs-error")
    # rule: a filter MLflow refuses is a one-line error, not an empty list without a word
    expect(error).to_be_visible(timeout=15_000)
    assert "\n" not in error.inner_text()
    box.fill("")
    # rule: clearing the box lists every run again
    expect(row.locator(".nbs-run")).to_have_count(3, timeout=15_000)
