"""The user-facing errors of compute targets."""

from __future__ import annotations

from nbstudio.errors import ConflictError, NbstudioError, NotFoundError


class ComputeError(NbstudioError):
    """A compute target cannot be created, found, reached or used as asked."""


class UnknownTargetError(ComputeError, NotFoundError):
    """No compute target by that name (a 404 over REST)."""


class ComputeConflictError(ComputeError, ConflictError):
    """The target exists already, or is not in a state to do that now (a 409 over REST)."""


class WorkerLostError(ComputeError):
    """The Dask worker running a cell or a trial died (killed, out of memory, node lost).

    Its MLflow run has been marked FAILED with ``nbstudio.terminated_by=worker-lost``. A sweep
    catches this error to retry the trial once.
    """
