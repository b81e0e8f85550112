"""The panel's Data section and the run view's Inputs/Outputs, in a real JupyterLab and Chromium.

Data is made the way users make it: ``nbstudio.data`` in a script in the lab's workspace, reading
and writing inside ``TrackedRun`` runs.
"""

from __future__ import annotations

import textwrap

from playwright.sync_api import expect

LONG = "customer-churn-features-with-a-rather-long-descriptive-name-2026"

MAKE_DATA = textwrap.dedent(
    f"""
    import os, time
    import pandas as pd
    from sklearn.datasets import load_wine
    import nbstudio.data as data
    from nbstudio.tracking import RunSpec, TrackedRun

    wine = load_wine(as_frame=True).frame
    wine.to_csv("wine.csv", index=False)
    data.create("wine", "wine.csv", copy=True, tags={{"source": "sklearn"}})
    for limit in (160, 120):
        wine.head(limit).to_csv("wine.csv", index=False)
        data.create("wine", "wine.csv", copy=True)
    os.makedirs("parts", exist_ok=True)
    for cultivar, rows in wine.groupby("target"):
        rows.to_parquet(f"parts/cultivar-{{cultivar}}.parquet", index=False)
    data.create({LONG!r}, "parts", description="one parquet file per cultivar")
    with TrackedRun(RunSpec(name="train-on-wine", experiment="ui-data")):
        frame = data.get("wine@1").to_pandas()
        data.get("wine@latest", context="validation").to_pandas()
        data.create("wine-scored", frame.assign(score=0.5))
    with TrackedRun(RunSpec(name="retrain", experiment="ui-data")):
        data.get("wine@1").to_pandas()
    """
)


def test_data_section_empty_then_assets_versions_and_lineage(lab, ui):
    panel = ui.open_panel()
    section = panel.locator('[data-section="data"]')
    empty = section.locator(".nbs-empty")
    # rule: an empty workspace says how to register data instead of showing an empty list
    expect(empty).to_contain_text("%data create", timeout=15_000)
    empty.scroll_into_view_if_needed()
    ui.screenshot("data-empty")

    lab.python(MAKE_DATA)
    panel.locator(".nbs-icon-button[title='Refresh now']").click()
    wine = section.locator('.nbs-data-asset[data-asset="wine"]')
    # rule: each asset shows its latest version, size, digest and datastore
    expect(wine).to_be_visible(timeout=15_000)
    expect(wine.locator(".nbs-alias")).to_have_text("v3")
    expect(wine.locator(".nbs-datastore")).to_have_text("workspaceblobstore")
    expect(wine.locator(".nbs-digest")).to_contain_text("sha256 ")
    expect(wine).to_contain_text("3 versions")
    long_card = section.locator(f'.nbs-data-asset[data-asset="{LONG}"]')
    expect(long_card.locator(".nbs-datastore")).to_have_text("external")
    expect(long_card).to_contain_text("3 files")
    expect(section.locator(".nbs-data-asset")).to_have_count(3)

    wine.locator(".nbs-data-asset-row").click()
    # rule: expanding an asset lists its versions newest first
    expect(wine.locator(".nbs-version .nbs-name")).to_have_text(["v3", "v2", "v1"])
    wine.locator('.nbs-version[data-version="1"]').click()
    lineage = wine.locator('[data-lineage="wine@1"]')
    # rule: a version shows the runs that used it, with their context
    expect(lineage.locator(".nbs-used-by .nbs-lineage-run")).to_have_count(2)
    expect(lineage).to_contain_text("train-on-wine")
    expect(lineage).to_contain_text("training")
    expect(lineage.locator(".nbs-lineage-none")).to_have_text("Registered outside a run.")
    section.scroll_into_view_if_needed()
    ui.screenshot("data-section")

    scored = section.locator('.nbs-data-asset[data-asset="wine-scored"]')
    scored.locator(".nbs-data-asset-row").click()
    scored.locator('.nbs-version[data-version="1"]').click()
    produced = scored.locator('[data-lineage="wine-scored@1"]')
    # rule: a version made inside a run shows that run as its producer
    expect(produced.locator(".nbs-lineage-run").first).to_contain_text("train-on-wine")
    produced.locator(".nbs-lineage-run .nbs-name").first.click()

    view = ui.page.locator(".nbs-runview:not(.lm-mod-hidden) .nbs-view")
    data_section = view.locator(".nbs-run-data")
    # rule: the run view lists the run's inputs with version and context, and its outputs
    expect(data_section.locator(".nbs-run-inputs tbody tr")).to_have_count(2, timeout=15_000)
    expect(data_section.locator('.nbs-run-inputs [data-data="wine@1"]')).to_contain_text("training")
    expect(data_section.locator('.nbs-run-inputs [data-data="wine@3"]')).to_contain_text(
        "validation"
    )
    expect(data_section.locator('.nbs-run-outputs [data-data="wine-scored@1"]')).to_be_visible()
    data_section.scroll_into_view_if_needed()
    ui.screenshot("run-view-inputs-outputs")
