"""Fast reads of MLflow's own SQL schema for the panel, with MLflow's search semantics.

``MlflowClient.search_runs`` on SQLite turns every metric/param/tag filter and order into a join on
a subquery that SQLite materialises and scans without an index, then eagerly loads every column of
every run on the page: ordering 10,000 runs by a metric takes seconds. The panel needs the same
answers in milliseconds, so this module asks the same questions of the same tables (MLflow's ORM
models, MLflow's own comparison functions, MLflow's session with its SQLite pragmas) in a shape
SQLite can answer from its primary-key indexes: correlated ``EXISTS`` for filters, a keyed outer
join for ordering, the run ids of one page first and their params/metrics/tags afterwards.

Results (order, offset page tokens, NaN handling, ``run_name`` matching the ``mlflow.runName`` tag)
are those of ``MlflowClient.search_runs``; tests compare both on the same store, on SQLite and on
PostgreSQL. Filters this module
does not translate (dataset filters) raise `Unsupported`, and the caller asks MLflow instead. No
index or table is added to the store, so plain MLflow and ``mlflow db upgrade`` are unaffected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.store.tracking.dbmodels.models import (
    SqlExperiment,
    SqlLatestMetric,
    SqlParam,
    SqlRun,
    SqlTag,
)
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME
from mlflow.utils.search_utils import SearchUtils
from sqlalchemy.orm import aliased

from nbstudio.tracking import mlflow_private, sqlchanges, sqlhistory
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
    Unsupported,
)

#: The dialects of MLflow's SQL store this reader is tested on.
DIALECTS = ("sqlite", "postgresql")


class SqlReader:
    """Read-only queries on the tables of an MLflow ``SqlAlchemyStore`` (SQLite, PostgreSQL).

    Each read opens a connection of MLflow's own engine (its pool, its SQLite pragmas) and lets
    SQLAlchemy's errors through: `nbstudio.tracking.readers` turns any of them into a switch to
    the client reader.
    """

    name = "sql"

    def __init__(self, store: Any) -> None:
        self.store = store
        self.dialect = mlflow_private.sql_dialect(store)
        self._charts = sqlhistory.ChartCache()

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
        with self.store.engine.connect() as session:
            rows = session.execute(stmt).all()
        stats = {}
        for experiment_id, count, started, ended in rows:
            times = [t for t in (started, ended) if t is not None]
            stats[str(experiment_id)] = ExperimentStats(count, max(times) if times else None)
        return stats

    def experiment_exists(self, experiment_id: str) -> bool:
        if not _is_sql_id(experiment_id):
            return False
        number = int(experiment_id)
        stmt = sa.select(SqlExperiment.experiment_id).where(SqlExperiment.experiment_id == number)
        with self.store.engine.connect() as session:
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
        with self.store.engine.connect() as session:
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
        if (mlflow_private.attribute_identifier(), "start_time") not in seen:
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
        with self.store.engine.connect() as session:
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

    def load_run(self, run_id: str) -> RunRecord | None:
        found = self.load_runs([run_id])
        return found[0] if found else None

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
        """One page of active runs with ``tag_keys`` only (`RunReader.search`)."""
        ids = [e for e in experiment_ids if _is_sql_id(e)]
        if not ids:
            return RunPage([])
        run_ids, more = self.search_run_ids(ids, filter_string, order_by, page_size, offset)
        return RunPage(self.load_runs(run_ids, tag_keys), offset + page_size if more else None)

    def child_runs(
        self, parent_run_id: str, tag_keys: Sequence[str] | None = None
    ) -> list[RunRecord]:
        """Active child runs of a run, newest first (at most `MAX_CHILDREN`)."""
        stmt = (
            sa.select(SqlTag.run_uuid)
            .join(SqlRun, SqlRun.run_uuid == SqlTag.run_uuid)
            .where(
                SqlTag.key == MLFLOW_PARENT_RUN_ID,
                SqlTag.value == parent_run_id,
                SqlRun.lifecycle_stage == "active",
            )
            .order_by(SqlRun.start_time.desc(), SqlRun.run_uuid)
            .limit(MAX_CHILDREN)
        )
        with self.store.engine.connect() as db:
            ids = list(db.execute(stmt).scalars())
        return self.load_runs(ids, tag_keys)

    # -- metrics -------------------------------------------------------------------------------
    def metric_points(self, run_id: str, key: str) -> list[MetricPoint]:
        """Every point of one metric, ordered as MLflow samples it."""
        with self.store.engine.connect() as db:
            return sqlhistory.all_points(db, run_id, key)

    def metric_history(self, run_id: str, key: str, max_points: int) -> tuple[int, list]:
        """(total points, chart points) of one metric, downsampled in the database.

        The chart of an ended run is kept (`sqlhistory.ChartCache`): opened again, it costs one
        primary-key read that checks nothing was logged to it since.
        """
        with self.store.engine.connect() as db:
            stamp = sqlhistory.stamp(db, run_id, key)
            found = self._charts.get((run_id, key, max_points), stamp)
            if found is not None:
                return found
            chart = sqlhistory.minmax(db, self.dialect, run_id, key, max_points)
        self._charts.put((run_id, key, max_points), stamp, chart)
        return chart

    # -- the monitors' change feed -------------------------------------------------------------
    def changes(self, run_id: str, cursor: ChangeCursor) -> RunChanges | None:
        """What is new in a run since ``cursor`` (None: no such run); see `sqlchanges`."""
        return sqlchanges.read(self, run_id, cursor)

    def load_children(self, run_ids: list[str]) -> list[ChildRun]:
        return [ChildRun.of(r) for r in self.load_runs(run_ids, tag_keys=CHILD_TAGS)]


def _is_sql_id(value: str) -> bool:
    """The SQL store keys experiments by a 64-bit integer: anything else names none of them."""
    return value.isascii() and value.isdigit() and int(value) < 2**63
