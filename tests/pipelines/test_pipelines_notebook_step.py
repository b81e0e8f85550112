"""A notebook as a pipeline step: run with papermill in a child run, its outputs passed on."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
from mlflow.utils.file_utils import local_file_uri_to_path

import nbstudio

PARAMS = "raw = None\nfrac = 1.0\noutput_dir = '.'"
BODY = (
    "from nbstudio.pipelines.notebook_step import load, save\n"
    "df = load(raw)\n"
    "clean = df[df['a'] % 2 == 0].head(int(len(df) * frac))\n"
    "save(output_dir, 'clean', clean)\n"
)


def _write_notebook(path: Path, body: str) -> None:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(PARAMS)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


@nbstudio.component
def frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"a": range(n)})


@nbstudio.component
def rows(df: pd.DataFrame) -> int:
    return len(df)


@nbstudio.pipeline
def with_notebook(n=10, frac=1.0):
    clean = nbstudio.notebook_step(
        "prep.ipynb", inputs={"raw": frame(n), "frac": frac}, outputs=["clean"]
    )
    return rows(clean)


def test_notebook_step_runs_as_a_child_run_and_is_cached(workspace: Path):
    _write_notebook(workspace / "prep.ipynb", BODY)
    result = with_notebook.run()
    assert result.status == "FINISHED", result.error
    assert result.outputs == 5
    state = result.steps["prep"]
    run = nbstudio.get_session().client().get_run(state.run_id)
    assert run.data.tags["nbstudio.step"] == "prep"
    assert run.data.tags["mlflow.parentRunId"] == result.run_id
    folder = Path(local_file_uri_to_path(run.info.artifact_uri))
    assert (folder / "notebook" / "prep.ipynb").exists()
    assert (folder / "outputs" / "clean.parquet").exists()

    assert {s.state for s in with_notebook.run().steps.values()} == {"reused"}
    # an edit of the notebook's code re-runs it and what comes after it
    _write_notebook(workspace / "prep.ipynb", BODY.replace("% 2 == 0", "% 2 == 1"))
    edited = with_notebook.run(frac=0.4)
    assert edited.steps["frame"].state == "reused"
    assert edited.steps["prep"].state == "finished"
    assert edited.outputs == 4


def test_outside_a_pipeline_the_notebook_runs_at_once(workspace: Path):
    _write_notebook(workspace / "prep.ipynb", BODY)
    clean = nbstudio.notebook_step(
        "prep.ipynb", {"raw": pd.DataFrame({"a": range(6)}), "frac": 1.0}, ["clean"]
    )
    assert list(clean["a"]) == [0, 2, 4]
