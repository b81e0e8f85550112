"""The side panel at its default width: nothing is cut, and loading shows a spinner.

Two sweeps-like runs whose names differ only at the end, a long experiment name and a model
version with its "run" link: each name wraps (and has its full text as its title), each time has
its full date as its title, and the "run" link stays whole inside the panel.
"""

from __future__ import annotations

import textwrap

from playwright.sync_api import expect

EXPERIMENT = "customer-churn-gradient-boosting-experiments"
LONG_RUNS = textwrap.dedent(
    f"""
    from nbstudio.session import get_session
    session = get_session()
    client = session.client()
    experiment_id = session.experiment_id({EXPERIMENT!r})
    for suffix in ("learning-rate", "max-depth"):
        run = client.create_run(experiment_id, run_name=f"tune-gradient-boosting-{{suffix}}")
        client.log_metric(run.info.run_id, "roc_auc", 0.91)
        client.set_terminated(run.info.run_id, "FINISHED")
    client.create_registered_model("churn-gradient-boosting-classifier")
    client.create_model_version(
        "churn-gradient-boosting-classifier", f"runs:/{{run.info.run_id}}/model", run.info.run_id
    )
    """
)

# For each element: its text, its title, and whether it is cut (narrower than its content, or
# reaching past the panel's right edge).
MEASURE = """(selector) => {
    const panel = document.querySelector('#nbstudio-panel').getBoundingClientRect();
    return Array.from(document.querySelectorAll('#nbstudio-panel ' + selector)).map(e => {
        const box = e.getBoundingClientRect();
        return {text: e.textContent.trim(), title: e.title,
                cut: e.scrollWidth > e.clientWidth + 1 || box.right > panel.right + 1};
    });
}"""


def test_default_width_panel_cuts_nothing(lab, ui):
    lab.python(LONG_RUNS)
    panel = ui.open_panel()
    row = panel.locator(f'.nbs-experiment[data-experiment="{EXPERIMENT}"]')
    expect(row).to_be_visible(timeout=15_000)
    row.locator(".nbs-experiment-row").click()
    expect(row.locator(".nbs-run")).to_have_count(2, timeout=15_000)
    model = panel.locator('.nbs-card[data-model="churn-gradient-boosting-classifier"]')
    expect(model).to_be_visible(timeout=15_000)
    width = ui.page.evaluate(
        "() => document.querySelector('#nbstudio-panel').getBoundingClientRect().width"
    )
    assert width < 320, width  # the default width, where names used to be cut
    names = ui.page.evaluate(MEASURE, ".nbs-name")
    # rule: no name is cut at the default width (names wrap)
    assert names
    assert [n for n in names if n["cut"]] == []
    run_names = [n for n in names if n["text"].startswith("tune-gradient-boosting-")]
    # rule: each run's full name is its title (hover), so two similar names can be told apart
    assert len(run_names) == 2
    assert all(n["text"] in n["title"] for n in run_names), run_names
    assert all(n["text"] in n["title"] for n in names if n["text"] == EXPERIMENT)
    times = ui.page.evaluate(MEASURE, ".nbs-run .nbs-time, .nbs-version .nbs-time")
    # rule: relative times carry the full date as their title
    assert times
    assert all(t["title"] for t in times), times
    links = ui.page.evaluate(
        MEASURE, '[data-model="churn-gradient-boosting-classifier"] .nbs-version .nbs-link-button'
    )
    # rule: the model version's "run" link is whole and says which run it opens
    assert [(link["text"], link["cut"]) for link in links] == [("run", False)]
    assert links[0]["title"].startswith("Open run ")
    ui.screenshot("panel-default-width")


def test_loading_shows_a_spinner(lab, ui):
    held = []
    ui.page.route("**/nbstudio/api/experiments*", lambda route: held.append(route))
    ui.goto()  # reloaded, its layout restored, with the experiments answer held back
    panel = ui.open_panel()
    loading = panel.locator('[data-section="experiments"] .nbs-loading')
    expect(loading).to_be_visible(timeout=15_000)
    spin = loading.evaluate("e => getComputedStyle(e, '::before').animationName")
    # rule: a section waiting for the server shows a spinning indicator, not only text
    assert spin == "nbs-spin"
    ui.screenshot("panel-loading")
    for route in held:
        route.continue_()
    ui.page.unroute("**/nbstudio/api/experiments*")
    # rule: and the section fills once the answer arrives
    expect(loading).to_have_count(0, timeout=15_000)
