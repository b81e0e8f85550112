"""What IPython said about the cell now running, for magics that run its body again.

``%%mlrun`` runs its body with ``shell.run_cell(store_history=False)``; IPython names the code it
compiles after ``shell.execution_count``, which the outer cell has already advanced when it is
stored in history (always, in a kernel). The body's traceback then said ``Cell In[7]`` for cell
``[6]``. IPython's ``pre_run_cell`` event carries ``store_history``: remembering it tells the
magic whether the body's code should be named one number back. Only the code's name changes:
``Out[N]`` is already right (IPython's display hook counts from the advanced number).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_outer_stored = False


def remember(info: Any) -> None:
    """``pre_run_cell`` callback: note whether the starting cell is stored in history."""
    global _outer_stored
    _outer_stored = bool(getattr(info, "store_history", False))


@contextlib.contextmanager
def numbered_as_outer_cell(shell: Any) -> Iterator[None]:
    """While the body runs, the code IPython compiles is named after the outer cell."""
    compiler = shell.compile
    if not _outer_stored or "cache" in vars(compiler):
        yield
        return
    cache = compiler.cache

    def cache_as_outer(code: str, number: int = 0, raw_code: str | None = None) -> str:
        return cache(code, max(number - 1, 0), raw_code)

    compiler.cache = cache_as_outer
    try:
        yield
    finally:
        del compiler.cache


def register(shell: Any) -> None:
    """Listen to ``pre_run_cell`` once per shell."""
    with contextlib.suppress(ValueError):
        shell.events.unregister("pre_run_cell", remember)
    shell.events.register("pre_run_cell", remember)
