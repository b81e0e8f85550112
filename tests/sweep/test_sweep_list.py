"""The panel's sweep list reads the trials of running sweeps only: ended sweeps are kept."""

from __future__ import annotations

import mlflow
import pytest
from mlflow import MlflowClient

import nbstudio
from nbstudio.session import get_session
from nbstudio.sweep import api as sweep_api


def test_an_ended_sweep_is_not_read_again_and_a_resumed_one_is(
    workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def train(x):
        mlflow.log_metric("acc", x)

    nbstudio.sweep(train, {"x": "uniform(0, 1)"}, goal="maximize:acc", max_total_trials=3, seed=1)
    session = get_session()
    (first,) = sweep_api.list_sweeps()
    parent = session.client().get_run(first["run_id"])
    # Rule: the kept summary is the one read from the trials.
    assert first == sweep_api.sweep_dict(session.client(), parent)
    searches: list[str] = []
    search_runs = MlflowClient.search_runs

    def counted(self, experiment_ids, filter_string="", *args, **kwargs):
        searches.append(filter_string)
        return search_runs(self, experiment_ids, filter_string, *args, **kwargs)

    monkeypatch.setattr(MlflowClient, "search_runs", counted)
    again = sweep_api.list_sweeps()
    # Rule: a refresh of ended sweeps reads the list of parents and no trial.
    assert again == [first]
    assert not any("parentRunId" in f for f in searches)
    client = session.client()
    client.update_run(first["run_id"], status="RUNNING")  # resumed
    trial = client.create_run(
        parent.info.experiment_id,
        tags={"mlflow.parentRunId": first["run_id"], "nbstudio.trial": "3"},
    )
    client.log_metric(trial.info.run_id, "acc", 2.0)
    client.set_terminated(trial.info.run_id)
    (resumed,) = sweep_api.list_sweeps()
    # Rule: a sweep running again is read anew, its new trial counted and best.
    assert resumed["status"] == "RUNNING"
    assert resumed["counts"]["finished"] == 4
    assert resumed["best"]["value"] == 2.0
