"""The reader of runs through ``MlflowClient``: a tracking server's REST API, or any store.

Same answers as `nbstudio.tracking.sqlreader` (tests compare both on one store); used against a
tracking server, and whenever the SQL reader is not trusted with a database (unknown MLflow schema
revision, any database error).

Experiment counts cost what changed, not the number of runs: the first refresh pages through the
runs once; later ones ask only for runs started since the newest start seen and for the runs still
RUNNING then (their end moves the last activity), one bounded search each.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mlflow.entities import Run, ViewType
from mlflow.exceptions import MlflowException
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from nbstudio.tracking import mlflow_private
from nbstudio.tracking.at_once import at_once
from nbstudio.tracking.downsample import downsample_minmax
from nbstudio.tracking.filters import equals
from nbstudio.tracking.run_records import (
    CHILD_TAGS,
    MAX_CHILDREN,
    ChangeCursor,
    ChildRun,
    ExperimentStats,
    MetricPoint,
    RunChanges,
    RunPage,
    RunRecord,
    changed_children,
)

#: Page size when reading a history or a list of runs from a tracking server.
SERVER_PAGE = 25_000
RUN_PAGE = 1000


def record_of(run: Run, tag_keys: Sequence[str] | None = None) -> RunRecord:
    info, data = run.info, run.data
    tags = dict(data.tags)
    if tag_keys is not None:
        tags = {k: v for k, v in tags.items() if k in tag_keys}
    return RunRecord(
        run_id=info.run_id,
        run_name=info.run_name,
        experiment_id=str(info.experiment_id),
        status=info.status,
        start_time=info.start_time,
        end_time=info.end_time,
        artifact_uri=info.artifact_uri,
        lifecycle_stage=info.lifecycle_stage,
        params=dict(data.params),
        metrics=dict(data.metrics),
        tags=tags,
    )


def _not_found(exc: MlflowException) -> bool:
    return exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE")


@dataclass
class _Tally:
    """What the experiment counts know so far: every run seen, the ones still running."""

    runs: dict[str, str] = field(default_factory=dict)  # run id -> experiment id
    last: dict[str, int] = field(default_factory=dict)  # experiment id -> newest start/end
    running: set[str] = field(default_factory=set)
    newest_start: int | None = None


class ClientReader:
    """`RunReader` over ``MlflowClient``."""

    name = "client"

    def __init__(self, client: Any) -> None:
        self.client = client
        self._tally: _Tally | None = None
        self._lock = threading.Lock()

    # -- experiments ---------------------------------------------------------------------------
    def experiment_stats(self) -> dict[str, ExperimentStats]:
        with self._lock:
            if self._tally is None:
                self._tally = _Tally()
                self._add(self._tally, self._all_runs("", self._experiment_ids()))
            else:
                self._update(self._tally)
            tally = self._tally
            counts: dict[str, int] = {}
            for experiment_id in tally.runs.values():
                counts[experiment_id] = counts.get(experiment_id, 0) + 1
            return {e: ExperimentStats(n, tally.last.get(e)) for e, n in counts.items()}

    def _experiment_ids(self) -> list[str]:
        found, token = [], None
        while True:
            page = self.client.search_experiments(
                ViewType.ACTIVE_ONLY, max_results=1000, page_token=token
            )
            found.extend(str(e.experiment_id) for e in page)
            token = page.token
            if not token:
                return found

    def _all_runs(self, filter_string: str, ids: list[str]) -> list[Run]:
        found: list[Run] = []
        for first in range(0, len(ids), 100):  # MLflow's limit of experiments per search
            token = None
            while True:
                page = self.client.search_runs(
                    ids[first : first + 100],
                    filter_string,
                    ViewType.ACTIVE_ONLY,
                    max_results=RUN_PAGE,
                    page_token=token,
                )
                found.extend(page)
                token = page.token
                if not token:
                    break
        return found

    @staticmethod
    def _add(tally: _Tally, runs: Sequence[Run]) -> None:
        for run in runs:
            info = run.info
            experiment_id = str(info.experiment_id)
            tally.runs[info.run_id] = experiment_id
            for t in (info.start_time, info.end_time):
                if t is not None and t > tally.last.get(experiment_id, -1):
                    tally.last[experiment_id] = t
            if info.status == "RUNNING":
                tally.running.add(info.run_id)
            else:
                tally.running.discard(info.run_id)
            if info.start_time is not None and (
                tally.newest_start is None or info.start_time > tally.newest_start
            ):
                tally.newest_start = info.start_time

    def _update(self, tally: _Tally) -> None:
        """Runs started since the newest start seen, and the runs that were running."""
        since = tally.newest_start or 0
        ids = self._experiment_ids()  # one listing for every search
        filters = [f"attributes.start_time >= {since}"]
        running = sorted(tally.running)
        for first in range(0, len(running), 100):
            quoted = ", ".join(f"'{r}'" for r in running[first : first + 100])
            filters.append(f"attributes.run_id IN ({quoted})")
        found = at_once([functools.partial(self._all_runs, f, ids) for f in filters])
        self._add(tally, [run for runs in found for run in runs])

    def experiment_exists(self, experiment_id: str) -> bool:
        try:
            self.client.get_experiment(experiment_id)
        except MlflowException as exc:
            if _not_found(exc):
                return False
            raise
        return True

    # -- runs ----------------------------------------------------------------------------------
    def search(
        self,
        experiment_ids: Sequence[str],
        filter_string: str,
        order_by: Sequence[str],
        page_size: int,
        offset: int,
        cursor: str | None,
        tag_keys: Sequence[str] | None = None,
    ) -> RunPage:
        page = self.client.search_runs(
            list(experiment_ids),
            filter_string,
            ViewType.ACTIVE_ONLY,
            max_results=page_size,
            order_by=list(order_by),
            page_token=cursor,
        )
        token = page.token.decode() if isinstance(page.token, bytes) else page.token
        return RunPage([record_of(r, tag_keys) for r in page], next_cursor=token or None)

    def load_run(self, run_id: str) -> RunRecord | None:
        try:
            return record_of(self.client.get_run(run_id))
        except MlflowException as exc:
            if _not_found(exc):
                return None
            raise

    def child_runs(
        self, parent_run_id: str, tag_keys: Sequence[str] | None = None
    ) -> list[RunRecord]:
        parent = self.load_run(parent_run_id)
        if parent is None:
            return []
        runs = self.client.search_runs(
            [parent.experiment_id],
            equals(f"tags.`{MLFLOW_PARENT_RUN_ID}`", parent_run_id),
            ViewType.ACTIVE_ONLY,
            max_results=MAX_CHILDREN,
            order_by=["attributes.start_time DESC"],
        )
        return [record_of(r, tag_keys) for r in runs]

    # -- metrics -------------------------------------------------------------------------------
    def metric_points(self, run_id: str, key: str) -> list[MetricPoint]:
        history = self.client.get_metric_history(run_id, key)
        return sorted((m.step, m.timestamp, m.value) for m in history)

    def metric_history(self, run_id: str, key: str, max_points: int) -> tuple[int, list]:
        points = self.metric_points(run_id, key)
        kept = downsample_minmax(points, max_points, value=_third, x=_first)
        if len({p[0] for p in kept}) == 1:  # one step for all: the time is the axis
            kept = downsample_minmax(points, max_points, value=_third, x=_second)
        return len(points), kept

    # -- the monitors' change feed -------------------------------------------------------------
    def changes(self, run_id: str, cursor: ChangeCursor) -> RunChanges | None:
        """New points per metric read from the offset already seen (MLflow orders a history
        by timestamp, so new points come last)."""
        try:
            run: Run = self.client.get_run(run_id)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
        counts = dict(cursor.metric_counts)
        metrics: dict[str, list[MetricPoint]] = {}
        for key in run.data.metrics:
            new = self._history_from(run_id, key, counts.get(key, 0))
            if new:
                metrics[key] = new
                counts[key] = counts.get(key, 0) + len(new)
        params = {k: v for k, v in run.data.params.items() if k not in cursor.param_keys}
        kids = [ChildRun.of(r) for r in self.child_runs(run_id, CHILD_TAGS)]
        children, marks = changed_children(kids, cursor.children)
        info = run.info
        return RunChanges(
            run_id=run_id,
            run_name=info.run_name or "",
            experiment_id=str(info.experiment_id),
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
        points: list[MetricPoint] = []
        while True:
            page, more = mlflow_private.metric_history_page(
                self.client, run_id, key, SERVER_PAGE, offset + len(points)
            )
            points.extend((m.step, m.timestamp, m.value) for m in page)
            if not more:
                return points


def _first(point: MetricPoint) -> int:
    return point[0]


def _second(point: MetricPoint) -> int:
    return point[1]


def _third(point: MetricPoint) -> float:
    return point[2]
