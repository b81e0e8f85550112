"""The error AutoML raises for things a user can fix (a bad metric name, task or limit)."""

from __future__ import annotations

from nbstudio.errors import NbstudioError


class AutoMLError(NbstudioError):
    """An AutoML job cannot be set up or run as asked."""
