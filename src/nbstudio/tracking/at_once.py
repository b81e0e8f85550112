"""Run a few independent reads at once: against a tracking server each one is a round trip.

The panel's refresh against an MLflow tracking server spends its time waiting on the server's
answers, one request after another; the same requests sent at once cost about the slowest of
them. Only for reads that do not depend on each other (results come back in order).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

#: At most this many requests in flight from one call (a tracking server's worker count).
MAX_AT_ONCE = 4


def at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """The calls' results, in order; a single call runs in the caller's thread.

    An exception of any call is raised here (the first in order), after all have ended.
    """
    if len(calls) <= 1:
        return [call() for call in calls]
    workers = min(MAX_AT_ONCE, len(calls))
    with ThreadPoolExecutor(workers, thread_name_prefix="nbstudio-read") as pool:
        futures = [pool.submit(call) for call in calls]
    return [future.result() for future in futures]
