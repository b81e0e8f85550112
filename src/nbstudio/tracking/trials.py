"""The trials of a sweep or of an AutoML job, in one shape, for the panel's trials page.

Both record a parent run with one child run per trial; they differ in their tags (a sweep's
settings are ``nbstudio.sweep.*``, a job's ``nbstudio.automl.*``) and in what a trial carries (a
sweep's trials can be stopped early by a policy; an AutoML trial has an estimator). The panel
draws both with one table, so both are answered here as ``{kind, goal, primary_metric, trials}``
with trials as ``{number, run_id, run_name, status, state, terminated_by, estimator, params,
metrics, value, primary_metric, start_time, end_time}``, ordered by number.
"""

from __future__ import annotations

import math
from typing import Any

from nbstudio.errors import NotFoundError
from nbstudio.session import Session, get_session

#: Most trials answered (a sweep's max_total_trials or a long AutoML job rarely reach it).
MAX_TRIALS = 5000


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def run_trials(run_id: str, session: Session | None = None) -> dict[str, Any]:
    """The trials page of the sweep or AutoML job ``run_id`` (404 for any other run)."""
    from nbstudio.tracking.run_actions import _client, _get

    client = _client(session or get_session())
    parent = _get(client, run_id)
    tags = parent.data.tags
    if tags.get("nbstudio.sweep") == "true":
        page = _sweep_trials(client, parent)
    elif tags.get("nbstudio.kind") == "automl":
        page = _automl_trials(client, parent)
    else:
        raise NotFoundError(f"Run {run_id!r} is neither a sweep nor an AutoML job.")
    page["trials"] = page["trials"][:MAX_TRIALS]
    return {
        "run_id": parent.info.run_id,
        "run_name": parent.info.run_name or "",
        "experiment_id": str(parent.info.experiment_id),
        "status": parent.info.status,
        **page,
    }


def _trial(
    run: Any, number: int, state: str, metric: str, value: float | None, **extra: Any
) -> dict[str, Any]:
    metrics = {k: _finite(v) for k, v in sorted(run.data.metrics.items())}
    if value is not None:
        metrics[metric] = value
    return {
        "number": number,
        "run_id": run.info.run_id,
        "run_name": run.info.run_name or "",
        "status": run.info.status,
        "state": state,
        "terminated_by": run.data.tags.get("nbstudio.terminated_by"),
        "estimator": None,
        "params": dict(sorted(run.data.params.items())),
        "metrics": metrics,
        "value": value,
        "primary_metric": None if value is None else {"key": metric, "value": value},
        "start_time": run.info.start_time,
        "end_time": run.info.end_time,
        **extra,
    }


def _sweep_trials(client: Any, parent: Any) -> dict[str, Any]:
    from nbstudio.sweep.errors import SweepError
    from nbstudio.sweep.history import _record, child_runs
    from nbstudio.sweep.settings import SweepSettings

    try:
        settings = SweepSettings.from_tags(parent.data.tags)
    except SweepError as exc:
        raise NotFoundError(f"Sweep {parent.info.run_id!r} has damaged settings: {exc}") from None
    trials = []
    for run in child_runs(client, parent):
        record = _record(run, settings.metric)
        if record is not None:
            trials.append(_trial(run, record.number, record.state, settings.metric, record.value))
    trials.sort(key=lambda t: (t["number"], t["start_time"] or 0))
    return {
        "kind": "sweep",
        "goal": settings.goal,
        "primary_metric": settings.metric,
        "space": sorted(settings.space),
        "trials": trials,
    }


def _automl_trials(client: Any, parent: Any) -> dict[str, Any]:
    from nbstudio.automl.errors import AutoMLError
    from nbstudio.automl.metrics import primary_metric
    from nbstudio.automl.settings import TAG_PREFIX
    from nbstudio.automl.trials import PARAM_ESTIMATOR, TAG_ESTIMATOR, TAG_TRIAL
    from nbstudio.sweep.history import child_runs

    tags = parent.data.tags
    try:
        metric = primary_metric(tags.get(TAG_PREFIX + "primary_metric"), tags[TAG_PREFIX + "task"])
    except (AutoMLError, KeyError):
        raise NotFoundError(f"AutoML job {parent.info.run_id!r} has damaged tags.") from None
    trials = []
    for run in child_runs(client, parent):
        try:
            number = int(run.data.tags[TAG_TRIAL])
        except (KeyError, ValueError):
            continue  # a run nested by hand, not a trial
        trial = _trial(
            run,
            number,
            "finished" if run.info.status == "FINISHED" else run.info.status.lower(),
            metric.name,
            _finite(run.data.metrics.get(metric.name)),
            estimator=run.data.params.get(PARAM_ESTIMATOR, run.data.tags.get(TAG_ESTIMATOR, "")),
        )
        trial["params"].pop(PARAM_ESTIMATOR, None)
        trials.append(trial)
    trials.sort(key=lambda t: (t["number"], t["start_time"] or 0))
    return {
        "kind": "automl",
        "goal": "maximize" if metric.higher_is_better else "minimize",
        "primary_metric": metric.name,
        "space": sorted({k for t in trials for k in t["params"]}),
        "trials": trials,
    }
