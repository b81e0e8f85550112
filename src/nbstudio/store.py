"""Make the tracking store ready for several writers before anything uses it.

MLflow creates a new SQLite store's schema on first use; two processes doing that at once (a kernel
and a Dask worker, say) race and one fails with "table already exists". The first opener therefore
creates the schema under a file lock and switches the file to WAL mode, so readers (the panel, the
monitors) never block writers. MLflow itself sets a busy timeout on every session it opens. A new
store starts as a copy of an empty one MLflow made earlier on this machine (`store_template`).

For a tracking server, a quick health probe replaces MLflow's minutes of retries with a clear error.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

from nbstudio import store_template
from nbstudio.errors import WorkspaceError
from nbstudio.processes import exclusive_lock
from nbstudio.workspace import Workspace

HEALTH_TIMEOUT_SECONDS = 4.0


def sqlite_path(tracking_uri: str) -> Path:
    """The database file behind a ``sqlite:///`` URI."""
    return Path(tracking_uri.removeprefix("sqlite:///").split("?", 1)[0])


def _prepare_sqlite(workspace: Workspace) -> None:
    db = sqlite_path(workspace.tracking_uri)
    db.parent.mkdir(parents=True, exist_ok=True)
    workspace.artifact_root.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(db.with_name(db.name + ".lock")):
        artifact_root = workspace.artifact_root.as_uri()
        new = not db.exists()
        copied = new and store_template.copy_template(db, artifact_root)
        with sqlite3.connect(db, timeout=30) as conn:
            mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
            if mode.lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
        try:
            _open_with_mlflow(workspace.tracking_uri, artifact_root)
        except Exception:
            if not copied:
                raise
            from nbstudio.tracking.mlflow_private import forget_sql_engine

            forget_sql_engine(workspace.tracking_uri)
            store_template.discard(db)  # a template MLflow refuses: made the usual way instead
            _open_with_mlflow(workspace.tracking_uri, artifact_root)
            copied = False
        if new and not copied:
            store_template.save_template(db)


def _open_with_mlflow(tracking_uri: str, artifact_root: str) -> None:
    """Open the store as MLflow does: its schema is created, migrated or checked."""
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    # Creating the store runs MLflow's migrations once and makes the Default experiment with
    # the workspace's artifact root, instead of ./mlruns in whatever folder the kernel is in.
    with _quiet("mlflow.store.db.utils", "alembic"):
        store = SqlAlchemyStore(tracking_uri, artifact_root)
    store.engine.dispose()


@contextlib.contextmanager
def _quiet(*loggers: str):
    """Hide the INFO lines of MLflow's schema creation ("Creating initial MLflow database
    tables..."): shown in red under a newcomer's first cell, they read as errors and ask nothing
    of the user. Warnings and errors still pass."""
    saved = [(logging.getLogger(name), logging.getLogger(name).level) for name in loggers]
    for logger, _ in saved:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)


def _probe_server(uri: str) -> None:
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_TIMEOUT_SECONDS) as response:
            response.read(64)
    except urllib.error.HTTPError:
        return  # it answered: a server is there, even if /health is not its route
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WorkspaceError(
            f"The MLflow tracking server at {uri} is unreachable ({reason}). Start it, or unset "
            "MLFLOW_TRACKING_URI / tracking_uri in nbstudio.toml to use the workspace's own store."
        ) from None


def prepare(workspace: Workspace) -> None:
    """Make the workspace's tracking store usable, or raise a `WorkspaceError` saying why not."""
    if workspace.is_sqlite:
        try:
            _prepare_sqlite(workspace)
        except (sqlite3.Error, OSError) as exc:
            raise WorkspaceError(
                f"Cannot open the tracking store {workspace.tracking_uri}: {exc}"
            ) from None
    elif workspace.is_remote:
        _probe_server(workspace.tracking_uri)
