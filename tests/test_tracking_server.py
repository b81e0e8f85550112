"""The magics against a real `mlflow server` on 127.0.0.1, checked over MLflow's REST API."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from nbstudio.session import reset_session


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mlflow_server(tmp_path: Path):
    port = _free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    server = subprocess.Popen(
        [
            sys.executable, "-m", "mlflow", "server",
            "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
            "--artifacts-destination", str(tmp_path / "server-artifacts"),
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("mlflow server did not start")
            time.sleep(0.3)
    yield url
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_magics_record_to_a_tracking_server(ip, mlflow_server, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
    reset_session()
    result = ip.run_cell(
        "%%mlrun remote -p depth=3\nimport mlflow\nfor i in range(3):\n"
        "    mlflow.log_metric('score', i / 2, step=i)\n"
    )
    assert result.success
    from nbstudio.session import get_session

    run_id = get_session().last_run_id
    run = _get(f"{mlflow_server}/api/2.0/mlflow/runs/get?run_id={run_id}")["run"]
    # rule: the run is in the server's store, FINISHED, with its params and metrics
    assert run["info"]["status"] == "FINISHED"
    assert {"key": "depth", "value": "3"} in run["data"]["params"]
    history = _get(
        f"{mlflow_server}/api/2.0/mlflow/metrics/get-history?run_id={run_id}&metric_key=score"
    )
    assert sorted(m["step"] for m in history["metrics"]) == [0, 1, 2]
    artifacts = _get(f"{mlflow_server}/api/2.0/mlflow/artifacts/list?run_id={run_id}")
    # rule: source and output artifacts were uploaded to the server
    assert {"cell.py", "outputs"} <= {f["path"] for f in artifacts["files"]}
    # rule: nothing was written to a local store beside the workspace
    assert not (Path.cwd() / ".nbstudio" / "mlflow.db").exists()
