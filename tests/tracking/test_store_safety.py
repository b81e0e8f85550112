"""Several processes writing one SQLite store, and runs of kernels that died."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import mlflow

from nbstudio.session import get_session, reset_session

WRITER = textwrap.dedent(
    """
    import sys
    import mlflow
    from nbstudio.tracking import RunSpec, TrackedRun
    for i in range(int(sys.argv[1])):
        with TrackedRun(RunSpec(name=f"w{sys.argv[2]}-{i}", capture_output=False)):
            mlflow.log_metric("i", i)
    """
)


def test_four_processes_write_one_store(workspace: Path) -> None:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, "100", str(n)],
            cwd=workspace,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    errors = [w.communicate(timeout=280)[1] for w in writers]
    # rule: four writers on a store none of them created first all succeed
    assert [w.returncode for w in writers] == [0, 0, 0, 0], errors
    assert not any("database is locked" in e for e in errors)
    get_session().workspace  # noqa: B018 - points this process at the same store
    runs = mlflow.search_runs(search_all_experiments=True, max_results=1000)
    # rule: all 400 runs are recorded, FINISHED
    assert len(runs) == 400
    assert set(runs.status) == {"FINISHED"}
    store = workspace / ".nbstudio" / "mlflow.db"
    with __import__("sqlite3").connect(store) as conn:
        # rule: the store is in WAL mode, so readers never block writers
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


DYING_KERNEL = textwrap.dedent(
    """
    import os, signal, sys
    from nbstudio.tracking import RunSpec, TrackedRun
    run = TrackedRun(RunSpec(name="orphan")).__enter__()
    print(run.run_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_run_of_a_dead_kernel_is_killed_on_next_open(workspace: Path) -> None:
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.run(
        [sys.executable, "-c", DYING_KERNEL], cwd=workspace, env=env, capture_output=True, text=True
    )
    assert proc.returncode == -signal.SIGKILL
    run_id = proc.stdout.strip()
    reset_session()
    client = get_session().client()
    run = client.get_run(run_id)
    # rule: the next open marks the orphan KILLED with terminated_by=kernel-died
    assert run.info.status == "KILLED"
    assert run.data.tags["nbstudio.terminated_by"] == "kernel-died"


def test_runs_of_live_processes_are_left_alone(workspace: Path) -> None:
    from nbstudio.tracking import RunSpec, TrackedRun

    tracked = TrackedRun(RunSpec(name="alive")).__enter__()
    reset_session()
    # rule: a RUNNING run whose process is alive is not reaped
    assert get_session().client().get_run(tracked.run_id).info.status == "RUNNING"
    tracked.__exit__(None, None, None)
