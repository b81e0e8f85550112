"""What runs inside a Dask worker: open the kernel's workspace, route output, honour cancellation.

Every cell and every trial sent to a compute target goes through `run_task`, which

1. opens the same workspace as the kernel that sent it (folder, tracking URI, working directory),
   so ``TrackedRun`` on the worker logs to the kernel's tracking store and relative paths in the
   code mean what they mean in the notebook;
2. sends what the code prints back to that kernel while it runs (Dask's event stream), if asked;
3. registers the running thread so that `interrupt` can stop it: Dask cannot cancel a running
   task, so the early-termination decision of a sweep (or a user's interrupt) is delivered as a
   `RunTerminated` raised inside the task's thread (CPython's ``PyThreadState_SetAsyncExc``). It
   lands at the next Python instruction: a trial that is inside one long C call (``time.sleep(60)``,
   a big matrix product) stops when that call returns.

This module is imported on workers, and by the scheduler when it unpickles a task: it imports
nothing heavy at module level (MLflow loads inside the task), and the task's own function and
arguments travel as one pickled blob that only the worker opens.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbstudio.tracking.run import RunTerminated

OUTPUT_FLUSH_CHARS = 4096


@dataclass(frozen=True)
class TaskContext:
    """Where the kernel that sent a task lives, and how to reach it back.

    ``output_topic`` is the Dask event topic the kernel listens on for this task's printed output
    (None: keep the output, send it with the result only).
    """

    task_id: str
    workspace_root: str
    tracking_uri: str
    cwd: str
    output_topic: str | None = None


@dataclass
class TaskOutcome:
    """What `run_task` returns: the function's value, or how it was stopped, plus its output."""

    value: Any = None
    terminated: str | None = None
    output: str = ""


# -- the workspace ---------------------------------------------------------------------------------
_opened: tuple[str, str] | None = None
_open_lock = threading.Lock()


def open_workspace(ctx: TaskContext) -> None:
    """Point this worker process at the kernel's workspace (once per workspace, not per task)."""
    global _opened
    from nbstudio.session import reset_session

    with _open_lock:
        key = (ctx.workspace_root, ctx.tracking_uri)
        if _opened != key:
            # The kernel's tracking URI wins over whatever this worker's environment says. The
            # session opens (importing MLflow) when the task first uses it, e.g. in TrackedRun:
            # a task that logs nothing does not pay for it.
            os.environ["MLFLOW_TRACKING_URI"] = ctx.tracking_uri
            reset_session(Path(ctx.workspace_root))
            _opened = key
    if ctx.cwd and os.path.isdir(ctx.cwd):
        if os.getcwd() != ctx.cwd:
            os.chdir(ctx.cwd)
        if ctx.cwd not in sys.path:
            sys.path.insert(0, ctx.cwd)  # the notebook's own modules import as in the kernel


# -- output ----------------------------------------------------------------------------------------
_sinks: dict[int, Any] = {}


class _ThreadRouter(io.TextIOBase):
    """Stands in for ``sys.stdout``/``sys.stderr``: a task thread's writes go to its own sink.

    Installed once per worker process, so tasks in other threads (and Dask's own logging) keep
    writing where they did.
    """

    def __init__(self, stream: Any, fileno: int) -> None:
        self._stream = stream
        self._fileno = fileno

    def write(self, text: str) -> int:
        sink = _sinks.get(threading.get_ident())
        if sink is None:
            return self._stream.write(text)
        return sink.write(self._fileno, text)

    def flush(self) -> None:
        sink = _sinks.get(threading.get_ident())
        if sink is not None:
            sink.flush()
        else:
            self._stream.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _OutputSink:
    """Keeps a task's output and, if the kernel listens, forwards it line by line."""

    def __init__(self, ctx: TaskContext) -> None:
        self._topic = ctx.output_topic
        self._task_id = ctx.task_id
        self._all = io.StringIO()
        self._pending: list[tuple[int, str]] = []
        self._pending_chars = 0
        self._worker: Any = None
        if self._topic is not None:
            from distributed import get_worker

            self._worker = get_worker()

    def write(self, fileno: int, text: str) -> int:
        self._all.write(text)
        if self._worker is not None:
            self._pending.append((fileno, text))
            self._pending_chars += len(text)
            if "\n" in text or self._pending_chars > OUTPUT_FLUSH_CHARS:
                self.flush()
        return len(text)

    def flush(self) -> None:
        if not self._pending:
            return
        chunks, self._pending, self._pending_chars = self._pending, [], 0
        merged: list[list[Any]] = []
        for fileno, text in chunks:
            if merged and merged[-1][0] == fileno:
                merged[-1][1] += text
            else:
                merged.append([fileno, text])
        self._worker.log_event(self._topic, {"task": self._task_id, "chunks": merged})

    @property
    def text(self) -> str:
        return self._all.getvalue()


@contextlib.contextmanager
def routed_output(ctx: TaskContext) -> Iterator[_OutputSink]:
    for name, fileno in (("stdout", 1), ("stderr", 2)):
        if not isinstance(getattr(sys, name), _ThreadRouter):
            setattr(sys, name, _ThreadRouter(getattr(sys, name), fileno))
    sink = _OutputSink(ctx)
    ident = threading.get_ident()
    _sinks[ident] = sink
    try:
        yield sink
    finally:
        _sinks.pop(ident, None)
        sink.flush()


# -- cancellation ----------------------------------------------------------------------------------
@dataclass
class _Running:
    """A task this process runs. ``armed``: inside ``fn``, where an exception may be raised."""

    thread_id: int
    lock: threading.Lock
    armed: bool = False
    finished: bool = False
    fired: bool = False
    stop_reason: str | None = None


_running: dict[str, _Running] = {}


def _register(task_id: str) -> _Running:
    entry = _Running(thread_id=threading.get_ident(), lock=threading.Lock())
    _running[task_id] = entry
    return entry


def _terminated_type(reason: str) -> type[RunTerminated]:
    from nbstudio.tracking.run import RunTerminated

    # The C API raises an exception *type* (it is called without arguments), so the reason is
    # baked into a subclass that TrackedRun still recognises as RunTerminated.
    def __init__(self: RunTerminated) -> None:
        RunTerminated.__init__(self, reason)

    return type("RunTerminated", (RunTerminated,), {"__init__": __init__})


def interrupt(task_id: str, reason: str) -> bool:
    """Stop ``task_id`` if this process runs it: True if it was found and not yet finished.

    Inside ``fn`` it gets ``RunTerminated(reason)`` raised in its thread; before ``fn`` started
    (the worker still opening the workspace) ``fn`` is never called. Called on every worker by
    ``Client.run`` (in the worker's event loop, not a task thread), or directly for local trials.
    """
    entry = _running.get(task_id)
    if entry is None or not entry.lock.acquire(timeout=1.0):
        return False
    try:
        if entry.finished or entry.stop_reason is not None:
            return False
        entry.stop_reason = reason
        if entry.armed:
            fired = ctypes.pythonapi.PyThreadState_SetAsyncExc(
                ctypes.c_ulong(entry.thread_id), ctypes.py_object(_terminated_type(reason))
            )
            entry.fired = fired == 1
        return True
    finally:
        entry.lock.release()


def _absorb_pending() -> None:
    """Give an already-fired asynchronous exception a place to land inside our own try block."""
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        time.sleep(0.001)


def run_interruptible(
    task_id: str, fn: Callable[..., Any], args: tuple, kwargs: dict[str, Any]
) -> tuple[Any, str | None]:
    """``(fn(*args, **kwargs), None)``, or ``(None, reason)`` if `interrupt` stopped it.

    Used directly for trials on ``local`` (threads of the kernel) and through `run_task` on
    workers. Exceptions from ``fn`` other than `RunTerminated` propagate.
    """
    from nbstudio.tracking.run import RunTerminated

    entry = _running.get(task_id) or _register(task_id)
    try:
        try:
            with entry.lock:
                if entry.stop_reason is not None:
                    return None, entry.stop_reason
                entry.armed = True
            try:
                value = fn(*args, **kwargs)
            finally:
                with entry.lock:
                    entry.armed = False
                    entry.finished = True
            if entry.fired:
                _absorb_pending()
        except RunTerminated as exc:
            return None, exc.reason
    finally:
        _running.pop(task_id, None)
    return value, None


def _announce(ctx: TaskContext) -> None:
    """Tell the kernel which process runs the task, so it can fail the run if that process dies.

    The kernel matches it with the owner tags TrackedRun puts on every run (host, pid, start).
    """
    if ctx.output_topic is None:
        return
    import psutil
    from distributed import get_worker

    me = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": psutil.Process().create_time(),
    }
    get_worker().log_event(ctx.output_topic, {"task": ctx.task_id, "started": me})


def run_task(ctx: TaskContext, payload: bytes) -> TaskOutcome:
    """Run the pickled ``(fn, args, kwargs)`` on this worker for the kernel described by ``ctx``.

    Returns a `TaskOutcome`; an exception from ``fn`` propagates (Dask sends it to the kernel),
    except `RunTerminated`, which becomes ``outcome.terminated`` (Dask does not pass
    BaseExceptions on faithfully).
    """
    import cloudpickle

    _register(ctx.task_id)  # first of all, so a cancel arriving from now on is never missed
    try:
        open_workspace(ctx)
        _announce(ctx)
        fn, args, kwargs = cloudpickle.loads(payload)
        with routed_output(ctx) as sink:
            value, terminated = run_interruptible(ctx.task_id, fn, args, kwargs)
    finally:
        _running.pop(ctx.task_id, None)
    return TaskOutcome(value=value, terminated=terminated, output=sink.text)
