"""Artifact reads without MLflow's download progress bar, safe when threads overlap.

MLflow draws a progress bar (a widget in a notebook) for every artifact download unless
``MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR`` is false, and reads the variable at download time, so
the only switch is the process environment. Each reader saving and restoring it on its own
broke when two threads overlapped (the first to finish restored "true" under the second, or the
last restored the "false" of the first for good: the bug class that left asynchronous logging on
in session 4). Here the first reader in sets it, the last one out restores the user's value.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

VARIABLE = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"

_lock = threading.Lock()
_readers = 0
_saved: str | None = None


@contextlib.contextmanager
def without_progress_bar() -> Iterator[None]:
    """Downloads inside the block draw no progress bar; the variable is the user's again once
    no block is open in any thread."""
    global _readers, _saved
    with _lock:
        if _readers == 0:
            _saved = os.environ.get(VARIABLE)
            os.environ[VARIABLE] = "false"
        _readers += 1
    try:
        yield
    finally:
        with _lock:
            _readers -= 1
            if _readers == 0:
                if _saved is None:
                    os.environ.pop(VARIABLE, None)
                else:
                    os.environ[VARIABLE] = _saved
