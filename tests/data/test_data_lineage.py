"""Lineage both ways, as plain MLflow: run inputs (MetaDataset, digest, schema), outputs, search."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import mlflow
import pandas as pd
import pytest

import nbstudio.data as data
from nbstudio.data import catalog
from nbstudio.tracking import RunSpec, TrackedRun


@pytest.fixture
def wine(workspace: Path) -> Path:
    from sklearn.datasets import load_wine

    path = workspace / "wine.csv"
    load_wine(as_frame=True).frame.to_csv(path, index=False)
    past = time.time() - 10
    os.utime(path, (past, past))
    return path


def test_lineage_both_ways_and_search_by_asset(wine, workspace):
    data.create("wine", wine)
    with TrackedRun(RunSpec(name="train-v1", experiment="lineage")) as first:
        data.get("wine@1").to_pandas()
    frame = pd.read_csv(wine).head(120)
    frame.to_csv(wine, index=False)
    data.create("wine", wine)
    with TrackedRun(RunSpec(name="score-v2", experiment="lineage")) as second:
        test = data.get("wine@latest", context="validation").to_pandas()
        data.create("wine-scored", test.assign(score=0.5))

    v1, v2 = catalog.version_json("wine", "1"), catalog.version_json("wine", "2")
    # rule: a version lists exactly the runs that read it, with the context they read it in
    assert [(r["run_name"], r["context"]) for r in v1["used_by"]] == [("train-v1", "training")]
    assert [(r["run_name"], r["context"]) for r in v2["used_by"]] == [("score-v2", "validation")]
    scored = catalog.version_json("wine-scored", "latest")
    # rule: a version made inside a run names that run as its producer
    assert scored["produced_by_run"]["run_id"] == second.run_id
    runs = catalog.run_data_json(second.run_id)
    # rule: a run lists its inputs (asset, version, context) and its outputs
    assert [(i["name"], i["version"], i["context"]) for i in runs["inputs"]] == [
        ("wine", 2, "validation")
    ]
    assert [(o["name"], o["version"]) for o in runs["outputs"]] == [("wine-scored", 1)]

    client = mlflow.MlflowClient()
    run = client.get_run(second.run_id)
    dataset = run.inputs.dataset_inputs[0].dataset
    # rule: the input is plain MLflow: our digest, the schema from the CSV header
    assert dataset.name == "wine"
    assert dataset.digest == data.get("wine@2").digest[:32]
    columns = [c["name"] for c in json.loads(dataset.schema)["mlflow_colspec"]]
    assert columns[:2] == ["alcohol", "malic_acid"]
    assert run.data.tags["nbstudio.data.outputs"] == "wine-scored@1"
    # rule: MLflow's own search finds the runs by data set name and digest
    found = mlflow.search_runs(
        search_all_experiments=True,
        filter_string=f"dataset.name = 'wine' AND dataset.digest = '{dataset.digest}'",
    )
    assert found["run_id"].tolist() == [second.run_id]
    # rule: nbstudio.data.runs_using answers the same as a DataFrame of runs
    assert data.runs_using("wine@1")["run_id"].tolist() == [first.run_id]


def test_same_bytes_as_an_older_version_are_told_apart(wine, workspace):
    original = wine.read_bytes()
    data.create("wine", wine)
    pd.read_csv(wine).head(5).to_csv(wine, index=False)
    data.create("wine", wine)
    wine.write_bytes(original)
    third = data.create("wine", wine)
    # rule: the same bytes as an older (not the latest) version make a new version
    assert third.version == 3
    with TrackedRun(RunSpec(name="reads-v3", experiment="lineage")):
        data.get("wine@3").to_pandas()
    # rule: a run that read v3 is not counted as a user of v1, although the bytes are equal
    assert catalog.version_json("wine", "1")["used_by"] == []
    assert len(catalog.version_json("wine", "3")["used_by"]) == 1


def test_records_are_runs_of_a_hidden_experiment(wine):
    from nbstudio.data.versions import EXPERIMENT
    from nbstudio.tracking.browse import list_experiments

    data.create("wine", wine, description="red and white")
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(EXPERIMENT)
    records = client.search_runs([experiment.experiment_id])
    # rule: a version is an MLflow run anyone with the tracking store can read
    assert records[0].data.tags["nbstudio.data.name"] == "wine"
    assert records[0].info.run_name == "wine@1"
    # rule: the panel's experiment list leaves the records experiment out
    assert EXPERIMENT not in [e["name"] for e in list_experiments()["experiments"]]


def test_reading_outside_a_run_records_nothing(wine):
    from nbstudio.data.versions import EXPERIMENT

    data.create("wine", wine)
    data.get("wine").to_pandas()
    runs = mlflow.search_runs(search_all_experiments=True)
    hidden = mlflow.MlflowClient().get_experiment_by_name(EXPERIMENT).experiment_id
    # rule: reading outside a run creates no run; only the version record exists
    assert runs["experiment_id"].tolist() == [hidden]
