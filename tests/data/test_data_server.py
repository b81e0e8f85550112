"""Data versions and lineage through a real `mlflow server`: what another MLflow client sees."""

from __future__ import annotations

import json
import os
import time
import urllib.parse
import urllib.request

import nbstudio.data as data
from nbstudio.session import reset_session
from nbstudio.tracking import RunSpec, TrackedRun


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_versions_and_inputs_are_visible_through_the_server(workspace, request, monkeypatch):
    from sklearn.datasets import load_wine

    server = request.getfixturevalue("mlflow_server")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    reset_session()
    path = workspace / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(path, index=False)
    past = time.time() - 10
    os.utime(path, (past, past))
    version = data.create("wine", path, copy=True)
    with TrackedRun(RunSpec(name="remote-reader", experiment="remote-data")) as reader:
        data.get("wine@1").to_pandas()

    name = urllib.parse.quote("nbstudio-data-assets")
    experiment = _get(f"{server}/api/2.0/mlflow/experiments/get-by-name?experiment_name={name}")[
        "experiment"
    ]
    records = _post(
        f"{server}/api/2.0/mlflow/runs/search",
        {"experiment_ids": [experiment["experiment_id"]]},
    )["runs"]
    tags = {t["key"]: t["value"] for t in records[0]["data"]["tags"]}
    # rule: a version record is a run any MLflow client of the server can read
    assert tags["nbstudio.data.name"] == "wine"
    assert tags["nbstudio.data.digest"] == version.digest
    run = _get(f"{server}/api/2.0/mlflow/runs/get?run_id={reader.run_id}")["run"]
    dataset = run["inputs"]["dataset_inputs"][0]["dataset"]
    # rule: the input the run logged is on the server with our digest
    assert (dataset["name"], dataset["digest"]) == ("wine", version.digest[:32])
    # rule: lineage is answered through the server too
    assert [r["run_id"] for r in data.show("wine@1").used_by] == [reader.run_id]
    assert not (workspace / ".nbstudio" / "mlflow.db").exists()
