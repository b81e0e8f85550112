"""Data assets over REST: assets, versions, a version's lineage, a run's inputs and outputs."""

from __future__ import annotations

import json
import os
import time
from types import SimpleNamespace

import pytest
import tornado.httpclient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.workspace import module_workspace


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory):
    """A workspace with two assets (wine: 2 versions) and a run reading one and writing one."""
    import pandas as pd
    from sklearn.datasets import load_wine

    import nbstudio.data as data
    from nbstudio.tracking import RunSpec, TrackedRun

    with module_workspace(tmp_path_factory.mktemp("data-rest") / "ws") as root:
        frame = load_wine(as_frame=True).frame
        path = root / "wine.csv"
        frame.to_csv(path, index=False)
        past = time.time() - 10
        os.utime(path, (past, past))
        data.create("wine", path)
        frame.head(50).to_csv(path, index=False)
        data.create("wine", path, copy=True)
        with TrackedRun(RunSpec(name="scorer", experiment="data-rest")) as run:
            scored = data.get("wine@2", context="scoring").to_pandas()
            data.create("wine-scored", scored.assign(score=1.0), tags={"team": "red"})
        yield SimpleNamespace(root=root, run_id=run.run_id, pd=pd)


async def get(jp_fetch, *path: str, **params: str) -> tuple[int, dict]:
    try:
        response = await jp_fetch("nbstudio", "api", *path, params=params)
    except tornado.httpclient.HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body)
    return response.code, json.loads(response.body)


async def test_assets_versions_and_lineage(jp_fetch, populated):
    code, body = await get(jp_fetch, "data")
    assert code == 200
    assets = {a["name"]: a for a in body["assets"]}
    # rule: the asset list shows each asset's latest version, count, size, digest, datastore
    assert set(assets) == {"wine", "wine-scored"}
    assert assets["wine"]["latest"] == 2
    assert assets["wine"]["version_count"] == 2
    assert assets["wine"]["datastore"] == "workspaceblobstore"
    assert len(assets["wine"]["digest"]) == 64
    code, body = await get(jp_fetch, "data", q="red")
    # rule: q searches names, descriptions and tags
    assert [a["name"] for a in body["assets"]] == ["wine-scored"]

    code, body = await get(jp_fetch, "data", "wine")
    assert [v["version"] for v in body["versions"]] == [2, 1]
    code, body = await get(jp_fetch, "data", "wine", "versions", "2")
    # rule: a version answers the runs that read it, with their context
    assert [(r["run_id"], r["context"]) for r in body["used_by"]] == [(populated.run_id, "scoring")]
    code, body = await get(jp_fetch, "data", "wine-scored", "versions", "latest")
    # rule: and the run that wrote it
    assert body["produced_by_run"]["run_name"] == "scorer"

    code, body = await get(jp_fetch, "runs", populated.run_id, "data")
    # rule: a run answers its inputs and outputs
    assert [(i["name"], i["version"]) for i in body["inputs"]] == [("wine", 2)]
    assert [(o["name"], o["version"]) for o in body["outputs"]] == [("wine-scored", 1)]

    code, body = await get(jp_fetch, "datastores")
    assert [s["name"] for s in body["datastores"]][:2] == [
        "workspaceblobstore",
        "workspacefilestore",
    ]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (("data", "nothing"), 404),
        (("data", "wine", "versions", "9"), 404),
        (("data", "wine", "versions", "two"), 400),
        (("data", "bad name!"), 400),
        (("runs", "0" * 32, "data"), 404),
    ],
)
async def test_bad_requests_are_4xx_with_a_message(jp_fetch, populated, path, status):
    code, body = await get(jp_fetch, *path)
    # rule: unknown names are 404 and malformed ones 400, each with a one-line message
    assert code == status
    assert body["message"]
    assert "\n" not in body["message"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.text(min_size=1, max_size=40), version=st.text(min_size=1, max_size=12))
def test_hostile_names_are_user_errors(populated, name, version):
    """What the version handler calls: any name and version is an answer or a user error (4xx),
    never another exception (a 500)."""
    from nbstudio.data import catalog
    from nbstudio.errors import NbstudioError

    outcome: object
    try:
        outcome = catalog.version_json(name, version)
    except NbstudioError as exc:
        outcome = exc
    # rule: hostile input ends as a dict or a one-line NbstudioError
    assert isinstance(outcome, dict | NbstudioError)
    assert "\n" not in str(outcome) or isinstance(outcome, dict)
