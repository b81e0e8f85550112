"""The magics against a real `mlflow server` on 127.0.0.1, checked over MLflow's REST API."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from nbstudio.session import reset_session


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
