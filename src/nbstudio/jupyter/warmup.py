"""Pay the first cell's one-time costs in the background, right after ``%load_ext nbstudio``.

A fresh kernel's first ``%%mlrun`` cell used to take seconds for ``x = 1``: importing MLflow,
creating (or migrating) the workspace's store, reading the installed packages for the run's
``requirements.txt``, importing GitPython and plotly's widget. None of it depends on the cell, so a
daemon thread does it while the user's own imports and data loading run; the first tracked cell
then finds everything ready (or waits only for what is still loading, never does it twice: imports
and the store's opening are guarded by Python's import locks and the session's lock).

The warm-up never reports: a broken workspace or an unreachable server is said, in one line, by
the magic that needs it. ``NBSTUDIO_WARMUP=0`` turns it off (the test suite does, so that a
thread of one test never opens a store after the next test switched workspace).
"""

from __future__ import annotations

import importlib
import os
import threading

_thread: threading.Thread | None = None
_lock = threading.Lock()

#: Modules the first tracked cell needs before the cell's code can start (MLflow among them).
FIRST = ("nbstudio.jupyter.cell_runner", "git")
#: Modules the live monitor needs for its charts, which may come a moment after the cell starts.
THEN = ("nbstudio.jupyter.widgets.live", "plotly.graph_objects", "plotly.basewidget")


def enabled() -> bool:
    return os.environ.get("NBSTUDIO_WARMUP", "1").strip().lower() not in {"0", "false", "no"}


def start() -> threading.Thread | None:
    """Start the warm-up once per process (later calls return the same thread)."""
    global _thread
    if not enabled():
        return None
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm_up, name="nbstudio-warmup", daemon=True)
            _thread.start()
        return _thread


def wait(timeout: float | None = None) -> bool:
    """Block until the warm-up has finished; True when it has (or never started)."""
    if _thread is not None:
        _thread.join(timeout)
        return not _thread.is_alive()
    return True


def _warm_up() -> None:
    """In the order a first cell needs things: MLflow and the store, then the charts."""
    from nbstudio.session import get_session
    from nbstudio.tracking.environment import installed_versions

    _import(FIRST)
    try:
        session = get_session()
        session.workspace  # noqa: B018 - opens the store: schema created or migrated once
        session.experiment_id()
    except Exception:  # said by the magic that needs the store, in one line
        pass
    _import(THEN)
    installed_versions()


def _import(modules: tuple[str, ...]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception:  # a missing optional piece costs the first cell, nothing more
            continue
