"""The one hook on MLflow's fluent logging functions, installed once per process.

A tracked run changes what a user's plain ``mlflow.log_*`` calls cost, not what they mean: its
metric points are kept in memory and written in batches (`tracking.batching`), its params and
tags go to MLflow's asynchronous queue, and a sweep trial judges every report of its primary
metric the moment it is logged. All three need to see the same calls, so one set of wrappers is
put in place of MLflow's functions the first time anything asks (the extension's warm-up, or
the first tracked run) and stays there. Each call is routed by the calling thread: to the
`RunSink` a tracked run attached in that thread, when the call is for that run; to MLflow
unchanged otherwise (other threads, another run's id, a nested child run the code started
itself, or anything unusual: ``synchronous=``, a model or dataset to link, a value that is not a
number).

Nothing here changes environment variables per run: asynchronous params and tags are asked of
MLflow per call (``synchronous=False``), so a run in one thread never changes how another
thread's calls are written. The one process-wide setting, made once at install, is MLflow's
async buffering interval (see `_BUFFER_ENV`).
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import mlflow
import mlflow.tracking.fluent as fluent
from mlflow import MlflowClient

from nbstudio.tracking.batching import FLUSH_SECONDS, MetricBatcher

# Without a buffering interval MLflow's async queue thread waits up to a second for work and
# ending a run joins it, so every run that logged a param would end a second late; with one it
# waits on an event that ending a run sets, and merges what arrived meanwhile into one write.
# Set once, when the hook is installed, and only if the user has not chosen a value.
_BUFFER_ENV = "MLFLOW_ASYNC_LOGGING_BUFFERING_SECONDS"
_BUFFER_SECONDS = "1"

#: Called with each value logged for a listened-to metric; may raise to stop the run's code.
Listener = Callable[[Any], None]


class RunSink:
    """Where one thread's calls for one tracked run go while it is attached.

    Attached by `attach`, detached (and its points written) by `close`.
    """

    def __init__(self, client: MlflowClient, run_id: str) -> None:
        self.run_id = run_id
        self.batcher = MetricBatcher(client, run_id)
        self.thread = threading.get_ident()
        self.outer: RunSink | None = None  # a tracked run this one is nested in

    @property
    def errors(self) -> list[str]:
        """What the store refused of this run's metric points."""
        return self.batcher.errors

    def close(self) -> None:
        """Stop taking calls and write every point taken (idempotent)."""
        with _lock:
            if _sinks.get(self.thread) is self:
                if self.outer is not None:
                    _sinks[self.thread] = self.outer
                else:
                    del _sinks[self.thread]
        self.batcher.flush()


_sinks: dict[int, RunSink] = {}  # by thread
_listeners: dict[int, tuple[str, str, Listener]] = {}  # by thread: run id, metric, listener
_lock = threading.Lock()
_flusher: threading.Thread | None = None
_installed = False


def attach(client: MlflowClient, run_id: str) -> RunSink:
    """Route this thread's calls for run ``run_id`` to a new sink until it is closed."""
    install()
    sink = RunSink(client, run_id)
    with _lock:
        sink.outer = _sinks.get(sink.thread)
        _sinks[sink.thread] = sink
    return sink


@contextmanager
def listen(run_id: str, metric: str, listener: Listener) -> Iterator[None]:
    """Within the block, call ``listener`` with each value of ``metric`` logged to ``run_id``
    from this thread, right after it is logged (an exception it raises reaches the caller)."""
    install()
    thread = threading.get_ident()
    with _lock:
        _listeners[thread] = (run_id, metric, listener)
    try:
        yield
    finally:
        with _lock:
            _listeners.pop(thread, None)


def install() -> None:
    """Put the wrappers in place of MLflow's fluent functions, once per process (and again if
    something restored MLflow's own); start the thread that writes batched points."""
    global _flusher, _installed
    with _lock:
        if _flusher is None or not _flusher.is_alive():  # none yet, or lost in a fork
            _flusher = threading.Thread(
                target=_flush_regularly, name="nbstudio-metrics", daemon=True
            )
            _flusher.start()
        if not _installed:
            os.environ.setdefault(_BUFFER_ENV, _BUFFER_SECONDS)
            _installed = True
        for name, wrapper in _WRAPPERS.items():
            if getattr(fluent, name) is not wrapper:
                setattr(fluent, name, wrapper)
            if getattr(mlflow, name) is not wrapper:
                setattr(mlflow, name, wrapper)


def _flush_regularly() -> None:
    """Write every sink's points at least every `FLUSH_SECONDS`, so monitors see them live."""
    while True:
        time.sleep(FLUSH_SECONDS)
        with _lock:
            sinks = list(_sinks.values())
        for sink in sinks:
            sink.batcher.flush()


# -- routing -----------------------------------------------------------------------------------
def _active_run_id() -> str | None:
    active = fluent.active_run()
    return None if active is None else active.info.run_id


def _sink_for(run_id: str | None) -> RunSink | None:
    """This thread's sink, if the call (for ``run_id``, or the active run) is for its run."""
    sink = _sinks.get(threading.get_ident())
    if sink is None or (run_id is not None and run_id != sink.run_id):
        return None
    if _active_run_id() != sink.run_id:
        return None  # the code started a run of its own (a nested child): MLflow handles it
    return sink


def _tell_listener(run_id: str | None, values: dict[str, Any]) -> None:
    listening = _listeners.get(threading.get_ident())
    if listening is None:
        return
    run, metric, listener = listening
    if metric in values and (run_id or _active_run_id()) == run:
        listener(values[metric])


def _number(value: Any) -> float | None:
    """The value as MLflow would store it, or None to let MLflow judge (and refuse) it."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# -- the wrappers: exactly the parameters of MLflow's functions, in the same order ----------------
_MLFLOW: dict[str, Any] = {
    name: getattr(fluent, name)
    for name in (
        "log_metric",
        "log_metrics",
        "log_param",
        "log_params",
        "set_tag",
        "set_tags",
        "flush_async_logging",
    )
}


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
    usual = synchronous is None and model_id is None and dataset is None
    sink = _sink_for(run_id) if usual else None
    number = _number(value)
    if sink is None or number is None or not isinstance(key, str):
        result = _MLFLOW["log_metric"](
            key,
            value,
            step=step,
            synchronous=synchronous,
            timestamp=timestamp,
            run_id=run_id,
            model_id=model_id,
            dataset=dataset,
        )
    else:
        sink.batcher.add(key, number, step or 0, timestamp or int(time.time() * 1000))
        result = None
    _tell_listener(run_id, {key: value})
    return result


def _log_metrics(
    metrics: dict[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> Any:
    usual = synchronous is None and model_id is None and dataset is None
    sink = _sink_for(run_id) if usual else None
    numbers = {k: _number(v) for k, v in metrics.items()} if isinstance(metrics, dict) else {}
    if (
        sink is None
        or not numbers
        or any(v is None or not isinstance(k, str) for k, v in numbers.items())
    ):
        result = _MLFLOW["log_metrics"](
            metrics,
            step=step,
            synchronous=synchronous,
            run_id=run_id,
            timestamp=timestamp,
            model_id=model_id,
            dataset=dataset,
        )
    else:
        stamp = timestamp or int(time.time() * 1000)
        for key, number in numbers.items():
            sink.batcher.add(key, number, step or 0, stamp)  # type: ignore[arg-type]
        result = None
    if isinstance(metrics, dict):
        _tell_listener(run_id, metrics)
    return result


def _asynchronous_inside_runs(name: str, positional: int) -> Callable[..., Any]:
    """A wrapper asking MLflow to queue the call (``synchronous=False``) when it is for the
    calling thread's tracked run and the caller did not choose; MLflow's function otherwise."""
    original = _MLFLOW[name]

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if (
            len(args) <= positional
            and kwargs.get("synchronous") is None
            and _sink_for(kwargs.get("run_id")) is not None
        ):
            kwargs["synchronous"] = False
        return original(*args, **kwargs)

    return wrapper


def _flush_async_logging() -> None:
    """``mlflow.flush_async_logging()`` writes the batched points too, as code expects of it."""
    sink = _sinks.get(threading.get_ident())
    if sink is not None:
        sink.batcher.flush()
    _MLFLOW["flush_async_logging"]()


_WRAPPERS: dict[str, Callable[..., Any]] = {
    "log_metric": _log_metric,
    "log_metrics": _log_metrics,
    "flush_async_logging": _flush_async_logging,
}
for _name, _positional in (("log_param", 2), ("log_params", 1), ("set_tag", 2), ("set_tags", 1)):
    # Only where this MLflow lets a call ask for asynchronous writing.
    if "synchronous" in inspect.signature(_MLFLOW[_name]).parameters:
        _WRAPPERS[_name] = _asynchronous_inside_runs(_name, _positional)
# help(mlflow.log_metric) keeps showing MLflow's documentation.
for _name, _wrapper in _WRAPPERS.items():
    functools.update_wrapper(_wrapper, _MLFLOW[_name])
