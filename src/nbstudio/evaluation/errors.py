"""The error evaluation raises for things a user can fix (a model without predict, bad data)."""

from __future__ import annotations

from nbstudio.errors import NbstudioError


class EvaluationError(NbstudioError):
    """A model cannot be evaluated on the data given."""
