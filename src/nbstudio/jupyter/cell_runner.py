"""Run a notebook cell through IPython as a tracked MLflow run.

The cell runs with ``shell.run_cell`` rather than ``exec`` so it behaves exactly as it would without
the magic: its last expression is displayed, magics and ``!commands`` inside it work, and a failing
cell shows its own clean traceback. The exception is then raised again so that the notebook stops
(Run All, nbclient), with a one-line note instead of a second copy of the traceback.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from IPython.display import display

from nbstudio.tracking import RunResult, RunSpec, TrackedRun


def _silence_second_traceback(exc: BaseException, result: RunResult) -> None:
    note = f"{type(exc).__name__}: run {result.run_name!r} ended {result.status} (see above)"
    # An exception type without __dict__ refuses the attribute: IPython then shows it again.
    with contextlib.suppress(AttributeError, TypeError):
        exc._render_traceback_ = lambda: [note]  # type: ignore[attr-defined]


class _QuietDisplayHook:
    """Hide the ``RunOperations`` handles that asynchronous ``mlflow.log_*`` calls return.

    Without the magic those calls return None, so a cell ending in ``mlflow.log_metric(...)`` shows
    nothing; with asynchronous logging on it would show a handle. Everything else passes through.
    """

    def __init__(self, hook: Any) -> None:
        self._hook = hook

    def __call__(self, value: Any) -> Any:
        from mlflow.utils.async_logging.run_operations import RunOperations

        if isinstance(value, RunOperations):
            return None
        return self._hook(value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hook, name)


def run_cell_tracked(shell: Any, cell: str, spec: RunSpec, show_summary: bool = True) -> RunResult:
    """Run ``cell`` in ``shell`` as the MLflow run described by ``spec``; return its result."""
    tracked = TrackedRun(spec)
    error: BaseException | None = None
    try:
        with tracked:
            saved_hook, sys.displayhook = sys.displayhook, _QuietDisplayHook(sys.displayhook)
            try:
                outcome = shell.run_cell(cell, store_history=False)
            finally:
                sys.displayhook = saved_hook
            error = outcome.error_before_exec or outcome.error_in_exec
            if error is not None:
                raise error
    except BaseException as exc:
        if tracked.result is None or exc is not error:
            raise  # nbstudio could not start or end the run: not the cell's own error
        if show_summary:
            display(tracked.result)
        _silence_second_traceback(exc, tracked.result)
        raise
    assert tracked.result is not None
    if show_summary:
        display(tracked.result)
    return tracked.result
