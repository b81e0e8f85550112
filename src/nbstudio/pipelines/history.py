"""Pipeline runs read back from MLflow: the list (``%pipeline runs``) and one run's steps."""

from __future__ import annotations

from typing import Any

from mlflow.exceptions import MlflowException

from nbstudio.pipelines import recording
from nbstudio.pipelines.errors import PipelineError
from nbstudio.session import Session, get_session

_STATE_OF_STATUS = {"FINISHED": "finished", "FAILED": "failed", "KILLED": "failed"}


def step_states(session: Session, parent_run_id: str) -> dict[str, dict[str, Any]]:
    """Step name -> its latest attempt: state, run id, attempts, reused_from, duration."""
    states: dict[str, dict[str, Any]] = {}
    for run in recording.step_runs(session, parent_run_id):
        tags = run.data.tags
        name = tags.get(recording.TAG_STEP)
        if name is None:
            continue
        reused = tags.get(recording.TAG_REUSED_FROM)
        state = _STATE_OF_STATUS.get(run.info.status, "running")
        end = run.info.end_time or None
        states[name] = {
            "step": name,
            "state": "reused" if reused and state == "finished" else state,
            "run_id": run.info.run_id,
            "attempt": int(tags.get(recording.TAG_ATTEMPT, "1")),
            "reused_from": reused,
            "duration": (end - run.info.start_time) / 1000 if end else None,
        }
    return states


def graph_of(session: Session, parent_run_id: str) -> dict[str, Any]:
    try:
        uri = session.client().get_run(parent_run_id).info.artifact_uri
        return recording.read_json_artifact(uri, recording.GRAPH_FILE)
    except (MlflowException, OSError, ValueError):
        raise PipelineError(f"run {parent_run_id} has no readable graph.json") from None


def run_detail(parent_run_id: str, session: Session | None = None) -> dict[str, Any]:
    """One pipeline run: its parent run's state, its graph, and every step's state."""
    session = session or get_session()
    states = step_states(session, parent_run_id)
    parent = session.client().get_run(parent_run_id)
    graph = graph_of(session, parent_run_id)
    steps = []
    for step in graph["steps"]:
        found = states.get(step["name"])
        pending = "pending" if parent.info.status == "RUNNING" else "not-started"
        steps.append({**step, **(found or {"state": pending, "run_id": None})})
    return {**summary(parent, states), "graph": {"steps": steps, "edges": graph["edges"]}}


def summary(parent: Any, states: dict[str, dict[str, Any]]) -> dict[str, Any]:
    end = parent.info.end_time or None
    total = int(parent.data.tags.get(recording.TAG_STEPS, "0") or 0)
    done = sum(1 for s in states.values() if s["state"] in ("finished", "reused"))
    return {
        "run_id": parent.info.run_id,
        "run_name": parent.info.run_name,
        "pipeline": parent.data.tags.get(recording.TAG_PIPELINE, ""),
        "status": parent.info.status,
        "start_time": parent.info.start_time,
        "duration": (end - parent.info.start_time) / 1000 if end else None,
        "steps_done": done,
        "steps_total": total,
        "reused": sum(1 for s in states.values() if s["state"] == "reused"),
        "failed_step": parent.data.tags.get(recording.TAG_FAILED_STEP),
        "experiment_id": parent.info.experiment_id,
    }


def list_runs(
    name: str | None = None, max_results: int = 50, session: Session | None = None
) -> list[dict[str, Any]]:
    """The newest pipeline runs of the workspace (of pipeline ``name`` if given)."""
    session = session or get_session()
    client = session.client()
    experiments = [e.experiment_id for e in client.search_experiments()]
    if not experiments:
        return []
    flt = (
        f"tags.`{recording.TAG_PIPELINE}` = '{name}'"
        if name
        else (f"tags.`{recording.TAG_PIPELINE}` != ''")
    )
    parents = client.search_runs(
        experiments,
        filter_string=flt,
        order_by=["attributes.start_time DESC"],
        max_results=max_results,
    )
    return [summary(p, step_states(session, p.info.run_id)) for p in parents]


def runs_table(name: str | None = None, session: Session | None = None) -> Any:
    """`list_runs` as a DataFrame (``%pipeline runs``)."""
    import pandas as pd

    columns = ["run_id", "pipeline", "status", "steps_done", "steps_total", "reused"]
    rows = list_runs(name, session=session)
    return pd.DataFrame(
        [{c: r[c] for c in [*columns, "duration", "failed_step"]} for r in rows],
        columns=[*columns, "duration", "failed_step"],
    )
