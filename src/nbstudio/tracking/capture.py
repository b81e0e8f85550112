"""Copy what a cell prints into its run's log while the user still sees it live.

IPython's ``capture_output`` swallows output instead of passing it on, so the tee is written here.
``sys.stdout`` is one object for the whole process while runs may go on in several threads at
once (pipeline steps, sweep trials): one router replaces it while any run captures, and sends
each write to the logs of the runs active in the writing thread.
Output written straight to file descriptors (subprocesses, C extensions) is not seen by a Python-
level tee and is not recorded.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
from typing import Any, TextIO

MAX_LOG_CHARS = 10_000_000


class _BoundedLog:
    """A thread-safe text buffer that keeps the first ``MAX_LOG_CHARS`` and counts the rest."""

    def __init__(self, limit: int = MAX_LOG_CHARS) -> None:
        self._parts = io.StringIO()
        self._size = 0
        self._dropped = 0
        self._limit = limit
        self._lock = threading.Lock()

    def write(self, text: str) -> None:
        with self._lock:
            room = self._limit - self._size
            if room > 0:
                self._parts.write(text[:room])
                self._size += min(room, len(text))
            self._dropped += max(0, len(text) - max(room, 0))

    def getvalue(self) -> str:
        with self._lock:
            text = self._parts.getvalue()
            if self._dropped:
                text += f"\n[nbstudio: {self._dropped} more characters not recorded]\n"
            return text


class _Router:
    """Stands in for ``sys.stdout``/``sys.stderr`` while any run captures: passes every write on
    to the stream it replaced and copies it into the logs of the runs active in the writing thread.

    One router per stream for the whole process, so runs in other threads (pipeline steps at
    once, sweep trials) each get their own lines, never each other's.
    """

    def __init__(self, target: TextIO) -> None:
        self._target = target

    @property
    def target(self) -> TextIO:
        return self._target

    def write(self, text: str) -> int:
        for log in _LOGS.get(threading.get_ident(), ()):
            log.write(text)
        return self._target.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


# thread id -> the logs of the runs capturing in that thread, outermost first (a nested run's
# output belongs to its parent's log too). Replaced as a whole under _LOCK, read without it.
_LOGS: dict[int, tuple[_BoundedLog, ...]] = {}
_LOCK = threading.Lock()
_capturing = 0  # OutputTees entered and not yet left, in every thread


def _install() -> None:
    """Put routers in place of the streams, unless they are there (someone may have swapped
    ``sys.stdout`` since, e.g. pytest or ``redirect_stdout``: then the new stream is wrapped)."""
    if not isinstance(sys.stdout, _Router):
        sys.stdout = _Router(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, _Router):
        sys.stderr = _Router(sys.stderr)  # type: ignore[assignment]


def _uninstall() -> None:
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if isinstance(stream, _Router):
            with contextlib.suppress(OSError, ValueError):
                stream.target.flush()
            setattr(sys, name, stream.target)


class OutputTee:
    """Context manager copying what the current thread prints (stdout and stderr) into one log.

    Enter and leave it in the same thread. Output of threads the code starts itself is not
    recorded (each thread's output belongs to the run active in it).
    """

    def __init__(self) -> None:
        self._log = _BoundedLog()
        self._thread: int | None = None

    def __enter__(self) -> OutputTee:
        global _capturing
        thread = self._thread = threading.get_ident()
        with _LOCK:
            _LOGS[thread] = (*_LOGS.get(thread, ()), self._log)
            _capturing += 1
            _install()
        return self

    def __exit__(self, *exc: object) -> None:
        global _capturing
        thread, self._thread = self._thread, None
        if thread is None:
            return
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        with _LOCK:
            left = tuple(log for log in _LOGS.get(thread, ()) if log is not self._log)
            if left:
                _LOGS[thread] = left
            else:
                _LOGS.pop(thread, None)
            _capturing -= 1
            if _capturing == 0:
                _uninstall()

    @property
    def text(self) -> str:
        return self._log.getvalue()
