"""Run a notebook cell through IPython as a tracked MLflow run.

The cell runs with ``shell.run_cell`` rather than ``exec`` so it behaves exactly as it would without
the magic: its last expression is displayed, magics and ``!commands`` inside it work, and a failing
cell shows its own clean traceback. The exception is then raised again so that the notebook stops
(Run All, nbclient), with a one-line note instead of a second copy of the traceback.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
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


def run_cell_tracked(
    shell: Any, cell: str, spec: RunSpec, show_summary: bool = True, monitor: bool = False
) -> RunResult:
    """Run ``cell`` in ``shell`` as the MLflow run described by ``spec``; return its result.

    With ``monitor`` (and a kernel to show widgets in) a live `RunMonitor` is shown above the
    cell's output and its final state replaces the text summary.
    """
    tracked = TrackedRun(spec)
    error: BaseException | None = None
    live = None
    try:
        with tracked:
            if monitor and getattr(shell, "kernel", None) is not None:
                live = _start_monitor(tracked.run_id)
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
        _show_end(tracked.result, live, show_summary)
        _silence_second_traceback(exc, tracked.result)
        raise
    assert tracked.result is not None
    _show_end(tracked.result, live, show_summary)
    return tracked.result


def _start_monitor(run_id: str | None) -> Any:
    """Display the live monitor; a monitor that cannot start never stops the run itself."""
    from nbstudio.jupyter.widgets.live import follow_cell_run

    try:
        return follow_cell_run(run_id or "")
    except Exception as exc:
        warnings.warn(f"nbstudio: the live monitor is off for this run ({exc})", stacklevel=2)
        return None


def _show_end(result: RunResult, live: Any, show_summary: bool) -> None:
    """The monitor's final state in place of the widget, else the text summary."""
    if live is not None:
        try:
            live.finish(result.error)
            return
        except Exception as exc:
            warnings.warn(f"nbstudio: cannot show the run's final state ({exc})", stacklevel=2)
    if show_summary:
        display(result)
