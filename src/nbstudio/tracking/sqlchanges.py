"""The monitors' change feed read from MLflow's tables: only the rows added since a cursor.

On SQLite the cursor is the position of the last row read: MLflow appends every metric point as a
row, and SQLite numbers rows in the order they are committed, so ``run_uuid = ? AND rowid > ?`` is
a seek on MLflow's own ``index_metrics_run_uuid`` index (an SQLite index ends with the rowid) that
reads the new rows and nothing else. That is exact for points of any step or timestamp order, for
metrics logged without steps (all at step 0), and for several processes writing the same run.

PostgreSQL has no such row number: there the cursor counts the points read per metric, and each
read skips them in MLflow's own history order (timestamp, step, value), as the client reader
does through MLflow's API. Every read of one call shares one connection and one transaction.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import sqlalchemy as sa
from mlflow.store.tracking.dbmodels.models import (
    SqlLatestMetric,
    SqlMetric,
    SqlParam,
    SqlRun,
    SqlTag,
)
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from nbstudio.tracking.run_records import (
    MAX_CHILDREN,
    ChangeCursor,
    MetricPoint,
    RunChanges,
    changed_children,
)

if TYPE_CHECKING:
    from nbstudio.tracking.sqlreader import SqlReader

# Built once: a monitor polls several times a second for as long as a run lives.
_METRIC_ROW = sa.literal_column("metrics.rowid")
_PARAM_ROW = sa.literal_column("params.rowid")
_RUN_INFO = sa.select(
    SqlRun.name, SqlRun.experiment_id, SqlRun.status, SqlRun.start_time, SqlRun.end_time
).where(SqlRun.run_uuid == sa.bindparam("run"))
_NEW_METRIC_ROWS = (
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
_NEW_PARAM_ROWS = (
    sa.select(_PARAM_ROW, SqlParam.key, SqlParam.value)
    .where(SqlParam.run_uuid == sa.bindparam("run"), sa.bindparam("param_row") < _PARAM_ROW)
    .order_by(_PARAM_ROW)
)
_METRIC_KEYS = sa.select(SqlLatestMetric.key).where(SqlLatestMetric.run_uuid == sa.bindparam("run"))
_POINTS_FROM = (
    sa.select(SqlMetric.step, SqlMetric.timestamp, SqlMetric.value, SqlMetric.is_nan)
    .where(SqlMetric.run_uuid == sa.bindparam("run"), SqlMetric.key == sa.bindparam("key"))
    .order_by(SqlMetric.timestamp, SqlMetric.step, SqlMetric.value)
    .offset(sa.bindparam("offset"))
)
_ALL_PARAMS = sa.select(SqlParam.key, SqlParam.value).where(
    SqlParam.run_uuid == sa.bindparam("run")
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


def read(reader: SqlReader, run_id: str, cursor: ChangeCursor) -> RunChanges | None:
    """What changed in ``run_id`` since ``cursor``; None when no run has that id."""
    bound = {"run": run_id, "metric_row": cursor.metric_row, "param_row": cursor.param_row}
    counts = dict(cursor.metric_counts)
    param_keys = cursor.param_keys
    nan = math.nan
    metrics: dict[str, list[MetricPoint]] = {}
    # One connection, one read transaction: a consistent snapshot of the reads.
    with reader.store.engine.connect() as db:
        info = db.execute(_RUN_INFO, bound).first()
        if info is None:
            return None
        if reader.dialect == "sqlite":
            rows = db.execute(_NEW_METRIC_ROWS, bound).all()
            param_rows = db.execute(_NEW_PARAM_ROWS, bound).all()
            params = {key: value for _, key, value in param_rows}
            for _, key, step, timestamp, value, is_nan in rows:
                metrics.setdefault(key, []).append((step, timestamp, nan if is_nan else value))
            metric_row = rows[-1][0] if rows else cursor.metric_row
            param_row = param_rows[-1][0] if param_rows else cursor.param_row
        else:
            for key in sorted(db.execute(_METRIC_KEYS, bound).scalars()):
                seen = counts.get(key, 0)
                new = db.execute(_POINTS_FROM, {**bound, "key": key, "offset": seen}).all()
                if new:
                    metrics[key] = [(s, t, nan if n else v) for s, t, v, n in new]
                    counts[key] = seen + len(new)
            params = {k: v for k, v in db.execute(_ALL_PARAMS, bound).all() if k not in param_keys}
            param_keys = param_keys | frozenset(params)
            metric_row, param_row = cursor.metric_row, cursor.param_row
        child_ids = list(db.execute(_CHILD_IDS, bound).scalars())
    # Children that ended were reported in their final state already: not read again.
    to_read = [c for c in child_ids if not cursor.children.get(c, (0, False))[1]]
    children, marks = changed_children(reader.load_children(to_read), cursor.children)
    name, experiment_id, status, start, end = info
    return RunChanges(
        run_id=run_id,
        run_name=name or "",
        experiment_id=str(experiment_id),
        status=status,
        start_time=start,
        end_time=end,
        params=params,
        metrics=metrics,
        children=children,
        cursor=ChangeCursor(
            metric_row=metric_row,
            param_row=param_row,
            metric_counts=counts,
            param_keys=param_keys,
            children=marks,
        ),
    )
