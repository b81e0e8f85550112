"""How a pipeline is written to MLflow: plain runs and tags, readable by any MLflow client.

- The parent run: tag ``nbstudio.pipeline=<name>``, the pipeline's inputs as params, artifacts
  ``graph.json`` and ``pipeline.py``; at its end ``nbstudio.pipeline.failed_step`` when one failed.
- One child run per step attempt (a `TrackedRun`, like a sweep's trials): tags ``nbstudio.step``,
  ``nbstudio.step.cache_key``, ``nbstudio.step.upstream``, ``nbstudio.step.attempt``; its
  outputs under ``outputs/`` and its key's recipe as ``cache_key.json``.
- A reused step: a child run tagged ``nbstudio.reused_from=<run id>``, created FINISHED at once.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from mlflow.entities import Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from nbstudio.pipelines import outputs
from nbstudio.pipelines.errors import PipelineError, PipelineNotFound
from nbstudio.session import Session
from nbstudio.tracking import context

TAG_PIPELINE = "nbstudio.pipeline"
TAG_STEPS = "nbstudio.pipeline.steps"
TAG_FAILED_STEP = "nbstudio.pipeline.failed_step"
TAG_RESUMED_FROM = "nbstudio.pipeline.resumed_from"
TAG_STEP = "nbstudio.step"
TAG_KEY = "nbstudio.step.cache_key"
TAG_UPSTREAM = "nbstudio.step.upstream"
TAG_ATTEMPT = "nbstudio.step.attempt"
TAG_RAN_BECAUSE = "nbstudio.step.ran_because"
TAG_REUSED_FROM = context.TAG_REUSED_FROM
RECIPE_FILE = "cache_key.json"
GRAPH_FILE = "graph.json"


def param_text(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 500 else text[:497] + "..."


def create_parent(
    session: Session,
    *,
    pipeline: str,
    run_name: str | None,
    experiment_id: str,
    params: dict[str, Any],
    graph: dict[str, Any],
    source: str | None,
    tags: dict[str, str],
) -> str:
    """The parent run of one pipeline run (RUNNING); returns its id."""
    client = session.client()
    all_tags = {
        **context.owner_tags(),
        **context.source_tags(session.workspace.root),
        **tags,
        TAG_PIPELINE: pipeline,
        TAG_STEPS: str(len(graph["steps"])),
    }
    try:
        run = client.create_run(experiment_id, run_name=run_name or pipeline, tags=all_tags)
        run_id = run.info.run_id
        client.log_batch(run_id, params=[Param(k, param_text(v)) for k, v in params.items()])
        client.log_dict(run_id, graph, GRAPH_FILE)
        if source is not None:
            client.log_text(run_id, source, "pipeline.py")
    except MlflowException as exc:
        raise PipelineError(f"Cannot start the pipeline's run: {exc.message}") from None
    return run_id


def end_parent(session: Session, run_id: str, status: str, failed_step: str | None) -> None:
    client = session.client()
    if failed_step:
        client.set_tag(run_id, TAG_FAILED_STEP, failed_step)
    client.set_terminated(run_id, status)


def step_tags(step: str, key: str | None, upstream: list[str], attempt: int) -> dict[str, str]:
    tags = {TAG_STEP: step, TAG_UPSTREAM: ",".join(upstream), TAG_ATTEMPT: str(attempt)}
    if key is not None:
        tags[TAG_KEY] = key
    return tags


@dataclass
class CacheHit:
    run_id: str  # the run that executed the step and holds its outputs
    refs: dict[str, outputs.OutputRef]


def find_cached(
    session: Session, experiment_id: str, key: str, names: tuple[str, ...]
) -> CacheHit | None:
    """A FINISHED run of a step with this key whose output artifacts still exist (ZenML #3975)."""
    tried: set[str] = set()
    for run_id, artifact_uri, reused_from in _candidates(session, experiment_id, key):
        origin = reused_from or run_id
        if origin in tried:
            continue
        tried.add(origin)
        if reused_from is None:  # the run that executed the step: FINISHED, as searched
            paths = outputs.existing(artifact_uri, names)
            if paths is not None:
                return CacheHit(run_id, _refs(run_id, artifact_uri, paths))
            continue
        hit = _usable(session, origin, names)
        if hit is not None:
            return hit
    return None


def _candidates(
    session: Session, experiment_id: str, key: str
) -> list[tuple[str, str, str | None]]:
    """(run id, artifact uri, reused_from) of the newest FINISHED step runs with ``key``.

    On SQLite the tracking module's SQL reader asks the tag table first (MLflow's own search
    scans a subquery: ~70 ms in a store of a few hundred runs, growing with the store).
    """
    from nbstudio.tracking.readers import run_reader

    reader = getattr(run_reader(session), "sql", None)  # the SQL reader, while it is in use
    if reader is not None:
        ids = reader.run_ids_tagged(experiment_id, TAG_KEY, key, "FINISHED", 20)
        records = reader.load_runs(ids, tag_keys=[TAG_REUSED_FROM])
        # A reuse record points at the run that executed the step: read those in the same way.
        origins = [r.tags[TAG_REUSED_FROM] for r in records if TAG_REUSED_FROM in r.tags]
        executed = {r.run_id: r for r in records if TAG_REUSED_FROM not in r.tags}
        for origin in reader.load_runs(list(dict.fromkeys(origins)), tag_keys=[]):
            if origin.status == "FINISHED":
                executed.setdefault(origin.run_id, origin)
        return [(r.run_id, r.artifact_uri or "", None) for r in executed.values()]
    flt = f"tags.`{TAG_KEY}` = '{key}' and attributes.status = 'FINISHED'"
    order = ["attributes.start_time DESC"]
    found = session.client().search_runs([experiment_id], flt, order_by=order, max_results=20)
    return [(r.info.run_id, r.info.artifact_uri, r.data.tags.get(TAG_REUSED_FROM)) for r in found]


def _refs(run_id: str, artifact_uri: str, paths: dict[str, str]) -> dict[str, outputs.OutputRef]:
    return {n: outputs.OutputRef(run_id, artifact_uri, p, digest="") for n, p in paths.items()}


def _usable(session: Session, run_id: str, names: tuple[str, ...]) -> CacheHit | None:
    client = session.client()
    if run_id == "":
        return None
    try:
        run = client.get_run(run_id)
    except MlflowException:
        return None
    if run.info.status != "FINISHED":
        return None
    paths = outputs.existing(run.info.artifact_uri, names)
    if paths is None:
        return None
    refs = {
        n: outputs.OutputRef(run_id, run.info.artifact_uri, p, digest="") for n, p in paths.items()
    }
    return CacheHit(run_id, refs)


def finished_steps(session: Session, parent_run_id: str) -> dict[str, tuple[str, str | None]]:
    """Step name -> (executing run id, its key) of the FINISHED steps of a pipeline run."""
    done: dict[str, tuple[str, str | None]] = {}
    for child in step_runs(session, parent_run_id):
        tags = child.data.tags
        if child.info.status == "FINISHED" and TAG_STEP in tags:
            origin = tags.get(TAG_REUSED_FROM, child.info.run_id)
            done[tags[TAG_STEP]] = (origin, tags.get(TAG_KEY))
    return done


def usable_run(session: Session, run_id: str, names: tuple[str, ...]) -> CacheHit | None:
    return _usable(session, run_id, names)


def record_reuse(
    session: Session,
    *,
    experiment_id: str,
    parent_run_id: str,
    step: str,
    tags: dict[str, str],
    params: dict[str, Any],
    reused_from: str,
) -> str:
    """The child run of a reused step: FINISHED at once, no execution, no artifact copied."""
    client = session.client()
    now = int(time.time() * 1000)
    run = client.create_run(
        experiment_id,
        start_time=now,
        run_name=step,
        tags={
            **tags,
            MLFLOW_PARENT_RUN_ID: parent_run_id,
            TAG_REUSED_FROM: reused_from,
        },
    )
    run_id = run.info.run_id
    if params:
        client.log_batch(run_id, params=[Param(k, param_text(v)) for k, v in params.items()])
    client.set_terminated(run_id, "FINISHED", end_time=now)
    return run_id


def step_runs(session: Session, parent_run_id: str) -> list[Any]:
    """Every child run of a pipeline run, oldest first."""
    client = session.client()
    try:
        parent = client.get_run(parent_run_id)
    except MlflowException:
        raise PipelineNotFound(f"no run {parent_run_id[:64]!r} in this workspace") from None
    if TAG_PIPELINE not in parent.data.tags:
        raise PipelineNotFound(f"run {parent.info.run_name!r} ({parent_run_id}) is not a pipeline")
    runs = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent_run_id}'",
        order_by=["attributes.start_time ASC"],
        max_results=5000,
    )
    return list(runs)


def recipe_of(session: Session, run: Any) -> dict[str, Any] | None:
    """The ``cache_key.json`` of a step run (a reused step's: that of the run it reused)."""
    run_id = run.data.tags.get(TAG_REUSED_FROM)
    try:
        if run_id is not None:
            run = session.client().get_run(run_id)
        return read_json_artifact(run.info.artifact_uri, RECIPE_FILE)
    except (MlflowException, OSError, ValueError):
        return None


def read_json_artifact(artifact_uri: str, path: str) -> Any:
    def reader(local: Any) -> Any:
        with open(local, encoding="utf-8") as fh:
            return json.load(fh)

    return outputs.with_artifact(artifact_uri, path, reader)


def tag_batch(session: Session, run_id: str, tags: dict[str, str]) -> None:
    session.client().log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
