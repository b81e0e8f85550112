"""Stop a trial running in this process: at its next metric report, or when its time is up.

A trial body only calls ``mlflow.log_metric``; it knows nothing of policies. While a trial runs,
`report_hook` listens, through the one hook on MLflow's functions (`tracking.hook`), to the
trial's thread: each report of the primary metric is first logged as usual and then judged; a
decision to stop raises `TrialStopped` right there, inside the trial's code, so the trial stops
within the same call.

A trial that stops reporting (a long ``fit``) cannot be stopped at a report, so `Watchdog` raises
`TrialStopped` asynchronously in the trial's thread when its deadline passes. Python delivers
such an exception between bytecodes: code blocked in a C call (a long ``numpy`` operation,
``time.sleep``) is stopped when that call returns. No library offers this for code that must
keep running in the kernel's own thread (signals only reach the main thread, and a trial may run
in a worker's thread), so it is done here with ``PyThreadState_SetAsyncExc``.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from nbstudio.tracking import RunTerminated, hook

# Called with the trial's reports so far after each report; returns a reason to stop, or None.
OnReport = Callable[[list[float]], str | None]


class TrialStopped(RunTerminated):
    """Stops a trial; shown by IPython as one line, not a traceback."""

    def __init__(self, reason: str = "trial_timeout") -> None:
        super().__init__(reason)

    def _render_traceback_(self) -> list[str]:
        return [f"Trial stopped early by {self.reason}."]


class TrialTimedOut(TrialStopped):
    """Raised asynchronously by `Watchdog` (async exceptions are raised without arguments)."""

    def __init__(self) -> None:
        super().__init__("trial_timeout")


class SweepTimedOut(TrialStopped):
    """The whole sweep's timeout passed while the trial ran."""

    def __init__(self) -> None:
        super().__init__("timeout")


@contextlib.contextmanager
def report_hook(run_id: str, metric: str, on_report: OnReport) -> Iterator[list[float]]:
    """Within the block, judge every report of ``metric`` to run ``run_id`` from this thread.

    Yields the list of reported values (the trial's history), filled as reports arrive.
    Reports by other threads or to other runs pass through untouched.
    """
    values: list[float] = []

    def judge(value: Any) -> None:
        try:
            values.append(float(value))
        except (TypeError, ValueError):
            return
        reason = on_report(values)
        if reason is not None:
            raise TrialStopped(reason)

    with hook.listen(run_id, metric, judge):
        yield values


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exc) if exc is not None else None
    )


class Watchdog:
    """Raise ``exc`` in the calling thread if the block is still running at ``deadline``.

    ``deadline`` is a `time.monotonic` value, or None for no deadline. Leaving the block disarms
    the watchdog and clears an exception that was set but not yet delivered.
    """

    def __init__(self, deadline: float | None, exc: type[TrialStopped] = TrialTimedOut) -> None:
        self._deadline = deadline
        self._exc = exc
        self._lock = threading.Lock()
        self._armed = False
        self._fired = False
        self._done = threading.Event()
        self._thread_id = 0

    def __enter__(self) -> Watchdog:
        if self._deadline is None:
            return self
        self._thread_id = threading.get_ident()
        self._armed = True
        threading.Thread(target=self._watch, name="nbstudio-trial-watchdog", daemon=True).start()
        return self

    def _watch(self) -> None:
        assert self._deadline is not None
        if self._done.wait(max(0.0, self._deadline - time.monotonic())):
            return
        with self._lock:
            if self._armed:
                self._fired = True
                _set_async_exc(self._thread_id, self._exc)

    def __exit__(self, *exc_info: object) -> None:
        if self._deadline is None:
            return
        self._done.set()
        with self._lock:
            self._armed = False
            if self._fired:
                _set_async_exc(self._thread_id, None)  # not yet delivered: drop it


def earliest(*deadlines: tuple[float | None, type[TrialStopped]]) -> tuple[float | None, Any]:
    """The earliest of several (deadline, exception) pairs, ignoring None deadlines."""
    found = [d for d in deadlines if d[0] is not None]
    if not found:
        return None, TrialTimedOut
    return min(found, key=lambda d: d[0])  # type: ignore[arg-type, return-value]
