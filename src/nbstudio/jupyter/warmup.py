"""Pay the first cell's one-time costs while the kernel is idle, right after ``%load_ext nbstudio``.

A fresh kernel's first ``%%mlrun`` cell used to take seconds for ``x = 1``: importing MLflow,
creating (or migrating) the workspace's store, plotly's widget, the installed packages for the
run's ``requirements.txt``. None of it depends on the cell, so it is done in small steps on the
kernel's own event loop, between cells: while the user reads, types, or runs other cells, the
steps go on, and a cell that arrives meanwhile waits at most for the step under way.

Steps run on the kernel's main thread on purpose. Importing in a background thread while the
user's cell imports the same packages makes Python raise ``_DeadlockError`` in the user's cell
for packages whose modules import each other (scikit-learn did, in this project's benchmark).
The one exception is the last step, MLflow's map of installed packages (what a first model's
save checks its requirements against): it imports nothing, only reads the packages' metadata,
so it runs in a thread of its own, and a cell that arrives meanwhile shares the CPU with it
instead of waiting for it.

Without an event loop (a terminal IPython, a test's shell) there is no warm-up. The warm-up
never reports: a broken workspace or an unreachable server is said, in one line, by the magic
that needs it. ``NBSTUDIO_WARMUP=0`` turns it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import threading
from collections.abc import Callable

#: Seconds between steps: the kernel answers messages (a new cell, an interrupt) in between.
PAUSE = 0.05

_steps: list[Callable[[], object]] = []
_threads: list[threading.Thread] = []
_started = False


def enabled() -> bool:
    return os.environ.get("NBSTUDIO_WARMUP", "1").strip().lower() not in {"0", "false", "no"}


def start() -> bool:
    """Queue the warm-up on the running event loop, once per process; False if it cannot run."""
    global _started
    if _started or not enabled():
        return _started
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    _started = True
    _steps.extend(_plan())
    loop.call_later(PAUSE, _next, loop)
    return True


def done() -> bool:
    """True once every step has run (or none was queued), its thread included."""
    return not _steps and not any(thread.is_alive() for thread in _threads)


def pending() -> bool:
    """True while a warm-up started in this process still has steps to run."""
    return _started and bool(_steps)


def _next(loop: asyncio.AbstractEventLoop) -> None:
    if not _steps:
        return
    step = _steps.pop(0)
    with contextlib.suppress(Exception):  # a missing piece costs the first cell, nothing more
        step()
    if _steps:
        loop.call_later(PAUSE, _next, loop)


def _plan() -> list[Callable[[], object]]:
    """The steps, in the order a first cell needs things: MLflow, the store and what a run's end
    needs, then what a first ``%register_model`` needs, then the charts."""
    from nbstudio.session import get_session

    def module(name: str) -> Callable[[], object]:
        return lambda: importlib.import_module(name)

    def store() -> None:
        session = get_session()
        session.workspace  # noqa: B018 - opens the store: schema created or migrated once
        session.experiment_id()

    def metric_hook() -> None:
        from nbstudio.tracking import hook

        hook.install()  # the one hook on MLflow's logging functions, once per process

    def requirements_map() -> None:
        from nbstudio.tracking.mlflow_private import build_requirements_map

        # A first model's save would build it. Imports nothing: safe off the kernel's thread.
        thread = threading.Thread(
            target=build_requirements_map, name="nbstudio-warmup", daemon=True
        )
        _threads.append(thread)
        thread.start()

    def environment() -> None:
        from nbstudio.tracking.environment import installed_versions

        installed_versions()

    return [
        module("mlflow"),
        metric_hook,
        module("nbstudio.jupyter.cell_runner"),
        store,
        environment,
        module("git"),
        module("nbstudio.jupyter.widgets.live"),
        module("nbstudio.models.registry"),
        module("mlflow.sklearn"),
        module("mlflow.models.signature"),
        module("mlflow.pyfunc"),
        # plotly's widget last and in pieces (a cell that arrives waits for one piece at most):
        # the monitor makes its chart only once plotly is imported (`RunMonitor.prepare`).
        module("plotly.graph_objects"),
        module("jsonschema"),
        module("nbformat"),
        module("plotly.io"),
        module("plotly.basewidget"),
        # Last: only a first model's save needs it, seconds after the first cell.
        requirements_map,
    ]
