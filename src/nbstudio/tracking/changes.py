"""What changed in a run since the last look: the feed behind the live run monitors.

A monitor polls several times a second for as long as a run lives, and a run can log 100,000
points; reading whole histories on every poll would grow slower with every step. So each call
returns only what is new since a *cursor* (new metric points per key, new params, the run's status,
child runs that appeared or changed) together with the cursor for the next call.

The reads go through the session's `RunReader` (`nbstudio.tracking.readers`): on MLflow's SQL
store `nbstudio.tracking.sqlchanges` reads only the rows added since the cursor; elsewhere the
client reader asks for each metric's history from the offset already read.

Nothing here imports IPython or widgets: a script can follow a run with the same function.

Example:
    >>> from nbstudio.tracking.changes import changes_since
    >>> changes = changes_since(run_id)  # doctest: +SKIP
    >>> while not changes.ended:  # doctest: +SKIP
    ...     time.sleep(1)
    ...     changes = changes_since(run_id, changes.cursor)
    ...     print(changes.status, {k: len(v) for k, v in changes.metrics.items()})
"""

from __future__ import annotations

from dataclasses import dataclass

from mlflow.entities import LoggedModelStatus
from mlflow.exceptions import MlflowException

from nbstudio.errors import RunError
from nbstudio.session import Session, get_session
from nbstudio.tracking.readers import run_reader
from nbstudio.tracking.run_records import (
    MAX_CHILDREN,
    TERMINAL_STATUSES,
    ChangeCursor,
    ChildRun,
    MetricPoint,
    RunChanges,
)


def changes_since(
    run_id: str, cursor: ChangeCursor | None = None, session: Session | None = None
) -> RunChanges:
    """What changed in run ``run_id`` since ``cursor`` (everything, when ``cursor`` is None).

    Reads only the store, and only rows added since the cursor. Raises `RunError` when no run
    has that id.
    """
    session = session or get_session()
    session.workspace  # noqa: B018 - opens the store
    try:
        changes = run_reader(session).changes(run_id, cursor or ChangeCursor())
    except MlflowException as exc:
        raise RunError(f"Cannot read run {run_id}: {exc.message}") from None
    if changes is None:
        raise RunError(f"No run with id {run_id!r} in this workspace's tracking store.")
    return changes


@dataclass(frozen=True)
class LoggedModelRef:
    """A model logged by a run, and the registry versions made from it so far."""

    model_id: str
    name: str
    uri: str
    registered: tuple[str, ...] = ()
    """``NAME/VERSION`` of each registered version made from this model."""


def logged_models(run_id: str, session: Session | None = None) -> list[LoggedModelRef]:
    """The models run ``run_id`` logged (``mlflow.<flavor>.log_model``), oldest first."""
    session = session or get_session()
    client = session.client()
    try:
        experiment_id = client.get_run(run_id).info.experiment_id
        found = client.search_logged_models(
            experiment_ids=[experiment_id],
            filter_string=f"source_run_id = '{run_id}'",
            order_by=[{"field_name": "creation_timestamp", "ascending": True}],
        )
        versions = client.search_model_versions(f"run_id = '{run_id}'")
    except MlflowException as exc:
        raise RunError(f"Cannot list the models of run {run_id}: {exc.message}") from None
    by_model: dict[str, list[str]] = {}
    for version in versions:
        # Search results leave model_id empty; the source is the logged model's models:/ URI.
        source = version.source or ""
        model_id = getattr(version, "model_id", None) or source.removeprefix("models:/")
        by_model.setdefault(model_id, []).append(f"{version.name}/{version.version}")
    return [
        LoggedModelRef(
            model_id=m.model_id,
            name=m.name,
            uri=f"models:/{m.model_id}",
            registered=tuple(by_model.get(m.model_id, ())),
        )
        for m in found
        if m.status == LoggedModelStatus.READY  # a failed log_model leaves a FAILED record
    ]


__all__ = [
    "MAX_CHILDREN",
    "TERMINAL_STATUSES",
    "ChangeCursor",
    "ChildRun",
    "LoggedModelRef",
    "MetricPoint",
    "RunChanges",
    "changes_since",
    "logged_models",
]
