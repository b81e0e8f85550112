"""The user-facing errors of batch endpoints and jobs: one line each."""

from __future__ import annotations

from nbstudio.errors import ConflictError, NbstudioError, NotFoundError


class BatchError(NbstudioError):
    """A batch endpoint or job cannot be created, found or run as asked."""


class UnknownBatchEndpointError(BatchError, NotFoundError):
    """No batch endpoint of that name (HTTP 404)."""


class BatchConflictError(BatchError, ConflictError):
    """A batch endpoint of that name exists already (HTTP 409)."""


class EnvironmentMismatchError(BatchError):
    """A worker's packages differ from the model's pinned requirements."""
