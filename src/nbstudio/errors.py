"""The errors nbstudio raises for things a user can fix.

Every layer that faces a user (magics, CLI, REST handlers) turns an `NbstudioError` into one clear
line: a `UsageError` in IPython, an exit code on the command line, a 4xx JSON answer over HTTP.
Anything else escaping the core is a bug in nbstudio, not a user error.
"""

from __future__ import annotations


class NbstudioError(Exception):
    """A user-facing error: its message is the whole story, so no traceback is shown."""

    def _render_traceback_(self) -> list[str]:
        # IPython's protocol for custom tracebacks: one line, even from a plain function call
        # such as nbstudio.load_model("name@missing") in a notebook cell.
        return [f"{type(self).__name__}: {self}"]


class WorkspaceError(NbstudioError):
    """The workspace or its tracking store cannot be used (bad config, unreachable server)."""


class RunError(NbstudioError):
    """A run cannot be started or found."""


class ModelError(NbstudioError):
    """A model cannot be saved, registered or found."""


class NotFoundError(NbstudioError):
    """The run, experiment, artifact or resource asked for does not exist (HTTP 404)."""


class ConflictError(NbstudioError):
    """The request is valid but clashes with the resource's state or another resource (HTTP 409):
    a name already taken, a cluster that is stopping, a target that is not running."""


class QueryError(NbstudioError):
    """A search filter, order, page token or other query parameter is not valid (HTTP 400)."""
