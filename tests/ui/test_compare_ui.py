"""Compare in a real JupyterLab and Chromium: it draws only what the runs have.

A sweep made the way ``mlflow`` makes nested runs (a parent without params, trials under it),
plus a run of the same experiment missing a param and a metric. The checks read what plotly was
given (``element.data``) and the ticks it drew.
"""

from __future__ import annotations

import textwrap

from playwright.sync_api import expect

SWEEP = textwrap.dedent(
    """
    import mlflow
    from nbstudio.session import get_session

    session = get_session()
    session.workspace  # opens the workspace's store and points mlflow at it
    experiment_id = session.experiment_id("ui-compare-sweep")
    with mlflow.start_run(run_name="tune-svc", experiment_id=experiment_id):
        mlflow.set_tag("nbstudio.sweep.primary_metric", "accuracy")
        mlflow.log_metric("accuracy", 0.97)
        for i, (gamma, kernel, accuracy, loss) in enumerate(
            [(0.001, "rbf", 0.91, 0.31), (0.01, "rbf", 0.95, 0.2),
             (0.1, "linear", 0.97, 0.12), (1.0, "rbf", 0.93, 0.25)]
        ):
            with mlflow.start_run(
                run_name=f"trial-{i}", experiment_id=experiment_id, nested=True
            ):
                mlflow.log_params({"gamma": gamma, "kernel": kernel})
                mlflow.log_metric("accuracy", accuracy)
                mlflow.log_metric("loss", loss)
    with mlflow.start_run(run_name="baseline", experiment_id=experiment_id):
        mlflow.log_param("gamma", 0.05)
        mlflow.log_metric("accuracy", 0.9)
    """
)

# The parcoords dimensions plotly was given: label, values, range, tick values and texts.
DIMENSIONS = """() => {
    const plot = document.querySelector('.nbs-compare .nbs-parcoords');
    return plot.data[0].dimensions.map(d => ({
        label: d.label, values: Array.from(d.values), range: d.range,
        tickvals: d.tickvals, ticktext: d.ticktext
    }));
}"""


def test_compare_draws_only_what_runs_have(lab, ui):
    lab.python(SWEEP)
    experiment = next(
        e for e in lab.api("experiments")["experiments"] if e["name"] == "ui-compare-sweep"
    )
    ui.open_panel()
    ui.command(
        "nbstudio:compare-experiment",
        {"experimentId": experiment["experiment_id"], "name": "ui-compare-sweep"},
    )
    view = ui.page.locator(".nbs-compare:not(.lm-mod-hidden) .nbs-view, .nbs-view.nbs-compare")
    rows = view.locator(".nbs-compare-table tbody tr")
    # rule: comparing a sweep compares its trials (and the other run), not the sweep's parent
    expect(rows).to_have_count(5, timeout=20_000)
    expect(view.locator(".nbs-compare-table")).not_to_contain_text("tune-svc")
    expect(view.locator(".nbs-parents-left-out")).to_contain_text("tune-svc")
    chart = view.locator(".nbs-parcoords")
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=20_000)
    dims = {d["label"]: d for d in ui.page.evaluate(DIMENSIONS)}

    kernel = dims["kernel"]
    # rule: the run without a kernel sits on an explicit "missing" tick, no "(none)" category
    assert kernel["ticktext"] == ["missing", "linear", "rbf"], kernel
    assert "(none)" not in str(dims)

    gamma = dims["gamma (log)"]
    # rule: every run has gamma, so its axis spans the trials' values only (no value below 0.001)
    assert "missing" not in gamma["ticktext"], gamma
    assert gamma["range"][0] >= -3 - 1e-9, gamma
    assert gamma["range"][1] <= 0 + 1e-9, gamma

    loss = dims["loss"]
    values = [0.31, 0.2, 0.12, 0.25]
    missing = loss["tickvals"][loss["ticktext"].index("missing")]
    shown = [v for v, t in zip(loss["tickvals"], loss["ticktext"], strict=True) if t != "missing"]
    # rule: the run without loss is drawn at "missing", below a gap, not through a value
    assert sorted(v for v in loss["values"] if v != missing) == sorted(values)
    assert missing < min(values) - 0.1 * (max(values) - min(values)), loss
    # rule: the axis's value ticks stay inside the data (not -0.56..0.54)
    assert all(min(values) <= v <= max(values) for v in shown), loss
    assert loss["range"][1] == max(values)

    accuracy = dims["accuracy"]
    # rule: accuracy's axis stops at the best run's value (not 1.465)
    assert accuracy["range"] == [0.9, 0.97], accuracy
    # rule: the drawn tick labels are those values, no tick text outside them
    texts = chart.locator(".axis .tick text").all_text_contents()
    assert "missing" in texts
    assert "(none)" not in texts
    ui.screenshot("compare-sweep")


CURVES = textwrap.dedent(
    """
    from nbstudio.session import get_session

    session = get_session()
    client = session.client()
    experiment_id = session.experiment_id("ui-compare-curves")
    for name, rate in [("lr-0.1", 0.5), ("lr-0.01", 0.1)]:
        run = client.create_run(experiment_id, run_name=name)
        client.log_param(run.info.run_id, "lr", name.split("-")[1])
        for step in range(30):
            client.log_metric(run.info.run_id, "loss", 1 / (1 + rate * step), step=step)
            client.log_metric(run.info.run_id, "acc", 1 - 1 / (1 + rate * step), step=step)
        client.set_terminated(run.info.run_id, "FINISHED")
    """
)


def test_compare_overlays_metric_curves(lab, ui):
    lab.python(CURVES)
    experiment = next(
        e for e in lab.api("experiments")["experiments"] if e["name"] == "ui-compare-curves"
    )
    ui.open_panel()
    ui.command(
        "nbstudio:compare-experiment",
        {"experimentId": experiment["experiment_id"], "name": "ui-compare-curves"},
    )
    view = ui.page.locator('.nbs-compare[data-runs="2"]')
    for metric in ("acc", "loss"):
        chart = view.locator(f'.nbs-overlaid[data-metric="{metric}"]')
        # rule: one chart per metric, with a curve per compared run against step
        expect(chart).to_have_attribute("data-curves", "2", timeout=20_000)
        expect(chart.locator(".scatterlayer .trace")).to_have_count(2, timeout=20_000)
        legend = chart.locator(".legendtext").all_text_contents()
        assert sorted(legend) == ["lr-0.01", "lr-0.1"], legend
    view.locator(".nbs-compare-curves").scroll_into_view_if_needed()
    ui.screenshot("compare-curves")
