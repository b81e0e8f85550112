"""How a job's partitions reach the scorers: threads in the kernel, or tasks on a Dask target.

On Dask, a cheap model's partition (a logistic regression scores 50,000 rows in a few
milliseconds) is shorter than what a task costs around it (scheduling, the result's round trip,
the kernel waking up for it), so the first ``slots`` tasks hold one partition each and measure
how long a partition takes; later tasks hold as many partitions as fit in `TASK_SECONDS`, never
so many that a slot would be left without work. A partition that raised inside such a bundle is
submitted again alone, with Dask's ``retries``, so the error reported is its own; the partitions
of a bundle whose worker died (``KilledWorker``: nbstudio's clusters never re-run a task
silently) are submitted again alone, up to the same number of retries.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import math
import statistics
from collections.abc import Callable
from typing import Any

from nbstudio.batch import scoring
from nbstudio.batch.partitions import Partition

TASK_SECONDS = 0.5  # a task's scoring time worth its overhead

Progress = Callable[[dict[str, Any] | None, Partition, BaseException | None], None]


def dask_client(address: str) -> Any:
    from nbstudio.compute.remote import client_for

    return client_for(address)


def score_local(plan: Any, progress: Progress) -> None:
    """Partitions in ``max_concurrency`` threads of this process, each tried ``retries`` more
    times after a failure."""

    def attempt(part: Partition) -> dict[str, Any]:
        for n in range(plan.spec.retries + 1):
            try:
                return scoring.score_partition(None, plan.model_uri, plan.fs, part, plan.output_url)
            except Exception:
                if n == plan.spec.retries:
                    raise
        raise AssertionError("unreachable")

    with concurrent.futures.ThreadPoolExecutor(plan.spec.max_concurrency) as pool:
        futures = {pool.submit(attempt, p): p for p in plan.parts}
        for future in concurrent.futures.as_completed(futures):
            error = future.exception()
            progress(None if error else future.result(), futures[future], error)


def bundle_size(seconds: list[float], waiting: int, slots: int) -> int:
    """Partitions per task: as many as `TASK_SECONDS` holds at the measured time a partition
    takes, at most an even share of the ``waiting`` ones among the ``slots``."""
    if not seconds or waiting <= 0:
        return 1
    per_partition = max(statistics.median(seconds), 1e-3)
    fits = max(int(TASK_SECONDS / per_partition), 1)
    return max(min(fits, math.ceil(waiting / max(slots, 1))), 1)


def score_dask(plan: Any, progress: Progress) -> None:
    """Partitions as Dask tasks, at most ``plan.slots`` tasks in flight (see the module)."""
    from distributed import KilledWorker, as_completed

    from nbstudio.compute.remote import workspace_context

    client = dask_client(plan.address)
    ctx = workspace_context(plan.job_id)
    retries = plan.spec.retries
    waiting = list(reversed(plan.parts))  # pop() takes the next partition in input order
    alone: list[Partition] = []  # partitions to submit again, one per task
    owner: dict[str, list[Partition]] = {}
    lost: dict[int, int] = {}
    seconds: list[float] = []
    numbers = itertools.count()

    def submit(parts: list[Partition]) -> Any:
        key = f"nbstudio-batch-{plan.job_id}-{next(numbers)}"
        if len(parts) == 1:
            func: Any = scoring.score_partition
            arg: Any = parts[0]
        else:
            func, arg = scoring.score_partitions, parts
        future = client.submit(
            func, ctx, plan.model_uri, plan.fs, arg, plan.output_url,
            key=key, retries=retries, pure=False,
        )  # fmt: skip
        owner[key] = parts
        return future

    def next_task() -> list[Partition] | None:
        if alone:
            return [alone.pop()]
        if not waiting:
            return None
        size = bundle_size(seconds, len(waiting), plan.slots)
        return [waiting.pop() for _ in range(min(size, len(waiting)))]

    def done(part: Partition, result: dict[str, Any]) -> None:
        seconds.append(result.get("seconds", TASK_SECONDS))
        progress(result, part, None)

    first = [submit([waiting.pop()]) for _ in range(min(plan.slots, len(waiting)))]
    flowing = as_completed(first, loop=client.loop)
    for future in flowing:
        parts = owner.pop(future.key)
        try:
            result, error = future.result(), None
        except KilledWorker as exc:
            result, error = None, exc
            for part in parts:
                if lost.get(part.index, 0) < retries:
                    lost[part.index] = lost.get(part.index, 0) + 1
                    alone.append(part)
                else:
                    progress(None, part, exc)
        except Exception as exc:  # the task failed after its retries
            result, error = None, exc
            for part in parts:
                progress(None, part, exc)
        future.release()
        if error is None and len(parts) == 1:
            done(parts[0], result)
        elif error is None:
            for part in parts:
                if result.get(part.index) is None:
                    alone.append(part)  # raised in the bundle: alone now, with retries
                else:
                    done(part, result[part.index])
        while len(owner) < plan.slots:
            task = next_task()
            if task is None:
                break
            flowing.add(submit(task))
