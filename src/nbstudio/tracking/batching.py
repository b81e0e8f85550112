"""Write a tracked run's ``mlflow.log_metric`` calls in batches, at a fraction of a call's cost.

A training loop logs a point per step, often thousands. Synchronous MLflow writes each point in
its own transaction (about 3 ms on SQLite); MLflow's asynchronous logging queues them, but still
spends about 0.2 ms per call building clients, futures and a thread-pool task for every point,
which caps the gain near 15x. While a tracked run is active in a thread, `MetricBatcher` takes
that thread's plain ``mlflow.log_metric`` / ``mlflow.log_metrics`` calls for the run, keeps the
points in memory (a few microseconds a call) and writes them with ``MlflowClient.log_batch``:
1,000 points at a time, and at least every second from a background thread, so live monitors
and sweep judges reading the store see points within about a second. Every point is written
before the run ends (`close`).

``mlflow.flush_async_logging()`` writes them at once, as code expects of it. Calls with anything
unusual (another run's id, a model or dataset to link, ``synchronous=``, a value that is not a
number) go to MLflow unchanged, as do calls from other threads. The wrappers around MLflow's
functions are installed once per process and only pass calls on when no run in the calling
thread is being batched.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

import mlflow
import mlflow.tracking.fluent as fluent
from mlflow import MlflowClient
from mlflow.entities import Metric

from nbstudio.tracking.mlflow_private import metric_name_validator

# MLflow's own rule for metric names, so a bad name fails in the user's call.
_validate_metric_name = metric_name_validator()

#: Points written per batch (MLflow's limit for one log_batch call).
BATCH_SIZE = 1000
#: Longest time a point waits in memory before it is written.
FLUSH_SECONDS = 1.0

_batchers: dict[int, MetricBatcher] = {}  # by thread
_install_lock = threading.Lock()
_flusher: threading.Thread | None = None


class MetricBatcher:
    """Batches the metric points one thread logs to run ``run_id``; see the module docstring.

    Example:
        >>> with MetricBatcher(client, run_id) as batcher:  # doctest: +SKIP
        ...     for step in range(10_000):
        ...         mlflow.log_metric("loss", 1 / (step + 1), step=step)
        >>> batcher.errors  # what the store refused, if anything  # doctest: +SKIP
        []
    """

    def __init__(self, client: MlflowClient, run_id: str) -> None:
        self.client = client
        self.run_id = run_id
        self.errors: list[str] = []
        self._checked: set[str] = set()
        self._points: list[Metric] = []
        self._lock = threading.Lock()  # guards _points
        self._write_lock = threading.Lock()  # one writer at a time keeps points in order
        self._thread = 0
        self._outer: MetricBatcher | None = None  # a tracked run this one is nested in

    # -- the run's side -----------------------------------------------------------------------
    def add(self, key: str, value: float, step: int, timestamp: int) -> None:
        """Take one point; a bad metric name raises here, as MLflow's own call would."""
        if key not in self._checked:
            _validate_metric_name(key)
            self._checked.add(key)
        with self._lock:
            self._points.append(Metric(key, value, timestamp, step))
            full = len(self._points) >= BATCH_SIZE
        if full:
            self.flush()

    def flush(self) -> None:
        """Write every point taken so far."""
        with self._write_lock:
            with self._lock:
                points, self._points = self._points, []
            for start in range(0, len(points), BATCH_SIZE):
                self._write(points[start : start + BATCH_SIZE])

    def _write(self, points: list[Metric]) -> None:
        # Names and values were checked when logged, so a refusal means the store itself failed
        # (unreachable, disk full): say so at the end of the run instead of losing it silently.
        try:
            self.client.log_batch(self.run_id, metrics=points, synchronous=True)
        except Exception as exc:
            message = getattr(exc, "message", None) or str(exc)
            self.errors.append(f"{len(points)} metric points not written: {message}")

    # -- lifetime -----------------------------------------------------------------------------
    def __enter__(self) -> MetricBatcher:
        _install()
        self._thread = threading.get_ident()
        with _install_lock:
            self._outer = _batchers.get(self._thread)
            _batchers[self._thread] = self
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop taking calls and write what is left (idempotent)."""
        with _install_lock:
            if _batchers.get(self._thread) is self:
                if self._outer is not None:
                    _batchers[self._thread] = self._outer
                else:
                    del _batchers[self._thread]
        self.flush()


def _flush_regularly() -> None:
    """One thread per process writes every batcher's points at least every `FLUSH_SECONDS`."""
    while True:
        time.sleep(FLUSH_SECONDS)
        with _install_lock:
            batchers = list(_batchers.values())
        for batcher in batchers:
            batcher.flush()


# -- the wrappers ------------------------------------------------------------------------------
def _batcher_for(run_id: str | None, unusual: bool) -> MetricBatcher | None:
    batcher = _batchers.get(threading.get_ident())
    if batcher is None or unusual or (run_id is not None and run_id != batcher.run_id):
        return None
    active = fluent.active_run()
    if active is None or active.info.run_id != batcher.run_id:
        return None  # the code started a run of its own (a nested child): MLflow handles it
    return batcher


def _number(value: Any) -> float | None:
    """The value as MLflow would store it, or None to let MLflow judge (and refuse) it."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# The wrappers take exactly the parameters of MLflow's functions, in the same order.
def _log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> Any:
    unusual = synchronous is not None or model_id is not None or dataset is not None
    batcher = _batcher_for(run_id, unusual)
    number = _number(value)
    if batcher is None or number is None or not isinstance(key, str):
        return _ORIGINALS[0](
            key,
            value,
            step=step,
            synchronous=synchronous,
            timestamp=timestamp,
            run_id=run_id,
            model_id=model_id,
            dataset=dataset,
        )
    batcher.add(key, number, step or 0, timestamp or int(time.time() * 1000))
    return None


def _log_metrics(
    metrics: dict[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> Any:
    unusual = synchronous is not None or model_id is not None or dataset is not None
    batcher = _batcher_for(run_id, unusual)
    numbers = {k: _number(v) for k, v in metrics.items()} if isinstance(metrics, dict) else {}
    if (
        batcher is None
        or not numbers
        or any(v is None or not isinstance(k, str) for k, v in numbers.items())
    ):
        return _ORIGINALS[1](
            metrics,
            step=step,
            synchronous=synchronous,
            run_id=run_id,
            timestamp=timestamp,
            model_id=model_id,
            dataset=dataset,
        )
    stamp = timestamp or int(time.time() * 1000)
    for key, number in numbers.items():
        batcher.add(key, number, step or 0, stamp)  # type: ignore[arg-type]
    return None


def _flush_async_logging() -> None:
    """``mlflow.flush_async_logging()`` writes the batched points too, as code expects of it."""
    batcher = _batchers.get(threading.get_ident())
    if batcher is not None:
        batcher.flush()
    _ORIGINALS[2]()


_ORIGINALS: tuple[Any, Any, Any] = (
    fluent.log_metric,
    fluent.log_metrics,
    fluent.flush_async_logging,
)
# help(mlflow.log_metric) keeps showing MLflow's documentation.
for _wrapper, _original in zip(
    (_log_metric, _log_metrics, _flush_async_logging), _ORIGINALS, strict=True
):
    functools.update_wrapper(_wrapper, _original)


def _install() -> None:
    """Put the wrappers in place of MLflow's fluent functions (again, if someone restored them).

    Other wrappers installed later (the sweep's report hook) call these as the originals.
    """
    global _flusher
    with _install_lock:
        if _flusher is None or not _flusher.is_alive():  # none yet, or lost in a fork
            _flusher = threading.Thread(
                target=_flush_regularly, name="nbstudio-metrics", daemon=True
            )
            _flusher.start()
        if mlflow.log_metric is not _log_metric and mlflow.log_metric is _ORIGINALS[0]:
            mlflow.log_metric = fluent.log_metric = _log_metric
        if mlflow.log_metrics is not _log_metrics and mlflow.log_metrics is _ORIGINALS[1]:
            mlflow.log_metrics = fluent.log_metrics = _log_metrics
        if mlflow.flush_async_logging is _ORIGINALS[2]:
            mlflow.flush_async_logging = fluent.flush_async_logging = _flush_async_logging
