"""The kernel's side of work sent to a Dask target: one client per scheduler, one watch per task.

A `RemoteTask` follows one submitted task: it receives the task's events (which process runs it,
what it prints) from the worker through Dask's event stream, waits for its outcome, stops it on
request (`worker.interrupt` on every worker), and when its worker dies marks the MLflow runs that
process left RUNNING as FAILED with ``nbstudio.terminated_by=worker-lost``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import CancelledError
from typing import Any

from nbstudio.compute.errors import ComputeError, WorkerLostError
from nbstudio.compute.worker import TaskContext, TaskOutcome, interrupt, run_task

WORKER_LOST = "worker-lost"
CANCEL_RETRY_SECONDS = 1.0
# Every kernel listens on its own topic, so two kernels sharing a cluster never see each other's
# output.
OUTPUT_TOPIC = f"nbstudio-output-{uuid.uuid4().hex[:12]}"

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()
_listeners: dict[str, queue.SimpleQueue] = {}


def _on_event(event: tuple[float, Any]) -> None:
    _, msg = event
    if isinstance(msg, dict):
        inbox = _listeners.get(msg.get("task", ""))
        if inbox is not None:
            inbox.put(msg)


def client_for(address: str) -> Any:
    """A `distributed.Client` for this scheduler, shared by every task of this kernel."""
    from distributed import Client

    with _clients_lock:
        client = _clients.get(address)
        if client is not None and client.status == "running":
            return client
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=1)
        try:
            client = Client(address, set_as_default=False, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise ComputeError(
                f"Cannot connect to the Dask scheduler at {address}: {exc}"
            ) from None
        client.subscribe_topic(OUTPUT_TOPIC, _on_event)
        _clients[address] = client
        return client


def close_clients() -> None:
    """Close this kernel's Dask clients (tests; a kernel's exit does it anyway)."""
    with _clients_lock:
        for client in _clients.values():
            with contextlib.suppress(Exception):
                client.close(timeout=2)
        _clients.clear()


def workspace_context(task_id: str) -> TaskContext:
    """Where this kernel's workspace is, for the worker to open the same one."""
    from nbstudio.session import get_session

    ws = get_session().workspace
    return TaskContext(
        task_id=task_id,
        workspace_root=str(ws.root),
        tracking_uri=ws.tracking_uri,
        cwd=os.getcwd(),
        output_topic=OUTPUT_TOPIC,
    )


class RemoteTask:
    """One function running on a Dask target through `worker.run_task`, seen from the kernel."""

    def __init__(
        self,
        target: str,
        address: str,
        kind: str,
        fn: Callable[..., Any],
        args: tuple,
        kwargs: dict,
        task_id: str | None = None,
    ) -> None:
        self.target = target
        self.task_id = task_id or uuid.uuid4().hex
        self.owner: dict[str, str] | None = None
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._streamed = 0
        self._echo = False
        self._cancel_reason: str | None = None
        self._settled = False
        self._outcome: TaskOutcome | None = None
        self._error: BaseException | None = None
        self.client = client_for(address)
        _listeners[self.task_id] = self._inbox
        ctx = workspace_context(self.task_id)
        self.future = self.client.submit(
            run_task, ctx, fn, args, kwargs, key=f"nbstudio-{kind}-{self.task_id}", pure=False
        )

    # -- events from the worker --------------------------------------------------------------
    def _drain(self) -> None:
        while True:
            try:
                msg = self._inbox.get_nowait()
            except queue.Empty:
                return
            if "started" in msg:
                self.owner = msg["started"]
            for fileno, text in msg.get("chunks", ()):
                self._streamed += len(text)
                if self._echo:
                    (sys.stderr if fileno == 2 else sys.stdout).write(text)

    @property
    def started(self) -> bool:
        self._drain()
        return self.owner is not None

    def done(self) -> bool:
        return self._settled or self.future.done()

    # -- the outcome ---------------------------------------------------------------------------
    def outcome(self, timeout: float | None = None, echo: bool = False) -> TaskOutcome:
        """Wait for the task; with ``echo`` its output is written here as it is printed there.

        Raises the function's own exception, `WorkerLostError` if its worker (or the whole
        cluster) went away, and `TimeoutError` after ``timeout`` seconds.
        """
        from distributed import TimeoutError as DaskTimeout

        self._echo = echo
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._settled:
            self._drain()
            try:
                self.future.result(timeout=0.1)
            except (TimeoutError, DaskTimeout):
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"task {self.task_id} still running") from None
                continue
            except BaseException:
                if not self.future.done():
                    raise  # e.g. KeyboardInterrupt while waiting
            self._settle()
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome

    def _settle(self) -> None:
        """Keep the outcome and let go of the Dask future.

        Holding a finished future would make Dask recompute its task (re-running a cell or a
        trial, with a second MLflow run) if the worker keeping its result died later.
        """
        from distributed.scheduler import KilledWorker

        try:
            outcome: TaskOutcome = self.future.result()
            if self._echo and len(outcome.output) > self._streamed:
                sys.stdout.write(outcome.output[self._streamed :])
            self._outcome = outcome
        except KilledWorker:
            self._error = self._lost("its worker died (killed, out of memory or node lost)")
        except CancelledError:
            if self._cancel_reason is not None:
                self._outcome = TaskOutcome(terminated=self._cancel_reason)
            else:
                self._error = self._lost("the cluster went away (stopped or crashed)")
        except Exception as exc:
            self._error = exc
        self._drain()
        _listeners.pop(self.task_id, None)
        self.future.release()
        self._settled = True

    def _lost(self, why: str) -> WorkerLostError:
        self._drain()
        run_ids = fail_runs_of(self.owner, WORKER_LOST) if self.owner else []
        runs = f" Run {', '.join(run_ids)} marked FAILED (worker-lost)." if run_ids else ""
        return WorkerLostError(f"Task on compute {self.target!r} lost: {why}.{runs}")

    # -- stopping -----------------------------------------------------------------------------
    def cancel(self, reason: str) -> bool:
        """Stop the task: a queued one never starts, a running one gets ``RunTerminated(reason)``.

        Returns False if it had already finished. Dask cannot stop a running task, so after
        cancelling the future (which keeps a queued task from starting) the worker running it is
        asked to interrupt it, a few times within a second in case it is just starting.
        """
        if self.done():
            return False
        self._cancel_reason = reason
        self.future.cancel(reason=reason)
        deadline = time.monotonic() + (CANCEL_RETRY_SECONDS if self.started else 0.3)
        while True:
            with contextlib.suppress(Exception):
                if any(self.client.run(interrupt, self.task_id, reason).values()):
                    return True
            if time.monotonic() > deadline:
                return True
            time.sleep(0.05)


def fail_runs_of(owner: dict[str, str], reason: str) -> list[str]:
    """Mark FAILED the runs still RUNNING that the (now dead) process ``owner`` was writing."""
    from mlflow.entities import RunStatus, ViewType

    from nbstudio.session import get_session
    from nbstudio.tracking.context import TAG_HOST, TAG_PID, TAG_PID_STARTED, TAG_TERMINATED_BY

    client = get_session().client()
    experiment_ids = [
        e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
    ]
    if not experiment_ids:
        return []
    runs = client.search_runs(
        experiment_ids,
        filter_string=(
            f"attributes.status = 'RUNNING' and tags.`{TAG_HOST}` = '{owner[TAG_HOST]}' "
            f"and tags.`{TAG_PID}` = '{owner[TAG_PID]}'"
        ),
        max_results=1000,
    )
    failed = []
    for run in runs:
        if run.data.tags.get(TAG_PID_STARTED) != owner.get(TAG_PID_STARTED):
            continue  # an older process that had the same pid
        client.set_tag(run.info.run_id, TAG_TERMINATED_BY, reason)
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FAILED))
        failed.append(run.info.run_id)
    return failed
