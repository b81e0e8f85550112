"""Pipelines on a real 2-node Dask cluster: branches run on the workers at once, outputs travel
as artifact references, and a re-run reuses every step."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import cloudpickle
import pytest

import nbstudio
from helpers.compute import running_cluster

cloudpickle.register_pickle_by_value(sys.modules[__name__])

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    with running_cluster(tmp_path_factory.mktemp("pipeline-cluster"), "pipes") as root:
        yield root


@nbstudio.component
def source(n: int) -> list:
    return list(range(n))


@nbstudio.component
def branch(values: list, seconds: float, label: str) -> dict:
    started = time.time()
    time.sleep(seconds)
    return {"pid": os.getpid(), "started": started, "ended": time.time(), "sum": sum(values)}


@nbstudio.component
def join(a: dict, b: dict) -> int:
    return a["sum"] + b["sum"]


@nbstudio.pipeline
def two_branches(n=4, seconds=1.5):
    values = source(n)
    return join(branch(values, seconds, "a"), branch(values, seconds, "b"))


def test_branches_run_on_the_cluster_at_once_and_rerun_reuses(cluster: Path):
    from nbstudio.session import reset_session

    reset_session(cluster)
    result = two_branches.run(compute="pipes", max_concurrent=2)
    assert result.status == "FINISHED", result.error
    assert result.outputs == 12
    # The first run warms both workers up (a worker's first step imports MLflow and pandas:
    # seconds under load); the second, uncached, shows the branches overlapping.
    warm = two_branches.run(compute="pipes", max_concurrent=2, cache=False)
    assert warm.status == "FINISHED", warm.error
    a = warm.steps["branch"].outputs["output"].load()
    b = warm.steps["branch_2"].outputs["output"].load()
    # rule: the steps ran in worker processes, not in this one, and overlapped in time
    assert os.getpid() not in (a["pid"], b["pid"])
    assert a["pid"] != b["pid"]
    assert a["started"] < b["ended"]
    assert b["started"] < a["ended"]
    client = nbstudio.get_session().client()
    step_run = client.get_run(result.steps["branch"].run_id)
    assert step_run.info.status == "FINISHED"
    assert step_run.data.tags["nbstudio.step"] == "branch"

    again = two_branches.run(compute="pipes", max_concurrent=2)
    assert {s.state for s in again.steps.values()} == {"reused"}
    assert again.outputs == 12
