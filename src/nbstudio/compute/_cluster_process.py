"""The background process behind a cluster: ``python -m nbstudio.compute._cluster_process``.

It runs a `distributed.LocalCluster` whose Adaptive policy grows it from ``min_nodes`` to
``max_nodes`` under load and releases nodes idle for ``idle_seconds`` (see `adaptive_timing`:
a node must be recommended for closing ``wait_count`` times in a row). It lives in its
own session, so restarting or killing the kernel that created it leaves it running, and it keeps
its ``status.json`` up to date so every process (kernels, the Jupyter server, the CLI) sees the
same state without connecting to Dask. SIGTERM closes the cluster (its workers first) and exits.

Everything binds to 127.0.0.1 on random ports; the scheduler gets one extra handler,
``nbstudio_scale``, so other processes can change the node count and the min/max bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

import dask
import psutil
from distributed import LocalCluster

from nbstudio.compute.records import (
    CREATING,
    FAILED,
    RUNNING,
    STOPPED,
    STOPPING,
    ClusterStatus,
    Records,
    TargetSpec,
)

REFRESH_SECONDS = 0.25
# Adaptive asks the scheduler how many workers the queued and running tasks want; a tiny target
# duration makes that "one node per task slot" (capped by max_nodes), the way Azure's clusters give
# each job a node, instead of packing several long cells on one node to finish within 5 s.
TARGET_DURATION = "100ms"


def adaptive_timing(idle_seconds: float) -> tuple[float, int]:
    """Dask's Adaptive ``interval`` (s) and ``wait_count`` releasing a node idle ``idle_seconds``.

    Dask closes a node after ``wait_count`` recommendations in a row, one per interval, and the
    first may come just after the node went idle: one recommendation more than
    ``idle_seconds / interval`` makes the node stay at least ``idle_seconds`` (at most one
    interval longer), as ``--idle-seconds`` promises.
    """
    interval = 1.0 if idle_seconds >= 2 else max(idle_seconds / 2, 0.1)
    return interval, max(1, round(idle_seconds / interval)) + 1


def adapt(cluster: LocalCluster, spec: TargetSpec) -> None:
    interval, wait_count = adaptive_timing(spec.idle_seconds)
    cluster.adapt(
        minimum=spec.min_nodes,
        maximum=spec.max_nodes,
        interval=interval,
        wait_count=wait_count,
        target_duration=TARGET_DURATION,
    )


def snapshot(cluster: LocalCluster, status: ClusterStatus) -> ClusterStatus:
    """The cluster's nodes and tasks, read straight from the scheduler living in this process."""
    scheduler = cluster.scheduler
    workers = list(scheduler.workers.values())
    return dataclasses.replace(
        status,
        nodes=len(workers),
        starting_nodes=max(0, len(cluster.worker_spec) - len(workers)),
        busy_nodes=sum(1 for ws in workers if ws.processing),
        cores=sum(ws.nthreads for ws in workers),
        memory=sum(ws.memory_limit or 0 for ws in workers),
        tasks=sum(len(ws.processing) for ws in workers),
        queued=len(scheduler.queued) + len(scheduler.unrunnable),
    )


def _same(a: ClusterStatus, b: ClusterStatus) -> bool:
    return dataclasses.replace(a, updated=0) == dataclasses.replace(b, updated=0)


async def serve(records: Records, spec: TargetSpec) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    me = psutil.Process()
    status = ClusterStatus(state=CREATING, pid=me.pid, pid_started=me.create_time())
    records.write_status(spec.name, status)
    with dask.config.set(
        {
            # A cell whose worker dies must fail at once (run FAILED, worker-lost), not run again
            # silently on another node; sweeps retry a lost trial themselves.
            "distributed.scheduler.allowed-failures": 0,
            # One task per thread: a queued cell waits at the scheduler for a free (or new) node
            # instead of queueing behind a busy one.
            "distributed.scheduler.worker-saturation": 1.0,
        }
    ):
        async with LocalCluster(
            name=spec.name,
            n_workers=spec.min_nodes,
            threads_per_worker=spec.threads_per_node,
            memory_limit=spec.memory_per_node,
            processes=True,
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address="127.0.0.1:0",
            asynchronous=True,
        ) as cluster:
            adapt(cluster, spec)

            async def nbstudio_scale(
                nodes: int | None = None,
                min_nodes: int | None = None,
                max_nodes: int | None = None,
            ) -> dict[str, Any]:
                if min_nodes is not None or max_nodes is not None:
                    spec.min_nodes = spec.min_nodes if min_nodes is None else min_nodes
                    spec.max_nodes = spec.max_nodes if max_nodes is None else max_nodes
                    adapt(cluster, spec)
                if nodes is not None:
                    cluster.scale(nodes)
                return {"nodes": len(cluster.worker_spec)}

            cluster.scheduler.handlers["nbstudio_scale"] = nbstudio_scale
            status = dataclasses.replace(
                status,
                state=RUNNING,
                address=cluster.scheduler_address,
                dashboard_link=cluster.dashboard_link,
            )
            records.write_status(spec.name, status)
            while not stop.is_set():
                fresh = snapshot(cluster, status)
                if not _same(fresh, status):
                    status = fresh
                    records.write_status(spec.name, status)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), REFRESH_SECONDS)
            status = dataclasses.replace(status, state=STOPPING)
            records.write_status(spec.name, status)
    records.write_status(
        spec.name,
        ClusterStatus(state=STOPPED, pid=status.pid, pid_started=status.pid_started),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path, help="The workspace's compute folder.")
    parser.add_argument("name", help="The compute target to run.")
    args = parser.parse_args(argv)
    records = Records(args.folder)
    spec = records.read_spec(args.name)
    if spec is None:
        sys.stderr.write(f"No compute target {args.name!r} in {args.folder}\n")
        return 2
    try:
        asyncio.run(serve(records, spec))
    except Exception as exc:
        traceback.print_exc()
        me = psutil.Process()
        records.write_status(
            spec.name,
            ClusterStatus(
                state=FAILED,
                reason=f"{type(exc).__name__}: {exc}",
                pid=os.getpid(),
                pid_started=me.create_time(),
            ),
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
