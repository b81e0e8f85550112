"""Run actions over REST (``runs/<id>/meta``, ``runs/<id>/delete|restore``,
``experiments/<id>/deleted-runs``) and the trials page (``runs/<id>/trials``), via jp_fetch on a
real jupyter_server and MLflow store: XSRF refused, bad input a one-line 400, unknown ids 404."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import tornado.httpclient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.workspace import module_workspace

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory):
    """A workspace with one finished run."""
    from types import SimpleNamespace

    with module_workspace(tmp_path_factory.mktemp("run-actions") / "ws") as root:
        from nbstudio.session import get_session

        session = get_session()
        client = session.client()
        experiment_id = session.experiment_id("actions-rest")
        run = client.create_run(experiment_id, run_name="before", tags={"team": "a"})
        client.set_terminated(run.info.run_id, "FINISHED")
        yield SimpleNamespace(root=root, run_id=run.info.run_id, experiment_id=experiment_id)


async def call(jp_fetch, *path: str, method: str = "GET", body=None, headers=None, **params):
    kwargs: dict = {"method": method, "params": params or None}
    if body is not None:
        kwargs["body"] = body if isinstance(body, str) else json.dumps(body)
    if headers is not None:
        kwargs["headers"] = headers
    try:
        response = await jp_fetch("nbstudio", "api", *path, **kwargs)
    except tornado.httpclient.HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body) if exc.response.body else {}
    return response.code, json.loads(response.body)


async def test_rename_describe_tag_delete_restore(jp_fetch, populated) -> None:
    from nbstudio.session import get_session

    edit = {
        "name": "after",
        "description": "Why this run matters.",
        "set_tags": {"stage": "review"},
        "delete_tags": ["team"],
    }
    code, meta = await call(jp_fetch, "runs", populated.run_id, "meta", method="PATCH", body=edit)
    # rule: PATCH applies name, description and tags, and answers the run as it is now
    assert code == 200, meta
    assert (meta["run_name"], meta["description"]) == ("after", "Why this run matters.")
    run = get_session().client().get_run(populated.run_id)
    assert run.info.run_name == "after"
    assert run.data.tags["mlflow.note.content"] == "Why this run matters."
    assert run.data.tags["stage"] == "review"
    assert "team" not in run.data.tags
    code, meta = await call(jp_fetch, "runs", populated.run_id, "delete", method="POST", body={})
    # rule: delete is MLflow's soft delete, listed under the experiment's deleted runs
    assert (code, meta["lifecycle_stage"]) == (200, "deleted")
    _, deleted = await call(jp_fetch, "experiments", populated.experiment_id, "deleted-runs")
    assert [r["run_id"] for r in deleted["runs"]] == [populated.run_id]
    _, listed = await call(jp_fetch, "runs", experiment_id=populated.experiment_id)
    assert populated.run_id not in [r["run_id"] for r in listed["runs"]]
    # rule: a deleted run still opens in the run view (GET runs/<id>, GET runs/<id>/meta)
    code, _ = await call(jp_fetch, "runs", populated.run_id)
    assert code == 200
    code, meta = await call(jp_fetch, "runs", populated.run_id, "restore", method="POST", body="")
    assert (code, meta["lifecycle_stage"]) == (200, "active")
    _, deleted = await call(jp_fetch, "experiments", populated.experiment_id, "deleted-runs")
    assert deleted == {"runs": []}


@pytest.mark.parametrize(
    ("method", "action", "body"),
    [("PATCH", "meta", {"name": "hijacked"}), ("POST", "delete", {})],
)
async def test_mutations_need_xsrf_or_token(jp_fetch, populated, method, action, body) -> None:
    from nbstudio.session import get_session

    before = get_session().client().get_run(populated.run_id)
    code, _ = await call(
        jp_fetch,
        "runs",
        populated.run_id,
        action,
        method=method,
        body=body,
        headers={"Authorization": ""},
    )
    # rule: without token and XSRF cookie the change is refused and nothing changes
    assert code == 403
    after = get_session().client().get_run(populated.run_id)
    assert (after.info.run_name, after.info.lifecycle_stage) == (
        before.info.run_name,
        before.info.lifecycle_stage,
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        [1],
        "not json",
        {"name": ""},
        {"name": 5},
        {"name": "x" * 251},
        {"unknown": 1},
        {"set_tags": {"mlflow.user": "me"}},
        {"set_tags": {"a": 1}},
        {"set_tags": {"k": "v" * 8001}},
        {"delete_tags": ["nbstudio.pid"]},
        {"delete_tags": "team"},
        {"set_tags": {"a": "1"}, "delete_tags": ["a"]},
        {"set_tags": {f"k{i}": "v" for i in range(101)}},
    ],
)
async def test_bad_edit_is_a_one_line_400(jp_fetch, populated, body) -> None:
    code, answer = await call(jp_fetch, "runs", populated.run_id, "meta", method="PATCH", body=body)
    # rule: bad input is a 400 with a one-line message, never a 500
    assert code == 400, answer
    assert answer["message"]
    assert "\n" not in answer["message"]


async def test_unknown_ids_are_404(jp_fetch, populated) -> None:
    missing = "0" * 32
    for path, method, body in [
        (("runs", missing, "meta"), "GET", None),
        (("runs", missing, "meta"), "PATCH", {"name": "x"}),
        (("runs", missing, "delete"), "POST", {}),
        (("runs", missing, "restore"), "POST", {}),
        (("runs", missing, "trials"), "GET", None),
        (("experiments", "987654", "deleted-runs"), "GET", None),
    ]:
        code, answer = await call(jp_fetch, *path, method=method, body=body)
        # rule: an unknown run or experiment is a 404 with a message
        assert code == 404, (path, answer)
        assert answer["message"]
    code, answer = await call(jp_fetch, "runs", populated.run_id, "trials")
    # rule: a run that is no sweep or AutoML job has no trials page
    assert code == 404
    assert "neither a sweep nor an AutoML job" in answer["message"]
    code, _ = await call(jp_fetch, "runs", populated.run_id, "delete", method="POST", body={"x": 1})
    # rule: delete takes no body fields
    assert code == 400
