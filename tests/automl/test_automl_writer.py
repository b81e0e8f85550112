"""The AutoML trial writer: child runs written by a process of their own, never by the kernel,
all of them kept through a Ctrl+C sent to the kernel's process group, refusals reported back."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from sklearn.datasets import load_breast_cancer

import nbstudio
from nbstudio.automl import primary_metric
from nbstudio.automl.writer import TrialWriter
from nbstudio.processes import process_alive

pytestmark = pytest.mark.timeout(120)


def children(parent_run_id: str) -> list:
    client = nbstudio.get_session().client()
    experiment = client.get_run(parent_run_id).info.experiment_id
    return client.search_runs(
        [experiment], filter_string=f"tags.`mlflow.parentRunId` = '{parent_run_id}'"
    )


def flaml_line(number: int, loss: float) -> str:
    """One trial line as FLAML 2 writes it to its log file."""
    return json.dumps(
        {
            "record_id": number,
            "iter_per_learner": number + 1,
            "logged_metric": False,
            "trial_time": 0.05,
            "wall_clock_time": 0.1 * (number + 1),
            "validation_loss": loss,
            "config": {"n_estimators": 4 + number, "num_leaves": 4},
            "learner": "lgbm",
            "sample_size": 400,
        }
    )


def test_the_kernel_writes_no_child_run_itself(workspace, monkeypatch) -> None:
    created_here: list[str] = []
    real_create = SqlAlchemyStore.create_run

    def counting_create(self, *args, **kwargs):  # the real call, counted
        run = real_create(self, *args, **kwargs)
        created_here.append(run.info.run_id)
        return run

    monkeypatch.setattr(SqlAlchemyStore, "create_run", counting_create)
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    result = nbstudio.automl(X.iloc[:300], y[:300], max_trials=5, estimators="lgbm", seed=0)
    runs = children(result.parent_run_id)
    # rule: every trial is a child run of the job, with its estimator and config as params
    assert len(runs) == 5
    assert all(run.data.params["estimator"] == "lgbm" for run in runs)
    assert all("n_estimators" in run.data.params for run in runs)
    # rule: this process created the parent run only: trials are written by the writer process
    assert result.parent_run_id in created_here
    assert not {run.info.run_id for run in runs} & set(created_here)


def test_writer_keeps_every_trial_through_a_ctrl_c_to_the_kernels_group(
    workspace, tmp_path: Path
) -> None:
    session = nbstudio.get_session()
    client = session.client()
    experiment = session.experiment_id()
    parent = client.create_run(experiment).info.run_id
    log = tmp_path / "flaml.log"
    metric = primary_metric("accuracy", "classification")
    writer = TrialWriter(session.workspace.tracking_uri, experiment, parent, log, metric).start()
    with log.open("a") as handle:
        for number, loss in enumerate([0.2, 0.1, 0.15]):
            handle.write(flaml_line(number, loss) + "\n")
    deadline = time.monotonic() + 30
    while len(writer.records) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    # rule: trials are recorded while the search runs, not only at its end
    assert len(writer.records) == 3
    # The Ctrl+C Jupyter sends to the kernel's process group, sent to the writer itself
    os.kill(writer.pid, signal.SIGINT)
    with log.open("a") as handle:
        handle.write(flaml_line(3, 0.05) + "\n")
        handle.write(flaml_line(4, 0.3) + '\n{"curr_best_record_id": 3}\n')
    pid = writer.pid
    writer.close()
    # rule: every line FLAML wrote is a child run, the last ones too, and the writer has ended
    assert writer.errors == []
    assert [r.number for r in writer.records] == [0, 1, 2, 3, 4]
    assert writer.best is not None
    assert writer.best.number == 3
    assert writer.best.score == pytest.approx(0.95)
    assert not process_alive(pid)
    runs = {run.info.run_id: run for run in children(parent)}
    assert set(runs) == {r.run_id for r in writer.records}
    assert {run.info.status for run in runs.values()} == {"FINISHED"}
    assert runs[writer.best.run_id].data.params["n_estimators"] == "7"
    history = client.get_metric_history(parent, "accuracy")
    # rule: the parent's best so far has one point per trial
    assert [m.value for m in sorted(history, key=lambda m: m.step)] == pytest.approx(
        [0.8, 0.9, 0.9, 0.95, 0.95]
    )


def test_writer_reports_what_the_store_refuses(workspace, tmp_path: Path) -> None:
    session = nbstudio.get_session()
    uri = session.workspace.tracking_uri
    parent = session.client().create_run(session.experiment_id()).info.run_id
    metric = primary_metric("accuracy", "classification")
    log = tmp_path / "flaml.log"
    log.write_text(flaml_line(0, 0.2) + "\n")
    refused = TrialWriter(uri, "987654", parent, log, metric).start()
    refused.close()
    # rule: a trial the store refuses comes back as one error line naming the trial
    assert refused.records == []
    assert refused.errors
    assert refused.errors[0].startswith("trial 0: ")
    broken = TrialWriter("nope://nowhere", "0", parent, log, metric).start()
    broken.close()
    # rule: a writer process that cannot start says why instead of hanging the job
    assert len(broken.errors) == 1
    assert broken.errors[0].startswith("the trial writer process stopped: ")
