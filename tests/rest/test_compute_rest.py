"""The side panel's compute actions over REST: list, scale, stop, start, delete a real cluster."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import tornado.httpclient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.compute import alive, family, stop_everything
from helpers.workspace import module_workspace

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory):
    """An empty workspace served by the server (compute needs no runs; overrides the conftest's
    populated store, which takes long to build)."""
    from types import SimpleNamespace

    with module_workspace(tmp_path_factory.mktemp("compute-rest") / "ws") as root:
        yield SimpleNamespace(root=root)


async def post(jp_fetch, *path: str, body: dict | None = None) -> tuple[int, dict]:
    try:
        response = await jp_fetch(
            "nbstudio", "api", *path, method="POST", body=json.dumps(body or {})
        )
    except tornado.httpclient.HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body)
    return response.code, json.loads(response.body)


async def listed(jp_fetch) -> dict[str, dict]:
    response = await jp_fetch("nbstudio", "api", "compute")
    return {t["name"]: t for t in json.loads(response.body)["targets"]}


@pytest.fixture
def cluster(session, populated):
    """A running managed cluster 'panel' (0-2 nodes) in the served workspace; none left after."""
    from nbstudio.compute import targets

    targets.create("panel", min_nodes=0, max_nodes=2, idle_seconds=120)
    yield "panel"
    # rule: nothing the test started outlives it
    assert stop_everything() == []
    targets.records().delete("panel")


@pytest.fixture
def recorded(session, populated):
    """A stopped cluster 'panel' (0-2 nodes): recorded, never started (enough to be refused)."""
    from nbstudio.compute import targets
    from nbstudio.compute.records import TargetSpec

    targets.records().write_spec(TargetSpec(name="panel", kind="cluster", max_nodes=2))
    yield "panel"
    targets.records().delete("panel")


async def test_compute_actions(jp_fetch, cluster) -> None:
    targets = await listed(jp_fetch)
    panel = targets["panel"]
    # rule: the list has local and the cluster, with state, nodes, dashboard and actions
    assert targets["local"]["state"] == "running"
    assert panel["state"] == "running"
    assert panel["dashboard_link"].startswith("http://127.0.0.1:")
    assert panel["actions"] == ["stop", "scale", "delete"]

    code, scaled = await post(jp_fetch, "compute", "panel", "scale", body={"nodes": 1})
    # rule: scale answers at once with the target; the node then joins
    assert code == 200
    assert scaled["name"] == "panel"
    from nbstudio.compute.targets import wait_for_nodes

    procs = family(wait_for_nodes("panel", 1).pid)

    code, stopped = await post(jp_fetch, "compute", "panel", "stop")
    # rule: stop answers once the cluster and its node are gone
    assert (code, stopped["state"]) == (200, "stopped")
    assert alive(procs) == []
    assert stopped["actions"] == ["start", "delete"]

    code, started = await post(jp_fetch, "compute", "panel", "start")
    assert (code, started["state"]) == (200, "running")
    procs = family(started["pid"])
    code, _ = await post(jp_fetch, "compute", "panel", "delete")
    # rule: delete stops and forgets it
    assert code == 200
    assert alive(procs) == []
    assert "panel" not in await listed(jp_fetch)


@pytest.mark.parametrize(
    ("path", "body", "code", "message"),
    [
        (("nope", "stop"), {}, 404, "No compute target named 'nope'"),
        (("panel", "explode"), {}, 400, "Unknown action 'explode'"),
        (("panel", "scale"), {"nodes": "two"}, 400, "'two' is not of type 'integer'"),
        (("panel", "scale"), {"nodes": 9}, 400, "allows 0 to 2"),
        (("panel", "scale"), {"cores": 1}, 400, "'cores' was unexpected"),
        (("local", "stop"), {}, 400, "'local' is the kernel"),
        (("nope", "scale"), {"nodes": 1}, 404, "No compute target named 'nope'"),
        (("panel", "scale"), {"nodes": 1}, 409, "Compute target 'panel' is stopped"),
        (("panel", "scale"), {"min_nodes": 3}, 400, "--min-nodes (3) is above --max-nodes (2)"),
    ],
    ids=[
        "unknown", "bad-action", "bad-nodes", "too-many", "bad-key", "local", "unknown-scale",
        "not-running", "bad-bounds",
    ],
)  # fmt: skip
async def test_compute_action_errors(jp_fetch, recorded, path, body, code, message) -> None:
    answer_code, answer = await post(jp_fetch, "compute", *path, body=body)
    # rule: errors map by type: 400 bad input, 404 unknown target, 409 a state that forbids the
    # action; one-line message, never a 500
    assert answer_code == code
    assert message in answer["message"]
