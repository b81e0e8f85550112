"""The errors of data assets and datastores: one line each, never a library's traceback."""

from __future__ import annotations

from nbstudio.errors import NbstudioError, NotFoundError


class DataError(NbstudioError):
    """A data asset, version or datastore cannot be created, found or read."""


class DataNotFoundError(DataError, NotFoundError):
    """The asset, version, datastore or path asked for does not exist (HTTP 404)."""
