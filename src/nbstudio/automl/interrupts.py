"""Ctrl+C during a search always stops it, even when a learner's library swallows it.

Python raises `KeyboardInterrupt` wherever the main thread happens to be. When that is Python code
called back from C through ctypes (xgboost feeds its training data that way), ctypes prints
"Exception ignored" and the interrupt is lost: the search runs on to the end of its budget. While
a search runs, `InterruptsKept` remembers an interrupt and raises it again every
`REDELIVER_SECONDS` until it has left the search, so one Ctrl+C is enough.
"""

from __future__ import annotations

import _thread
import signal
import threading
from types import FrameType, TracebackType
from typing import Any

#: How long an interrupt may look lost before it is raised again.
REDELIVER_SECONDS = 1.0


class InterruptsKept:
    """``with InterruptsKept(): search()``: an interrupt is raised again until it gets out.

    Off the main thread (a Dask worker) signals cannot be handled, so the block runs as it is;
    the same when Ctrl+C is ignored or not Python's to handle (a handler installed from C).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = threading.Event()
        self._done = threading.Event()
        self._saved: Any = None
        self._watchdog: threading.Thread | None = None

    def __enter__(self) -> InterruptsKept:
        if threading.current_thread() is not threading.main_thread():
            return self
        if not callable(signal.getsignal(signal.SIGINT)):  # ignored, or not Python's to handle
            return self
        self._saved = signal.signal(signal.SIGINT, self._on_interrupt)
        self._watchdog = threading.Thread(
            target=self._redeliver, name="nbstudio-interrupts", daemon=True
        )
        self._watchdog.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._watchdog is None:
            return
        with self._lock:  # no interrupt is raised again from here on
            self._done.set()
        self._watchdog.join()
        signal.signal(signal.SIGINT, self._saved)  # a last raised-again one reaches us first

    def _on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        if self._done.is_set() or _inside(frame, InterruptsKept.__exit__.__code__):
            return  # the search is over: the interrupt it had has already got out
        self._pending.set()
        raise KeyboardInterrupt

    def _redeliver(self) -> None:
        while not self._done.wait(REDELIVER_SECONDS):
            with self._lock:
                if self._pending.is_set() and not self._done.is_set():
                    _thread.interrupt_main()


def _inside(frame: FrameType | None, code: object) -> bool:
    """Whether ``code`` runs in ``frame`` or in one of its callers."""
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False
