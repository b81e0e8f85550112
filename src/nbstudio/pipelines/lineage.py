"""A step's lineage in MLflow's own terms: dataset inputs, model inputs and model outputs.

- An input that is a data asset (``name@version`` or a `DataAsset`) is a dataset input as reading
  it logs one (nbstudio.data.lineage: name, our digest, its URL as source); a DataFrame input is
  `mlflow.data.from_pandas` (MLflow's digest and schema) named after the upstream output that
  made it (``split.train``, source: that artifact) or after the input for a literal frame. The
  context of each is the input's name, so ``mlflow ui`` shows which input read what.
- A model the body logs (``mlflow.<flavor>.log_model``) is a run output by MLflow itself. A
  returned output with a ``predict`` method is one too: the model the body logged, when it
  logged exactly one, else an external logged model of the run (its bytes stay the step's
  output artifact). A step reading that output logs the model as a model input.
- A reused step's run gets the inputs and outputs of the run it reuses (`copy`).
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Callable
from typing import Any

import mlflow
from mlflow.entities import LoggedModelInput, LoggedModelOutput
from mlflow.exceptions import MlflowException

from nbstudio.pipelines.graph import SINGLE
from nbstudio.pipelines.outputs import OutputRef

#: On a step run: output name -> the id of the logged model that output is (JSON).
TAG_MODELS = "nbstudio.step.models"
_WRITING = threading.Lock()


def label(step: str, output: str) -> str:
    """How lineage names output ``output`` of ``step``: ``split.train``, or ``load`` for one."""
    return step if output == SINGLE else f"{step}.{output}"


def _dataset(name: str, raw: Any, value: Any) -> tuple[Any, dict[str, str] | None] | None:
    """(MLflow dataset, input tags) for one input, or None when it is not data."""
    import sys

    from nbstudio.data.assets import DataAsset

    if isinstance(value, DataAsset):
        return value.mlflow_input()
    if isinstance(value, str) and len(value) < 4096:
        return _asset(value)
    pandas = sys.modules.get("pandas")
    if pandas is None or not isinstance(value, pandas.DataFrame):
        return None
    source = None
    if isinstance(raw, OutputRef):
        from nbstudio.data.lineage import source as source_of

        source = source_of(f"{raw.artifact_uri.rstrip('/')}/{raw.path}")
        name = raw.label or name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # schema hints meant for model signatures
            dataset = mlflow.data.from_pandas(value, source=source, name=name)
            dataset.schema  # noqa: B018 - inferred (and cached) here, under the filter
        return dataset, None
    except Exception:  # a frame MLflow cannot describe (schema inference): no lineage, no failure
        return None


def _asset(text: str) -> tuple[Any, dict[str, str] | None] | None:
    from nbstudio.data.assets import lookup

    found = lookup(text)
    return None if found is None else found.mlflow_input()


def log_inputs(run_id: str, arguments: dict[str, Any], values: dict[str, Any]) -> None:
    """Record the data and models a step reads as inputs of its (active) run ``run_id``."""
    datasets, contexts, tags, models = [], [], [], []
    for name, raw in arguments.items():
        if isinstance(raw, OutputRef) and raw.model_id:
            models.append(LoggedModelInput(raw.model_id))
        found = _dataset(name, raw, values[name])
        if found is not None:
            datasets.append(found[0])
            contexts.append(name)
            tags.append(found[1])
    if datasets:
        _twice(lambda: mlflow.log_inputs(datasets=datasets, contexts=contexts, tags_list=tags))
    if models:  # the fluent API takes models on Databricks only; the client on every store
        _twice(lambda: mlflow.MlflowClient().log_inputs(run_id, models=models))


def _twice(write: Callable[[], None]) -> None:
    """One write, tried again once: two steps reading the same frame at once both insert its
    dataset row, and MLflow's SQL store refuses the second (a unique constraint); the retry
    finds the row and links it. In-process steps take turns, so mostly there is no retry."""
    with _WRITING:
        try:
            write()
        except MlflowException:
            write()


def _is_model(value: Any) -> bool:
    return callable(getattr(value, "predict", None)) and not isinstance(value, type)


def log_model_outputs(
    step: str, values: dict[str, Any], refs: dict[str, OutputRef]
) -> dict[str, OutputRef]:
    """Record the returned models as outputs of the active run; the refs, with their model ids."""
    run = mlflow.active_run()
    wanted = [n for n, v in values.items() if _is_model(v)]
    if run is None or not wanted:
        return refs
    logged = [o.model_id for o in (run.outputs.model_outputs if run.outputs else [])]
    ids: dict[str, str] = {}
    if len(logged) == 1 and len(wanted) == 1:
        ids[wanted[0]] = logged[0]  # the body logged it itself: that is the model
    else:
        for name in wanted:
            model = mlflow.create_external_model(
                name=label(step, name),
                source_run_id=run.info.run_id,
                model_type=type(values[name]).__name__,
                tags={"nbstudio.step.output": refs[name].path},
            )
            ids[name] = model.model_id
        mlflow.log_outputs(models=[LoggedModelOutput(i, step=0) for i in ids.values()])
    mlflow.set_tag(TAG_MODELS, json.dumps(ids, sort_keys=True))
    return {n: _with_model(ref, ids.get(n)) for n, ref in refs.items()}


def _with_model(ref: OutputRef, model_id: str | None) -> OutputRef:
    from dataclasses import replace

    return ref if model_id is None else replace(ref, model_id=model_id)


def with_models(refs: dict[str, OutputRef], tags: dict[str, str]) -> dict[str, OutputRef]:
    """Refs of a reused run, with the model ids its ``TAG_MODELS`` tag names."""
    try:
        ids = json.loads(tags.get(TAG_MODELS) or "{}")
    except ValueError:
        return refs
    return {n: _with_model(ref, ids.get(n)) for n, ref in refs.items()}


def copy(client: Any, origin: str, run_id: str) -> dict[str, str]:
    """Give the reuse record ``run_id`` the dataset and model inputs and outputs of ``origin``;
    returns the tags of ``origin`` (for `with_models`)."""
    try:
        run = client.get_run(origin)
    except MlflowException:
        return {}
    inputs = run.inputs
    datasets = list(inputs.dataset_inputs) if inputs else []
    models = list(inputs.model_inputs or []) if inputs else []
    if datasets or models:
        client.log_inputs(run_id, datasets=datasets or None, models=models or None)
    outputs = run.outputs.model_outputs if run.outputs else []
    if outputs:
        client.log_outputs(run_id, list(outputs))
    return dict(run.data.tags)
