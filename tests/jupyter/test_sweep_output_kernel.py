"""A sweep cell in a real kernel shows one live view that becomes one final summary (nbclient)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from nbstudio.session import reset_session

SWEEP_CELL = (
    '%%mlrun tune -p C="loguniform(1e-3, 1e2)" -p k="choice(1, 2, 3)" --sweep maximize:score '
    "--sampling random --seed 3 --max-trials 5 --policy median_stopping\n"
    "import mlflow\n"
    "for step in range(3):\n"
    "    mlflow.log_metric('score', C * k / (step + 1), step=step)\n"
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "nbstudio.toml").write_text("")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    yield tmp_path
    reset_session()


def test_a_sweep_cell_has_one_output_whose_final_state_is_the_summary(folder: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(s) for s in ("%load_ext nbstudio", SWEEP_CELL)]
    NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    outputs = nb.cells[1].outputs
    # rule: one output (the live monitor, saved as its final state), no second text summary
    assert [o["output_type"] for o in outputs] == ["display_data"], outputs
    final = outputs[0]["data"]
    html, text = final["text/html"], final["text/plain"]
    assert "FINISHED" in html
    assert "5/5" in html
    # rule: the final state says how the sweep was set up, as the summary did
    assert "maximize score, random sampling, policy median_stopping" in html
    assert "maximize score, random sampling" in text
    # rule: params with 4 significant digits, wherever they are shown
    shown = re.findall(r"C=([0-9.e+-]+)", html + text)
    assert shown, html
    for value in shown:
        assert len(value.replace(".", "").lstrip("0").split("e")[0]) <= 4, value
