"""Lineage of pipeline steps in MLflow's own records: dataset inputs, model inputs and outputs.

Read back with plain `MlflowClient` (what ``mlflow ui`` shows on a run's page), after a run
and after a re-run where every step is reused.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pandas as pd
from sklearn.linear_model import LinearRegression

import nbstudio
import nbstudio.data as data
from nbstudio.pipelines import Outputs, lineage, recording


@nbstudio.component
def read(ref: str) -> pd.DataFrame:
    return data.get(ref).to_pandas()


@nbstudio.component
def split(df: pd.DataFrame) -> Outputs["train", "test"]:  # noqa: F821, UP037 - names, not types
    return df.iloc[:3], df.iloc[3:]


@nbstudio.component
def fit(train: pd.DataFrame) -> LinearRegression:
    return LinearRegression().fit(train[["x"]], train["y"])


@nbstudio.component
def fit_and_log(train: pd.DataFrame) -> LinearRegression:
    model = LinearRegression().fit(train[["x"]], train["y"])
    mlflow.sklearn.log_model(model, name="regressor")
    return model


@nbstudio.component
def score(model: LinearRegression, test: pd.DataFrame) -> float:
    return float(model.score(test[["x"]], test["y"]))


@nbstudio.pipeline
def flow(ref="grapes@1"):
    train, test = split(read(ref))
    return score(fit(train), test)


@nbstudio.pipeline
def logged(ref="grapes@1"):
    train, test = split(read(ref))
    return score(fit_and_log(train), test)


def _asset(workspace: Path) -> data.DataAsset:
    frame = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "y": [2.1, 3.9, 6.2, 8.0, 9.8, 12.1]}
    )
    frame.to_csv(workspace / "grapes.csv", index=False)
    data.create("grapes", "grapes.csv", copy=True)
    return data.get("grapes@1")


def _steps(run_id: str) -> dict[str, mlflow.entities.Run]:
    client = mlflow.MlflowClient()
    return {
        run.data.tags[recording.TAG_STEP]: client.get_run(run.info.run_id)
        for run in recording.step_runs(nbstudio.get_session(), run_id)
    }


def _datasets(run: mlflow.entities.Run) -> dict[str, tuple[str, str, str]]:
    """context -> (dataset name, digest, source) of a run's dataset inputs."""
    found = {}
    for item in run.inputs.dataset_inputs:
        tags = {t.key: t.value for t in item.tags}
        found[tags["mlflow.data.context"]] = (
            item.dataset.name,
            item.dataset.digest,
            item.dataset.source,
        )
    return found


def _models_out(run: mlflow.entities.Run) -> list[str]:
    return [o.model_id for o in (run.outputs.model_outputs if run.outputs else [])]


def _models_in(run: mlflow.entities.Run) -> list[str]:
    return [i.model_id for i in (run.inputs.model_inputs or [])]


def test_steps_record_data_and_models_as_mlflow_inputs_and_outputs(workspace: Path):
    asset = _asset(workspace)
    first = flow.run(max_concurrent=2)
    assert first.status == "FINISHED", first.error
    steps = _steps(first.run_id)

    # the data asset input: the asset's name, its digest, its file, the input's name as context
    name, digest, source = _datasets(steps["read"])["ref"]
    assert (name, digest) == ("grapes", asset.record.mlflow_digest)
    assert "grapes" in source
    tags = {t.key: t.value for t in steps["read"].inputs.dataset_inputs[0].tags}
    assert tags[nbstudio.data.lineage.TAG_INPUT_VERSION] == "1"
    # the data panel's "used by" finds the step that read it
    used_by = nbstudio.data.lineage.used_by(nbstudio.get_session(), asset.record)
    assert steps["read"].info.run_id in {u["run_id"] for u in used_by}

    # DataFrames passed between steps: named after the output, read from its artifact
    read_out = steps["read"].info.artifact_uri + "/outputs/output.parquet"
    assert _datasets(steps["split"]) == {
        "df": ("read", _digest(steps["split"], "df"), _src(read_out))
    }
    train_name, _, train_source = _datasets(steps["fit"])["train"]
    assert train_name == "split.train"
    assert "outputs/train.parquet" in train_source
    assert _datasets(steps["score"])["test"][0] == "split.test"

    # a returned model: an output of its step run, an input of the step that reads it
    (model_id,) = _models_out(steps["fit"])
    model = mlflow.MlflowClient().get_logged_model(model_id)
    assert model.name == "fit"
    assert model.source_run_id == steps["fit"].info.run_id
    assert _models_in(steps["score"]) == [model_id]
    assert _models_out(steps["score"]) == []  # a float is no model

    again = flow.run(max_concurrent=2)
    assert {s.state for s in again.steps.values()} == {"reused"}
    reused = _steps(again.run_id)
    for step, origin in steps.items():
        # rule: a reused step shows the same lineage as the run it reuses
        assert reused[step].data.tags[recording.TAG_REUSED_FROM] == origin.info.run_id
        assert _datasets(reused[step]) == _datasets(origin), step
        assert _models_out(reused[step]) == _models_out(origin), step
        assert _models_in(reused[step]) == _models_in(origin), step


def _digest(run: mlflow.entities.Run, context: str) -> str:
    return _datasets(run)[context][1]


def _src(uri: str) -> str:
    return nbstudio.data.lineage.source(uri).to_json()


def test_a_model_the_step_logs_itself_is_the_output_downstream_reads(workspace: Path):
    _asset(workspace)
    result = logged.run()
    assert result.status == "FINISHED", result.error
    steps = _steps(result.run_id)
    (model_id,) = _models_out(steps["fit_and_log"])
    model = mlflow.MlflowClient().get_logged_model(model_id)
    assert model.name == "regressor"  # MLflow's own logged model, no second one made
    assert _models_in(steps["score"]) == [model_id]
    tags = steps["fit_and_log"].data.tags
    assert tags[lineage.TAG_MODELS] == f'{{"output": "{model_id}"}}'

    # a downstream step re-run against the reused model still names it as its input
    reran = logged.run(rerun=["score"])
    again = _steps(reran.run_id)
    assert reran.steps["fit_and_log"].state == "reused"
    assert reran.steps["score"].state == "finished"
    assert _models_in(again["score"]) == [model_id]
