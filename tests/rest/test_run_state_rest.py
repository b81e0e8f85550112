"""``runs/<id>/state``: what a notebook's frozen monitor asks after its kernel restarted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tornado.httpclient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers.workspace import module_workspace

pytestmark = pytest.mark.timeout(120)

# A kernel that starts a run and dies without ending it (as a restarted kernel does).
DYING_KERNEL = textwrap.dedent(
    """
    import os, signal
    from nbstudio.tracking import RunSpec, TrackedRun
    run = TrackedRun(RunSpec(name="orphan")).__enter__()
    print(run.run_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory):
    """An empty workspace served by the server (overrides the conftest's large store)."""
    from types import SimpleNamespace

    with module_workspace(tmp_path_factory.mktemp("run-state") / "ws") as root:
        yield SimpleNamespace(root=root)


async def state(jp_fetch, run_id: str) -> tuple[int, dict]:
    try:
        response = await jp_fetch("nbstudio", "api", "runs", run_id, "state")
    except tornado.httpclient.HTTPClientError as exc:
        return exc.code, json.loads(exc.response.body)
    return response.code, json.loads(response.body)


async def test_a_dead_kernels_run_is_ended_when_asked(jp_fetch, session, populated) -> None:
    session.workspace  # noqa: B018 - opened (and reaped) before the kernel dies
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.run(
        [sys.executable, "-c", DYING_KERNEL],
        cwd=populated.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    run_id = proc.stdout.strip()
    # the workspace was opened before the run existed: only asking can end it
    assert session.client().get_run(run_id).info.status == "RUNNING"
    code, body = await state(jp_fetch, run_id)
    # rule: asking for the state of a dead kernel's run ends it KILLED, and says why
    assert code == 200
    assert body["status"] == "KILLED"
    assert body["terminated_by"] == "kernel-died"
    assert body["reaped"] is True
    # rule: the store agrees (what mlflow ui and the panel read)
    assert session.client().get_run(run_id).info.status == "KILLED"
    code, again = await state(jp_fetch, run_id)
    # rule: asking again changes nothing
    assert (code, again["status"], again["reaped"]) == (200, "KILLED", False)


async def test_a_live_run_stays_running(jp_fetch, session, populated) -> None:
    from nbstudio.tracking import RunSpec, TrackedRun

    tracked = TrackedRun(RunSpec(name="alive")).__enter__()
    try:
        code, body = await state(jp_fetch, tracked.run_id)
        # rule: a run whose process is alive is reported RUNNING and left alone
        assert (code, body["status"], body["reaped"]) == (200, "RUNNING", False)
    finally:
        tracked.__exit__(None, None, None)


@pytest.mark.parametrize("run_id", ["0" * 32, "not-a-run", "%27%3B"])
async def test_unknown_run_is_a_one_line_404(jp_fetch, populated, run_id) -> None:
    code, body = await state(jp_fetch, run_id)
    # rule: an unknown run id is a 404 with a one-line message, never a 500
    assert code == 404
    assert "\n" not in body["message"]
