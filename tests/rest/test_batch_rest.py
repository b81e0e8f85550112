"""Batch endpoints over REST: the list the panel would read, with each endpoint's latest job."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from helpers.workspace import module_workspace


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory):
    """Two batch endpoints, one of which ran a job."""
    import mlflow
    import pandas as pd
    from sklearn.linear_model import LinearRegression

    import nbstudio
    import nbstudio.data as data
    from nbstudio.batch import commands

    with module_workspace(tmp_path_factory.mktemp("batch-rest") / "ws") as root:
        nbstudio.get_session().workspace  # noqa: B018
        X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0]})
        with mlflow.start_run():
            model = LinearRegression().fit(X, [2, 4, 6, 8])
            nbstudio.register_model(model, name="lin", aliases=["live"], input_example=X)
        (root / "in.csv").write_text(X.to_csv(index=False))
        data.create("nums", root / "in.csv")
        commands.create("idle", model="lin@live")
        commands.create("busy", model="lin@live", retries=0)
        job = commands.invoke("busy", "nums@1").wait()
        yield SimpleNamespace(root=root, run_id=job.run_id)


async def test_batch_endpoints_listed_with_their_last_job(jp_fetch, populated):
    response = await jp_fetch("nbstudio", "api", "batch")
    endpoints = {e["name"]: e for e in json.loads(response.body)["endpoints"]}
    # rule: every batch endpoint of the workspace, with its model and job defaults
    assert sorted(endpoints) == ["busy", "idle"]
    assert endpoints["busy"]["model"] == "lin@live"
    assert endpoints["busy"]["retries"] == 0
    # rule: the latest job of each (null when none ran)
    assert endpoints["idle"]["last_job"] is None
    last = endpoints["busy"]["last_job"]
    assert last["run_id"] == populated.run_id
    assert last["status"] == "FINISHED"
    assert last["rows_scored"] == 4
    assert last["output"] == "nums-scored@1"
