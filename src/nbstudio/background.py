"""Work done under an MLflow run of its own, away from whatever run the caller has open.

MLflow's active run is per thread. A drift check or a batch job called inside ``%%mlrun`` must
record its inputs (`nbstudio.data.lineage` logs them to the active run) on its own run, not on
the cell's; running it in a fresh thread gives it a clean active-run stack.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def in_thread(fn: Callable[..., T], *args: Any, name: str = "nbstudio-job", **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a new thread; its value, or what it raised, re-raised here."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed back to the caller as is
            box["error"] = exc

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
