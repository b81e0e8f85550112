"""Panel reads leave the embedded store as it was: plain MLflow and its migrations still work."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def schema(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return sorted(
            conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        )


def test_panel_reads_leave_mlflow_store_untouched(workspace: Path) -> None:
    import mlflow

    from nbstudio.session import get_session
    from nbstudio.store import sqlite_path
    from nbstudio.tracking import RunSpec, TrackedRun, browse

    session = get_session()
    with TrackedRun(RunSpec(name="before", params={"a": 1})) as run:
        mlflow.log_metrics({"m0": 0.5, "m1": 0.1})
    db = sqlite_path(session.workspace.tracking_uri)
    before = schema(db)
    experiment_id = session.experiment_id()
    browse.list_experiments(session)
    browse.search_runs([experiment_id], "metrics.m0 > 0.1", ["metrics.m1 DESC"], session=session)
    browse.get_run(run.run_id, session)
    browse.metric_history(run.run_id, "m0", 10, session)
    browse.artifact_preview(run.run_id, "outputs/log.txt", session)
    # Rule: reading for the panel adds no table, index or trigger to MLflow's schema.
    assert schema(db) == before

    from click.testing import CliRunner
    from mlflow.db import commands as db_commands

    upgrade = CliRunner().invoke(db_commands, ["upgrade", session.workspace.tracking_uri])
    # Rule: MLflow's own migration command (`mlflow db upgrade <uri>`) still accepts the store.
    assert upgrade.exit_code == 0, upgrade.output

    client = mlflow.MlflowClient(session.workspace.tracking_uri)
    plain = client.create_run(experiment_id, run_name="plain")
    client.log_metric(plain.info.run_id, "m0", 0.9)
    client.set_terminated(plain.info.run_id)
    # Rule: plain MLflow still writes and reads the store...
    assert len(client.search_runs([experiment_id])) == 2
    page = browse.search_runs([experiment_id], "metrics.m0 > 0.8", session=session)
    # Rule: ...and the panel sees what plain MLflow wrote.
    assert [r["run_name"] for r in page["runs"]] == ["plain"]
