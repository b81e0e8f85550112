"""End runs whose kernel died while they were RUNNING.

A kernel that is killed (or crashes) cannot end its run, so the run would stay RUNNING for ever.
Each run records the host, pid and start time of the process that owns it; the next time nbstudio
opens the workspace on that host it marks such orphans KILLED with ``nbstudio.terminated_by=kernel-
died``. Runs owned by other hosts are left alone: their processes cannot be checked from here.
"""

from __future__ import annotations

import socket

from mlflow import MlflowClient
from mlflow.entities import RunStatus, ViewType

from nbstudio.processes import process_alive
from nbstudio.tracking.context import TAG_HOST, TAG_PID, TAG_PID_STARTED, TAG_TERMINATED_BY

KERNEL_DIED = "kernel-died"


def _owner_alive(pid_text: str | None, started_text: str | None) -> bool:
    try:
        pid = int(pid_text or "")
        recorded = float(started_text or "nan")
    except ValueError:
        return True  # not ours to judge
    return process_alive(pid, None if recorded != recorded else recorded)


def reap_dead_kernel_runs(client: MlflowClient) -> list[str]:
    """Mark RUNNING runs of dead processes on this host KILLED; returns their run ids."""
    host = socket.gethostname()
    experiment_ids = [
        e.experiment_id for e in client.search_experiments(view_type=ViewType.ACTIVE_ONLY)
    ]
    if not experiment_ids:
        return []
    orphans = client.search_runs(
        experiment_ids,
        filter_string=f"attributes.status = 'RUNNING' and tags.`{TAG_HOST}` = '{host}'",
        max_results=5000,
    )
    reaped = []
    for run in orphans:
        tags = run.data.tags
        if _owner_alive(tags.get(TAG_PID), tags.get(TAG_PID_STARTED)):
            continue
        client.set_tag(run.info.run_id, TAG_TERMINATED_BY, KERNEL_DIED)
        client.set_terminated(run.info.run_id, RunStatus.to_string(RunStatus.KILLED))
        reaped.append(run.info.run_id)
    return reaped


def reap_run(client: MlflowClient, run_id: str) -> bool:
    """End one RUNNING run of this host KILLED if the process that owned it is gone.

    The check a notebook's frozen monitor needs after its kernel restarted: only this run is
    read, so it is cheap to ask for as often as the kernel restarts. Returns whether it reaped.
    """
    run = client.get_run(run_id)
    tags = run.data.tags
    if run.info.status != "RUNNING" or tags.get(TAG_HOST) != socket.gethostname():
        return False
    if TAG_PID not in tags or _owner_alive(tags.get(TAG_PID), tags.get(TAG_PID_STARTED)):
        return False
    client.set_tag(run_id, TAG_TERMINATED_BY, KERNEL_DIED)
    client.set_terminated(run_id, RunStatus.to_string(RunStatus.KILLED))
    return True
