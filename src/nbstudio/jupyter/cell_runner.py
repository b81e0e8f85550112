"""Run a notebook cell through IPython as a tracked MLflow run.

The cell runs with ``shell.run_cell`` rather than ``exec`` so it behaves exactly as it would without
the magic: its last expression is displayed, magics and ``!commands`` inside it work, and a failing
cell shows its own clean traceback, numbered as the cell. The exception is then raised again so
that the notebook stops (Run All, nbclient), without a second copy of the traceback.

A cell sent to a compute target (`run_compute_cell`) gets the same live monitor: its run is created
by the kernel before the cell leaves, and the worker writes to the same store the monitor polls.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from IPython.display import display

from nbstudio.jupyter.cell_info import numbered_as_outer_cell
from nbstudio.tracking import RunResult, RunSpec, TrackedRun

if TYPE_CHECKING:
    from nbstudio.compute.cells import RemoteCell


def _silence_second_traceback(exc: BaseException) -> None:
    """The cell showed its traceback, and the run's end state says how it ended: re-raised
    (so Run All stops), the exception adds nothing more to the output."""
    # An exception type without __dict__ refuses the attribute: IPython then shows it again.
    with contextlib.suppress(AttributeError, TypeError):
        exc._render_traceback_ = list  # type: ignore[attr-defined]


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
    shell: Any,
    cell: str,
    spec: RunSpec,
    show_summary: bool = True,
    monitor: bool = False,
    after: Callable[[], Any] | None = None,
) -> RunResult:
    """Run ``cell`` in ``shell`` as the MLflow run described by ``spec``; return its result.

    With ``monitor`` (and a kernel to show widgets in) a live `RunMonitor` is shown above the
    cell's output and its final state replaces the text summary. ``after`` runs inside the run
    once the cell has succeeded (``--evaluate``).
    """
    tracked = TrackedRun(spec)
    error: BaseException | None = None
    live = None
    try:
        with tracked:
            if monitor and _has_frontend(shell):
                live = _start_monitor(tracked.run_id)
            saved_hook, sys.displayhook = sys.displayhook, _QuietDisplayHook(sys.displayhook)
            try:
                with numbered_as_outer_cell(shell):
                    outcome = shell.run_cell(cell, store_history=False)
            finally:
                sys.displayhook = saved_hook
            error = outcome.error_before_exec or outcome.error_in_exec
            if error is not None:
                raise error
            if after is not None:
                after()
    except BaseException as exc:
        if tracked.result is None:
            raise  # nbstudio could not start the run
        _show_end(tracked.result, live, show_summary)
        if exc is error:
            _silence_second_traceback(exc)
        raise  # the cell's own error, or the run's end found data the store refused
    assert tracked.result is not None
    _show_end(tracked.result, live, show_summary)
    return tracked.result


def run_compute_cell(
    shell: Any, target: str, cell: str, spec: RunSpec, wait: bool = True, monitor: bool = False
) -> RemoteCell:
    """Run ``cell`` on compute target ``target`` as the run ``spec`` (see `compute.cells`).

    Waiting, the cell's output streams in as it is printed and, with ``monitor`` (and a kernel to
    show widgets in), a live `RunMonitor` of its run is shown above it from the moment the cell is
    sent until its final state replaces it, as for a cell run in the kernel. Without ``wait`` the
    handle is returned at once.
    """
    from nbstudio.compute.cells import run_cell

    source = shell.transform_cell(cell)
    remote = run_cell(target, source, shell.user_ns, spec, wait=False)
    if not wait:
        return remote
    try:
        live = _start_monitor(remote.run_id) if monitor and _has_frontend(shell) else None
    except KeyboardInterrupt:  # e.g. while plotly loads (seconds): the cell stops too
        remote.interrupt()
        raise
    try:
        result = remote.wait(show=display, echo=True, show_result=live is None)
    except BaseException as exc:
        if live is not None:
            ended = remote.result
            error = ended.error if ended is not None else _one_line(exc)
            _finish_monitor(live, error)
        raise
    _show_end(result, live, show_summary=True)
    return remote


def _has_frontend(shell: Any) -> bool:
    """A kernel, hence a frontend that can show widgets (not a terminal IPython)."""
    return getattr(shell, "kernel", None) is not None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


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
    if live is not None and _finish_monitor(live, result.error):
        return
    if show_summary:
        display(result)


def _finish_monitor(live: Any, error: str | None) -> bool:
    """Replace the monitor by the run's final state; False (with a warning) if that failed."""
    try:
        live.finish(error)
        return True
    except Exception as exc:
        warnings.warn(f"nbstudio: cannot show the run's final state ({exc})", stacklevel=3)
        return False


@contextlib.contextmanager
def monitor_while(shell: Any, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    """For work that creates its run itself (an AutoML job): yields ``follow(run_id)``, which
    shows the run's live monitor; on the way out the monitor shows the run's final state."""
    monitors: list[Any] = []

    def follow(run_id: str) -> None:
        if enabled and _has_frontend(shell) and not monitors:
            live = _start_monitor(run_id)
            if live is not None:
                monitors.append(live)

    try:
        yield follow
    except BaseException as exc:
        for live in monitors:
            _finish_monitor(live, _one_line(exc))
        raise
    for live in monitors:
        _finish_monitor(live, None)
