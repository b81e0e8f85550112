"""The error drift checks raise for things a user can fix: one line, never a scipy traceback."""

from __future__ import annotations

from nbstudio.errors import NbstudioError


class DriftError(NbstudioError):
    """Two data sets cannot be compared (no rows, mismatched columns, no reference found)."""
