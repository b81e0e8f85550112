"""What changed in a run since the last look: the feed behind the live run monitors.

A monitor polls several times a second for as long as a run lives, and a run can log 100,000
points; reading whole histories on every poll would grow slower with every step. So each call
returns only what is new since a *cursor* (new metric points per key, new params, the run's status,
child runs that appeared or changed) together with the cursor for the next call.

On the workspace's embedded SQLite store the cursor is the position of the last row read: MLflow
appends every metric point as a row, and SQLite numbers rows in the order they are committed, so
``run_uuid = ? AND rowid > ?`` is a seek on MLflow's own ``index_metrics_run_uuid`` index (an
SQLite index ends with the rowid) that reads the new rows and nothing else. That is exact for
points of any step or timestamp order, for metrics logged without steps (all at step 0), and for
several processes writing the same run. Against a tracking server the fallback asks
``MlflowClient``'s store for each metric's history from the offset already read.

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

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from mlflow.entities import LoggedModelStatus, Run
from mlflow.exceptions import MlflowException
from mlflow.store.tracking.dbmodels.models import SqlMetric, SqlParam, SqlRun, SqlTag
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

from nbstudio.errors import RunError
from nbstudio.session import Session, get_session

TERMINAL_STATUSES = frozenset({"FINISHED", "FAILED", "KILLED"})
#: One metric point as the monitors use it: (step, timestamp in ms, value).
MetricPoint = tuple[int, int, float]
#: Page size when reading a history from a tracking server.
SERVER_PAGE = 25_000
#: At most this many child runs are followed (a sweep of more trials shows the newest).
MAX_CHILDREN = 1000


@dataclass(frozen=True)
class ChildRun:
    """A child run (nested run, sweep trial) as a monitor's table shows it."""

    run_id: str
    name: str
    status: str
    start_time: int | None
    end_time: int | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def ended(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def duration(self, now_ms: int | None = None) -> float | None:
        """Seconds from start to end, or to ``now_ms`` (default: now) while it runs."""
        if self.start_time is None:
            return None
        end = self.end_time if self.ended and self.end_time else now_ms or _now_ms()
        return max(0.0, (end - self.start_time) / 1000)


@dataclass(frozen=True)
class ChangeCursor:
    """Where the previous read stopped. Treat it as opaque: pass it back to `changes_since`."""

    metric_row: int = 0
    """Embedded store: rowid of the last metric row read."""
    param_row: int = 0
    """Embedded store: rowid of the last param row read."""
    metric_counts: Mapping[str, int] = field(default_factory=dict)
    """Tracking server: points already read per metric key."""
    param_keys: frozenset[str] = frozenset()
    """Tracking server: params already reported."""
    children: Mapping[str, tuple[int, bool]] = field(default_factory=dict)
    """Child run id -> (version last reported, whether it had ended then)."""


@dataclass
class RunChanges:
    """What a run looks like now and what is new in it since the cursor passed in."""

    run_id: str
    run_name: str
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None
    params: dict[str, str]
    """Params logged since the cursor (all of them on a first read)."""
    metrics: dict[str, list[MetricPoint]]
    """New points per metric key, in the order they reached the store (MLflow's asynchronous
    logging may commit a batch before an earlier one)."""
    children: list[ChildRun]
    """Child runs that appeared or changed (status, params, latest metrics) since the cursor."""
    cursor: ChangeCursor

    @property
    def ended(self) -> bool:
        """True once the run is FINISHED, FAILED or KILLED: nothing more will be logged."""
        return self.status in TERMINAL_STATUSES

    @property
    def has_news(self) -> bool:
        return bool(self.params or self.metrics or self.children)

    def elapsed(self, now_ms: int | None = None) -> float:
        """Seconds the run has been going (its duration once ended)."""
        if self.start_time is None:
            return 0.0
        end = self.end_time if self.ended and self.end_time else now_ms or _now_ms()
        return max(0.0, (end - self.start_time) / 1000)


def changes_since(
    run_id: str, cursor: ChangeCursor | None = None, session: Session | None = None
) -> RunChanges:
    """What changed in run ``run_id`` since ``cursor`` (everything, when ``cursor`` is None).

    Reads only the store, and only rows added since the cursor. Raises `RunError` when no run
    has that id.
    """
    session = session or get_session()
    session.workspace  # noqa: B018 - opens the store
    cursor = cursor or ChangeCursor()
    client = session.client()
    store = client._tracking_client.store  # the store MLflow itself uses (cached per URI)
    reader: _Reader = _SqliteReader(store) if _is_sqlite(store) else _ClientReader(client)
    try:
        return reader.read(run_id, cursor)
    except MlflowException as exc:
        raise RunError(f"Cannot read run {run_id}: {exc.message}") from None


def _is_sqlite(store: Any) -> bool:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    return isinstance(store, SqlAlchemyStore) and store.db_type == "sqlite"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _version(child: ChildRun) -> int:
    """A fingerprint of what a monitor shows of a child (NaN-safe, unlike comparing floats)."""
    return hash(
        (
            child.status,
            child.end_time,
            child.name,
            tuple(sorted((k, repr(v)) for k, v in child.metrics.items())),
            tuple(sorted(child.params.items())),
        )
    )


def _changed_children(
    children: list[ChildRun], known: Mapping[str, tuple[int, bool]]
) -> tuple[list[ChildRun], dict[str, tuple[int, bool]]]:
    changed = []
    marks = dict(known)
    for child in children:
        version = _version(child)
        if known.get(child.run_id, (None, False))[0] != version:
            changed.append(child)
        marks[child.run_id] = (version, child.ended)
    return changed, marks


class _Reader:
    def read(self, run_id: str, cursor: ChangeCursor) -> RunChanges:
        raise NotImplementedError


# The embedded store's reads, built once (a poll runs them several times a second).
_METRIC_ROW = sa.literal_column("metrics.rowid")
_PARAM_ROW = sa.literal_column("params.rowid")
_RUN_INFO = sa.select(
    SqlRun.name, SqlRun.experiment_id, SqlRun.status, SqlRun.start_time, SqlRun.end_time
).where(SqlRun.run_uuid == sa.bindparam("run"))
_NEW_METRICS = (
    sa.select(
        _METRIC_ROW,
        SqlMetric.key,
        SqlMetric.step,
        SqlMetric.timestamp,
        SqlMetric.value,
        SqlMetric.is_nan,
    )
    .where(SqlMetric.run_uuid == sa.bindparam("run"), sa.bindparam("metric_row") < _METRIC_ROW)
    .order_by(_METRIC_ROW)
)
_NEW_PARAMS = (
    sa.select(_PARAM_ROW, SqlParam.key, SqlParam.value)
    .where(SqlParam.run_uuid == sa.bindparam("run"), sa.bindparam("param_row") < _PARAM_ROW)
    .order_by(_PARAM_ROW)
)
_CHILD_IDS = (
    sa.select(SqlTag.run_uuid)
    .join(SqlRun, SqlRun.run_uuid == SqlTag.run_uuid)
    .where(
        SqlTag.key == MLFLOW_PARENT_RUN_ID,
        SqlTag.value == sa.bindparam("run"),
        SqlRun.lifecycle_stage == "active",
    )
    .order_by(SqlRun.start_time.desc())
    .limit(MAX_CHILDREN)
)


class _SqliteReader(_Reader):
    """Reads MLflow's tables directly: new rows only, all in one read transaction (snapshot)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def read(self, run_id: str, cursor: ChangeCursor) -> RunChanges:
        bound = {"run": run_id, "metric_row": cursor.metric_row, "param_row": cursor.param_row}
        # One connection, one read transaction: a consistent snapshot of the four reads (WAL).
        with self.store.engine.connect() as db:
            info = db.execute(_RUN_INFO, bound).first()
            if info is None:
                raise RunError(f"No run with id {run_id!r} in this workspace's tracking store.")
            rows = db.execute(_NEW_METRICS, bound).all()
            params = db.execute(_NEW_PARAMS, bound).all()
            child_ids = list(db.execute(_CHILD_IDS, bound).scalars())
        metrics: dict[str, list[MetricPoint]] = {}
        nan = math.nan
        for _, key, step, timestamp, value, is_nan in rows:
            metrics.setdefault(key, []).append((step, timestamp, nan if is_nan else value))
        # Children that ended were reported in their final state already: not read again.
        to_read = [c for c in child_ids if not cursor.children.get(c, (0, False))[1]]
        children, marks = _changed_children(self._load_children(to_read), cursor.children)
        name, experiment_id, status, start, end = info
        return RunChanges(
            run_id=run_id,
            run_name=name or "",
            experiment_id=str(experiment_id),
            status=status,
            start_time=start,
            end_time=end,
            params={key: value for _, key, value in params},
            metrics=metrics,
            children=children,
            cursor=ChangeCursor(
                metric_row=rows[-1][0] if rows else cursor.metric_row,
                param_row=params[-1][0] if params else cursor.param_row,
                children=marks,
            ),
        )

    def _load_children(self, run_ids: list[str]) -> list[ChildRun]:
        from nbstudio.tracking.sqlreader import SqlReader

        records = SqlReader(self.store).load_runs(run_ids, tag_keys=[MLFLOW_RUN_NAME])
        return [
            ChildRun(
                run_id=r.run_id,
                name=r.run_name or r.run_id[:8],
                status=r.status,
                start_time=r.start_time,
                end_time=r.end_time,
                params=r.params,
                metrics=r.metrics,
            )
            for r in records
        ]


class _ClientReader(_Reader):
    """A tracking server (or a non-SQLite database): MlflowClient, each history read from the
    offset already seen (MLflow orders a history by timestamp, so new points come last)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def read(self, run_id: str, cursor: ChangeCursor) -> RunChanges:
        try:
            run: Run = self.client.get_run(run_id)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise RunError(f"No run with id {run_id!r} in the tracking store.") from None
            raise
        counts = dict(cursor.metric_counts)
        metrics: dict[str, list[MetricPoint]] = {}
        for key in run.data.metrics:
            new = self._history_from(run_id, key, counts.get(key, 0))
            if new:
                metrics[key] = new
                counts[key] = counts.get(key, 0) + len(new)
        params = {k: v for k, v in run.data.params.items() if k not in cursor.param_keys}
        children, marks = _changed_children(
            self._children(run.info.experiment_id, run_id), cursor.children
        )
        info = run.info
        return RunChanges(
            run_id=run_id,
            run_name=info.run_name or "",
            experiment_id=info.experiment_id,
            status=info.status,
            start_time=info.start_time,
            end_time=info.end_time,
            params=params,
            metrics=metrics,
            children=children,
            cursor=ChangeCursor(
                metric_counts=counts,
                param_keys=cursor.param_keys | frozenset(params),
                children=marks,
            ),
        )

    def _history_from(self, run_id: str, key: str, offset: int) -> list[MetricPoint]:
        from mlflow.utils.search_utils import SearchUtils

        store = self.client._tracking_client.store
        token: str | None = SearchUtils.create_page_token(offset).decode() if offset else None
        points: list[MetricPoint] = []
        while True:
            page = store.get_metric_history(run_id, key, max_results=SERVER_PAGE, page_token=token)
            points.extend((m.step, m.timestamp, m.value) for m in page)
            token = getattr(page, "token", None)
            if not token:
                return points

    def _children(self, experiment_id: str, run_id: str) -> list[ChildRun]:
        runs = self.client.search_runs(
            [experiment_id],
            filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{run_id}'",
            max_results=MAX_CHILDREN,
        )
        return [
            ChildRun(
                run_id=r.info.run_id,
                name=r.info.run_name or r.info.run_id[:8],
                status=r.info.status,
                start_time=r.info.start_time,
                end_time=r.info.end_time,
                params=dict(r.data.params),
                metrics=dict(r.data.metrics),
            )
            for r in runs
        ]


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
    "TERMINAL_STATUSES",
    "ChangeCursor",
    "ChildRun",
    "LoggedModelRef",
    "MetricPoint",
    "RunChanges",
    "changes_since",
    "logged_models",
]
