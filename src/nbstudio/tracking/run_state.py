"""A run's status as the store has it now, with runs of dead local kernels ended first.

A notebook keeps showing the last state its monitor drew; after the kernel restarted or died that
state is a frozen RUNNING. The side panel asks this for each such monitor and redraws it, and the
run whose kernel is gone is ended KILLED here (the reaper otherwise runs only when a workspace is
opened), so the notebook, the panel and ``mlflow ui`` agree.
"""

from __future__ import annotations

from typing import Any

from mlflow.exceptions import MlflowException

from nbstudio.errors import NotFoundError
from nbstudio.session import Session, get_session
from nbstudio.tracking.context import TAG_TERMINATED_BY
from nbstudio.tracking.reaper import reap_run


def run_state(run_id: str, session: Session | None = None) -> dict[str, Any]:
    """``{run_id, status, end_time, terminated_by, reaped}`` of a run, reaping it if orphaned."""
    session = session or get_session()
    session.workspace  # noqa: B018 - opens the store
    client = session.client()
    try:
        reaped = reap_run(client, run_id)
        run = client.get_run(run_id)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise NotFoundError(f"No run with id {run_id!r}.") from None
        raise
    return {
        "run_id": run_id,
        "status": run.info.status,
        "end_time": run.info.end_time,
        "terminated_by": run.data.tags.get(TAG_TERMINATED_BY),
        "reaped": reaped,
    }
