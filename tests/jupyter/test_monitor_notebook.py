"""%%mlrun's monitor in a real kernel (nbclient), and the saved notebook through nbconvert."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_notebook

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_executed_notebook_keeps_a_static_final_state(workspace: Path) -> None:
    nb = new_notebook(
        cells=[
            new_code_cell("%load_ext nbstudio"),
            new_code_cell(
                "%%mlrun watched -p lr=0.1\n"
                "import mlflow, time\n"
                "for i in range(12):\n"
                "    mlflow.log_metric('loss', 1 / (i + 1), step=i)\n"
                "    time.sleep(0.05)\n"
                "with mlflow.start_run(run_name='trial-a', nested=True):\n"
                "    mlflow.log_metric('acc', 0.8)\n"
                "print('trained')\n"
            ),
            new_code_cell("%%mlrun plain --no-monitor\nmlflow.log_metric('loss', 3.0)\n"),
            new_code_cell("%%mlrun again\nmlflow.log_metric('loss', 2.0)\n"),
            new_code_cell("import nbstudio\nnbstudio.monitor()"),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    NotebookClient(nb, timeout=180, resources={"metadata": {"path": str(workspace)}}).execute()
    monitored = [o for o in nb.cells[1].outputs if o.output_type == "display_data"]
    # rule: the monitor sits above the cell's own output and ends as static HTML + text
    assert nb.cells[1].outputs.index(monitored[0]) < next(
        i for i, o in enumerate(nb.cells[1].outputs) if o.get("text") == "trained\n"
    )
    assert len(monitored) == 1
    final = monitored[0].data
    assert WIDGET_VIEW not in final
    assert 'data-status="FINISHED"' in final["text/html"]
    assert "data:image/png;base64," in final["text/html"]
    assert "trial-a" in final["text/html"]
    # rule: with the monitor shown there is no second, separate text summary
    assert "nbstudio-run-summary" not in json.dumps(nb.cells[1].outputs)
    # rule: --no-monitor gives the plain text summary instead
    assert "nbstudio-run-summary" in nb.cells[2].outputs[-1].data["text/html"]
    # rule: nbstudio.monitor() of an ended run shows it final and static at once
    assert "nbstudio-monitor-final" in nb.cells[4].outputs[-1].data["text/html"]
    # rule: the executed notebook does not carry plotly.js in its widget state
    assert len(json.dumps(nb.metadata.get("widgets", {}))) < 500_000

    path = workspace / "executed.ipynb"
    nbformat.write(nb, path)
    html, _ = HTMLExporter().from_filename(str(path))
    # rule: nbconvert shows the final state (status, chart image, child runs), no widget error
    assert 'class="nbstudio-monitor nbstudio-monitor-final"' in html
    assert 'data-status="FINISHED"' in html
    assert "data:image/png;base64," in html
    assert "Error displaying widget" not in html
