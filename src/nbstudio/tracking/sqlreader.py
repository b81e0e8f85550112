"""Fast reads of MLflow's own SQL schema for the panel, with MLflow's search semantics.

``MlflowClient.search_runs`` on SQLite turns every metric/param/tag filter and order into a join on
a subquery that SQLite materialises and scans without an index, then eagerly loads every column of
every run on the page: ordering 10,000 runs by a metric takes seconds. The panel needs the same
answers in milliseconds, so this module asks the same questions of the same tables (MLflow's ORM
models, MLflow's own comparison functions, MLflow's session with its SQLite pragmas) in a shape
SQLite can answer from its primary-key indexes: correlated ``EXISTS`` for filters, a keyed outer
join for ordering, the run ids of one page first and their params/metrics/tags afterwards.

Results (order, offset page tokens, NaN handling, ``run_name`` matching the ``mlflow.runName`` tag)
are those of ``MlflowClient.search_runs``; tests compare both on the same store. Filters this module
does not translate (dataset filters) raise `Unsupported`, and the caller asks MLflow instead. No
index or table is added to the store, so plain MLflow and ``mlflow db upgrade`` are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.store.tracking.dbmodels.models import (
    SqlExperiment,
    SqlLatestMetric,
    SqlMetric,
    SqlParam,
    SqlRun,
    SqlTag,
)
from mlflow.utils.mlflow_tags import MLFLOW_RUN_NAME
from mlflow.utils.search_utils import SearchUtils
from sqlalchemy.orm import aliased


class Unsupported(Exception):
    """A search this reader does not translate; MLflow's own search must answer it."""


@dataclass
class RunRecord:
    """The parts of a run the panel shows, read from either this reader or MlflowClient."""

    run_id: str
    run_name: str | None
    experiment_id: str
    status: str
    start_time: int | None
    end_time: int | None
    artifact_uri: str | None
    lifecycle_stage: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class ExperimentStats:
    run_count: int
    last_activity: int | None


class SqlReader:
    """Read-only queries on the tables of an MLflow ``SqlAlchemyStore`` (SQLite dialect)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.dialect = store._get_dialect()

    # -- experiments ---------------------------------------------------------------------------
    def experiment_stats(self) -> dict[str, ExperimentStats]:
        """Active run count and newest start/end time of every experiment, in one scan."""
        stmt = (
            sa.select(
                SqlRun.experiment_id,
                sa.func.count(),
                sa.func.max(SqlRun.start_time),
                sa.func.max(SqlRun.end_time),
            )
            .where(SqlRun.lifecycle_stage == "active")
            .group_by(SqlRun.experiment_id)
        )
        with self.store.ManagedSessionMaker() as session:
            rows = session.execute(stmt).all()
        stats = {}
        for experiment_id, count, started, ended in rows:
            times = [t for t in (started, ended) if t is not None]
            stats[str(experiment_id)] = ExperimentStats(count, max(times) if times else None)
        return stats

    def experiment_exists(self, experiment_id: str) -> bool:
        try:
            number = int(experiment_id)
        except ValueError:
            return False
        stmt = sa.select(SqlExperiment.experiment_id).where(SqlExperiment.experiment_id == number)
        with self.store.ManagedSessionMaker() as session:
            return session.execute(stmt).first() is not None

    # -- search --------------------------------------------------------------------------------
    def search_run_ids(
        self,
        experiment_ids: Sequence[str],
        filter_string: str,
        order_by: Sequence[str] | None,
        max_results: int,
        offset: int,
        stages: Iterable[str] = ("active",),
    ) -> tuple[list[str], bool]:
        """One page of run ids in ``MlflowClient.search_runs`` order, and whether more follow.

        Raises `MlflowException` for a bad filter or order (as MLflow would), `Unsupported` for
        a filter MLflow must evaluate itself.
        """
        parsed = SearchUtils.parse_search_filter(filter_string)
        where = [self._filter(clause) for clause in parsed]
        joins, ordering = self._ordering(order_by or [])
        stmt = sa.select(SqlRun.run_uuid).select_from(SqlRun)
        for target, on in joins:
            stmt = stmt.outerjoin(target, on)
        stmt = (
            stmt.where(
                SqlRun.experiment_id.in_([int(e) for e in experiment_ids]),
                SqlRun.lifecycle_stage.in_(list(stages)),
                *where,
            )
            .order_by(*ordering)
            .offset(offset)
            .limit(max_results + 1)
        )
        with self.store.ManagedSessionMaker() as session:
            ids = list(session.execute(stmt).scalars())
        return ids[:max_results], len(ids) > max_results

    def _filter(self, clause: dict[str, Any]) -> sa.ColumnElement[bool]:
        """One parsed filter clause as a WHERE condition, as MLflow's SqlAlchemyStore reads it."""
        key_type = clause.get("type")
        key = SearchUtils.translate_key_alias(clause.get("key"))
        comparator = clause.get("comparator").upper()
        value = clause.get("value")
        compare = SearchUtils.get_sql_comparison_func(comparator, self.dialect)
        if SearchUtils.is_string_attribute(
            key_type, key, comparator
        ) or SearchUtils.is_numeric_attribute(key_type, key, comparator):
            if key == "run_name":  # MLflow matches the tag: old runs have no name column
                return sa.exists().where(
                    SqlTag.run_uuid == SqlRun.run_uuid,
                    SqlTag.key == MLFLOW_RUN_NAME,
                    compare(SqlTag.value, value),
                )
            return compare(getattr(SqlRun, SqlRun.get_attribute_name(key)), value)
        if SearchUtils.is_metric(key_type, comparator):
            entity: Any = SqlLatestMetric
        elif SearchUtils.is_param(key_type, comparator):
            entity = SqlParam
        elif SearchUtils.is_tag(key_type, comparator):
            entity = SqlTag
        elif SearchUtils.is_dataset(key_type, comparator):
            raise Unsupported("dataset filters")
        else:
            raise MlflowException(
                f"Invalid search expression type '{key_type}'", error_code=INVALID_PARAMETER_VALUE
            )
        keyed = sa.exists().where(entity.run_uuid == SqlRun.run_uuid, entity.key == key)
        if comparator == "IS NULL":
            return ~keyed
        if comparator == "IS NOT NULL":
            return keyed
        if entity is SqlLatestMetric:
            condition = compare(entity.value, float(value))
            # NaN is stored as 0 with is_nan: only "!=" may match it (MLflow's rule).
            if comparator == "!=":
                condition = sa.or_(condition, entity.is_nan == sa.true())
            else:
                condition = sa.and_(condition, entity.is_nan == sa.false())
        else:
            condition = compare(entity.value, value)
        return keyed.where(condition)

    def _ordering(self, order_by: Sequence[str]) -> tuple[list[tuple[Any, Any]], list[Any]]:
        """Outer joins and ORDER BY terms equal to MLflow's: missing and NaN values last."""
        joins: list[tuple[Any, Any]] = []
        terms: list[Any] = []
        seen: set[tuple[str, str]] = set()
        for clause in order_by:
            key_type, key, ascending = SearchUtils.parse_order_by_for_search_runs(clause)
            key = SearchUtils.translate_key_alias(key)
            if SearchUtils.is_string_attribute(
                key_type, key, "="
            ) or SearchUtils.is_numeric_attribute(key_type, key, "="):
                column = getattr(SqlRun, SqlRun.get_attribute_name(key))
                rank = sa.case((column.is_(None), 1), else_=0)
            else:
                if SearchUtils.is_metric(key_type, "="):
                    entity: Any = SqlLatestMetric
                elif SearchUtils.is_tag(key_type, "="):
                    entity = SqlTag
                elif SearchUtils.is_param(key_type, "="):
                    entity = SqlParam
                else:
                    raise MlflowException(
                        f"Invalid identifier type '{key_type}'", error_code=INVALID_PARAMETER_VALUE
                    )
                joined = aliased(entity)
                joins.append(
                    (joined, sa.and_(joined.run_uuid == SqlRun.run_uuid, joined.key == key))
                )
                column = joined.value
                if entity is SqlLatestMetric:
                    rank = sa.case((joined.is_nan == sa.true(), 1), (column.is_(None), 2), else_=0)
                else:
                    rank = sa.case((column.is_(None), 1), else_=0)
            if (key_type, key) in seen:
                raise MlflowException(
                    f"`order_by` contains duplicate fields: {list(order_by)}",
                    error_code=INVALID_PARAMETER_VALUE,
                )
            seen.add((key_type, key))
            terms.extend([rank, column if ascending else column.desc()])
        if (SearchUtils._ATTRIBUTE_IDENTIFIER, "start_time") not in seen:
            terms.append(SqlRun.start_time.desc())
        terms.append(SqlRun.run_uuid)
        return joins, terms

    # -- runs ----------------------------------------------------------------------------------
    def run_ids_tagged(
        self, experiment_id: str, key: str, value: str, status: str, limit: int
    ) -> list[str]:
        """Ids of the newest active runs of an experiment with tag ``key`` = ``value``, ``status``.

        Tag first: one pass over that tag's rows (its primary key starts with the tag's key),
        where a search filter checks every run of the experiment (pipeline cache look-ups).
        """
        try:
            experiment = int(experiment_id)
        except ValueError:
            return []
        stmt = (
            sa.select(SqlRun.run_uuid)
            .select_from(SqlTag)
            .join(SqlRun, SqlRun.run_uuid == SqlTag.run_uuid)
            .where(
                SqlTag.key == key,
                SqlTag.value == value,
                SqlRun.experiment_id == experiment,
                SqlRun.status == status,
                SqlRun.lifecycle_stage == "active",
            )
            .order_by(SqlRun.start_time.desc())
            .limit(limit)
        )
        with self.store.ManagedSessionMaker() as session:
            return list(session.execute(stmt).scalars())

    def load_runs(
        self, run_ids: Sequence[str], tag_keys: Sequence[str] | None = None
    ) -> list[RunRecord]:
        """The runs ``run_ids`` in that order (unknown ids left out), with params, latest
        metrics and tags (only ``tag_keys`` if given)."""
        if not run_ids:
            return []
        ids = list(run_ids)
        with self.store.ManagedSessionMaker() as session:
            runs = session.execute(
                sa.select(
                    SqlRun.run_uuid,
                    SqlRun.name,
                    SqlRun.experiment_id,
                    SqlRun.status,
                    SqlRun.start_time,
                    SqlRun.end_time,
                    SqlRun.artifact_uri,
                    SqlRun.lifecycle_stage,
                ).where(SqlRun.run_uuid.in_(ids))
            ).all()
            records = {
                r[0]: RunRecord(r[0], r[1], str(r[2]), r[3], r[4], r[5], r[6], r[7]) for r in runs
            }
            for run_id, key, value in session.execute(
                sa.select(SqlParam.run_uuid, SqlParam.key, SqlParam.value).where(
                    SqlParam.run_uuid.in_(ids)
                )
            ):
                records[run_id].params[key] = value
            for run_id, key, value, is_nan in session.execute(
                sa.select(
                    SqlLatestMetric.run_uuid,
                    SqlLatestMetric.key,
                    SqlLatestMetric.value,
                    SqlLatestMetric.is_nan,
                ).where(SqlLatestMetric.run_uuid.in_(ids))
            ):
                records[run_id].metrics[key] = float("nan") if is_nan else value
            tags = sa.select(SqlTag.run_uuid, SqlTag.key, SqlTag.value).where(
                SqlTag.run_uuid.in_(ids)
            )
            if tag_keys is not None:
                tags = tags.where(SqlTag.key.in_(list(tag_keys)))
            for run_id, key, value in session.execute(tags):
                records[run_id].tags[key] = value
        for record in records.values():
            if not record.run_name:
                record.run_name = record.tags.get(MLFLOW_RUN_NAME)
        return [records[i] for i in ids if i in records]

    def metric_history(self, run_id: str, key: str) -> list[tuple[int, int, float]]:
        """Every ``(step, timestamp, value)`` of one metric, ordered as MLflow samples it."""
        stmt = (
            sa.select(SqlMetric.step, SqlMetric.timestamp, SqlMetric.value, SqlMetric.is_nan)
            .where(SqlMetric.run_uuid == run_id, SqlMetric.key == key)
            .order_by(*_HISTORY_ORDER)
        )
        with self.store.ManagedSessionMaker() as session:
            rows = session.execute(stmt).all()
        return [_point(row) for row in rows]

    def metric_history_minmax(
        self, run_id: str, key: str, max_points: int
    ) -> tuple[int, list[tuple[int, int, float]]]:
        """(total points, chart points) of one metric, downsampled inside SQLite.

        Same points as ``downsample_minmax(history, max_points, x=step)``: equal-width step
        buckets, each giving its lowest and highest point (earliest on ties, NaN last). Fetching
        100,000 rows into Python costs more than a chart's whole budget; here SQLite walks its
        (run, key, step) index once per bucket and returns only the ids of the chosen rows. A
        history logged at a single step (plain ``log_metric``) is cut by time in Python.
        """
        where = (SqlMetric.run_uuid == run_id, SqlMetric.key == key)
        with self.store.ManagedSessionMaker() as session:

            def scalar(stmt: Any) -> Any:
                return session.execute(stmt).scalar()

            total = scalar(sa.select(sa.func.count()).select_from(SqlMetric).where(*where))
            if total <= max_points:
                return total, self.metric_history(run_id, key) if total else []
            # One min() or max() per query: SQLite answers each from the index in O(log n).
            lo = scalar(sa.select(sa.func.min(SqlMetric.step)).where(*where))
            hi = scalar(sa.select(sa.func.max(SqlMetric.step)).where(*where))
            buckets = (max_points - 2) // 2
            span = hi - lo + 1
            if lo == hi or span * buckets >= 2**62:  # one step for all, or integer overflow
                from nbstudio.tracking.downsample import downsample_minmax

                points = self.metric_history(run_id, key)
                by_time = downsample_minmax(points, max_points, value=_third, x=_second)
                return len(points), by_time
            params = {"run": run_id, "key": key, "lo": lo, "span": span, "buckets": buckets}
            picked = session.execute(_BUCKET_EXTREMES, params).all()
            ids = sorted({i for row in picked for i in row if i is not None})
            rows = session.execute(_ROWS_BY_ID, {"ids": ids}).all()
            ends = [self._end_row(session, where, SqlMetric.step, last) for last in (False, True)]
        kept = {tuple(r) for r in (*rows, *ends)}
        return total, [_point(r) for r in sorted(kept)]

    @staticmethod
    def _end_row(session: Any, where: Sequence[Any], axis: Any, last: bool) -> Any:
        """The first (or last) point in history order, read from the axis index when possible."""
        columns = (SqlMetric.step, SqlMetric.timestamp, SqlMetric.value, SqlMetric.is_nan)
        two = session.execute(
            sa.select(*columns, axis).where(*where).order_by(axis.desc() if last else axis).limit(2)
        ).all()
        if len(two) == 1 or two[0][-1] != two[1][-1]:
            return two[0][:4]
        # Several points share the end's step: break the tie as MLflow orders history.
        order = [c.desc() for c in _HISTORY_ORDER] if last else list(_HISTORY_ORDER)
        return session.execute(
            sa.select(*columns).where(*where, axis == two[0][-1]).order_by(*order).limit(1)
        ).one()


# Bucket k of the step axis is [lo + ceil(k * span / buckets), lo + ceil((k + 1) * span / buckets)),
# as in downsample._by_x_range. For each bucket, two index range scans pick the rowid of its lowest
# and of its highest point: NaN last, then the earliest point on ties.
_BUCKET = "FROM metrics WHERE run_uuid = :run AND key = :key AND step >= b.start AND step < b.stop"
_BUCKET_EXTREMES = sa.text(
    "WITH RECURSIVE b(k, start, stop) AS ("
    " SELECT 0, :lo, :lo + (:span + :buckets - 1) / :buckets"
    " UNION ALL SELECT k + 1, stop, :lo + ((k + 2) * :span + :buckets - 1) / :buckets"
    " FROM b WHERE k + 1 < :buckets)"
    f" SELECT (SELECT rowid {_BUCKET} ORDER BY is_nan, value, step, timestamp LIMIT 1),"
    f" (SELECT rowid {_BUCKET} ORDER BY is_nan, value DESC, step, timestamp LIMIT 1)"
    " FROM b"
)
_ROWS_BY_ID = sa.text(
    "SELECT step, timestamp, value, is_nan FROM metrics WHERE rowid IN :ids"
).bindparams(sa.bindparam("ids", expanding=True))

_HISTORY_ORDER = (SqlMetric.step, SqlMetric.timestamp, SqlMetric.value, SqlMetric.is_nan)


def _point(row: Sequence[Any]) -> tuple[int, int, float]:
    step, timestamp, value, is_nan = row
    return step, timestamp, float("nan") if is_nan else value


def _second(point: tuple[int, int, float]) -> int:
    return point[1]


def _third(point: tuple[int, int, float]) -> float:
    return point[2]
