"""Where trials run: the seam between the sweep controller and compute targets.

The controller hands each trial to an executor as a callable of no arguments and polls the
future it gets back. `LocalExecutor` runs it at once in the calling thread (the kernel's), one
trial at a time, with no pickling: the trial body can use every variable of the notebook.

Trials that run elsewhere come from ``nbstudio.compute.executor.executor_for(target)``: its
``submit(fn)`` returns a handle with ``done()``, ``result()`` and ``cancel(reason)``, and its
``slots`` bound the concurrency. Their reports cannot be judged in their own process, so the
controller reads their metric histories back from the store, judges them, and stops a trial
with ``cancel(policy)`` (the trial's run then ends KILLED with ``terminated_by=<policy>``).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class TrialFuture(Protocol):
    def done(self) -> bool: ...

    def result(self, timeout: float | None = None) -> Any: ...


class TrialExecutor(Protocol):
    """Runs trial callables; see the module docstring."""

    max_concurrency: int | None

    def submit(self, fn: Callable[[], Any]) -> TrialFuture: ...


class LocalExecutor:
    """Runs each trial immediately in the calling thread; one at a time."""

    max_concurrency: int | None = 1

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn())
        except Exception as exc:  # KeyboardInterrupt and other BaseExceptions go to the caller
            future.set_exception(exc)
        return future
