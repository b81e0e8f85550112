"""Every notebook in notebooks/ runs top to bottom in a fresh workspace as a student would."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from nbstudio.jsonfile import read_json
from nbstudio.resources import supervisor

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_notebook_runs(notebook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = tmp_path / "notebooks"
    workspace.mkdir()
    (workspace / "nbstudio.toml").write_text("")
    shutil.copy(notebook, workspace / notebook.name)
    for name in ("MLFLOW_TRACKING_URI", "NBSTUDIO_IMPLICIT_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JPY_SESSION_NAME", notebook.name)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    nb = nbformat.read(workspace / notebook.name, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(workspace)}},
    )
    try:
        client.execute(cwd=str(workspace), env=dict(os.environ))
    finally:
        _stop_resources(workspace)
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    # rule: the notebook runs without an error output, against its own fresh store
    assert errors == []
    assert (workspace / ".nbstudio" / "mlflow.db").exists()


def _stop_resources(workspace: Path) -> None:
    """A notebook that failed half-way leaves no cluster or endpoint process running."""
    for status in (workspace / ".nbstudio").glob("*/*/status.json"):
        record = read_json(status) or {}
        if isinstance(record.get("pid"), int):
            supervisor.stop(record["pid"], record.get("pid_started"), timeout=10)
