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

from nbstudio.compute.display import ProgressLine
from nbstudio.compute.errors import ComputeError, WorkerLostError
from nbstudio.compute.worker import TaskContext, TaskOutcome, interrupt, run_task

WORKER_LOST = "worker-lost"
CANCEL_RETRY_SECONDS = 1.0
WAITING_NOTICE_SECONDS = 1.0
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
    """One function running on a Dask target through `worker.run_task`, seen from the kernel.

    Its result is fetched (and the Dask future released) as soon as it is ready, by a callback:
    a finished task whose result sat in a worker's memory would be computed again, a second
    MLflow run, if autoscaling retired that worker before the kernel asked for it.
    """

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
        import cloudpickle

        self.target = target
        self.task_id = task_id or uuid.uuid4().hex
        self.owner: dict[str, Any] | None = None
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        self._unechoed: list[tuple[int, str]] = []
        self._echoed = 0
        self._cancel_reason: str | None = None
        self._finished = threading.Event()
        self._raw: tuple[Any, BaseException | None] | None = None
        self._outcome: TaskOutcome | None = None
        self._error: BaseException | None = None
        try:
            payload = cloudpickle.dumps((fn, args, kwargs))
        except Exception as exc:
            raise ComputeError(
                f"{getattr(fn, '__name__', fn)!r} or its arguments cannot be sent to compute "
                f"{target!r}: {type(exc).__name__}: {exc}"
            ) from None
        self.client = client_for(address)
        _listeners[self.task_id] = self._inbox
        ctx = workspace_context(self.task_id)
        self.future = self.client.submit(
            run_task, ctx, payload, key=f"nbstudio-{kind}-{self.task_id}", pure=False
        )
        self.future.add_done_callback(self._collect)

    # -- events from the worker --------------------------------------------------------------
    def _drain(self) -> None:
        while True:
            try:
                msg = self._inbox.get_nowait()
            except queue.Empty:
                return
            if "started" in msg:
                self.owner = msg["started"]
            self._unechoed.extend((fileno, text) for fileno, text in msg.get("chunks", ()))

    def _echo(self) -> None:
        self._drain()
        chunks, self._unechoed = self._unechoed, []
        for fileno, text in chunks:
            (sys.stderr if fileno == 2 else sys.stdout).write(text)
            self._echoed += len(text)

    @property
    def started(self) -> bool:
        self._drain()
        return self.owner is not None

    def done(self) -> bool:
        return self._finished.is_set()

    # -- the outcome ---------------------------------------------------------------------------
    def _collect(self, future: Any) -> None:
        """Done-callback (Dask's thread): fetch the result or the error, then free the future."""
        try:
            raw: tuple[Any, BaseException | None] = (future.result(), None)
        except BaseException as exc:
            raw = (None, exc)
        self._raw = raw
        _listeners.pop(self.task_id, None)
        future.release()
        self._finished.set()

    def outcome(self, timeout: float | None = None, echo: bool = False) -> TaskOutcome:
        """Wait for the task; with ``echo`` its output is written here as it is printed there.

        Raises the function's own exception, `WorkerLostError` if its worker (or the whole
        cluster) went away, and `TimeoutError` after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        waiting = ProgressLine(sys.stderr) if echo else None
        since = time.monotonic()
        while not self._finished.wait(0.1):
            if waiting is not None:
                if not self.started and time.monotonic() - since > WAITING_NOTICE_SECONDS:
                    waiting(self._waiting_text(since))
                elif self.started:
                    waiting.done()
                    waiting = None
            if echo:
                self._echo()
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"task {self.task_id} still running")
        if waiting is not None:
            waiting.done()
        if self._outcome is None and self._error is None:
            self._interpret()
        if echo:
            self._echo()
            if self._outcome is not None and len(self._outcome.output) > self._echoed:
                sys.stdout.write(self._outcome.output[self._echoed :])
                self._echoed = len(self._outcome.output)
        if self._error is not None:
            raise self._error
        assert self._outcome is not None
        return self._outcome

    def _waiting_text(self, since: float) -> str:
        """``Waiting for a node of 'cpu': 0/2 nodes, 1 starting... 3.2 s`` (a progress line)."""
        from nbstudio.compute.targets import get

        try:
            target = get(self.target)
        except ComputeError:
            return f"Waiting for a node of {self.target!r}..."
        bound = f"/{target.max_nodes}" if target.max_nodes is not None else ""
        return (
            f"Waiting for a node of {self.target!r}: {target.nodes}{bound} nodes, "
            f"{target.starting_nodes} starting, {target.busy_nodes} busy... "
            f"{time.monotonic() - since:.1f} s"
        )

    def _interpret(self) -> None:
        from distributed.scheduler import KilledWorker

        assert self._raw is not None
        value, error = self._raw
        self._drain()
        if error is None:
            self._outcome = value
        elif isinstance(error, KilledWorker):
            self._error = self._lost("its worker died (killed, out of memory or node lost)")
        elif isinstance(error, CancelledError):
            if self._cancel_reason is not None:
                self._outcome = TaskOutcome(terminated=self._cancel_reason)
            else:
                self._error = self._lost("the cluster went away (stopped or crashed)")
        else:
            self._error = error

    def _lost(self, why: str) -> WorkerLostError:
        run_ids = fail_runs_of(self.owner, WORKER_LOST) if self.owner else []
        runs = f" Run {', '.join(run_ids)} marked FAILED (worker-lost)." if run_ids else ""
        return WorkerLostError(f"Task on compute {self.target!r} lost: {why}.{runs}")

    # -- stopping -----------------------------------------------------------------------------
    def cancel(self, reason: str) -> bool:
        """Stop the task: a queued one never starts, a running one gets ``RunTerminated(reason)``.

        Returns False if it had already finished. Dask cannot stop a running task, so the
        worker running it is asked to interrupt it; the task then ends normally, its run
        KILLED, and its outcome says ``terminated``. A task no worker runs yet is cancelled in
        Dask, and asked again for a moment in case it was just starting.
        """
        if self.done():
            return False
        self._cancel_reason = reason
        if self._interrupt(reason):
            return True
        with contextlib.suppress(Exception):  # it may just have finished and been released
            self.future.cancel(reason=reason)
        deadline = time.monotonic() + CANCEL_RETRY_SECONDS
        while time.monotonic() < deadline and not self.done():
            if self._interrupt(reason):
                return True
            time.sleep(0.05)
        return True

    def _interrupt(self, reason: str) -> bool:
        try:
            return any(self.client.run(interrupt, self.task_id, reason).values())
        except Exception:
            return False


def fail_runs_of(owner: dict[str, Any], reason: str) -> list[str]:
    """Mark FAILED the runs still RUNNING that the (now dead) process ``owner`` was writing.

    ``owner`` is what `worker.run_task` announced: host, pid and the process's start time, matched
    against the owner tags every `TrackedRun` carries.
    """
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
            f"attributes.status = 'RUNNING' and tags.`{TAG_HOST}` = '{owner['host']}' "
            f"and tags.`{TAG_PID}` = '{owner['pid']}'"
        ),
        max_results=1000,
    )
    failed = []
    for run in runs:
        try:
            started = float(run.data.tags.get(TAG_PID_STARTED, "nan"))
        except ValueError:
            started = float("nan")
        if abs(started - owner["started"]) > 1.0:
            continue  # an older process that had the same pid (nan compares False: kept)
        client.set_tag(run.info.run_id, TAG_TERMINATED_BY, reason)
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.FAILED))
        failed.append(run.info.run_id)
    return failed
