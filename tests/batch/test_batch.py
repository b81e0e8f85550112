"""Batch jobs in the kernel (``local``): real MLflow store, real data assets, registered models."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import cloudpickle
import mlflow
import numpy as np
import pandas as pd
import pytest

import nbstudio
import nbstudio.data as data
from nbstudio.batch.errors import BatchError, EnvironmentMismatchError
from nbstudio.batch.jobs import score

# The test's pyfunc models travel by value (a worker or a loaded model cannot import tests/).
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class Picky(mlflow.pyfunc.PythonModel):
    """Fails on any file holding a row with ``bad > 0``; else predicts ``2 * x``."""

    def predict(self, context, model_input, params=None):
        if (model_input["bad"] > 0).any():
            raise ValueError("bad rows in this file")
        return model_input["x"] * 2


def wine_frames(n_files: int = 3) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    X = frame.drop(columns="target")
    shuffled = X.sample(frac=1.0, random_state=1)
    bounds = np.linspace(0, len(shuffled), n_files + 1).astype(int)
    return frame, [shuffled.iloc[a:b] for a, b in itertools.pairwise(bounds)]


@pytest.fixture(autouse=True)
def opened(workspace: Path) -> Path:
    """The workspace's store open, so plain mlflow calls of the tests write to it."""
    nbstudio.get_session().workspace  # noqa: B018
    return workspace


@pytest.fixture
def wine_model(workspace: Path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame, _ = wine_frames()
    X, y = frame.drop(columns="target"), frame["target"]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    with mlflow.start_run():
        nbstudio.register_model(model, name="wine", aliases=["champion"], input_example=X.head())
    return model


def _write(folder: Path, parts: list[pd.DataFrame], fmt: str) -> None:
    folder.mkdir()
    for i, part in enumerate(parts):
        path = folder / f"part-{i}.{ {'jsonl': 'jsonl'}.get(fmt, fmt) }"
        if fmt == "csv":
            part.to_csv(path, index=False)
        elif fmt == "parquet":
            part.to_parquet(path, index=False)
        else:
            part.to_json(path, orient="records", lines=True)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_output_identical_to_model_predict_row_for_row(wine_model, workspace, fmt):
    _, parts = wine_frames()
    _write(workspace / "new", parts, fmt)
    data.create("wine-new", workspace / "new")
    job = score("wine@champion", "wine-new@1", compute="local", mini_batch_size=1).wait()
    # rule: the job is a run that ends FINISHED, with the model version and the input recorded
    run = mlflow.MlflowClient().get_run(job.run_id)
    assert run.info.status == "FINISHED", job.error
    assert run.data.tags["nbstudio.batch.model"] == "wine/1"
    assert [i.dataset.name for i in run.inputs.dataset_inputs] == ["wine-new"]
    output = job.output
    # rule: the output is a new uri_folder version made by the job's run
    assert output.type == "uri_folder"
    assert output.record.produced_by == job.run_id
    files = sorted(Path(output.path).iterdir())
    assert [f.name for f in files] == [
        "part-0.parquet",
        "part-1.parquet",
        "part-2.parquet",
        "predictions.csv",
    ]
    for i, part in enumerate(parts):
        scored = pd.read_parquet(files[i])
        # rule: one parquet per input file, its rows in order, with source file and row id
        assert (scored["source_file"] == f"part-{i}.{fmt}").all()
        assert scored["row_id"].tolist() == list(range(len(part)))
        # rule: predictions identical to the in-process model's, row for row
        np.testing.assert_array_equal(scored["prediction"], wine_model.predict(part))
    csv = pd.read_csv(files[-1])
    # rule: append_row also writes every row to predictions.csv
    assert len(csv) == sum(len(p) for p in parts)


def test_progress_metrics_only_increase(wine_model, workspace):
    _, parts = wine_frames(6)
    _write(workspace / "new", parts, "parquet")
    data.create("wine-new", workspace / "new")
    job = score("wine@champion", "wine-new@1", max_concurrency=3, output_action="summary_only")
    job.wait()
    client = mlflow.MlflowClient()
    rows = [m.value for m in client.get_metric_history(job.run_id, "rows_scored")]
    done = [m.value for m in client.get_metric_history(job.run_id, "partitions_done")]
    # rule: progress is logged as partitions finish (at most twice a second), never goes down,
    # and its last value is the whole job
    assert done == sorted(set(done))
    assert done[0] >= 1
    assert done[-1] == 6
    assert rows == sorted(rows)
    assert rows[-1] == sum(len(p) for p in parts)
    # rule: summary_only writes no predictions.csv
    assert not (Path(job.output.path) / "predictions.csv").exists()


def _picky(workspace: Path, bad_files: set[int]) -> None:
    frames = []
    for i in range(4):
        frames.append(pd.DataFrame({"x": np.arange(5.0) + i, "bad": int(i in bad_files)}))
    _write(workspace / "picky", frames, "csv")
    data.create("picky-in", workspace / "picky")
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="m", python_model=Picky(), pip_requirements=[])
    mlflow.register_model(info.model_uri, "picky")
    mlflow.MlflowClient().set_registered_model_alias("picky", "live", "1")


def test_error_threshold_fails_the_job_naming_partitions(workspace):
    _picky(workspace, {1, 3})
    job = score("picky@live", "picky-in@1", error_threshold=1, retries=1).wait()
    run = mlflow.MlflowClient().get_run(job.run_id)
    # rule: more failed partitions than the threshold: FAILED, the partitions named
    assert run.info.status == "FAILED"
    assert run.data.tags["nbstudio.batch.failed_partitions"] == "1, 3"
    text = mlflow.artifacts.load_text(f"runs:/{job.run_id}/error.txt")
    assert "partition 1 (part-1.csv)" in text
    assert "partition 3 (part-3.csv)" in text
    assert "bad rows in this file" in text
    # rule: a failed job makes no output version, and says why in one line
    with pytest.raises(BatchError, match="FAILED"):
        job.output  # noqa: B018 - the property raises
    assert data.list_assets("picky-in-scored").empty


def test_failures_within_the_threshold_finish_with_error_txt(workspace):
    _picky(workspace, {2})
    job = score("picky@live", "picky-in@1", error_threshold=-1, retries=0).wait()
    assert job.status == "FINISHED"
    text = mlflow.artifacts.load_text(f"runs:/{job.run_id}/error.txt")
    # rule: tolerated failures are still listed, and their rows are missing from the output
    assert "partition 2 (part-2.csv)" in text
    scored = pd.read_csv(Path(job.output.path) / "predictions.csv")
    assert sorted(scored["source_file"].unique()) == ["part-0.csv", "part-1.csv", "part-3.csv"]
    inputs = {f"part-{i}.csv": pd.read_csv(workspace / "picky" / f"part-{i}.csv") for i in range(4)}
    expected = [
        inputs[f]["x"].iloc[r] * 2 for f, r in zip(scored.source_file, scored.row_id, strict=True)
    ]
    # rule: source_file and row_id join each prediction back to its input row
    assert scored["prediction"].tolist() == expected


def test_mltable_input_and_model_without_signature(workspace):
    from sklearn.linear_model import LinearRegression

    X = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0) ** 2, "drop_me": 1})
    model = LinearRegression().fit(X[["a", "b"]], X["a"] * 3)
    with mlflow.start_run():
        nbstudio.register_model(model, name="nosig", aliases=["x"])  # no input example
    folder = workspace / "table"
    folder.mkdir()
    X.iloc[:6].to_csv(folder / "one.csv", index=False)
    X.iloc[6:].to_csv(folder / "two.csv", index=False)
    (folder / "MLTable").write_text(
        "paths:\n  - pattern: ./*.csv\ntransformations:\n  - read_delimited: {}\n"
        "  - drop_columns: [drop_me]\n"
    )
    data.create("tbl", folder)
    job = score("nosig@x", "tbl@1").wait()
    assert job.status == "FINISHED", job.error
    out = pd.read_csv(Path(job.output.path) / "predictions.csv")
    # rule: an MLTable's files are scored with its column steps applied (drop_me would fail)
    np.testing.assert_allclose(out["prediction"], model.predict(X[["a", "b"]]))


def test_package_mismatch_is_one_line_naming_the_package(workspace):
    from sklearn.linear_model import LinearRegression

    X = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    (workspace / "in.csv").write_text(X.to_csv(index=False))
    data.create("few", workspace / "in.csv")
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            LinearRegression().fit(X, [1, 2, 3]),
            name="m",
            pip_requirements=["scikit-learn==0.0.1", "pandas"],
        )
    mlflow.register_model(info.model_uri, "old")
    before = len(mlflow.search_runs(search_all_experiments=True))
    with pytest.raises(EnvironmentMismatchError) as err:
        score("old/1", "few@1")
    # rule: one line naming the package and both versions; no job run recorded
    message = str(err.value)
    assert "scikit-learn" in message
    assert "0.0.1" in message
    assert "\n" not in message
    assert len(mlflow.search_runs(search_all_experiments=True)) == before


def test_batch_endpoint_magics(ip, wine_model, workspace, capsys):
    _, parts = wine_frames(2)
    _write(workspace / "new", parts, "csv")
    data.create("wine-new", workspace / "new")
    ip.run_line_magic("batch", "create wine-batch --model wine@champion --retries 1")
    listed = ip.run_line_magic("batch", "list")
    # rule: an endpoint is a record naming the model and its jobs' defaults
    assert listed.to_dict("records")[0]["model"] == "wine@champion"
    assert listed.to_dict("records")[0]["retries"] == 1
    job = ip.run_line_magic("batch", "invoke wine-batch --input wine-new@latest --output scored")
    assert job.status == "FINISHED"
    assert job.output.name == "scored"
    jobs = ip.run_line_magic("batch", "jobs wine-batch")
    # rule: the endpoint's jobs are its runs
    assert jobs["run_id"].tolist() == [job.run_id]
    assert jobs["rows_scored"].tolist() == [sum(len(p) for p in parts)]
    result = ip.run_cell("%batch create wine-batch --model wine@champion")
    # rule: bad use is one line (UsageError), never a traceback
    assert "exists already" in str(result.error_in_exec)
    result = ip.run_cell("%batch invoke nope --input wine-new@1")
    assert "No batch endpoint named 'nope'" in str(result.error_in_exec)
    result = ip.run_cell("%batch create b2 --model wine@champion --mini-batch-size 0")
    assert "--mini-batch-size 0" in str(result.error_in_exec)
    for name in ("../endpoints/x", "..", "a/b"):
        result = ip.run_cell(f"%batch delete {name}")
        # rule: a name is never a path: refused before any file is touched
        assert "not a valid batch endpoint name" in str(result.error_in_exec)
    ip.run_line_magic("batch", "delete wine-batch")
    assert ip.run_line_magic("batch", "list").empty
    ip.run_line_magic("batch", "-h")
    assert "%batch create NAME" in capsys.readouterr().out


def test_console_command(wine_model, workspace, capsys):
    from nbstudio.cli import main

    _, parts = wine_frames(2)
    _write(workspace / "new", parts, "parquet")
    data.create("wine-new", workspace / "new")
    # rule: the terminal has the magic's verbs, through the same dispatcher
    assert main(["batch", "create", "nightly", "--model", "wine@champion"]) == 0
    assert main(["batch", "invoke", "nightly", "--input", "wine-new@1"]) == 0
    assert "FINISHED" in capsys.readouterr().out
    assert main(["batch", "jobs", "nightly"]) == 0
    assert "wine-new@1" in capsys.readouterr().out
    # rule: a user error is one line on stderr and exit code 1
    assert main(["batch", "show", "nope"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "No batch endpoint named 'nope'" in err
