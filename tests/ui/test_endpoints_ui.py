"""The panel's Endpoints section in a real JupyterLab and Chromium: typed fields, not raw ones.

A live endpoint with two deployments (80/20 traffic, requests sent) and a stopped one with a long
name and no deployment, made by a script in the lab's workspace; its models live in a store of
their own so the other panel tests see none of them.
"""

from __future__ import annotations

from playwright.sync_api import expect

SETUP = """
import os
os.environ["MLFLOW_TRACKING_URI"] = "sqlite:///" + os.path.abspath("endpoint-ui-models.db")
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
import nbstudio
from nbstudio import endpoints

X, y = load_iris(return_X_y=True, as_frame=True)
for c in (1.0, 0.05):
    model = LogisticRegression(max_iter=500, C=c).fit(X, y)
    nbstudio.register_model(model, "iris-classifier", input_example=X.head(3))
endpoints.create("iris", description="Iris species, blue/green")
endpoints.deploy("iris", "blue", "iris-classifier/1")
endpoints.deploy("iris", "green", "iris-classifier/2", traffic=20, collect_inputs=0.25)
for _ in range(40):
    endpoints.invoke("iris", X.head(5))
endpoints.create(LONG)
endpoints.stop(LONG)
"""

CLEANUP = """
from nbstudio import endpoints
for name in ("iris", LONG):
    endpoints.delete(name)
"""

LONG = "fraud-detection-realtime-scoring"  # 32 characters, the longest name allowed


def test_endpoint_cards_show_typed_fields(lab, ui) -> None:
    lab.python(SETUP.replace("LONG", repr(LONG)), timeout=300)
    try:
        panel = ui.open_panel()
        section = panel.locator('[data-section="endpoints"]')
        card = section.locator('[data-endpoint="iris"]')
        # rule: a live endpoint shows its state, scoring URL, traffic split and figures
        expect(card.locator(".nbs-status").first).to_contain_text(
            "RUNNING", ignore_case=True, timeout=20_000
        )
        expect(card.locator(".nbs-url")).to_contain_text("http://127.0.0.1:")
        expect(card.locator('[data-field="traffic"]')).to_have_text("traffic: blue 80% · green 20%")
        expect(card.locator('[data-field="figures"]')).to_contain_text("40 requests")
        # rule: one line per deployment: model version, state, share, latency and requests
        blue = card.locator('[data-deployment="blue"]')
        expect(blue).to_contain_text("iris-classifier/1 · ready · 80% · p95 ")
        green = card.locator('[data-deployment="green"]')
        expect(green).to_contain_text("iris-classifier/2 · ready · 20%")
        # rule: a deployment that collects its inputs says what share; one that does not, nothing
        expect(green).to_contain_text("collects 25% of inputs")
        expect(blue).not_to_contain_text("collects")
        # rule: no raw field dump (key: value of every scalar) is left
        for raw in ("model_uri", "pid:", "created:", "port:", "ready_since"):
            expect(card).not_to_contain_text(raw)
        stopped = section.locator(f'[data-endpoint="{LONG}"]')
        expect(stopped).to_contain_text("STOPPED", ignore_case=True)
        expect(stopped.locator('[data-field="traffic"]')).to_have_text("traffic: no traffic")
        expect(stopped.locator(".nbs-url")).to_have_count(0)
        section.evaluate("el => el.scrollIntoView()")
        ui.screenshot("endpoints-panel")
    finally:
        lab.python(CLEANUP.replace("LONG", repr(LONG)))
