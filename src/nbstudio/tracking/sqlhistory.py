"""A metric's history for a chart, downsampled inside the database (SQLite or PostgreSQL).

Same points as ``downsample_minmax(history, max_points, x=step)``: equal-width step buckets, each
giving its lowest and highest point (earliest on ties, NaN last). Fetching 100,000 rows into Python
costs more than a chart's whole budget; here the database walks MLflow's own
``(run_uuid, key, step)`` index once per bucket and returns only the chosen rows. A history logged
at a single step (plain ``log_metric``) is cut by time in Python. Nothing is added to MLflow's
schema.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from mlflow.store.tracking.dbmodels.models import SqlLatestMetric, SqlMetric, SqlRun

from nbstudio.tracking.downsample import downsample_minmax
from nbstudio.tracking.run_records import MetricPoint

HISTORY_ORDER = (SqlMetric.step, SqlMetric.timestamp, SqlMetric.value, SqlMetric.is_nan)


#: Charts of ended runs kept per reader (a chart of 2,000 points is about 100 kB).
CHARTS_KEPT = 256
_TERMINAL = ("FINISHED", "FAILED", "KILLED")
_STAMP = (
    sa.select(
        SqlRun.status,
        SqlRun.end_time,
        SqlLatestMetric.step,
        SqlLatestMetric.timestamp,
        SqlLatestMetric.value,
    )
    .select_from(SqlRun)
    .outerjoin(
        SqlLatestMetric,
        sa.and_(
            SqlLatestMetric.run_uuid == SqlRun.run_uuid,
            SqlLatestMetric.key == sa.bindparam("key"),
        ),
    )
    .where(SqlRun.run_uuid == sa.bindparam("run"))
)


def stamp(db: Any, run_id: str, key: str) -> tuple | None:
    """What identifies an ended run's history of ``key`` (its end, its latest point), or None
    while the run may still log (its chart is then read each time)."""
    row = db.execute(_STAMP, {"run": run_id, "key": key}).first()
    if row is None or row[0] not in _TERMINAL:
        return None
    return tuple(row)


class ChartCache:
    """The downsampled charts of ended runs, newest used kept: a finished run's history does not
    change, and reading 100,000 points again costs more than a chart's budget."""

    def __init__(self, size: int = CHARTS_KEPT) -> None:
        self._size = size
        self._charts: OrderedDict[tuple, tuple[tuple, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, stamp: tuple | None) -> Any:
        if stamp is None:
            return None
        with self._lock:
            found = self._charts.get(key)
            if found is None or found[0] != stamp:
                return None
            self._charts.move_to_end(key)
            return found[1]

    def put(self, key: tuple, stamp: tuple | None, chart: Any) -> None:
        if stamp is None:
            return
        with self._lock:
            self._charts[key] = (stamp, chart)
            self._charts.move_to_end(key)
            while len(self._charts) > self._size:
                self._charts.popitem(last=False)


def point(row: Sequence[Any]) -> MetricPoint:
    step, timestamp, value, is_nan = row
    return step, timestamp, float("nan") if is_nan else value


def all_points(db: Any, run_id: str, key: str) -> list[MetricPoint]:
    """Every ``(step, timestamp, value)`` of one metric, ordered as MLflow samples it."""
    stmt = (
        sa.select(*HISTORY_ORDER)
        .where(SqlMetric.run_uuid == run_id, SqlMetric.key == key)
        .order_by(*HISTORY_ORDER)
    )
    return [point(row) for row in db.execute(stmt).all()]


def minmax(db: Any, dialect: str, run_id: str, key: str, max_points: int) -> tuple[int, list]:
    """(total points, chart points) of one metric, read on connection ``db``."""
    where = (SqlMetric.run_uuid == run_id, SqlMetric.key == key)

    def scalar(stmt: Any) -> Any:
        return db.execute(stmt).scalar()

    total = scalar(sa.select(sa.func.count()).select_from(SqlMetric).where(*where))
    if total <= max_points:
        return total, all_points(db, run_id, key) if total else []
    # One min() or max() per query: answered from the index in O(log n).
    lo = scalar(sa.select(sa.func.min(SqlMetric.step)).where(*where))
    hi = scalar(sa.select(sa.func.max(SqlMetric.step)).where(*where))
    buckets = (max_points - 2) // 2
    span = hi - lo + 1
    if lo == hi or span * buckets >= 2**62:  # one step for all, or integer overflow
        points = all_points(db, run_id, key)
        return len(points), downsample_minmax(points, max_points, value=_third, x=_second)
    params = {"run": run_id, "key": key, "lo": lo, "span": span, "buckets": buckets}
    if dialect == "sqlite":
        picked = db.execute(_SQLITE_EXTREMES, params).all()
        ids = sorted({i for row in picked for i in row if i is not None})
        rows = db.execute(_SQLITE_ROWS_BY_ID, {"ids": ids}).all()
    else:
        rows = db.execute(_LATERAL_EXTREMES, params).all()
    ends = [_end_row(db, where, last) for last in (False, True)]
    kept = {tuple(r) for r in (*rows, *ends)}
    return total, [point(r) for r in sorted(kept)]


def _end_row(db: Any, where: Sequence[Any], last: bool) -> Any:
    """The first (or last) point in history order, read from the step index when possible."""
    axis = SqlMetric.step
    two = db.execute(
        sa.select(*HISTORY_ORDER, axis)
        .where(*where)
        .order_by(axis.desc() if last else axis)
        .limit(2)
    ).all()
    if len(two) == 1 or two[0][-1] != two[1][-1]:
        return two[0][:4]
    # Several points share the end's step: break the tie as MLflow orders history.
    order = [c.desc() for c in HISTORY_ORDER] if last else list(HISTORY_ORDER)
    return db.execute(
        sa.select(*HISTORY_ORDER).where(*where, axis == two[0][-1]).order_by(*order).limit(1)
    ).one()


# Bucket k of the step axis is [lo + ceil(k * span / buckets), lo + ceil((k + 1) * span / buckets)),
# as in downsample._by_x_range. For each bucket, two index range scans pick its lowest and its
# highest point: NaN last, then the earliest point on ties.
_BUCKETS = (
    "WITH RECURSIVE b(k, start, stop) AS ("
    " SELECT 0, :lo, :lo + (:span + :buckets - 1) / :buckets"
    " UNION ALL SELECT k + 1, stop, :lo + ((k + 2) * :span + :buckets - 1) / :buckets"
    " FROM b WHERE k + 1 < :buckets)"
)
_BUCKET = "FROM metrics WHERE run_uuid = :run AND key = :key AND step >= b.start AND step < b.stop"
_LOWEST = "ORDER BY is_nan, value, step, timestamp LIMIT 1"
_HIGHEST = "ORDER BY is_nan, value DESC, step, timestamp LIMIT 1"
# SQLite: the rowid of each pick (SQLite has no LATERAL), then the rows by rowid.
_SQLITE_EXTREMES = sa.text(
    f"{_BUCKETS} SELECT (SELECT rowid {_BUCKET} {_LOWEST}), (SELECT rowid {_BUCKET} {_HIGHEST})"
    " FROM b"
)
_SQLITE_ROWS_BY_ID = sa.text(
    "SELECT step, timestamp, value, is_nan FROM metrics WHERE rowid IN :ids"
).bindparams(sa.bindparam("ids", expanding=True))
# PostgreSQL: the picked rows themselves, through LATERAL subqueries.
_COLUMNS = "step, timestamp, value, is_nan"
_LATERAL_EXTREMES = sa.text(
    f"{_BUCKETS} SELECT p.* FROM b CROSS JOIN LATERAL ("
    f" (SELECT {_COLUMNS} {_BUCKET} {_LOWEST}) UNION ALL (SELECT {_COLUMNS} {_BUCKET} {_HIGHEST})"
    ") AS p"
).bindparams(
    sa.bindparam("lo", type_=sa.BigInteger),
    sa.bindparam("span", type_=sa.BigInteger),
    sa.bindparam("buckets", type_=sa.BigInteger),
)


def _second(p: MetricPoint) -> int:
    return p[1]


def _third(p: MetricPoint) -> float:
    return p[2]
