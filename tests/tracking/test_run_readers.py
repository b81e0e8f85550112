"""One reader of runs per session: SQL when MLflow's schema is one it is tested on, else the
client; a database error hands over to the client for good. Said once in the log, same answers."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from mlflow.entities import Metric

from nbstudio.session import get_session
from nbstudio.tracking import browse, readers
from nbstudio.tracking.clientreader import ClientReader
from nbstudio.tracking.sqlreader import SqlReader


def _fill(n: int = 6) -> list[str]:
    session = get_session()
    client = session.client()
    experiment_id = session.experiment_id("readers")
    ids = []
    for i in range(n):
        run = client.create_run(experiment_id, start_time=1_000 + i, run_name=f"r{i}")
        client.log_batch(run.info.run_id, metrics=[Metric("m", i / 10, 1_000 + i, 0)])
        if i % 2:
            client.set_terminated(run.info.run_id, end_time=2_000 + i)
        ids.append(run.info.run_id)
    return ids


def _answers(session) -> dict:
    experiment_id = session.experiment_id("readers")
    return {
        "experiments": browse.list_experiments(session),
        "page": browse.search_runs([experiment_id], "metrics.m > 0.1", ["metrics.m DESC"]),
    }


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "nbstudio"]


def test_unknown_schema_revision_reads_through_the_client(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _fill()
    session = get_session()
    assert readers.run_reader(session).name == "sql"
    expected = _answers(session)
    from nbstudio.session import reset_session

    monkeypatch.setattr(readers, "TESTED_REVISIONS", ("000000000000",))  # MLflow moved on
    session = reset_session(workspace)
    with caplog.at_level(logging.WARNING, logger="nbstudio"):
        first, second = _answers(session), _answers(session)
    # Rule: an MLflow schema the SQL reader was not tested on is read through MlflowClient...
    assert readers.run_reader(session).name == "client"
    # ...with the same answers, and said once.
    assert first == second == expected
    said = _warnings(caplog)
    assert len(said) == 1
    assert "schema revision" in said[0]


def test_a_database_error_hands_over_to_the_client_for_good(
    workspace: Path, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    from nbstudio.tracking import mlflow_private

    _fill()
    session = get_session()
    expected = _answers(session)
    store = mlflow_private.tracking_store(session.client())
    assert isinstance(store, SqlAlchemyStore)
    broken = SqlReader(store)
    # A store whose database went away: every read is a real SQLAlchemy error.
    broken.store = type("Gone", (), {"engine": sa.create_engine(f"sqlite:///{tmp_path}/no/db")})()
    guarded = readers.GuardedReader(broken, ClientReader(session.client()))
    readers.use(session, guarded)
    with caplog.at_level(logging.WARNING, logger="nbstudio"):
        first, second = _answers(session), _answers(session)
    # Rule: the first database error switches to the client, which answers that very call.
    assert guarded.name == "client"
    assert first == second == expected
    said = _warnings(caplog)
    # Rule: said once in the log, not once per read.
    assert len(said) == 1
    assert "unable to open database file" in said[0]


def test_client_counts_follow_new_and_ending_runs_without_rereading(workspace: Path) -> None:
    ids = _fill()
    session = get_session()
    client = session.client()
    sql = SqlReader(mlflow_private_store(session))
    reader = ClientReader(client)
    assert reader.experiment_stats() == _visible(sql.experiment_stats(), reader)
    experiment_id = session.experiment_id("readers")
    client.set_terminated(ids[0], end_time=9_000)  # a running run ends: activity moves
    client.create_run(experiment_id, start_time=5_000, run_name="late")
    client.create_run(session.experiment_id("other"), start_time=6_000, run_name="elsewhere")
    updated = reader.experiment_stats()
    # Rule: the cached counts follow new runs and ends, as a full count (SQL) says.
    assert updated == _visible(sql.experiment_stats(), reader)
    assert updated[experiment_id].run_count == 7
    assert updated[experiment_id].last_activity == 9_000


def mlflow_private_store(session):
    from nbstudio.tracking import mlflow_private

    return mlflow_private.tracking_store(session.client())


def _visible(stats: dict, reader: ClientReader) -> dict:
    active = set(reader._experiment_ids())
    return {k: v for k, v in stats.items() if k in active}


def test_an_ended_runs_chart_is_kept_until_something_is_logged_to_it(workspace: Path) -> None:
    from nbstudio.tracking import mlflow_private
    from nbstudio.tracking.downsample import downsample_minmax

    session = get_session()
    client = session.client()
    run = client.create_run(session.experiment_id("readers"), run_name="long")
    run_id = run.info.run_id
    points = [Metric("loss", 1 / (s + 1), 1_000 + s, s) for s in range(3000)]
    for first in range(0, len(points), 1000):
        client.log_batch(run_id, metrics=points[first : first + 1000])
    reader = SqlReader(mlflow_private.tracking_store(client))
    running = reader.metric_history(run_id, "loss", 100)
    # Rule: a running run's chart is not kept (more points may come)...
    assert reader.metric_history(run_id, "loss", 100) is not running
    client.set_terminated(run_id)
    ended = reader.metric_history(run_id, "loss", 100)
    # ...an ended run's chart is the same chart, and is kept.
    assert ended == running
    assert reader.metric_history(run_id, "loss", 100) is ended
    client.log_metric(run_id, "loss", 5.0, step=3000, timestamp=9_000)
    total, chart = reader.metric_history(run_id, "loss", 100)
    full = reader.metric_points(run_id, "loss")
    # Rule: a point logged to the ended run afterwards shows in its next chart.
    assert total == 3001
    assert chart == downsample_minmax(full, 100, value=lambda p: p[2], x=lambda p: p[0])
