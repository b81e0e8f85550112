"""The seam between the sweep controller and compute targets: submit a trial, cancel it.

The sweep engine does not need to know where trials run. It asks `executor_for(target)` for an
executor, submits each trial as a callable, and polls or waits on the returned `TrialHandle`:

    executor = executor_for("cpu")  # or "local"
    handles = [executor.submit(run_trial, params) for params in first_batch]  # <= executor.slots
    ...
    handle.cancel("early-termination")  # the policy decided; the trial stops within ~1 s
    try:
        value = handle.result()
    except RunTerminated as stop:  # it was cancelled (stop.reason)
        ...
    except WorkerLostError:  # its worker died: retry it once, then count it failed
        ...
    executor.close()

Contract, the same for every target:

- ``fn(*args, **kwargs)`` runs with the kernel's workspace open, so ``TrackedRun`` inside it logs
  to the kernel's tracking store; give it ``RunSpec(parent_run_id=...)`` explicitly (the parent
  run is not active on a worker). On a Dask target ``fn`` and its arguments travel with
  cloudpickle and ``fn`` runs on a worker, one trial per node thread; on ``local`` it runs in a
  thread of this process.
- `TrialHandle.cancel` stops a queued trial before it starts, and raises `RunTerminated(reason)`
  inside a running one (at its next Python instruction; ``TrackedRun`` then ends its run KILLED
  with ``nbstudio.terminated_by=reason``).
- `TrialHandle.result` returns ``fn``'s value or raises what it raised; `RunTerminated` once
  cancelled; `WorkerLostError` if the worker died (the runs it left RUNNING are already marked
  FAILED with ``nbstudio.terminated_by=worker-lost``).
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from nbstudio.compute import worker
from nbstudio.compute.errors import ComputeError
from nbstudio.compute.records import LOCAL
from nbstudio.compute.remote import RemoteTask
from nbstudio.tracking.run import RunTerminated


class TrialHandle:
    """One submitted trial; see the module docstring for the contract."""

    task_id: str

    def done(self) -> bool:
        raise NotImplementedError

    @property
    def started(self) -> bool:
        """True once the trial runs (it was not just queued)."""
        raise NotImplementedError

    def result(self, timeout: float | None = None) -> Any:
        raise NotImplementedError

    def cancel(self, reason: str = "early-termination") -> bool:
        raise NotImplementedError

    def __repr__(self) -> str:
        state = "done" if self.done() else "running" if self.started else "queued"
        return f"<trial {self.task_id[:8]}: {state}>"


class _LocalHandle(TrialHandle):
    def __init__(
        self, future: concurrent.futures.Future, task_id: str, started: threading.Event
    ) -> None:
        self._future = future
        self.task_id = task_id
        self._started = started
        self._cancelled: str | None = None

    def done(self) -> bool:
        return self._future.done()

    @property
    def started(self) -> bool:
        return self._started.is_set()

    def result(self, timeout: float | None = None) -> Any:
        try:
            value, terminated = self._future.result(timeout)
        except concurrent.futures.CancelledError:
            raise RunTerminated(self._cancelled or "cancelled") from None
        if terminated is not None:
            raise RunTerminated(terminated)
        return value

    def cancel(self, reason: str = "early-termination") -> bool:
        if self._future.done():
            return False
        self._cancelled = reason
        if self._future.cancel():
            return True
        # Running: it may be between starting and registering; try for a moment.
        for _ in range(100):
            if worker.interrupt(self.task_id, reason) or self._future.done():
                return True
            time.sleep(0.01)
        return False


class _DaskHandle(TrialHandle):
    def __init__(self, task: RemoteTask) -> None:
        self._task = task
        self.task_id = task.task_id

    def done(self) -> bool:
        return self._task.done()

    @property
    def started(self) -> bool:
        return self._task.started

    def result(self, timeout: float | None = None) -> Any:
        outcome = self._task.outcome(timeout=timeout)
        if outcome.terminated is not None:
            raise RunTerminated(outcome.terminated)
        return outcome.value

    def cancel(self, reason: str = "early-termination") -> bool:
        return self._task.cancel(reason)


class Executor:
    """Runs trial callables on one compute target; ``slots`` of them at once make sense."""

    target: str
    slots: int

    @property
    def max_concurrency(self) -> int:
        """``slots`` under the name `nbstudio.sweep.executor.TrialExecutor` expects."""
        return self.slots

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> TrialHandle:
        raise NotImplementedError

    def close(self) -> None:
        """Stop accepting trials (running ones are left to finish or be cancelled)."""


class LocalExecutor(Executor):
    """Trials in threads of this process (the ``local`` target)."""

    def __init__(self, max_workers: int = 1) -> None:
        self.target = LOCAL
        self.slots = max(1, max_workers)
        self._pool = concurrent.futures.ThreadPoolExecutor(
            self.slots, thread_name_prefix="nbstudio-trial"
        )

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> TrialHandle:
        task_id = uuid.uuid4().hex
        started = threading.Event()

        def run() -> tuple[Any, str | None]:
            started.set()
            return worker.run_interruptible(task_id, fn, args, kwargs)

        return _LocalHandle(self._pool.submit(run), task_id, started)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=False)


class DaskExecutor(Executor):
    """Trials as tasks on a Dask target (a managed cluster or an attached scheduler)."""

    def __init__(self, target: str) -> None:
        from nbstudio.compute.targets import require_running

        info = require_running(target)
        if info.address is None:
            raise ComputeError(f"Compute target {target!r} has no scheduler address.")
        self.target = target
        self._address = info.address
        if info.max_nodes is not None and info.threads_per_node is not None:
            self.slots = info.max_nodes * info.threads_per_node
        else:
            self.slots = max(1, info.cores)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> TrialHandle:
        return _DaskHandle(RemoteTask(self.target, self._address, "trial", fn, args, kwargs))


def executor_for(target: str | None, max_workers: int = 1) -> Executor:
    """The executor for ``target`` (None or "local": threads; else the named Dask target).

    ``max_workers`` only sizes the local thread pool; a Dask target's size is its own.
    """
    if target in (None, LOCAL):
        return LocalExecutor(max_workers)
    return DaskExecutor(target)
