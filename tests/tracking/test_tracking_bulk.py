"""Finished runs written in bulk (`nbstudio.tracking.bulk`): the rows plain MLflow reads exactly as
runs written through its own client, on SQLite and PostgreSQL; what MLflow's checks would refuse
goes through the client and comes back as that run's error, never as a half-written run."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbstudio.session import get_session
from nbstudio.tracking import bulk
from nbstudio.tracking.bulk import RunRows, write_runs


@pytest.fixture(params=["sqlite", "postgresql"])
def workspace(workspace: Path, request: pytest.FixtureRequest) -> Path:
    if request.param == "postgresql":
        from helpers.postgres import use_new_database

        use_new_database(workspace, request.getfixturevalue("postgres"))
    return workspace


def _rows(name: str, **extra) -> RunRows:
    return RunRows(
        name=name,
        start_time=1_700_000_000_000,
        end_time=1_700_000_000_500,
        tags={"mlflow.parentRunId": "p" * 32, "nbstudio.automl.trial": "3"},
        params={"estimator": "lgbm", "n_estimators": "7", "learning_rate": "0.1"},
        metrics={"accuracy": 0.95, "train_time": 0.05, "validation_loss": float("nan")},
        **extra,
    )


def _seen(run) -> tuple:
    """What a user of MLflow sees of a run, without its id."""
    info, data = run.info, run.data
    metrics = {k: (v if v == v else "nan") for k, v in data.metrics.items()}
    return (
        info.run_name,
        info.status,
        info.start_time,
        info.end_time,
        info.lifecycle_stage,
        info.artifact_uri.rsplit("/", 2)[0],
        data.params,
        metrics,
        {k: v for k, v in data.tags.items() if k != "mlflow.user"},
    )


def test_bulk_runs_read_back_as_runs_written_by_mlflows_client(workspace: Path) -> None:
    session = get_session()
    client = session.client()
    experiment = session.experiment_id("bulk")
    ids = write_runs(client, experiment, [_rows("trial-1"), _rows("trial-2")])
    # rule: on a SQL store the batch is MLflow's own rows, written in one transaction
    assert all(isinstance(i, str) and len(i) == 32 for i in ids)
    by_client = bulk._with_client(client, experiment, _rows("trial-1"))
    assert isinstance(by_client, str)
    # rule: every field MLflow shows is what its own create_run + log_batch + set_terminated write
    assert _seen(client.get_run(ids[0])) == _seen(client.get_run(by_client))
    found = mlflow.search_runs(
        [experiment],
        filter_string="params.estimator = 'lgbm' and metrics.accuracy > 0.9",
        output_format="list",
    )
    assert {r.info.run_id for r in found} == {*ids, by_client}
    history = client.get_metric_history(ids[1], "accuracy")
    assert [(m.value, m.step) for m in history] == [(0.95, 0)]


def test_a_run_mlflow_would_refuse_is_that_runs_error_and_the_others_are_written(
    workspace: Path,
) -> None:
    session = get_session()
    client = session.client()
    experiment = session.experiment_id("bulk")
    bad = _rows("trial-bad")
    bad.params["../escape"] = "x"
    ids = write_runs(client, experiment, [_rows("trial-ok"), bad])
    # rule: MLflow's checks refuse the bad run (its error is returned), the good one is written
    assert isinstance(ids[0], str)
    assert client.get_run(ids[0]).data.params["n_estimators"] == "7"
    assert isinstance(ids[1], Exception)
    assert "escape" in str(ids[1])
    refused = write_runs(client, "987654", [_rows("nowhere")])
    # rule: an experiment that does not exist is an error, not a crash of the whole batch
    assert isinstance(refused[0], Exception)


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.text(min_size=1, max_size=20).filter(lambda n: n.strip() != ""),
    params=st.dictionaries(_text, _text, max_size=4),
    metrics=st.dictionaries(_text, st.floats(allow_nan=True, allow_infinity=True), max_size=3),
)
def test_any_run_is_written_whole_or_refused_whole(workspace: Path, name, params, metrics) -> None:
    session = get_session()
    client = session.client()
    experiment = session.experiment_id("fuzz")
    rows = RunRows(name=name, start_time=1, end_time=2, params=params, metrics=metrics)
    (outcome,) = write_runs(client, experiment, [rows])
    # rule: never a half-written run: every param and metric is there, or an error and no run
    # left RUNNING
    if isinstance(outcome, Exception):
        assert not client.search_runs([experiment], "attributes.status = 'RUNNING'")
        return
    run = client.get_run(outcome)
    assert run.data.params == params
    assert set(run.data.metrics) == set(metrics)
    assert run.info.status == "FINISHED"
