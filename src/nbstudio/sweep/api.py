"""Sweeps as JSON-ready dicts, for the REST API and the side panel (shape: README "REST API").

The panel refreshes the list every few seconds. A sweep whose parent run ended never changes
again, so its summary is kept (per tracking URI) and its trials are not read again: a refresh
reads the trials of the running sweeps only, whatever the number of sweeps in the store.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from mlflow.entities import ViewType

from nbstudio.session import Session, get_session
from nbstudio.sweep.errors import SweepError
from nbstudio.sweep.history import read_trials
from nbstudio.sweep.results import best_of, count_states
from nbstudio.sweep.settings import TAG_SWEEP, SweepSettings
from nbstudio.tracking.at_once import at_once

MAX_SWEEPS = 100
_ENDED_KEPT = 10_000

# (tracking URI, parent run id, its status and end time) -> summary: a resumed sweep is read anew.
_ended: dict[tuple[str, str, str, int | None], dict[str, Any]] = {}
_ended_lock = threading.Lock()


def list_sweeps(
    experiment_id: str | None = None, max_results: int = MAX_SWEEPS, session: Session | None = None
) -> list[dict[str, Any]]:
    """Every sweep (parent run tagged ``nbstudio.sweep=true``), newest first, with progress.

    Each dict: run_id, run_name, experiment_id, status, goal, primary_metric, counts (queued,
    running, finished, killed, failed), max_total_trials, best ({value, run_id, params} or
    None), start_time (ms).
    """
    session = session or get_session()
    if not session.store_exists():
        return []
    session.workspace  # noqa: B018 - opens the store
    client = session.client()
    if experiment_id is not None:
        experiment_ids = [experiment_id]
    else:
        experiment_ids = [
            e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
        ]
    if not experiment_ids:
        return []
    parents = client.search_runs(
        experiment_ids,
        filter_string=f"tags.`{TAG_SWEEP}` = 'true'",
        order_by=["attributes.start_time DESC"],
        max_results=max_results,
    )
    uri = session.workspace.tracking_uri

    def key_of(parent: Any) -> tuple[str, str, str, int | None]:
        return (uri, parent.info.run_id, parent.info.status, parent.info.end_time)

    with _ended_lock:
        known = {parent.info.run_id: _ended.get(key_of(parent)) for parent in parents}
    to_read = [parent for parent in parents if known[parent.info.run_id] is None]
    # Each sweep still to read costs a search of its trials: asked at once (a tracking server).
    read = dict(
        zip(
            [parent.info.run_id for parent in to_read],
            at_once([functools.partial(_summary_or_none, client, p) for p in to_read]),
            strict=True,
        )
    )
    sweeps = []
    for parent in parents:
        summary = known[parent.info.run_id] or read.get(parent.info.run_id)
        if summary is None:
            continue  # damaged tags: not shown rather than breaking the whole list
        sweeps.append(dict(summary))
        if known[parent.info.run_id] is None and parent.info.status != "RUNNING":
            with _ended_lock:
                if len(_ended) >= _ENDED_KEPT:
                    _ended.clear()
                _ended[key_of(parent)] = dict(summary)
    return sweeps


def _summary_or_none(client: Any, parent: Any) -> dict[str, Any] | None:
    try:
        return sweep_dict(client, parent)
    except SweepError:
        return None


def sweep_dict(client: Any, parent: Any) -> dict[str, Any]:
    """One sweep as the panel shows it."""
    settings = SweepSettings.from_tags(parent.data.tags)
    records = read_trials(client, parent, settings.metric)
    ended = parent.info.status != "RUNNING"
    best = best_of(records, settings)
    return {
        "run_id": parent.info.run_id,
        "run_name": parent.info.run_name,
        "experiment_id": parent.info.experiment_id,
        "status": parent.info.status,
        "goal": settings.goal,
        "primary_metric": settings.metric,
        "counts": count_states(records, settings, ended),
        "max_total_trials": settings.max_total_trials,
        "best": (
            None
            if best is None
            else {"value": best.value, "run_id": best.run_id, "params": _jsonable(best.params)}
        ),
        "start_time": parent.info.start_time,
    }


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool) or v is None else repr(v)
        for k, v in params.items()
    }
