"""The user-facing errors of online endpoints."""

from __future__ import annotations

from nbstudio.errors import NbstudioError, NotFoundError


class EndpointError(NbstudioError):
    """An endpoint or deployment cannot be created, found, started, reached or changed as asked."""


class ScoringError(EndpointError):
    """The endpoint answered a scoring request with an error (bad payload, model exception...).

    ``status`` is the HTTP status code, ``error_code`` MLflow's error code from the JSON answer.
    """

    def __init__(self, message: str, status: int, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class UnknownEndpointError(EndpointError, NotFoundError):
    """No endpoint (or deployment) of that name: a 404 over HTTP."""
