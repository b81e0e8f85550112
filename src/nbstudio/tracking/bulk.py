"""Many finished runs written at once: one transaction on a SQL store, MLflow's calls elsewhere.

Recording a finished run through ``MlflowClient`` takes three transactions (``create_run``,
``log_batch``, ``set_terminated``), 20-60 ms of SQLAlchemy each time; an AutoML search finishes
five to ten trials a second, and that CPU is taken from the search (issue 16: a 30 s job ran
67-81 % of the trials FLAML alone runs). `write_runs` adds the rows of a whole batch of runs in
one session instead: MLflow's own ORM rows (``mlflow.store.tracking.dbmodels``), the ones
``SqlAlchemyStore.create_run`` + ``log_batch`` + ``set_terminated`` write, so plain MLflow
(``mlflow ui``, ``search_runs``) reads them as any run. A store that is not SQL (a tracking
server), a run whose names or values MLflow's own checks might refuse, or a batch the database
refuses goes through the client, run by run, with MLflow's checks and errors.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

_KEY = re.compile(r"^[\w\-. /:]{1,250}$")
_MAX_VALUE_CHARS = 6000  # MLflow's shortest param/tag value limit across its versions


@dataclass
class RunRows:
    """What one run holds: its name, times, status, tags, params and metrics (step 0)."""

    name: str
    start_time: int
    end_time: int | None
    status: str = "FINISHED"
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    user: str = "unknown"

    def fits_bulk(self) -> bool:
        """True when MLflow's own checks could not refuse it (else the client says why)."""
        texts = {**self.tags, **self.params}
        keys = [*texts, *self.metrics]
        return (
            0 < len(self.name) <= 250
            and all(_is_plain_key(k) for k in keys)
            and all(len(v) <= _MAX_VALUE_CHARS for v in texts.values())
            and len(set(self.params)) == len(self.params)
        )


def _is_plain_key(key: str) -> bool:
    """A key MLflow takes as it is: its characters, and a path equal to its normal form."""
    return (
        bool(_KEY.match(key))
        and posixpath.normpath(key) == key
        and not key.startswith("/")
        and ".." not in key.split("/")
    )


def add_run_rows(
    db: Any, store: Any, experiment_id: str, artifact_location: str, run: RunRows
) -> str:
    """Add one run's rows to an open MLflow ORM session ``db`` of ``store``; its new run id."""
    from mlflow.store.tracking.dbmodels.models import (
        SqlLatestMetric,
        SqlMetric,
        SqlParam,
        SqlRun,
        SqlTag,
    )

    run_id = uuid.uuid4().hex
    db.add(
        SqlRun(
            run_uuid=run_id,
            name=run.name,
            artifact_uri=f"{artifact_location.rstrip('/')}/{run_id}/artifacts",
            experiment_id=int(experiment_id),
            source_type="UNKNOWN",
            source_name="",
            entry_point_name="",
            user_id=run.user,
            status=run.status,
            start_time=run.start_time,
            end_time=run.end_time,
            deleted_time=None,
            source_version="",
            lifecycle_stage="active",
        )
    )
    for key, value in {"mlflow.runName": run.name, **run.tags}.items():
        db.add(SqlTag(run_uuid=run_id, key=key, value=value))
    for key, value in run.params.items():
        db.add(SqlParam(run_uuid=run_id, key=key, value=value))
    stamp = run.end_time or run.start_time
    for key, number in run.metrics.items():
        is_nan, value = store.sanitize_metric_value(number)
        row = {"key": key, "value": value, "timestamp": stamp, "step": 0, "is_nan": is_nan}
        db.add(SqlMetric(run_uuid=run_id, **row))
        db.add(SqlLatestMetric(run_uuid=run_id, **row))
    return run_id


@contextlib.contextmanager
def transaction(store: Any) -> Iterator[Any]:
    """A write session of MLflow's SQL store: committed at the end, rolled back on an error."""
    try:
        maker = store.ManagedSessionMaker(read_only=False)
    except TypeError:  # an MLflow without read-only sessions
        maker = store.ManagedSessionMaker()
    with maker as db:
        yield db


def is_sql_store(store: Any) -> bool:
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    return isinstance(store, SqlAlchemyStore)


def write_runs(client: Any, experiment_id: str, runs: list[RunRows]) -> list[str | Exception]:
    """Each run's new id, in order, or the error that refused it (see the module)."""
    from nbstudio.tracking.mlflow_private import tracking_store

    store = tracking_store(client)
    if runs and is_sql_store(store) and all(r.fits_bulk() for r in runs):
        try:
            location = client.get_experiment(experiment_id).artifact_location
            with transaction(store) as db:
                return [add_run_rows(db, store, experiment_id, location, r) for r in runs]
        except Exception:  # refused or busy: rolled back whole; the client says run by run
            pass
    return [_with_client(client, experiment_id, run) for run in runs]


def _with_client(client: Any, experiment_id: str, run: RunRows) -> str | Exception:
    """One run through MLflow's client; a run it created and then refused to fill is ended
    FAILED (never left RUNNING), and the refusal returned."""
    from mlflow.entities import Metric, Param

    run_id = None
    try:
        created = client.create_run(
            experiment_id, start_time=run.start_time, tags=run.tags, run_name=run.name
        )
        run_id = created.info.run_id
        stamp = run.end_time or run.start_time
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, stamp, 0) for k, v in run.metrics.items()],
            params=[Param(k, v) for k, v in run.params.items()],
            synchronous=True,
        )
        if run.status != "RUNNING":
            client.set_terminated(run_id, run.status, end_time=run.end_time)
    except Exception as exc:
        if run_id is not None:
            with contextlib.suppress(Exception):
                client.set_terminated(run_id, "FAILED", end_time=run.end_time)
        return exc
    return run_id
