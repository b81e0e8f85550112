"""Compute targets as workspace resources: create, attach, start, stop, scale, delete, list.

Three kinds, as in Azure ML:

- ``local``: the kernel itself. Always there; cells run in it unpickled.
- ``cluster``: a managed Dask `LocalCluster` with adaptive scaling between ``min_nodes`` and
  ``max_nodes``, run by a background process (``_cluster_process``) that outlives the kernel.
- ``attached``: the address of a Dask scheduler nbstudio does not manage (Dask's Kubernetes,
  Gateway or HPC clusters: the way to more than one machine). nbstudio only connects to it.

The workspace folder is the single source of truth (see `records`); every function here reads it
afresh, so a kernel, the Jupyter server and the command line always agree.

Example:
    >>> from nbstudio.compute import targets
    >>> targets.create("cpu", min_nodes=0, max_nodes=2, idle_seconds=60)  # doctest: +SKIP
    >>> targets.get("cpu").state  # doctest: +SKIP
    'running'
    >>> targets.delete("cpu")  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psutil

from nbstudio.compute.errors import ComputeConflictError, ComputeError, UnknownTargetError
from nbstudio.compute.records import (
    ATTACHED,
    CLUSTER,
    CREATING,
    FAILED,
    KIND,
    LOCAL,
    RUNNING,
    STOPPED,
    STOPPING,
    ClusterStatus,
    Records,
    TargetSpec,
    check_name,
)
from nbstudio.resources import state, supervisor

Progress = Callable[[str], None]

START_TIMEOUT = 90.0
STOP_TIMEOUT = 20.0
SCALE_TIMEOUT = 120.0
PROBE_TIMEOUT = 2.0


@dataclass
class Target:
    """One compute target as every layer shows it: what was asked for and what is happening now.

    ``nodes`` are Dask workers that joined; ``starting_nodes`` are on their way; ``busy_nodes`` run
    at least one task; ``tasks`` counts tasks running now and ``queued`` those waiting for a node.
    ``memory`` and ``memory_per_node`` are bytes.
    """

    name: str
    kind: str
    state: str
    reason: str | None = None
    address: str | None = None
    dashboard_link: str | None = None
    min_nodes: int | None = None
    max_nodes: int | None = None
    threads_per_node: int | None = None
    memory_per_node: int | None = None
    idle_seconds: float | None = None
    nodes: int = 0
    starting_nodes: int = 0
    busy_nodes: int = 0
    idle_nodes: int = 0
    cores: int = 0
    memory: int = 0
    tasks: int = 0
    queued: int = 0
    pid: int | None = None
    created: int | None = None
    updated: int | None = None

    @property
    def actions(self) -> list[str]:
        """What can be done to it now (the panel shows these as buttons)."""
        if self.kind == LOCAL:
            return []
        if self.kind == ATTACHED:
            return ["delete"]
        if self.state in (RUNNING, CREATING):
            return ["stop", "scale", "delete"]
        if self.state == STOPPING:
            return []
        return ["start", "delete"]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "actions": self.actions}

    def __repr__(self) -> str:
        from nbstudio.compute.display import target_text

        return target_text(self)

    def _repr_html_(self) -> str:
        from nbstudio.compute.display import targets_html

        return targets_html([self])


def workspace_root() -> Path:
    """The session's workspace folder, without opening MLflow if the session has not yet.

    Compute records are plain files; ``nbstudio compute list`` and the panel's polling should
    not pay for importing MLflow and preparing its store.
    """
    from nbstudio import workspace
    from nbstudio.session import get_session

    session = get_session()
    opened = getattr(session, "_workspace", None)
    if opened is not None:
        return opened.root
    return workspace.resolve(getattr(session, "_start", None)).root


def records() -> Records:
    """The current workspace's compute records."""
    from nbstudio.workspace import DATA_DIR

    return Records(workspace_root() / DATA_DIR / "compute")


# -- reading -------------------------------------------------------------------------------------
def local_target() -> Target:
    memory = psutil.virtual_memory().total
    cores = os.cpu_count() or 1
    return Target(
        name=LOCAL,
        kind=LOCAL,
        state=RUNNING,
        nodes=1,
        idle_nodes=1,
        cores=cores,
        memory=memory,
        min_nodes=1,
        max_nodes=1,
        threads_per_node=cores,
        memory_per_node=memory,
        pid=os.getpid(),
    )


def list_targets() -> list[Target]:
    """``local`` first, then every recorded target by name, each with its live state."""
    recs = records()
    found = [local_target()]
    for name in recs.names():
        spec = recs.read_spec(name)
        if spec is not None:
            found.append(_target(recs, spec))
    return found


def get(name: str) -> Target:
    """The target called ``name``; a clear error if there is none."""
    if name == LOCAL:
        return local_target()
    recs = records()
    spec = recs.read_spec(name)
    if spec is None:
        raise UnknownTargetError(
            f"No compute target named {name!r}. `%compute list` shows them; "
            f"`%compute create {name}` makes a cluster."
        )
    return _target(recs, spec)


def require_running(name: str) -> Target:
    """The target, if cells can be sent to it now; else an error saying how to get it running."""
    target = get(name)
    if target.state == RUNNING:
        return target
    if target.kind == ATTACHED:
        raise ComputeError(f"Compute target {name!r} cannot be reached: {target.reason}")
    how = f"Start it with `%compute start {name}` (or `nbstudio compute start {name}`)."
    detail = f" ({target.reason})" if target.reason else ""
    raise ComputeConflictError(f"Compute target {name!r} is {target.state}{detail}. {how}")


def _target(recs: Records, spec: TargetSpec) -> Target:
    base = Target(
        name=spec.name,
        kind=spec.kind,
        state=STOPPED,
        created=spec.created,
        address=spec.address,
    )
    if spec.kind == ATTACHED:
        return _attached_state(base)
    base.min_nodes = spec.min_nodes
    base.max_nodes = spec.max_nodes
    base.threads_per_node = spec.threads_per_node
    base.memory_per_node = spec.memory_per_node
    base.idle_seconds = spec.idle_seconds
    status = recs.read_status(spec.name)
    if status is None:
        return base
    state_now, died = state.derive(KIND, status.state, status.pid, status.pid_started)
    reason = None if state_now == STOPPED and status.state == STOPPING else status.reason
    if died:
        tail = recs.log_tail(spec.name)
        reason = "the cluster process exited unexpectedly" + (f": {tail}" if tail else "")
    live = state_now in KIND.live
    base.state = state_now
    base.reason = reason
    base.updated = status.updated
    if live:
        base.address = status.address
        base.dashboard_link = status.dashboard_link
        base.pid = status.pid
        base.nodes = status.nodes
        base.starting_nodes = status.starting_nodes
        base.busy_nodes = status.busy_nodes
        base.idle_nodes = max(0, status.nodes - status.busy_nodes)
        base.cores = status.cores
        base.memory = status.memory
        base.tasks = status.tasks
        base.queued = status.queued
    return base


def _attached_state(target: Target) -> Target:
    assert target.address is not None
    try:
        info = call_scheduler(target.address, "identity", timeout=PROBE_TIMEOUT)
    except ComputeError as exc:
        target.state = FAILED
        target.reason = str(exc)
        return target
    workers = list(info.get("workers", {}).values())
    executing = [
        (w.get("metrics") or {}).get("task_counts", {}).get("executing", 0) for w in workers
    ]
    target.state = RUNNING
    target.nodes = len(workers)
    target.busy_nodes = sum(1 for n in executing if n)
    target.idle_nodes = target.nodes - target.busy_nodes
    target.cores = sum(w.get("nthreads", 0) for w in workers)
    target.memory = sum(w.get("memory_limit") or 0 for w in workers)
    target.tasks = sum(executing)
    port = (info.get("services") or {}).get("dashboard")
    host = urlparse(target.address).hostname
    if port and host:
        target.dashboard_link = f"http://{host}:{port}/status"
    return target


# -- talking to a scheduler without a Client ------------------------------------------------------
def normalize_address(address: str) -> str:
    address = address.strip()
    return address if "://" in address else f"tcp://{address}"


def call_scheduler(address: str, op: str, timeout: float = 10.0, **kwargs: Any) -> Any:
    """Call a scheduler handler (``identity``, ``nbstudio_scale``) over Dask's own RPC.

    Runs in a private thread with its own event loop, so it works from a kernel (whose main thread
    already runs a loop) and from the Jupyter server's handlers alike, without a full `Client`.
    """
    from distributed.core import rpc

    async def go() -> Any:
        async with rpc(address, timeout=timeout) as scheduler:
            return await asyncio.wait_for(getattr(scheduler, op)(**kwargs), timeout)

    with ThreadPoolExecutor(1, thread_name_prefix="nbstudio-rpc") as pool:
        try:
            return pool.submit(asyncio.run, go()).result()
        except (OSError, TimeoutError) as exc:
            raise ComputeError(
                f"Cannot reach the Dask scheduler at {address}: {exc or type(exc).__name__}"
            ) from None
        except ValueError as exc:
            raise ComputeError(f"{address} is not a Dask scheduler address: {exc}") from None


# -- creating and attaching -----------------------------------------------------------------------
def create(
    name: str,
    min_nodes: int = 0,
    max_nodes: int = 2,
    threads_per_node: int = 1,
    memory_per_node: str | int = "4GB",
    idle_seconds: float = 120.0,
    wait: bool = True,
    progress: Progress | None = None,
) -> Target:
    """Record a managed Dask cluster and start it (like ``az ml compute create --type AmlCompute``).

    It starts with ``min_nodes`` nodes (0 is fine: nodes come when cells or trials need them) and
    never goes above ``max_nodes``; nodes idle for ``idle_seconds`` are released down to
    ``min_nodes``. Each node is one Dask worker process with ``threads_per_node`` threads (one task
    each) and ``memory_per_node`` of memory (e.g. "4GB").
    """
    from dask.utils import parse_bytes

    check_name(name)
    if name == LOCAL:
        raise ComputeError("'local' is the kernel itself and always exists: choose another name.")
    recs = records()
    if recs.exists(name):  # before the checks below; `create` checks again under the lock
        raise _exists(name)
    _check_sizes(min_nodes, max_nodes)
    if threads_per_node < 1:
        raise ComputeError(f"--threads-per-node must be at least 1, not {threads_per_node}.")
    if not (isinstance(idle_seconds, int | float) and 0 < idle_seconds <= MAX_IDLE_SECONDS):
        raise ComputeError(
            f"--idle-seconds must be a number of seconds above 0 and at most {MAX_IDLE_SECONDS} "
            f"(30 days), not {idle_seconds}."
        )
    try:
        memory = parse_bytes(memory_per_node)
    except (ValueError, TypeError):
        raise ComputeError(
            f"--memory-per-node {memory_per_node!r} is not a size: use e.g. 4GB or 512MiB."
        ) from None
    if memory < 64 * 2**20:
        raise ComputeError(f"--memory-per-node {memory_per_node!r} is too small (64 MiB at least).")
    spec = TargetSpec(
        name=name,
        kind=CLUSTER,
        min_nodes=min_nodes,
        max_nodes=max_nodes,
        threads_per_node=threads_per_node,
        memory_per_node=memory,
        idle_seconds=float(idle_seconds),
    )
    recs.create(spec, _exists(name))
    return _launch(recs, spec, wait=wait, progress=progress)


def attach(name: str, address: str) -> Target:
    """Record an existing Dask scheduler as a target (like attaching a Kubernetes compute)."""
    check_name(name)
    if name == LOCAL:
        raise ComputeError("'local' is the kernel itself and always exists: choose another name.")
    recs = records()
    if recs.exists(name):
        raise _exists(name)
    address = normalize_address(address)
    call_scheduler(address, "identity", timeout=5.0)  # fail now, not at the first cell
    recs.create(TargetSpec(name=name, kind=ATTACHED, address=address), _exists(name))
    return get(name)


def _exists(name: str) -> ComputeConflictError:
    return ComputeConflictError(f"Compute target {name!r} already exists (`%compute show {name}`).")


# Each node of a managed cluster is a worker process on this machine: more than this many per
# core is a typo, not a plan (attach a scheduler of a real cluster for more).
NODES_PER_CORE = 16
MAX_IDLE_SECONDS = 30 * 86400


def max_nodes_here() -> int:
    """The most nodes a managed cluster may have on this machine."""
    return NODES_PER_CORE * (os.cpu_count() or 1)


def _check_sizes(min_nodes: int, max_nodes: int) -> None:
    if min_nodes < 0:
        raise ComputeError(f"--min-nodes must be 0 or more, not {min_nodes}.")
    if max_nodes < 1:
        raise ComputeError(f"--max-nodes must be at least 1, not {max_nodes}.")
    if max_nodes > max_nodes_here():
        raise ComputeError(
            f"--max-nodes {max_nodes} is more worker processes than this machine can run "
            f"(at most {max_nodes_here()}: {NODES_PER_CORE} per core)."
        )
    if min_nodes > max_nodes:
        raise ComputeError(f"--min-nodes ({min_nodes}) is above --max-nodes ({max_nodes}).")


def _managed(name: str, action: str) -> Target:
    target = get(name)
    if target.kind == LOCAL:
        raise ComputeError(f"'local' is the kernel itself: it cannot {action}.")
    if target.kind == ATTACHED:
        raise ComputeError(
            f"{name!r} is an attached scheduler ({target.address}) that nbstudio does not manage: "
            f"it cannot {action} it. `%compute delete {name}` forgets it."
        )
    return target


# -- starting and stopping ------------------------------------------------------------------------
def start(name: str, wait: bool = True, progress: Progress | None = None) -> Target:
    """Start a stopped (or failed) managed cluster again, with its recorded size and policy."""
    target = _managed(name, "start")
    if target.state in (RUNNING, CREATING):
        return target
    if target.state == STOPPING:
        raise ComputeConflictError(f"{name!r} is stopping; start it again once it has stopped.")
    recs = records()
    with recs.updating(name) as spec:
        spec.running = True
    return _launch(recs, spec, wait=wait, progress=progress)


def _launch(recs: Records, spec: TargetSpec, wait: bool, progress: Progress | None) -> Target:
    # Written before the process exists, so that the process's own first write always wins.
    recs.write_status(spec.name, ClusterStatus(state=CREATING))
    proc = supervisor.launch(
        KIND, recs.folder, spec.name, recs.log_path(spec.name), cwd=workspace_root()
    )
    if not wait:
        return get(spec.name)
    started = time.monotonic()
    while True:
        target = get(spec.name)
        if target.state == RUNNING:
            if progress:
                progress(f"Cluster {spec.name!r} is running ({_elapsed(started)}).")
            return target
        if target.state == FAILED or proc.poll() is not None:
            proc.wait()
            reason = target.reason or recs.log_tail(spec.name) or f"exit code {proc.returncode}"
            _write_failed(recs, spec.name, reason)
            raise ComputeError(f"Cluster {spec.name!r} failed to start: {reason}")
        if time.monotonic() - started > START_TIMEOUT:
            supervisor.stop(proc.pid, None, STOP_TIMEOUT)
            _write_failed(recs, spec.name, f"did not start within {START_TIMEOUT:.0f} s")
            raise ComputeError(f"Cluster {spec.name!r} did not start within {START_TIMEOUT:.0f} s.")
        if progress:
            progress(f"Creating cluster {spec.name!r}... {_elapsed(started)}")
        time.sleep(0.1)


def _write_failed(recs: Records, name: str, reason: str) -> None:
    recs.write_status(name, ClusterStatus(state=FAILED, reason=reason))


def _elapsed(since: float) -> str:
    return f"{time.monotonic() - since:.1f} s"


def stop(name: str, progress: Progress | None = None) -> Target:
    """Stop a managed cluster: its nodes and its process end, nothing is left running.

    The cluster closes its workers gracefully on SIGTERM; whatever is still alive after
    ``STOP_TIMEOUT`` (or was started while it stopped) is killed with its whole process group.
    """
    _managed(name, "stop")
    recs = records()
    record_running(name, False)
    status = recs.read_status(name)
    if status is not None and status.pid is not None:
        if supervisor.alive(status.pid, status.pid_started):
            if progress:
                progress(f"Stopping cluster {name!r}...")
            supervisor.stop(status.pid, status.pid_started, STOP_TIMEOUT)
        else:
            # The cluster process died (failed): its workers may live on, orphaned, in its group.
            supervisor.kill_orphans(status.pid, status.pid_started)
    recs.write_status(name, ClusterStatus(state=STOPPED))
    return get(name)


def record_running(name: str, running: bool) -> None:
    """Record that the user wants the cluster running or stopped (a locked read-modify-write)."""
    with records().updating(name) as spec:
        spec.running = running


def record_bounds(name: str, min_nodes: int | None, max_nodes: int | None) -> TargetSpec:
    """Record new autoscale bounds, each kept as it was where None (a locked read-modify-write:
    a concurrent stop or scale from another process keeps its change too)."""
    with records().updating(name) as spec:
        new_min = spec.min_nodes if min_nodes is None else min_nodes
        new_max = spec.max_nodes if max_nodes is None else max_nodes
        _check_sizes(new_min, new_max)
        spec.min_nodes, spec.max_nodes = new_min, new_max
    return spec


def delete(name: str, progress: Progress | None = None) -> None:
    """Forget a target; a managed cluster is stopped first."""
    if name == LOCAL:
        raise ComputeError("'local' is the kernel itself: it cannot be deleted.")
    target = get(name)
    if target.kind == CLUSTER and target.state != STOPPED:
        stop(name, progress=progress)
    records().delete(name)


# -- scaling --------------------------------------------------------------------------------------
def scale(
    name: str,
    nodes: int | None = None,
    min_nodes: int | None = None,
    max_nodes: int | None = None,
    wait: bool = True,
    progress: Progress | None = None,
) -> Target:
    """Change a running cluster's node count now and/or its autoscale bounds.

    ``nodes`` brings it to that many nodes at once (e.g. to warm it up before a sweep); autoscale
    stays on, so nodes beyond ``min_nodes`` that stay idle are released after ``idle_seconds``.
    ``min_nodes``/``max_nodes`` change the bounds for good (they are recorded).
    """
    target = _managed(name, "scale")
    if nodes is None and min_nodes is None and max_nodes is None:
        raise ComputeError("Say how to scale: a number of nodes, --min-nodes or --max-nodes.")
    new_min = target.min_nodes if min_nodes is None else min_nodes
    new_max = target.max_nodes if max_nodes is None else max_nodes
    assert new_min is not None
    assert new_max is not None
    _check_sizes(new_min, new_max)
    if nodes is not None and not 0 <= nodes <= new_max:
        raise ComputeError(f"Cannot scale {name!r} to {nodes} nodes: it allows 0 to {new_max}.")
    target = require_running(name)
    assert target.address is not None
    call_scheduler(
        target.address, "nbstudio_scale", nodes=nodes, min_nodes=min_nodes, max_nodes=max_nodes
    )
    if min_nodes is not None or max_nodes is not None:
        record_bounds(name, min_nodes, max_nodes)
    if nodes is None or not wait:
        return get(name)
    return wait_for_nodes(name, nodes, progress=progress)


def wait_for_nodes(
    name: str, nodes: int, timeout: float = SCALE_TIMEOUT, progress: Progress | None = None
) -> Target:
    """Block until the cluster has exactly ``nodes`` nodes (with a progress line)."""
    started = time.monotonic()
    while True:
        target = get(name)
        if target.state != RUNNING:
            raise ComputeError(f"Cluster {name!r} is {target.state} while scaling.")
        if target.nodes == nodes and target.starting_nodes == 0:
            if progress:
                progress(f"Cluster {name!r}: {nodes} node(s) ({_elapsed(started)}).")
            return target
        if time.monotonic() - started > timeout:
            raise ComputeError(
                f"Cluster {name!r} has {target.nodes} node(s), not {nodes}, after {timeout:.0f} s."
            )
        if progress:
            progress(
                f"Scaling {name!r}: {target.nodes}/{nodes} node(s), "
                f"{target.starting_nodes} starting... {_elapsed(started)}"
            )
        time.sleep(0.2)
