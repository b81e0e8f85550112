"""Copy what a cell prints into its run's log while the user still sees it live.

IPython's ``capture_output`` swallows output instead of passing it on, so the tee is written here.
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


class _Tee:
    """Looks like the stream it wraps; every write also goes to the log."""

    def __init__(self, target: TextIO, log: _BoundedLog) -> None:
        self._target = target
        self._log = log

    def write(self, text: str) -> int:
        self._log.write(text)
        return self._target.write(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


class OutputTee:
    """Context manager teeing ``sys.stdout`` and ``sys.stderr`` into one log."""

    def __init__(self) -> None:
        self._log = _BoundedLog()
        self._saved: tuple[TextIO, TextIO] | None = None

    def __enter__(self) -> OutputTee:
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = _Tee(sys.stdout, self._log)  # type: ignore[assignment]
        sys.stderr = _Tee(sys.stderr, self._log)  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved is not None:
            for stream in self._saved:
                with contextlib.suppress(OSError, ValueError):
                    stream.flush()
            sys.stdout, sys.stderr = self._saved
            self._saved = None

    @property
    def text(self) -> str:
        return self._log.getvalue()
