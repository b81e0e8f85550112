"""Application-Insights-style monitoring of endpoints, kept in one small SQLite file.

``<workspace>/.nbstudio/endpoints/monitoring.db`` (next to the tracking store) holds, per endpoint
and deployment: every recent request (time, latency, status, mirrored or not), all-time totals,
and the last exceptions with their tracebacks. Figures therefore survive restarts of the endpoint,
the kernel and the Jupyter server, and every reader (``%endpoint monitor``, the side panel, the
console) computes them from the same rows.

Bounded: at most `MAX_REQUESTS` request rows and `MAX_EXCEPTIONS` exceptions per deployment are
kept (oldest dropped), so a busy endpoint never fills the disk; the totals are counters that never
grow. The endpoint process is the only writer of its rows and writes in batches from a thread
(`Recorder`), so recording costs a request a list append, not a disk write.

Failures are answers with status 500 or more (the model or the endpoint failed); 4xx answers
(bad payloads, wrong key) are counted apart as client errors, as Azure's charts do.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

MAX_REQUESTS = 100_000
MAX_EXCEPTIONS = 50
MAX_TRACEBACK = 20_000
RATE_WINDOW_MS = 60_000
LATENCY_WINDOW_MS = 300_000
# Requests refused before any deployment is chosen (wrong key, unknown deployment) are recorded
# under this name, so they count for the endpoint without skewing a deployment's figures.
ENDPOINT_ROW = ""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    endpoint TEXT NOT NULL,
    deployment TEXT NOT NULL,
    ts INTEGER NOT NULL,
    latency REAL NOT NULL,
    status INTEGER NOT NULL,
    mirror INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_by_time ON requests (endpoint, ts);
CREATE TABLE IF NOT EXISTS totals (
    endpoint TEXT NOT NULL,
    deployment TEXT NOT NULL,
    mirror INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    client_errors INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    PRIMARY KEY (endpoint, deployment, mirror)
);
CREATE TABLE IF NOT EXISTS exceptions (
    id INTEGER PRIMARY KEY,
    endpoint TEXT NOT NULL,
    deployment TEXT NOT NULL,
    ts INTEGER NOT NULL,
    status INTEGER NOT NULL,
    type TEXT NOT NULL,
    message TEXT NOT NULL,
    traceback TEXT
);
CREATE INDEX IF NOT EXISTS exceptions_by_deployment ON exceptions (endpoint, deployment, id);
"""


def _connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


@contextmanager
def _reader(db: Path) -> Iterator[sqlite3.Connection | None]:
    """A connection for reading, or None when nothing was ever recorded (no file yet)."""
    if not db.is_file():
        yield None
        return
    # Not ``mode=ro``: a read-only connection cannot create the WAL index of a quiet database.
    conn = sqlite3.connect(db, timeout=30)
    with closing(conn):
        yield conn


class Recorder:
    """Buffers one endpoint's requests and exceptions and writes them in batches."""

    def __init__(self, db: Path, endpoint: str) -> None:
        self.db = db
        self.endpoint = endpoint
        self._requests: list[tuple[str, int, float, int, int]] = []
        self._exceptions: list[tuple[str, int, int, str, str, str | None]] = []
        self._buffer_lock = threading.Lock()
        self._write_lock = threading.Lock()
        db.parent.mkdir(parents=True, exist_ok=True)
        self._conn = _connect(db)
        with self._conn:
            self._conn.executescript(_SCHEMA)
        self._since_prune = MAX_REQUESTS  # prune once at start, whatever was left last time

    def request(
        self, deployment: str, ts_ms: int, latency_ms: float, status: int, mirror: bool = False
    ) -> None:
        self._requests.append((deployment, ts_ms, latency_ms, status, int(mirror)))

    def exception(
        self,
        deployment: str,
        ts_ms: int,
        status: int,
        kind: str,
        message: str,
        trace: str | None = None,
    ) -> None:
        trace = trace[-MAX_TRACEBACK:] if trace else None
        self._exceptions.append((deployment, ts_ms, status, kind, message[:MAX_TRACEBACK], trace))

    def flush(self) -> int:
        """Write what was buffered (call from a thread: it touches the disk). Returns rows."""
        with self._buffer_lock:
            requests, self._requests = self._requests, []
            exceptions, self._exceptions = self._exceptions, []
        if not requests and not exceptions:
            return 0
        totals: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0, 2**62, 0])
        for deployment, ts, _latency, status, mirror in requests:
            row = totals[deployment, mirror]
            row[0] += 1
            row[1] += status >= 500
            row[2] += 400 <= status < 500
            row[3] = min(row[3], ts)
            row[4] = max(row[4], ts)
        with self._write_lock, self._conn:
            self._conn.executemany(
                "INSERT INTO requests (endpoint, deployment, ts, latency, status, mirror) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(self.endpoint, *row) for row in requests],
            )
            self._conn.executemany(
                "INSERT INTO totals VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (endpoint, deployment, mirror) DO UPDATE SET "
                "requests = requests + excluded.requests, "
                "failures = failures + excluded.failures, "
                "client_errors = client_errors + excluded.client_errors, "
                "first_ts = min(first_ts, excluded.first_ts), "
                "last_ts = max(last_ts, excluded.last_ts)",
                [(self.endpoint, d, m, *row) for (d, m), row in totals.items()],
            )
            self._conn.executemany(
                "INSERT INTO exceptions (endpoint, deployment, ts, status, type, message, "
                "traceback) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(self.endpoint, *row) for row in exceptions],
            )
            for deployment in {row[0] for row in exceptions}:
                self._conn.execute(
                    "DELETE FROM exceptions WHERE endpoint = ? AND deployment = ? AND id <= "
                    "(SELECT id FROM exceptions WHERE endpoint = ? AND deployment = ? "
                    "ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (self.endpoint, deployment, self.endpoint, deployment, MAX_EXCEPTIONS),
                )
            self._since_prune += len(requests)
            if self._since_prune >= MAX_REQUESTS // 10:
                self._since_prune = 0
                self._conn.execute(
                    "DELETE FROM requests WHERE endpoint = ? AND id <= (SELECT id FROM requests "
                    "WHERE endpoint = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (self.endpoint, self.endpoint, MAX_REQUESTS),
                )
        return len(requests) + len(exceptions)

    def close(self) -> None:
        self.flush()
        with self._write_lock:
            self._conn.close()


def forget(db: Path, endpoint: str) -> None:
    """Delete every figure of ``endpoint`` (when the endpoint itself is deleted)."""
    if not db.is_file():
        return
    with closing(_connect(db)) as conn, conn:
        conn.executescript(_SCHEMA)
        for table in ("requests", "totals", "exceptions"):
            conn.execute(f"DELETE FROM {table} WHERE endpoint = ?", (endpoint,))


def _percentiles(latencies: np.ndarray) -> dict[str, float] | None:
    if latencies.size == 0:
        return None
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3)}


def summary(db: Path, endpoint: str, now_ms: int | None = None) -> dict[str, dict[str, Any]]:
    """Figures per deployment (and ``""`` for requests refused before routing).

    Each entry: ``requests``, ``failures``, ``client_errors`` (all time, live traffic),
    ``mirrored`` (all-time mirrored copies it answered), ``rate`` (requests/s over the last
    minute, mirrored copies included), ``latency_ms`` ({p50, p95, p99} over the last 5 minutes,
    or None), ``last_request`` (ms since epoch, or None).
    """
    now_ms = now_ms or int(time.time() * 1000)
    out: dict[str, dict[str, Any]] = {}

    def entry(deployment: str) -> dict[str, Any]:
        return out.setdefault(
            deployment,
            {
                "requests": 0,
                "failures": 0,
                "client_errors": 0,
                "mirrored": 0,
                "rate": 0.0,
                "latency_ms": None,
                "last_request": None,
            },
        )

    with _reader(db) as conn:
        if conn is None:
            return out
        for deployment, mirror, requests, failures, client_errors, last_ts in conn.execute(
            "SELECT deployment, mirror, requests, failures, client_errors, last_ts FROM totals "
            "WHERE endpoint = ?",
            (endpoint,),
        ):
            row = entry(deployment)
            if mirror:
                row["mirrored"] += requests
            else:
                row["requests"] += requests
                row["failures"] += failures
                row["client_errors"] += client_errors
            row["last_request"] = max(row["last_request"] or 0, last_ts)
        rows = conn.execute(
            "SELECT deployment, ts, latency FROM requests WHERE endpoint = ? AND ts >= ?",
            (endpoint, now_ms - LATENCY_WINDOW_MS),
        ).fetchall()
    by_deployment: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for deployment, ts, latency in rows:
        by_deployment[deployment].append((ts, latency))
    for deployment, items in by_deployment.items():
        data = np.asarray(items, dtype=float)
        row = entry(deployment)
        row["latency_ms"] = _percentiles(data[:, 1])
        recent = int((data[:, 0] >= now_ms - RATE_WINDOW_MS).sum())
        row["rate"] = round(recent / (RATE_WINDOW_MS / 1000), 3)
    return out


def series(
    db: Path, endpoint: str, window_s: int = 300, points: int = 60, now_ms: int | None = None
) -> dict[str, Any]:
    """Time series for charts: per deployment and time bucket, request rate, failures, latency.

    Returns ``{"bucket_s", "start", "t": [bucket start ms...], "deployments": {name: {"rate":
    [req/s], "failures": [count], "p50": [ms|None], "p95": [ms|None]}}}`` over the last
    ``window_s`` seconds in ``points`` buckets (mirrored copies included).
    """
    now_ms = now_ms or int(time.time() * 1000)
    bucket_ms = max(1000, (window_s * 1000) // points)
    start = now_ms - bucket_ms * points
    start -= start % bucket_ms
    t = [start + i * bucket_ms for i in range(points + 1)]
    result: dict[str, Any] = {
        "bucket_s": bucket_ms / 1000,
        "start": start,
        "t": t,
        "deployments": {},
    }
    with _reader(db) as conn:
        if conn is None:
            return result
        rows = conn.execute(
            "SELECT deployment, ts, latency, status FROM requests "
            "WHERE endpoint = ? AND ts >= ? AND deployment != ?",
            (endpoint, start, ENDPOINT_ROW),
        ).fetchall()
    grouped: dict[str, list[tuple[int, float, int]]] = defaultdict(list)
    for deployment, ts, latency, status in rows:
        grouped[deployment].append((ts, latency, status))
    for deployment, items in sorted(grouped.items()):
        data = np.asarray(items, dtype=float)
        index = ((data[:, 0] - start) // bucket_ms).astype(int).clip(0, points)
        rate, failures, p50, p95 = [], [], [], []
        for i in range(points + 1):
            mask = index == i
            latencies = data[mask, 1]
            rate.append(round(float(mask.sum()) / (bucket_ms / 1000), 3))
            failures.append(int((data[mask, 2] >= 500).sum()))
            pct = _percentiles(latencies)
            p50.append(pct["p50"] if pct else None)
            p95.append(pct["p95"] if pct else None)
        result["deployments"][deployment] = {
            "rate": rate,
            "failures": failures,
            "p50": p50,
            "p95": p95,
        }
    return result


def exceptions(db: Path, endpoint: str, limit: int = 20) -> list[dict[str, Any]]:
    """The last exceptions (newest first): ts, deployment, status, type, message, traceback."""
    with _reader(db) as conn:
        if conn is None:
            return []
        rows = conn.execute(
            "SELECT ts, deployment, status, type, message, traceback FROM exceptions "
            "WHERE endpoint = ? ORDER BY id DESC LIMIT ?",
            (endpoint, limit),
        ).fetchall()
    keys = ("ts", "deployment", "status", "type", "message", "traceback")
    return [dict(zip(keys, row, strict=True)) for row in rows]
