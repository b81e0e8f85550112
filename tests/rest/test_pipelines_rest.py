"""Pipelines over REST: the list of pipeline runs and one run's graph with step states."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace

import pytest
import tornado.httpclient

from helpers.workspace import module_workspace


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory):
    """A workspace with a pipeline run, its fully reused re-run, and a failed run (overrides
    conftest's store: the server, through jp_root_dir, serves this workspace)."""
    import nbstudio

    module = sys.modules[__name__]

    @nbstudio.component
    def make(n: int) -> list:
        return list(range(n))

    @nbstudio.component
    def total(values: list) -> int:
        return sum(values)

    @nbstudio.component
    def broken(values: list) -> int:
        raise ValueError("no")

    @nbstudio.pipeline
    def small(n=3):
        return total(make(n))

    @nbstudio.pipeline
    def failing(n=3):
        return broken(make(n))

    module.small = small
    with module_workspace(tmp_path_factory.mktemp("pipelines-rest") / "ws") as root:
        first = small.run()
        again = small.run()
        failed = failing.run()
        yield SimpleNamespace(root=root, first=first, again=again, failed=failed)


async def get(jp_fetch, *path: str) -> tuple[int, dict]:
    try:
        response = await jp_fetch("nbstudio", "api", *path)
    except tornado.httpclient.HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body)
    return response.code, json.loads(response.body)


async def test_pipeline_list_and_detail(jp_fetch, populated):
    code, body = await get(jp_fetch, "pipelines")
    assert code == 200
    runs = {r["run_id"]: r for r in body["pipelines"]}
    assert set(runs) == {
        populated.first.run_id,
        populated.again.run_id,
        populated.failed.run_id,
    }
    assert runs[populated.first.run_id]["steps_done"] == 2
    assert runs[populated.first.run_id]["steps_total"] == 2
    assert runs[populated.again.run_id]["reused"] == 2
    assert runs[populated.failed.run_id]["status"] == "FAILED"
    assert runs[populated.failed.run_id]["failed_step"] == "broken"

    code, detail = await get(jp_fetch, "pipelines", populated.again.run_id)
    assert code == 200
    steps = {s["name"]: s for s in detail["graph"]["steps"]}
    assert steps["total"]["state"] == "reused"
    assert steps["total"]["upstream"] == ["make"]
    assert steps["total"]["reused_from"] == populated.first.steps["total"].run_id
    assert detail["graph"]["edges"] == [
        {"from": "make", "to": "total", "output": "output", "input": "values"}
    ]
    code, detail = await get(jp_fetch, "pipelines", populated.failed.run_id)
    assert {s["name"]: s["state"] for s in detail["graph"]["steps"]} == {
        "make": "reused",  # the same step as small's make: same code, same input
        "broken": "failed",
    }


async def test_unknown_or_non_pipeline_run_is_404(jp_fetch, populated):
    code, body = await get(jp_fetch, "pipelines", "0" * 32)
    assert code == 404
    assert "no run" in body["message"]
    step_run = populated.first.steps["make"].run_id
    code, body = await get(jp_fetch, "pipelines", step_run)
    assert code == 404
    assert "is not a pipeline" in body["message"]
