"""One reader of runs per session: SQL over MLflow's tables when trusted, else MlflowClient.

The panel, the monitors and the sweep views read runs through a `RunReader`. Two implement it:
`SqlReader` (MLflow's own tables, SQLite and PostgreSQL, answers in milliseconds) and
`ClientReader` (``MlflowClient``: a tracking server's REST API, or any store). The session picks one
once: the SQL reader only for a ``SqlAlchemyStore`` whose schema revision (MLflow's
``alembic_version`` table) is one the SQL was written and tested for (`TESTED_REVISIONS`). An
unknown revision, or any database error then or later, hands every read to the client reader, said
once in the server log: a future MLflow degrades to slower reads, never to broken routes.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from nbstudio.tracking import mlflow_private
from nbstudio.tracking.clientreader import ClientReader
from nbstudio.tracking.run_records import (
    ChangeCursor,
    ExperimentStats,
    MetricPoint,
    RunChanges,
    RunPage,
    RunRecord,
    Unsupported,
)
from nbstudio.tracking.sqlreader import DIALECTS, SqlReader

if TYPE_CHECKING:
    from nbstudio.session import Session

log = logging.getLogger("nbstudio")

#: MLflow schema revisions (``alembic_version.version_num``) the SQL reader is tested on.
TESTED_REVISIONS = ("dc11669786a5", "f4a9b2c7d1e6")  # MLflow 3.17, 3.18


class RunReader(Protocol):
    """Everything nbstudio reads about runs."""

    name: str

    def experiment_stats(self) -> dict[str, ExperimentStats]:
        """Active run count and last activity (newest start or end) per experiment id."""
        ...

    def experiment_exists(self, experiment_id: str) -> bool: ...

    def search(
        self,
        experiment_ids: Sequence[str],
        filter_string: str,
        order_by: Sequence[str],
        page_size: int,
        offset: int,
        cursor: str | None,
        tag_keys: Sequence[str] | None = None,
    ) -> RunPage:
        """One page of active runs in ``MlflowClient.search_runs`` order. A bad filter raises
        `MlflowException`; the page continues at ``offset`` (SQL) or ``cursor`` (client)."""
        ...

    def load_run(self, run_id: str) -> RunRecord | None: ...

    def child_runs(
        self, parent_run_id: str, tag_keys: Sequence[str] | None = None
    ) -> list[RunRecord]: ...

    def metric_points(self, run_id: str, key: str) -> list[MetricPoint]: ...

    def metric_history(self, run_id: str, key: str, max_points: int) -> tuple[int, list]:
        """(total points, at most ``max_points`` chart points: min/max per step bucket)."""
        ...

    def changes(self, run_id: str, cursor: ChangeCursor) -> RunChanges | None:
        """What is new in a run since ``cursor``; None when no run has that id."""
        ...


class GuardedReader:
    """The SQL reader, with the client reader taking over for good at the first database error
    (and answering, for the SQL reader, the searches it does not translate)."""

    def __init__(self, sql: SqlReader, client: ClientReader) -> None:
        self.sql: SqlReader | None = sql
        self.client = client

    @property
    def name(self) -> str:
        return "sql" if self.sql is not None else "client"

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        sql = self.sql
        if sql is not None:
            try:
                return getattr(sql, method)(*args, **kwargs)
            except Unsupported:
                pass
            except SQLAlchemyError as exc:
                self.sql = None
                log.warning(
                    "nbstudio: reading MLflow's tables failed (%s); runs are read through "
                    "MlflowClient from now on.",
                    " ".join(str(exc).split())[:300],
                )
        return getattr(self.client, method)(*args, **kwargs)

    def experiment_stats(self) -> dict[str, ExperimentStats]:
        return self._call("experiment_stats")

    def experiment_exists(self, experiment_id: str) -> bool:
        return self._call("experiment_exists", experiment_id)

    def search(self, *args: Any, **kwargs: Any) -> RunPage:
        return self._call("search", *args, **kwargs)

    def load_run(self, run_id: str) -> RunRecord | None:
        return self._call("load_run", run_id)

    def child_runs(self, parent_run_id: str, tag_keys: Sequence[str] | None = None) -> list:
        return self._call("child_runs", parent_run_id, tag_keys)

    def metric_points(self, run_id: str, key: str) -> list[MetricPoint]:
        return self._call("metric_points", run_id, key)

    def metric_history(self, run_id: str, key: str, max_points: int) -> tuple[int, list]:
        return self._call("metric_history", run_id, key, max_points)

    def changes(self, run_id: str, cursor: ChangeCursor) -> RunChanges | None:
        return self._call("changes", run_id, cursor)


_chosen: weakref.WeakKeyDictionary[Any, tuple[str, RunReader]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def run_reader(session: Session) -> RunReader:
    """The session's reader, picked on first use (and again if its tracking URI changed)."""
    uri = session.workspace.tracking_uri
    with _lock:
        known = _chosen.get(session)
        if known is not None and known[0] == uri:
            return known[1]
        reader = choose(session.client())
        _chosen[session] = (uri, reader)
        return reader


def use(session: Session, reader: RunReader) -> None:
    """Make ``reader`` the session's reader (tests compare both readers on one store)."""
    with _lock:
        _chosen[session] = (session.workspace.tracking_uri, reader)


def choose(client: Any) -> RunReader:
    """The SQL reader when the store is MLflow's SQL store at a tested revision, else the client."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    fallback = ClientReader(client)
    store = mlflow_private.tracking_store(client)
    if not isinstance(store, SqlAlchemyStore):
        return fallback  # a tracking server (REST) or another store: nothing else to say
    if store.db_type not in DIALECTS:
        log.warning(
            "nbstudio: MLflow's %s store is read through MlflowClient (the SQL reader is "
            "tested on %s).",
            store.db_type,
            " and ".join(DIALECTS),
        )
        return fallback
    try:
        with store.engine.connect() as db:
            revision = db.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        reader = SqlReader(store)
    except SQLAlchemyError as exc:
        log.warning(
            "nbstudio: cannot read MLflow's schema revision (%s); runs are read through "
            "MlflowClient.",
            " ".join(str(exc).split())[:300],
        )
        return fallback
    if revision not in TESTED_REVISIONS:
        log.warning(
            "nbstudio: MLflow's schema revision %s is not one the SQL reader is tested on (%s); "
            "runs are read through MlflowClient.",
            revision,
            ", ".join(TESTED_REVISIONS),
        )
        return fallback
    return GuardedReader(reader, fallback)
