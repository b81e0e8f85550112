"""Where trials run: the seam between the sweep controller and compute targets.

The controller hands each trial to an executor as a callable of no arguments and polls the
future it gets back. `LocalExecutor` runs it at once in the calling thread (the kernel's), one
trial at a time, with no pickling: the trial body can use every variable of the notebook.

A compute target that runs trials elsewhere (e.g. a Dask cluster) provides an object with the same
two members: ``submit(fn)`` returning a future with ``done()`` and ``result()`` (a
`concurrent.futures.Future` or a ``distributed.Future``), and ``max_concurrency`` (None for no
limit of its own). Its futures' results are `nbstudio.sweep.trial.TrialOutcome` objects.
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
