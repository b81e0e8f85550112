"""Batch jobs on a real 2-node Dask compute target: outputs, one model load per worker, a worker
killed mid-job."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import cloudpickle
import mlflow
import numpy as np
import pandas as pd
import pytest

import nbstudio
import nbstudio.data as data
from helpers.compute import running_cluster, wait_until
from nbstudio.batch import scoring
from nbstudio.batch.jobs import score
from nbstudio.compute import targets
from nbstudio.compute.remote import client_for

cloudpickle.register_pickle_by_value(sys.modules[__name__])


class Picky(mlflow.pyfunc.PythonModel):
    """``2 * x``, instantly; fails on any file holding a row with ``bad > 0``."""

    def predict(self, context, model_input, params=None):
        if (model_input["bad"] > 0).any():
            raise ValueError("bad rows in this file")
        return model_input["x"] * 2


class Slow(mlflow.pyfunc.PythonModel):
    """``x + 1``, a quarter of a second per file: a job lasts long enough to kill a worker."""

    def predict(self, context, model_input, params=None):
        time.sleep(0.25)
        return model_input["x"] + 1


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    with running_cluster(tmp_path_factory.mktemp("batch-cluster"), "cpu") as root:
        nbstudio.get_session().workspace  # noqa: B018
        yield root


def _folder(root: Path, name: str, frames: list[pd.DataFrame]) -> str:
    folder = root / name
    folder.mkdir()
    for i, frame in enumerate(frames):
        frame.to_parquet(folder / f"part-{i:02d}.parquet", index=False)
    data.create(name, folder)
    return f"{name}@1"


def test_cluster_output_matches_predict_and_loads_the_model_once_per_worker(cluster):
    from sklearn.datasets import load_wine
    from sklearn.ensemble import RandomForestClassifier

    frame = load_wine(as_frame=True).frame
    X, y = frame.drop(columns="target"), frame["target"]
    model = RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y)
    with mlflow.start_run():
        nbstudio.register_model(model, name="wine", aliases=["champion"], input_example=X.head())
    parts = [X.iloc[i : i + 20] for i in range(0, len(X), 20)]
    job = score("wine@champion", _folder(cluster, "wine-new", parts), compute="cpu").wait()
    assert job.status == "FINISHED", mlflow.artifacts.load_text(f"runs:/{job.run_id}/error.txt")
    out = pd.read_csv(Path(job.output.path) / "predictions.csv")
    # rule: scored on the cluster, row for row what the in-process model predicts
    np.testing.assert_array_equal(out["prediction"], model.predict(pd.concat(parts)))
    client = client_for(targets.get("cpu").address)
    loads = client.run(lambda: scoring.loads)
    # rule: each worker loaded the model version at most once for all its partitions
    assert set(loads.values()) <= {0, 1}
    assert sum(loads.values()) >= 1


def test_worker_killed_mid_job_partitions_retried_job_finished(cluster):
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="m", python_model=Slow(), pip_requirements=[])
    mlflow.register_model(info.model_uri, "slow")
    frames = [pd.DataFrame({"x": np.arange(50.0) + 100 * i}) for i in range(12)]
    job = score("slow/1", _folder(cluster, "slow-in", frames), compute="cpu", max_concurrency=2)
    client = client_for(targets.get("cpu").address)

    def started() -> bool:
        return mlflow.MlflowClient().get_run(job.run_id).data.metrics.get("partitions_done", 0) >= 2

    wait_until(started, 120, "two partitions scored")
    pids = [w["pid"] for w in client.scheduler_info()["workers"].values() if "pid" in w]
    if not pids:  # older schedulers: ask the workers
        pids = list(client.run(os.getpid).values())
    os.kill(pids[0], signal.SIGKILL)
    job.wait(300)
    run = mlflow.MlflowClient().get_run(job.run_id)
    # rule: the killed worker's partitions are scored again elsewhere; the job FINISHED whole
    assert run.info.status == "FINISHED", run.data.tags.get("nbstudio.batch.error")
    assert run.data.metrics["partitions_done"] == 12
    assert run.data.metrics["rows_scored"] == 600
    out = pd.read_csv(Path(job.output.path) / "predictions.csv")
    files = out["source_file"].str.slice(5, 7).astype(int)
    # rule: every row scored once, row for row x + 1 of its input file
    assert (out["prediction"] == files * 100 + out["row_id"] + 1).all()
    assert len(out) == 600
    # rule: progress never went down, even across the retried partitions
    done = [
        m.value for m in mlflow.MlflowClient().get_metric_history(job.run_id, "partitions_done")
    ]
    assert done == sorted(done)


def test_cheap_partitions_share_tasks_and_a_failure_inside_one_is_its_own(cluster):
    from distributed import get_task_stream

    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="m", python_model=Picky(), pip_requirements=[])
    mlflow.register_model(info.model_uri, "picky")
    frames = [
        pd.DataFrame({"x": np.arange(30.0) + 100 * i, "bad": int(i == 13)}) for i in range(24)
    ]
    client = client_for(targets.get("cpu").address)
    with get_task_stream(client) as stream:
        job = score("picky/1", _folder(cluster, "picky-in", frames), compute="cpu", retries=1)
        job.wait(300)
    ours = {t["key"] for t in stream.data if str(t["key"]).startswith("nbstudio-batch-")}
    # rule: a model that scores a partition in milliseconds gets several partitions per task
    assert 0 < len(ours) < 24
    run = mlflow.MlflowClient().get_run(job.run_id)
    # rule: the failing partition is reported with its own error, even if it ran in a bundle
    assert run.info.status == "FAILED"
    assert run.data.tags["nbstudio.batch.failed_partitions"] == "13"
    text = mlflow.artifacts.load_text(f"runs:/{job.run_id}/error.txt")
    assert "partition 13 (part-13.parquet): ValueError: bad rows in this file" in text
    # rule: every other partition was scored, row for row
    assert run.data.metrics["partitions_done"] == 23
    assert run.data.metrics["rows_scored"] == 23 * 30


def test_bundle_size_fills_a_task_but_leaves_every_slot_work():
    from nbstudio.batch.dispatch import TASK_SECONDS, bundle_size

    # rule: nothing measured yet, or a slow model: one partition per task
    assert bundle_size([], 100, 4) == 1
    assert bundle_size([TASK_SECONDS * 2], 100, 4) == 1
    # rule: a cheap model: as many partitions as fit in a task's worth of time...
    assert bundle_size([TASK_SECONDS / 10] * 3, 100, 4) == 10
    # ...but never more than an even share of what is left among the slots
    assert bundle_size([TASK_SECONDS / 10], 12, 4) == 3
    assert bundle_size([1e-9], 1, 4) == 1
