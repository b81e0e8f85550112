"""The REST API through a real jupyter_server: content, paging, auth and 4xx answers."""

from __future__ import annotations

import base64
import json

import pytest
from tornado.httpclient import HTTPClientError


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_kind(request: pytest.FixtureRequest) -> str:
    """Every test here runs on the embedded SQLite store and on a PostgreSQL database."""
    return request.param


API = ("nbstudio", "api")


async def get(jp_fetch, *path: str, **params):
    response = await jp_fetch(*API, *path, params=params or None)
    assert response.headers["Content-Type"].startswith("application/json")
    return json.loads(response.body)


async def error(jp_fetch, *path: str, method: str = "GET", body=None, headers=None, **params):
    """The status and JSON body of a request that must fail."""
    kwargs = {"params": params or None, "method": method}
    if body is not None:
        kwargs["body"] = body
    if headers is not None:
        kwargs["headers"] = headers
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(*API, *path, **kwargs)
    response = caught.value.response
    return caught.value.code, (json.loads(response.body) if response.body else {})


@pytest.fixture
def raw_fetch(jp_serverapp, http_server_client, jp_auth_header, jp_base_url):
    """GET a path below nbstudio/api/ sent exactly as given (jp_fetch re-encodes '%' and '..')."""

    def fetch(path: str):
        url = f"{jp_base_url}nbstudio/api/{path}"
        return http_server_client.fetch(url, headers=dict(jp_auth_header), raise_error=False)

    return fetch


async def test_workspace(jp_fetch, populated, store_kind) -> None:
    body = await get(jp_fetch, "workspace")
    # Rule: the server's root folder is the workspace, with its own SQLite store (or the
    # database its nbstudio.toml names).
    assert body["root"] == str(populated.root)
    assert body["embedded_store"] is (store_kind == "sqlite")
    assert body["tracking_uri"].startswith("sqlite:///" if store_kind == "sqlite" else "postgresql")
    assert set(body) == {
        "root",
        "tracking_uri",
        "artifact_root",
        "default_experiment",
        "embedded_store",
        "version",
    }


async def test_experiments(jp_fetch, populated) -> None:
    body = await get(jp_fetch, "experiments")
    rows = {e["name"]: e for e in body["experiments"]}
    # Rule: active experiments with run counts and last activity, newest first.
    assert rows["exp-a"]["run_count"] == 36
    assert rows["exp-a"]["experiment_id"] == populated.exp_a
    assert rows["exp-a"]["lifecycle_stage"] == "active"
    activity = [e["last_activity"] or 0 for e in body["experiments"]]
    assert activity == sorted(activity, reverse=True)


async def test_runs_paging_newest_first(jp_fetch, populated) -> None:
    seen, token, pages = [], None, 0
    while True:
        params = {"experiment_id": populated.exp_a, "page_size": "10"}
        if token:
            params["page_token"] = token
        body = await get(jp_fetch, "runs", **params)
        seen.extend(body["runs"])
        token = body["next_page_token"]
        pages += 1
        if not token:
            break
    # Rule: pages of page_size cover every active run exactly once, newest first.
    assert pages == 4
    assert len(seen) == len({r["run_id"] for r in seen}) == 36
    starts = [r["start_time"] for r in seen]
    assert starts == sorted(starts, reverse=True)
    run = seen[0]
    assert set(run) == {
        "run_id",
        "run_name",
        "experiment_id",
        "status",
        "start_time",
        "end_time",
        "duration",
        "params",
        "metrics",
        "parent_run_id",
        "primary_metric",
    }


async def test_runs_filter_and_order(jp_fetch, populated) -> None:
    body = await get(
        jp_fetch,
        "runs",
        experiment_id=populated.exp_a,
        filter="metrics.m0 > 0.5 and params.p0 = 'b'",
        order_by="metrics.m0 DESC",
    )
    values = [r["metrics"]["m0"] for r in body["runs"]]
    # Rule: MLflow's search syntax is applied: filtered, then ordered.
    assert values
    assert all(v > 0.5 for v in values)
    assert all(r["params"]["p0"] == "b" for r in body["runs"])
    assert values == sorted(values, reverse=True)


async def test_runs_without_experiment_searches_all(jp_fetch, populated) -> None:
    body = await get(jp_fetch, "runs", page_size="500")
    # Rule: no experiment_id means every active experiment.
    assert len(body["runs"]) == 36 + 6
    assert body["next_page_token"] is None


async def test_run_detail(jp_fetch, populated) -> None:
    body = await get(jp_fetch, "runs", populated.tracked)
    run = body["run"]
    # Rule: tags, params, metrics, duration and the artifacts the run logged.
    assert run["run_name"] == "tracked"
    assert run["status"] == "FINISHED"
    assert run["params"] == {"lr": "0.1"}
    assert run["metrics"] == {"loss": 0.25}
    assert run["duration"] is not None
    assert "nbstudio.pid" in run["tags"]
    assert {"notebook", "source_name", "tags"} <= set(run)
    paths = {a["path"]: a for a in body["artifacts"]}
    assert {"cell.py", "outputs/log.txt", "plots/dot.png", "outputs"} <= set(paths)
    assert paths["outputs"]["is_dir"] is True
    assert paths["outputs"]["file_size"] is None
    assert paths["cell.py"]["file_size"] == len("print('hi')\n")
    assert body["children"] == []


async def test_run_children(jp_fetch, populated) -> None:
    body = await get(jp_fetch, "runs", populated.parent)
    children = body["children"]
    # Rule: child runs are listed with their parent id, newest first.
    assert [c["run_id"] for c in children] == populated.children[::-1]
    assert all(c["parent_run_id"] == populated.parent for c in children)
    assert children[0]["primary_metric"] == {"key": "score", "value": 0.2}


@pytest.mark.parametrize("key", ["train/loss", "train%2Floss"], ids=["slash", "encoded"])
async def test_metric_history(raw_fetch, populated, key) -> None:
    response = await raw_fetch(f"runs/{populated.history}/metrics/{key}?max_points=50")
    body = json.loads(response.body)
    # Rule: a downsampled history of at most max_points; keys with '/' work, raw or encoded.
    assert response.code == 200
    assert body["key"] == "train/loss"
    assert body["total_points"] == 5000
    assert body["downsampled"] is True
    assert 2 < len(body["points"]) <= 50
    assert set(body["points"][0]) == {"step", "timestamp", "value"}


@pytest.mark.parametrize(
    ("path", "kind", "check"),
    [
        ("cell.py", "text", lambda b: b["text"] == "print('hi')\n" and not b["truncated"]),
        ("outputs/log.txt", "text", lambda b: "hello from the run" in b["text"]),
        (
            "plots/dot.png",
            "image",
            lambda b: base64.b64decode(b["data_url"].split(",", 1)[1]).startswith(b"\x89PNG"),
        ),
        ("blob.bin", "binary", lambda b: "text" not in b and b["size"] == 1024),
        (
            "big.txt",
            "text",
            lambda b: b["truncated"] and len(b["text"].encode()) <= 1024 * 1024 and b["size"] > 1e6,
        ),
    ],
    ids=["cell", "log", "png", "binary", "truncated"],
)
async def test_artifact_preview(jp_fetch, populated, path, kind, check) -> None:
    body = await jp_fetch(*API, "runs", populated.tracked, "artifacts", *path.split("/"))
    body = json.loads(body.body)
    # Rule: text previews (first 1 MB), images as data URLs, binaries described only.
    assert body["kind"] == kind
    assert body["path"] == path
    assert check(body)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("../../etc/passwd", 400),
        ("..%2F..%2F..%2Fetc%2Fpasswd", 400),
        ("%2E%2E/%2E%2E/outside.txt", 400),
        ("outputs/../../../outside.txt", 400),
        ("%2Fetc%2Fpasswd", 400),
        ("escape.txt", 400),  # a symlink out of the run's artifacts
        ("missing.txt", 404),
        ("outputs", 400),
    ],
    ids=[
        "dotdot",
        "encoded",
        "encoded-dots",
        "inner-dotdot",
        "absolute",
        "symlink",
        "missing",
        "dir",
    ],
)
async def test_artifact_path_traversal_refused(raw_fetch, populated, path, status) -> None:
    response = await raw_fetch(f"runs/{populated.tracked}/artifacts/{path}")
    body = json.loads(response.body)
    # Rule: nothing outside the run's artifacts is ever read: a 400 (or 404), with a message.
    assert response.code == status
    assert body["message"]
    assert "not an artifact" not in response.body.decode()
    assert "root:" not in response.body.decode()


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        (("runs",), {"page_size": "0"}, 400, "page_size"),
        (("runs",), {"page_size": "501"}, 400, "page_size"),
        (("runs",), {"page_size": "ten"}, 400, "whole number"),
        (("runs",), {"filter": "metrics.m0 >>> 1"}, 400, "Invalid filter"),
        (("runs",), {"order_by": "metrics.m0 SIDEWAYS"}, 400, "ordered by"),
        (("runs",), {"page_token": "garbage"}, 400, "page_token"),
        (("runs",), {"experiment_id": "999"}, 404, "No experiment"),
        (("runs", "f" * 32), {}, 404, "No run"),
        (("runs", "f" * 32, "metrics", "loss"), {}, 404, "No run"),
        (("runs", "f" * 32, "artifacts", "cell.py"), {}, 404, "No run"),
        (("runs", "RUN", "metrics", "loss"), {"max_points": "5"}, 400, "max_points"),
    ],
    ids=[
        "page-size-0",
        "page-size-501",
        "page-size-text",
        "bad-filter",
        "bad-order",
        "bad-token",
        "unknown-experiment",
        "unknown-run",
        "unknown-run-metric",
        "unknown-run-artifact",
        "max-points",
    ],
)
async def test_bad_requests(jp_fetch, populated, path, params, status, words) -> None:
    path = tuple(populated.history if p == "RUN" else p for p in path)
    code, body = await error(jp_fetch, *path, **params)
    # Rule: bad input is a 4xx with a one-line JSON message, never a 500.
    assert code == status
    assert words in body["message"]
    assert "\n" not in body["message"]


@pytest.mark.parametrize(
    "path",
    [
        ("workspace",),
        ("experiments",),
        ("runs",),
        ("runs", "RUN"),
        ("runs", "RUN", "metrics", "loss"),
        ("runs", "RUN", "artifacts", "cell.py"),
        ("models",),
        ("compute",),
        ("sweeps",),
        ("endpoints",),
    ],
    ids=lambda p: "/".join(p),
)
async def test_every_route_needs_a_token(jp_fetch, populated, path) -> None:
    path = tuple(populated.tracked if p == "RUN" else p for p in path)
    code, _ = await error(jp_fetch, *path, headers={"Authorization": ""})
    # Rule: without a token jupyter_server refuses the request.
    assert code == 403


async def test_post_needs_xsrf_or_token(jp_fetch, populated) -> None:
    code, _ = await error(
        jp_fetch,
        "compute",
        "local",
        "stop",
        method="POST",
        body="{}",
        headers={"Authorization": ""},
    )
    # Rule: a POST without token (and without XSRF cookie) is refused.
    assert code == 403


async def test_models(jp_fetch, populated) -> None:
    from mlflow import MlflowClient

    from nbstudio.session import get_session

    client: MlflowClient = get_session().client()
    client.create_registered_model("digits", description="a model")
    source = f"runs:/{populated.tracked}/model"
    for _ in range(2):
        client.create_model_version("digits", source, run_id=populated.tracked)
    client.set_registered_model_alias("digits", "champion", "1")
    body = await get(jp_fetch, "models")
    model = next(m for m in body["models"] if m["name"] == "digits")
    # Rule: models with description, aliases, versions newest first with their aliases.
    assert model["description"] == "a model"
    assert model["aliases"] == {"champion": "1"}
    assert [v["version"] for v in model["versions"]] == ["2", "1"]
    assert model["versions"][1]["aliases"] == ["champion"]
    assert model["versions"][0]["run_id"] == populated.tracked
    assert model["versions"][0]["source"] == source


@pytest.mark.parametrize(
    ("route", "key", "function"),
    [
        ("compute", "targets", "nbstudio.compute.api:list_targets"),
        ("sweeps", "sweeps", "nbstudio.sweep.api:list_sweeps"),
        ("endpoints", "endpoints", "nbstudio.endpoints.api:list_endpoints"),
    ],
    ids=["compute", "sweeps", "endpoints"],
)
async def test_feature_lists(jp_fetch, populated, route, key, function) -> None:
    from nbstudio.server.handlers import core

    body = await get(jp_fetch, route)
    expected = json.loads(json.dumps(core(function)()))
    # Rule: each list comes from its feature's core function, wrapped under its key.
    assert list(body) == [key]
    assert isinstance(body[key], list)
    assert len(body[key]) == len(expected)


async def test_compute_action_errors(jp_fetch, populated) -> None:
    code, body = await error(
        jp_fetch, "compute", "no-such-target", "start", method="POST", body="{}"
    )
    # Rule: an unknown target is a 404, a body that is not a JSON object a 400.
    assert code == 404
    assert body["message"]
    code, body = await error(jp_fetch, "compute", "local", "scale", method="POST", body="[1]")
    assert code == 400
    assert "JSON object" in body["message"]
