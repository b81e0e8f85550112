"""Sweeps on a real 2-node Dask cluster: concurrent trials, policy stops through cancellation,
and ``%%mlrun --sweep --compute``. One cluster serves the module (starting one costs seconds)."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import mlflow
import pytest

import nbstudio
from helpers.compute import running_cluster
from nbstudio.compute.executor import executor_for
from nbstudio.session import reset_session
from nbstudio.sweep._hook import report_hook

cloudpickle.register_pickle_by_value(sys.modules[__name__])

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """A workspace with a running 2-node cluster 'sweeps'."""
    with running_cluster(tmp_path_factory.mktemp("sweep-cluster"), "sweeps") as root:
        yield root


def curve(quality: float) -> None:
    """A good trial reports 20 times quickly; a bad one slowly (it has time to be stopped)."""
    for step in range(20):
        mlflow.log_metric("acc", quality, step=step)
        if quality < 0.5:
            time.sleep(0.15)


def test_policy_stops_trials_running_on_the_cluster(cluster: Path):
    executor = executor_for("sweeps")
    try:
        sweep = nbstudio.sweep(
            curve,
            {"quality": "choice(1.0, 0.1, 0.2, 0.3)"},
            goal="maximize:acc",
            sampling="grid",
            policy="bandit(slack_factor=0.1)",
            max_concurrent_trials=2,
            executor=executor,
            seed=0,
        )
    finally:
        executor.close()
    trials = sweep.trials
    client = nbstudio.get_session().client()
    killed = trials[trials["state"] == "killed"]
    # Rule: trials run on the cluster; the policy judges their reports from the store and
    # cancels them: a stopped trial is KILLED by bandit before its 20 reports.
    assert trials.loc[trials["quality"] == 1.0, "state"].item() == "finished"
    assert len(killed) >= 1
    assert set(killed["terminated_by"]) == {"bandit"}
    for run_id in killed["run_id"]:
        assert len(client.get_metric_history(run_id, "acc")) < 20
    assert sweep.best.params == {"quality": 1.0}
    assert sweep.status == "FINISHED"


def test_sweep_cell_on_the_cluster(cluster: Path, ip):
    reset_session(cluster)
    ip.run_cell("offset = 0.5")
    result = ip.run_cell(
        '%%mlrun -p x="uniform(0, 1)" --sweep maximize:score --max-trials 4 '
        "--max-concurrent 2 --compute sweeps --seed 1\n"
        "import mlflow\n"
        "mlflow.log_metric('score', x + offset)\n"
    )
    assert result.success, result.error_in_exec
    sweep = ip.user_ns["_sweep"]
    trials = sweep.trials
    # Rule: the cell runs on the nodes with the variables it reads (offset) and its params.
    assert (trials["state"] == "finished").all()
    assert len(trials) == 4
    assert (trials["value"] - trials["x"]).round(6).tolist() == [0.5] * 4
    client = nbstudio.get_session().client()
    pids = {client.get_run(run_id).data.tags["nbstudio.pid"] for run_id in trials["run_id"]}
    assert str(os.getpid()) not in pids  # written by the nodes, not by this process


def test_report_hooks_of_concurrent_trials_do_not_leak(workspace):
    heard: dict[str, list[float]] = {"a": [], "b": []}
    entered, release = threading.Barrier(2), threading.Event()

    def trial(name: str) -> None:
        with mlflow.start_run(run_name=name) as run:
            with report_hook(run.info.run_id, "m", lambda values: heard[name].append(values[-1])):
                mlflow.log_metric("m", 1.0 if name == "a" else 2.0)
                entered.wait(5)
                release.wait(5)
            mlflow.log_metric("m", 9.0)  # after the trial's hook: not judged

    threads = [threading.Thread(target=trial, args=(name,)) for name in heard]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    release.set()
    for thread in threads:
        thread.join()
    # Rule: each trial hears only its own thread's reports, and only while it is watched.
    assert heard == {"a": [1.0], "b": [2.0]}
