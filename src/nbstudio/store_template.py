"""A new workspace's SQLite store, copied from an empty one MLflow made earlier on this machine.

Creating an MLflow SQLite store runs every one of MLflow's schema migrations: seconds, paid inside
a newcomer's first ``%%mlrun`` cell. The result is always the same empty database (the schema at
MLflow's head revision, the ``Default`` experiment, the default workspace row), so the first
store made on a machine is kept, as MLflow left it, in the user's cache folder
(``$XDG_CACHE_HOME/nbstudio``, else ``~/.cache/nbstudio``), one file per MLflow version; the next
new workspaces start from a copy, with their own artifact location and times written into the
``Default`` experiment. MLflow still opens the copy itself and checks its schema revision, so a
template that does not fit is never used silently: any problem means the copy is removed and the
store is made by MLflow's migrations, as without a template.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from importlib.metadata import version
from pathlib import Path


def template_path() -> Path:
    """Where the empty store of the installed MLflow version is kept."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "nbstudio" / f"mlflow-{version('mlflow')}-empty-store.db"


def copy_template(db: Path, artifact_root_uri: str) -> bool:
    """Make ``db`` (which must not exist) from the template; False if there is none or it fails.

    The copy is in WAL mode like every workspace store; its ``Default`` experiment gets the
    workspace's artifact location and the current time, as MLflow would have given it.
    """
    template = template_path()
    if db.exists() or not template.is_file():
        return False
    now = int(time.time() * 1000)
    try:
        with sqlite3.connect(template, timeout=5) as source, sqlite3.connect(db) as target:
            source.backup(target)
            target.execute("PRAGMA journal_mode=WAL")
            target.execute(
                "UPDATE experiments SET artifact_location = ?, creation_time = ?, "
                "last_update_time = ? WHERE experiment_id = 0",
                (f"{artifact_root_uri.rstrip('/')}/0", now, now),
            )
        return True
    except sqlite3.Error:
        discard(db)
        return False


def save_template(db: Path) -> None:
    """Keep the new, still empty store ``db`` as this machine's template (best effort).

    Written to a temporary file and renamed into place, so a reader never sees half a template
    and two kernels saving at once leave one whole file.
    """
    template = template_path()
    if template.exists():
        return
    with contextlib.suppress(OSError, sqlite3.Error):
        template.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=template.parent, suffix=".db.tmp")
        os.close(handle)
        try:
            with sqlite3.connect(db, timeout=5) as source, sqlite3.connect(temporary) as target:
                source.backup(target)
                target.execute("PRAGMA journal_mode=DELETE")
            os.replace(temporary, template)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def discard(db: Path) -> None:
    """Remove a store made from the template that MLflow refused (and its WAL files)."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        with contextlib.suppress(OSError):
            path.unlink()
