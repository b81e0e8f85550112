"""The change cursor behind live monitors, on real stores: embedded SQLite, PostgreSQL, a server."""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import mlflow
import pytest

from nbstudio.errors import RunError
from nbstudio.session import get_session
from nbstudio.tracking import RunSpec, TrackedRun
from nbstudio.tracking.changes import ChangeCursor, changes_since, logged_models


@pytest.fixture(params=["sqlite", "postgresql"])
def workspace(workspace: Path, request: pytest.FixtureRequest) -> Path:
    """Every test here runs on the embedded SQLite store and on a PostgreSQL database."""
    if request.param == "postgresql":
        from helpers.postgres import use_new_database

        use_new_database(workspace, request.getfixturevalue("postgres"))
    return workspace


# Logs 3 batches of 40 "loss" points (steps 0..119) and 3 "lr" points without steps, with pauses,
# to run sys.argv[1], through MLflow's own client from another process.
WRITER = textwrap.dedent(
    """
    import sys, time
    from mlflow import MlflowClient
    from mlflow.entities import Metric
    client = MlflowClient(sys.argv[2])
    for batch in range(3):
        now = int(time.time() * 1000)
        steps = range(batch * 40, batch * 40 + 40)
        points = [Metric("loss", 1 / (s + 1), now + s, s) for s in steps]
        client.log_batch(sys.argv[1], metrics=points + [Metric("lr", 0.1 * batch, now, 0)])
        time.sleep(0.6)
    """
)


def _follow(run_id: str, proc: subprocess.Popen, cursor: ChangeCursor | None = None):
    """Poll every 0.1 s while ``proc`` runs, then once more; return every change read."""
    seen = []
    while proc.poll() is None:
        changes = changes_since(run_id, cursor)
        cursor = changes.cursor
        seen.append(changes)
        time.sleep(0.1)
    seen.append(changes_since(run_id, cursor))
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return seen


def test_points_from_another_process_arrive_once_each(workspace: Path) -> None:
    session = get_session()
    client = session.client()
    run = client.create_run(session.experiment_id(), run_name="external")
    run_id = run.info.run_id
    first = changes_since(run_id)
    # rule: a new run has nothing yet, and says it is running
    assert first.status == "RUNNING"
    assert first.metrics == {}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, run_id, session.workspace.tracking_uri],
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = _follow(run_id, proc, first.cursor)
    loss = [p for c in seen for p in c.metrics.get("loss", [])]
    # rule: every point written by the other process arrives, once, in logging order
    assert [step for step, _, _ in loss] == list(range(120))
    assert [value for _, _, value in loss] == [1 / (s + 1) for s in range(120)]
    # rule: points arrive while the writer runs, not only at the end (incremental reads)
    assert sum(1 for c in seen if "loss" in c.metrics) >= 2
    lr = [p for c in seen for p in c.metrics.get("lr", [])]
    # rule: a metric logged without steps (all at step 0) still gets each point once
    assert [value for _, _, value in lr] == [0.0, 0.1, 0.2]
    # rule: a cursor at the end reads nothing more
    assert not changes_since(run_id, seen[-1].cursor).has_news


def test_params_status_and_nan(workspace: Path) -> None:
    with TrackedRun(RunSpec(name="p", params={"alpha": 0.5}, capture_output=False)) as tracked:
        changes = changes_since(tracked.run_id)
        # rule: the first read has all params so far
        assert changes.params == {"alpha": "0.5"}
        mlflow.log_param("beta", 2)
        mlflow.log_metric("loss", float("nan"), step=3)
        mlflow.flush_async_logging()
        later = changes_since(tracked.run_id, changes.cursor)
        # rule: later reads have only the new params; NaN values come back as NaN
        assert later.params == {"beta": "2"}
        assert later.metrics["loss"][0][0] == 3
        assert math.isnan(later.metrics["loss"][0][2])
        assert not later.ended
    final = changes_since(tracked.run_id, later.cursor)
    # rule: the end of the run shows as a terminal status with an end time
    assert final.status == "FINISHED"
    assert final.ended
    assert final.end_time is not None
    assert final.elapsed() >= 0


def test_child_runs_appear_and_are_reported_when_they_change(workspace: Path) -> None:
    with TrackedRun(RunSpec(name="parent", capture_output=False)) as tracked:
        start = changes_since(tracked.run_id)
        assert start.children == []
        child = mlflow.start_run(run_name="trial-0", nested=True)
        mlflow.log_param("C", 1.0)
        mlflow.log_metric("acc", 0.5)
        mlflow.flush_async_logging()
        appeared = changes_since(tracked.run_id, start.cursor)
        # rule: a new child run appears with its status, params and latest metrics
        assert [(c.name, c.status, c.params, c.metrics) for c in appeared.children] == [
            ("trial-0", "RUNNING", {"C": "1.0"}, {"acc": 0.5})
        ]
        same = changes_since(tracked.run_id, appeared.cursor)
        # rule: an unchanged child is not reported again
        assert same.children == []
        mlflow.log_metric("acc", 0.75)
        mlflow.end_run()
        ended = changes_since(tracked.run_id, same.cursor)
        # rule: a child that changed (metric, end) is reported again, in its new state
        assert [(c.run_id, c.status, c.metrics["acc"]) for c in ended.children] == [
            (child.info.run_id, "FINISHED", 0.75)
        ]
        assert ended.children[0].duration() is not None
        # rule: the parent's own metrics do not include its children's
        assert ended.metrics == {}


def test_unknown_run_is_a_user_error(workspace: Path) -> None:
    # rule: a bad id is one clear RunError, not a traceback from SQLAlchemy
    with pytest.raises(RunError, match="No run with id 'nope'"):
        changes_since("nope")


def test_logged_models_of_a_run(workspace: Path) -> None:
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([[1.0], [2.0]], [1.0, 2.0])
    with TrackedRun(RunSpec(name="m", capture_output=False)) as tracked:
        info = mlflow.sklearn.log_model(model, name="model", pip_requirements=["scikit-learn"])
    refs = logged_models(tracked.run_id)
    # rule: a run's logged model is found with its models:/ URI, not yet registered
    assert [(r.name, r.uri, r.registered) for r in refs] == [("model", info.model_uri, ())]
    mlflow.register_model(info.model_uri, "reg-test")
    # rule: once registered, the version made from it is listed
    assert logged_models(tracked.run_id)[0].registered == ("reg-test/1",)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_workspace(tmp_path: Path, workspace: Path, monkeypatch: pytest.MonkeyPatch):
    """The workspace pointed at a real ``mlflow server`` (stopped by PID afterwards)."""
    import httpx
    import psutil

    from nbstudio.session import reset_session

    port = _free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{tmp_path / 'server.db'}",
            "--default-artifact-root",
            str(tmp_path / "server-artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    uri = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # a loaded machine takes over a minute
        while True:
            try:
                if httpx.get(f"{uri}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "mlflow server exited"
            assert time.monotonic() < deadline, "mlflow server did not start"
            time.sleep(0.3)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        reset_session()
        yield uri
    finally:
        parent = psutil.Process(server.pid)
        family = [parent, *parent.children(recursive=True)]
        for proc in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.terminate()
        _, alive = psutil.wait_procs(family, timeout=10)
        for proc in alive:
            proc.kill()
        server.wait(10)
        reset_session()


def test_tracking_server_fallback_reads_only_new_points(server_workspace: str) -> None:
    session = get_session()
    client = session.client()
    run_id = client.create_run(session.experiment_id(), run_name="remote").info.run_id
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, run_id, server_workspace], stderr=subprocess.PIPE, text=True
    )
    first = changes_since(run_id)
    seen = _follow(run_id, proc, first.cursor)
    loss = [p for c in seen for p in c.metrics.get("loss", [])]
    # rule: through a server too, each point arrives exactly once, in order
    assert [step for step, _, _ in loss] == list(range(120))
    assert [v for c in seen for _, _, v in c.metrics.get("lr", [])] == [0.0, 0.1, 0.2]
    child = client.create_run(
        session.experiment_id(), run_name="kid", tags={"mlflow.parentRunId": run_id}
    )
    client.log_param(child.info.run_id, "k", "v")
    client.set_terminated(run_id)
    end = changes_since(run_id, seen[-1].cursor)
    # rule: child runs and the end of the run are seen through the server as well
    assert [(c.name, c.params) for c in end.children] == [("kid", {"k": "v"})]
    assert end.ended
    assert end.metrics == {}
