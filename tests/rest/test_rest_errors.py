"""Regression tests of issue 12 for the REST API: each request below once answered 500."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

API = ("nbstudio", "api")


async def fail(jp_fetch, *path: str, method: str = "GET", body=None, **params):
    kwargs: dict = {"params": params or None, "method": method}
    if body is not None:
        kwargs["body"] = body
    with pytest.raises(HTTPClientError) as caught:
        await jp_fetch(*API, *path, **kwargs)
    response = caught.value.response
    return caught.value.code, json.loads(response.body)


def _token(obj) -> str:
    return base64.b64encode(json.dumps(obj).encode()).decode()


@pytest.fixture
def raw_fetch(jp_serverapp, http_server_client, jp_auth_header, jp_base_url):
    """GET a path below nbstudio/api/ sent exactly as given."""

    def fetch(path: str):
        url = f"{jp_base_url}nbstudio/api/{path}"
        return http_server_client.fetch(url, headers=dict(jp_auth_header), raise_error=False)

    return fetch


async def test_huge_experiment_id_is_not_found(jp_fetch, populated) -> None:
    code, body = await fail(jp_fetch, "runs", experiment_id="9" * 30)
    # rule: an id SQLite cannot hold names no experiment: 404, one line
    assert code == 404
    assert "\n" not in body["message"]


@pytest.mark.parametrize(
    "token",
    [
        _token({"offset": [1]}),
        _token({"offset": 1e400}),
        base64.b64encode(b'{"offset": 1e400}').decode(),
        base64.b64encode(b'{"offset": 5}').decode(),  # MLflow's own format: not ours
        "garbage",
    ],
)
async def test_bad_page_token_is_400(jp_fetch, populated, token: str) -> None:
    code, body = await fail(jp_fetch, "runs", page_token=token)
    # rule: a page token is opaque, versioned and validated
    assert code == 400
    assert body["message"].startswith("invalid page_token")


async def test_non_ascii_page_token_is_400(raw_fetch, populated) -> None:
    response = await raw_fetch("runs?page_token=%C3%A9")
    # rule: a non-ASCII page token is a 400, not a ValueError
    assert response.code == 400
    assert json.loads(response.body)["message"].startswith("invalid page_token")


async def test_page_tokens_round_trip(jp_fetch, populated) -> None:
    first = json.loads((await jp_fetch(*API, "runs", params={"page_size": 5})).body)
    token = first["next_page_token"]
    second = json.loads(
        (await jp_fetch(*API, "runs", params={"page_size": 5, "page_token": token})).body
    )
    # rule: our own tokens still page through the runs
    assert {r["run_id"] for r in first["runs"]}.isdisjoint(r["run_id"] for r in second["runs"])


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"name": "x"}, "Additional properties"),
        ({"action": "x"}, "Additional properties"),
        ({"max_nodes": 100000}, "100000"),
        ({"nodes": -1}, "-1"),
        ({"nodes": "2"}, "not of type"),
        ({}, "non-empty"),
        ([1], "JSON object"),
    ],
)
async def test_compute_scale_body_is_validated(jp_fetch, populated, body, words: str) -> None:
    code, answer = await fail(
        jp_fetch, "compute", "local", "scale", method="POST", body=json.dumps(body)
    )
    # rule: bodies follow a per-action schema; unknown keys and unbounded numbers are a 400
    assert code == 400
    assert words in answer["message"]
    assert "\n" not in answer["message"]


async def test_compute_start_takes_no_body_keys(jp_fetch, populated) -> None:
    code, answer = await fail(
        jp_fetch, "compute", "local", "start", method="POST", body=json.dumps({"name": "y"})
    )
    # rule: an action without parameters refuses any key
    assert code == 400
    assert "'name' was unexpected" in answer["message"]


async def test_deeply_nested_body_is_400(jp_fetch, populated) -> None:
    code, _answer = await fail(
        jp_fetch, "compute", "local", "scale", method="POST", body="[" * 100_000
    )
    # rule: a body too deep to parse is a 400, not a RecursionError
    assert code == 400


@pytest.fixture
def linked_run(populated, session, tmp_path: Path) -> str:
    """A run whose artifact folder links to a folder and a file outside it."""
    client = session.client()
    run = client.create_run(populated.exp_a, run_name="links")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("x" * 1294)
    inside = tmp_path / "inside"
    inside.mkdir()
    (inside / "ok.txt").write_text("fine")
    client.log_artifacts(run.info.run_id, str(inside))
    client.set_terminated(run.info.run_id, "FINISHED")
    root = Path(client.get_run(run.info.run_id).info.artifact_uri.removeprefix("file://"))
    os.symlink(tmp_path / "outside", root / "out-dir")
    os.symlink(tmp_path / "outside" / "secret.txt", root / "out-file")
    os.symlink(root / "ok.txt", root / "in-file")
    os.symlink(root / "missing", root / "dangling")
    os.symlink(root / "loop", root / "loop")
    return run.info.run_id


async def test_links_out_of_the_artifact_folder_are_not_followed(jp_fetch, linked_run) -> None:
    body = json.loads((await jp_fetch(*API, "runs", linked_run)).body)
    entries = {a["path"]: a for a in body["artifacts"]}
    # rule: links leaving the folder are listed as links: no size, no target, never followed
    for name in ("out-dir", "out-file", "dangling", "loop"):
        assert entries[name] == {
            "path": name,
            "is_dir": False,
            "file_size": None,
            "is_link": True,
        }
    assert not any(p.startswith("out-dir/") for p in entries)
    assert 1294 not in [a["file_size"] for a in body["artifacts"]]
    # rule: a link inside the folder is listed as what it points to
    assert entries["in-file"]["file_size"] == 4


async def test_openapi_document_is_served(jp_fetch, populated) -> None:
    doc = json.loads((await jp_fetch(*API, "openapi.json")).body)
    # rule: the document describes the API, body schemas included
    assert doc["openapi"].startswith("3.")
    assert "/compute/{name}/{action}" in doc["paths"]
    assert doc["components"]["schemas"]["body.compute.scale"]["additionalProperties"] is False


@pytest.mark.parametrize("path", ["loop", "a" * 300, "b/" * 2100 + "c", "out-file"])
async def test_unreadable_artifact_paths_are_400(jp_fetch, linked_run, path: str) -> None:
    code, answer = await fail(jp_fetch, "runs", linked_run, "artifacts", path)
    # rule: a link loop, an over-long name or a link out of the folder is a 400, never a 500
    assert code == 400
    assert "\n" not in answer["message"]


async def test_unknown_query_parameter_is_400(jp_fetch, populated) -> None:
    code, answer = await fail(jp_fetch, "runs", page_sise="5")
    # rule: a query parameter the route does not take is refused, not silently ignored
    assert code == 400
    assert "page_sise" in answer["message"]


async def test_jupyterlab_cache_buster_is_accepted(raw_fetch, populated) -> None:
    response = await raw_fetch("experiments?1796056259361")
    # rule: the ?<milliseconds> JupyterLab adds to every GET is not an unknown parameter
    assert response.code == 200
